#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be written or read: the path, the operation and the system's reason.
public struct FileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file concerned.
    public let path: String
    /// What went wrong, in words.
    public let message: String

    /// An error about the file at `path`.
    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }

    /// An error carrying the text of the current `errno`.
    static func system(_ path: String, _ operation: String) -> FileError {
        let reason = String(cString: strerror(errno))
        return FileError(path: path, "cannot \(operation): \(reason)")
    }
}

/// A file opened with C stdio (buffered), for the readers of this module (writers use
/// ``OutputFile``).
final class CFile {
    let path: String
    private var handle: UnsafeMutablePointer<FILE>?

    /// Opens `path` with an `fopen` mode (`"wb"`, `"rb"`).
    init(path: String, mode: String) throws(FileError) {
        self.path = path
        guard let handle = fopen(path, mode) else {
            throw FileError.system(path, mode.hasPrefix("r") ? "open for reading" : "open for writing")
        }
        self.handle = handle
    }

    /// Adopts a stream opened elsewhere; `path` names it in errors.
    init(path: String, handle: UnsafeMutablePointer<FILE>) {
        self.path = path
        self.handle = handle
    }

    deinit { if let handle { fclose(handle) } }

    /// Writes all of `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws(FileError) {
        guard let handle else { throw FileError(path: path, "write after close") }
        guard bytes.count > 0 else { return }
        if fwrite(bytes.baseAddress, 1, bytes.count, handle) != bytes.count {
            throw FileError.system(path, "write")
        }
    }

    /// Writes all of `bytes`.
    func write(_ bytes: [UInt8]) throws(FileError) {
        var failure: FileError?
        bytes.withUnsafeBytes { raw in
            do throws(FileError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Reads up to `count` bytes; fewer only at the end of the file.
    func read(_ count: Int) throws(FileError) -> [UInt8] {
        guard let handle else { throw FileError(path: path, "read after close") }
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, count, handle) }
        if got < count {
            if ferror(handle) != 0 { throw FileError.system(path, "read") }
            bytes.removeLast(count - got)
        }
        return bytes
    }

    /// Reads up to `bytes.count` bytes into `bytes`; fewer only at the end of the file.
    ///
    /// - Returns: the number of bytes read.
    func read(into bytes: UnsafeMutableRawBufferPointer) throws(FileError) -> Int {
        guard let handle else { throw FileError(path: path, "read after close") }
        guard bytes.count > 0 else { return 0 }
        let got = fread(bytes.baseAddress, 1, bytes.count, handle)
        if got < bytes.count && ferror(handle) != 0 { throw FileError.system(path, "read") }
        return got
    }

    /// Moves to byte `offset` from the start (flushing pending writes first).
    func seek(to offset: Int) throws(FileError) {
        guard let handle else { throw FileError(path: path, "seek after close") }
        if fflush(handle) != 0 { throw FileError.system(path, "write") }
        if fseeko(handle, off_t(offset), SEEK_SET) != 0 { throw FileError.system(path, "seek (it must be a regular file)") }
    }

    /// Flushes and closes; reports a failed flush (a full disk shows up here).
    func close() throws(FileError) {
        guard let h = handle else { return }
        handle = nil
        if fclose(h) != 0 { throw FileError.system(path, "finish writing") }
    }
}

/// A file written under a temporary name in the same directory and renamed to its path only by
/// ``commit()``, so a failed or interrupted write never leaves a file that looks whole.
///
/// ```swift
/// let file = try OutputFile(path: "result.csv")   // writes ".result.csv.<pid>-<n>.tmp"
/// try file.write("x,f\n")
/// try file.commit()                                // renames it to "result.csv"
/// ```
///
/// An `OutputFile` released without ``commit()`` (after an error, say) removes its temporary
/// file, and so does ``discard()``. The file gets the usual permissions (`0666` less the umask).
public final class OutputFile {
    /// The path the file gets on ``commit()``.
    public let path: String
    /// The temporary path written until then.
    public let temporaryPath: String
    private let file: CFile
    private var finished = false

    /// Creates the temporary file next to `path`.
    ///
    /// - Throws: ``FileError`` naming `path` when the directory does not exist or cannot be
    ///   written, or when `path` is a directory.
    public init(path: String) throws(FileError) {
        self.path = path
        var info = stat()
        if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            throw FileError(path: path, "cannot write: it is a directory")
        }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty else { throw FileError(path: path, "cannot write: the path names a directory") }
        var attempt = 0
        while true {
            let candidate = "\(directory).\(name).\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL, 0o666)
            if fd >= 0 {
                guard let handle = fdopen(fd, "wb") else {
                    let error = FileError.system(path, "open for writing")
                    _ = close(fd)
                    unlink(candidate)
                    throw error
                }
                temporaryPath = candidate
                file = CFile(path: path, handle: handle)
                return
            }
            attempt += 1
            guard errno == EEXIST, attempt < 100 else { throw FileError.system(path, "open for writing") }
        }
    }

    deinit { if !finished { discard() } }

    /// Writes all of `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileError) { try file.write(bytes) }

    /// Writes all of `bytes`.
    public func write(_ bytes: [UInt8]) throws(FileError) { try file.write(bytes) }

    /// Writes `text` as UTF-8.
    public func write(_ text: String) throws(FileError) {
        var text = text
        var failure: FileError?
        text.withUTF8 { utf8 in
            do throws(FileError) { try file.write(UnsafeRawBufferPointer(utf8)) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Moves to byte `offset` from the start (to rewrite a header).
    public func seek(to offset: Int) throws(FileError) { try file.seek(to: offset) }

    /// Flushes and closes the temporary file and renames it to ``path`` (replacing a file there).
    ///
    /// - Throws: ``FileError`` when the final flush (a full disk shows up here) or the rename
    ///   fails; the temporary file is then removed.
    public func commit() throws(FileError) {
        guard !finished else { throw FileError(path: path, "already finished") }
        finished = true
        do throws(FileError) {
            try file.close()
        } catch {
            unlink(temporaryPath)
            throw error
        }
        if rename(temporaryPath, path) != 0 {
            let error = FileError.system(path, "rename \(temporaryPath) to it")
            unlink(temporaryPath)
            throw error
        }
    }

    /// Closes and removes the temporary file; ``path`` is left as it was.
    public func discard() {
        guard !finished else { return }
        finished = true
        try? file.close()
        unlink(temporaryPath)
    }
}
