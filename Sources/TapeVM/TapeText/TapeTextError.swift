/// Why tape text could not be read, and where.
///
/// The ``description`` reads like a compiler diagnostic, with the offending line and a caret
/// under the column at fault:
///
/// ```
/// 7:6: error: unknown mnemonic 'ad' (did you mean 'add'?)
/// r3 = ad r0 r1
///      ^
/// ```
public struct TapeTextError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Kinds of fault.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// The text does not follow the grammar: a missing or unexpected token, a bad register
        /// or name, an unterminated or badly escaped quoted name.
        case syntax
        /// The first statement is not the `tapevm 1` header (or the text is empty).
        case missingHeader
        /// The header names a version this build cannot read.
        case unsupportedVersion
        /// A statement is out of place: a second header, or a declaration after the first instruction.
        case misplacedStatement
        /// The mnemonic is not in the instruction set.
        case unknownMnemonic
        /// An instruction has too few or too many operands for its opcode.
        case wrongOperandCount
        /// An instruction's `rN` is not its index (instructions are numbered from `r0` in order).
        case misnumberedRegister
        /// An operand or output names a register not defined above it.
        case undefinedRegister
        /// An `input` or `param` instruction names something not declared as one.
        case undeclaredName
        /// A name is declared or used as an output name twice.
        case duplicateName
        /// A `const` value or `powi` exponent is not a valid number.
        case invalidNumber
        /// The tape has no `output` line.
        case noOutputs
        /// The tape's own validation rejected it (see ``Tape/init(instructions:inputs:parameters:outputs:)``);
        /// the message is the ``TapeError``'s.
        case invalidTape
    }

    /// What kind of fault.
    public let kind: Kind
    /// The 1-based line number.
    public let line: Int
    /// The 1-based column, counted in characters.
    public let column: Int
    /// What is wrong, in words.
    public let message: String
    /// The text of the line at fault, without its line break.
    public let sourceLine: String

    /// An error at `line`:`column` of the text.
    public init(_ kind: Kind, line: Int, column: Int, _ message: String, sourceLine: String = "") {
        self.kind = kind
        self.line = line
        self.column = column
        self.message = message
        self.sourceLine = sourceLine
    }

    /// `line:column: error: message`, then the source line and a caret under the column.
    public var description: String {
        sourceDiagnostic(line: line, column: column, message: message, sourceLine: sourceLine)
    }
}
