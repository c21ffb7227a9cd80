import TapeVM
import TapeVMIO
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

/// A CSV cell: the shortest round-trip decimal (no trailing `.0`); `nan`, `inf`, `-inf` (as
/// NumPy and pandas read them).
func csvCell(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    let s = x.description
    return s.hasSuffix(".0") ? String(s.dropLast(2)) : s
}

/// Prints `key  value` lines with the values aligned (an empty key continues the line above).
func printTable(_ rows: [(String, String)]) {
    let width = rows.map { $0.0.count }.max() ?? 0
    for (key, value) in rows {
        print(key + String(repeating: " ", count: width - key.count) + "  " + value)
    }
}

/// Warns on stderr when `TAPEVM_ISA` asks for a code path these options do not use.
func warnAboutRequestedInstructionSet(_ options: ExecutionOptions) {
    if let requested = environment("TAPEVM_ISA"), requested != options.instructionSet.rawValue {
        printError("warning: TAPEVM_ISA=\(requested) is not a code path this CPU supports (\(InstructionSet.supported.map(\.rawValue).joined(separator: ", "))); using \(options.instructionSet)")
    }
    if let mode = environment("TAPEVM_MATH"), !["", "native", "portable"].contains(mode) {
        printError("warning: TAPEVM_MATH=\(mode) is not a math mode (native, portable); using native")
    }
}

/// The summary lines for threads and the CPU path the program runs (the library's word for it).
func executionSummary(_ program: Program) -> [(String, String)] {
    [("threads", "\(program.options.resolvedThreads) (of \(ExecutionOptions.coreCount) cores)"),
     ("CPU path", "\(program.instructionSet) (supported: \(InstructionSet.supported.map(\.rawValue).joined(separator: ", ")); set TAPEVM_ISA to choose)")]
}

/// An environment variable, if set.
func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}
