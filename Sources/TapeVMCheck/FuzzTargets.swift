import TapeVM
import TapeVMC

/// A property a fuzz input broke: what and where. The fuzz driver turns it into a crash (so
/// libFuzzer saves the input); the corpus replay test reports it as a test failure.
public struct FuzzFailure: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public let message: String
    /// A failure.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The untrusted entry points of TapeVM, one fuzz target each, with the properties each input
/// must keep (not only "no crash"):
///
/// - `expression`: `Tape(expression:)` either throws an error whose line and column lie inside
///   the text, or gives a tape whose text prints and parses back equal, and which runs on every
///   path and optimizer level in agreement with the reference (``Differential``).
/// - `tape-text`: the same for `Tape(text:)` (printing a parsed tape and parsing it again gives
///   the same tape and the same text).
/// - `c-abi`: a sequence of C ABI calls driven by the input: parse, names, text round trip,
///   `tvm_program_new` with fuzzed options, runs with fuzzed counts, NULLs, wrong handle kinds
///   and overlapping destinations. Every call returns the documented status; a failed run
///   writes nothing; a successful one gives the bits of the Swift `Program` with the same options.
/// - `csv` and `npy`: the file readers (see FuzzIO.swift).
public enum FuzzTarget: String, CaseIterable, Sendable {
    case expression
    case tapeText = "tape-text"
    case cABI = "c-abi"
    case csv
    case npy

    /// Tapes larger than this are only parsed and printed, not run on every path (keeps the
    /// fuzzer's executions per second up; size limits are tested separately).
    public static let differentialInstructionLimit = 400

    /// Checks one input.
    public func run(_ data: [UInt8]) throws(FuzzFailure) {
        switch self {
        case .expression: try FuzzChecks.expression(data)
        case .tapeText: try FuzzChecks.tapeText(data)
        case .cABI: try FuzzChecks.cABI(data)
        case .csv: try FuzzChecks.csv(data)
        case .npy: try FuzzChecks.npy(data)
        }
    }
}

enum FuzzChecks {
    /// A 64-bit FNV-1a hash: the seed of an input's points, so a reproducer replays exactly.
    static func hash(_ data: [UInt8]) -> UInt64 {
        data.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    /// Points and parameters for a tape, derived from the input's bytes; 9 points (one past a
    /// tile of 8) with tile size 8, or 3 with the automatic tile size.
    static func differential(_ tape: Tape, _ data: [UInt8]) throws(FuzzFailure) {
        guard tape.instructions.count <= FuzzTarget.differentialInstructionLimit else { return }
        var rng = SplitMix64(seed: hash(data))
        let n = Bool.random(using: &rng) ? 9 : 3
        let inputs = Differential.points(count: n, inputs: tape.inputs.count, rng: &rng)
        let parameters = Differential.points(count: 1, inputs: tape.parameters.count, rng: &rng).map { $0[0] }
        let outcome = Differential.check(tape, inputs: inputs, parameters: parameters,
                                         levels: [.none, .exact, .all], tileSize: n == 9 ? 8 : nil)
        if let mismatch = outcome.mismatch {
            throw FuzzFailure("differential: \(mismatch)\ninputs: \(inputs)\nparameters: \(parameters)\ntape:\n\(tape.text)")
        }
    }

    /// `text` prints and parses back to the same tape, and prints the same again.
    static func roundTrip(_ tape: Tape) throws(FuzzFailure) {
        let text = tape.text
        let again: Tape
        do { again = try Tape(text: text) } catch {
            throw FuzzFailure("the printed tape does not parse: \(error)\n\(text)")
        }
        guard again == tape else { throw FuzzFailure("the printed tape parses to a different tape:\n\(text)\n---\n\(again.text)") }
        guard again.text == text else { throw FuzzFailure("printing the parsed tape gives different text:\n\(text)\n---\n\(again.text)") }
    }

    /// An error's position is inside the source, and its message is not empty. `lines` are the
    /// source's lines as the parser counts them, each with its length in the parser's columns.
    static func checkPosition(line: Int, column: Int, message: String, lines: [Int]) throws(FuzzFailure) {
        guard !message.isEmpty else { throw FuzzFailure("an error without a message") }
        guard line >= 1, line <= lines.count else {
            throw FuzzFailure("error at line \(line), but the text has \(lines.count) line(s): \(message)")
        }
        guard column >= 1, column <= lines[line - 1] + 2 else {
            throw FuzzFailure("error at \(line):\(column), but line \(line) has \(lines[line - 1]) column(s): \(message)")
        }
    }

    /// Expression lines: split at every Unicode line break (`Character.isNewline`, as the lexer
    /// does), columns in characters.
    static func expressionLines(_ source: String) -> [Int] {
        source.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(\.count)
    }

    /// Tape text lines: split at "\n"; a line's byte count bounds its columns (characters).
    static func tapeTextLines(_ source: String) -> [Int] {
        Array(source.utf8).split(separator: 0x0A, omittingEmptySubsequences: false).map(\.count)
    }

    static func expression(_ data: [UInt8]) throws(FuzzFailure) {
        try parsed(data) { (source) throws(FuzzFailure) in
            do throws(ExpressionError) { return try Tape(expression: source) } catch {
                try checkPosition(line: error.line, column: error.column, message: error.message, lines: expressionLines(source))
                return nil
            }
        }
    }

    static func tapeText(_ data: [UInt8]) throws(FuzzFailure) {
        try parsed(data) { (source) throws(FuzzFailure) in
            do throws(TapeTextError) { return try Tape(text: source) } catch {
                try checkPosition(line: error.line, column: error.column, message: error.message, lines: tapeTextLines(source))
                return nil
            }
        }
    }

    /// Parses the input as UTF-8 (invalid bytes become U+FFFD) with `parse`, which checks and
    /// absorbs a parse error (nil); a tape must print and parse back equal and pass ``differential``.
    static func parsed(_ data: [UInt8], _ parse: (String) throws(FuzzFailure) -> Tape?) throws(FuzzFailure) {
        guard let tape = try parse(String(decoding: data, as: UTF8.self)) else { return }
        try roundTrip(tape)
        try differential(tape, data)
    }
}
