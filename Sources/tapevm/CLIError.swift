import ArgumentParser
import TapeVM
import TapeVMIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure to report on one line of stderr (expression errors add their caret snippet),
/// with a `sysexits.h` exit code.
struct CLIError: Error {
    /// The text after `Error: ` (or the whole diagnostic when ``isDiagnostic``).
    var message: String
    var exitCode: Int32
    /// The message is a compiler-style diagnostic (`where:line:column: error: what`), printed as is.
    var isDiagnostic = false

    /// A problem with the command-line arguments (EX_USAGE, like ArgumentParser's own errors).
    static func usage(_ message: String) -> CLIError { CLIError(message: message, exitCode: 64) }
    /// A function that does not fit the command (EX_DATAERR).
    static func data(_ message: String) -> CLIError { CLIError(message: message, exitCode: 65) }
    /// A file that cannot be read or written (EX_IOERR).
    static func file(_ error: FileError) -> CLIError { CLIError(message: error.description, exitCode: 74) }
    /// An error from the evaluator: a bug of the CLI if it happens (EX_SOFTWARE).
    static func evaluation(_ error: EvaluationError) -> CLIError {
        CLIError(message: "evaluation failed: \(error.message)", exitCode: 70)
    }
    /// An expression that does not compile, shown with its position and a caret (EX_DATAERR).
    static func expression(_ error: ExpressionError, source: String) -> CLIError {
        CLIError(message: "\(source):\(error.description)", exitCode: 65, isDiagnostic: true)
    }
}

/// Runs a command body, turning a ``CLIError`` into a message on stderr and an exit code.
func reportingErrors(_ body: () throws(CLIError) -> Void) throws(ExitCode) {
    do {
        try body()
    } catch {
        printError(error.isDiagnostic ? error.message : "Error: \(error.message)")
        throw ExitCode(error.exitCode)
    }
}

/// Prints a line to stderr.
func printError(_ text: String) { writeStderr(text + "\n") }

/// Writes text to stderr as is (unbuffered).
func writeStderr(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { return }
        offset += n
    }
}
