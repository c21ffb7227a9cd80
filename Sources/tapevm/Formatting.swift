import TapeVM
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `printf`-style formatting of one double, e.g. `format(x, "%.4g")`.
func format(_ x: Double, _ spec: String) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    _ = withVaList([x]) { args in
        buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, spec, args) }
    }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// A number for people: six significant digits (`%.6g`), `nan`, `inf`, `-inf`.
func readable(_ x: Double) -> String { format(x, "%.6g") }

/// Seconds in a `Duration`.
extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}

/// A byte count for people: `96.0 MB`.
func readableBytes(_ n: Double) -> String {
    if n >= 1e9 { return format(n / 1e9, "%.1f") + " GB" }
    if n >= 1e6 { return format(n / 1e6, "%.1f") + " MB" }
    if n >= 1e3 { return format(n / 1e3, "%.1f") + " kB" }
    return format(n, "%.0f") + " B"
}

/// A file written with C stdio (buffered), for the CSV output.
final class OutputFile {
    let path: String
    private var handle: UnsafeMutablePointer<FILE>?

    init(path: String) throws(CLIError) {
        self.path = path
        guard let handle = fopen(path, "wb") else {
            throw .file(.init(path: path, "cannot open for writing: \(String(cString: strerror(errno)))"))
        }
        self.handle = handle
    }

    deinit { if let handle { fclose(handle) } }

    func write(_ text: String) throws(CLIError) {
        var text = text
        let ok = text.withUTF8 { fwrite($0.baseAddress, 1, $0.count, handle) == $0.count }
        if !ok { throw .file(.init(path: path, "cannot write: \(String(cString: strerror(errno)))")) }
    }

    func close() throws(CLIError) {
        guard let h = handle else { return }
        handle = nil
        if fclose(h) != 0 { throw .file(.init(path: path, "cannot finish writing: \(String(cString: strerror(errno)))")) }
    }
}

/// An environment variable, if set.
func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}
