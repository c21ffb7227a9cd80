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

/// Where the function comes from: the positional expression or `--file`, plus `--param`.
struct FunctionOptions: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "The function in the expression language, e.g. 'f(x, y; w) = w * x + sigmoid(y)'.",
        valueName: "expression"))
    var expression: String?

    @Option(name: .long, help: ArgumentHelp(
        "Read the function from a file instead: an expression, or a .tape file from 'tapevm compile' ('-' reads standard input).", valueName: "path"))
    var file: String?

    @Option(name: .customLong("param"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Parameter values, by name or in order: --param w=0.5,b=1 or --param w=0.5 --param b=1.",
        valueName: "name=value,..."))
    var parameters: [String] = []

    /// The function's text and a name for it in error messages, or `nil` when neither the
    /// positional expression nor `--file` is given.
    func source() throws(CLIError) -> (text: String, origin: String)? {
        switch (expression, file) {
        case (.some, .some):
            throw .usage("give the function either as an argument or with --file, not both")
        case (let text?, nil):
            return (text, "<expression>")
        case (nil, let path?):
            do throws(FileError) {
                return (try readTextFile(path), path == "-" ? "<stdin>" : path)
            } catch {
                throw .file(error)
            }
        case (nil, nil):
            return nil
        }
    }

    /// Compiles the function (or `defaultText` when none is given and there is a default).
    ///
    /// A `--file` whose name ends in `.tape`, or whose text starts with the tape header
    /// `tapevm 1`, is read as tape text (what `tapevm compile` writes); anything else is an
    /// expression.
    func tape(default defaultText: String? = nil) throws(CLIError) -> (tape: Tape, text: String) {
        let given = try source()
        guard let (text, origin) = given ?? defaultText.map({ ($0, "<default>") }) else {
            throw .usage("no function: give an expression such as 'f(x, y) = x * y', or --file path")
        }
        if origin.hasSuffix(".tape") || text.drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" }).hasPrefix("tapevm ") {
            do throws(TapeTextError) {
                let tape = try Tape(text: text)
                return (tape, "tape \(origin) (\(tape.outputs.map(\.name).joined(separator: ", ")) of \(tape.inputs.joined(separator: ", ")))")
            } catch {
                throw CLIError(message: "\(origin):\(error.description)", exitCode: 65, isDiagnostic: true)
            }
        }
        do throws(ExpressionError) {
            return (try Tape(expression: text), text)
        } catch {
            throw .expression(error, source: origin)
        }
    }

    /// The parameter values in slot order, from `--param`.
    ///
    /// - Parameter inputOption: where the command takes input values from, for the message
    ///   when an input is given with `--param`.
    func parameterValues(for tape: Tape, inputOption: String = "--at") throws(CLIError) -> [Double] {
        if tape.parameters.isEmpty {
            guard parameters.isEmpty else {
                throw .usage("--param \(parameters.joined(separator: ",")): the function has no parameters")
            }
            return []
        }
        guard !parameters.isEmpty else {
            throw .usage("the function has parameter(s) \(tape.parameters.joined(separator: ", ")): give their values with --param \(tape.parameters.map { "\($0)=..." }.joined(separator: ","))")
        }
        return try Assignments.parse(parameters.joined(separator: ","), option: "--param",
                                     names: tape.parameters, kind: "parameter",
                                     others: tape.inputs, otherKind: "input", otherOption: inputOption)
    }
}

/// The index of the output `--output name` chooses (the first without it).
func outputIndex(_ name: String?, in tape: Tape) throws(CLIError) -> Int {
    guard let name else { return 0 }
    guard let k = tape.outputIndex(named: name) else {
        throw .usage("--output '\(name)': no such output (the function's outputs are \(tape.outputs.map(\.name).joined(separator: ", ")))")
    }
    return k
}

/// The function's text on one line for a summary: its lines without comments, joined by `; `.
func oneLine(_ text: String) -> String {
    text.split(separator: "\n").map { $0.trimmingSpaces }.filter { !$0.isEmpty && !$0.hasPrefix("#") }.joined(separator: "; ")
}

/// The whole text of a file, or of standard input for `-`.
func readTextFile(_ path: String) throws(FileError) -> String {
    guard let handle = fopen(path == "-" ? "/dev/stdin" : path, "rb") else {
        throw FileError(path: path, "cannot open for reading: \(String(cString: strerror(errno)))")
    }
    defer { fclose(handle) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, handle) }
        bytes += buffer[0..<n]
        if n < buffer.count {
            if ferror(handle) != 0 { throw FileError(path: path, "cannot read: \(String(cString: strerror(errno)))") }
            break
        }
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw FileError(path: path, "not UTF-8 text")
    }
    return text
}
