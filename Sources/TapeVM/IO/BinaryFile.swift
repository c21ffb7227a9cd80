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

/// A file opened with C stdio (buffered), for the writers and readers of this folder.
///
/// Kept to the C library so that `TapeVM` needs no Foundation.
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
