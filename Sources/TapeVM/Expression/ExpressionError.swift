/// Why a text in the expression language could not be turned into a ``Tape``, and where.
///
/// The ``description`` reads like a compiler diagnostic: the position, the message, the
/// source line and a caret under the offending token:
///
/// ```text
/// 1:15: error: unknown name 'z'
/// f(x, y) = x + z
///               ^
/// ```
public struct ExpressionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Kinds of fault, for code that reacts to errors; people read ``message``.
    public enum Kind: String, Hashable, Sendable {
        /// A character that starts no token, such as `$` or `&`.
        case unexpectedCharacter
        /// A number that is cut short (`1e`) or too large for a `Double` (`1e999`).
        case malformedNumber
        /// A token where the grammar allows something else; the message says what was expected.
        case unexpectedToken
        /// The text ended where the grammar needs more; the message says what was expected.
        case unexpectedEndOfInput
        /// The text holds no definition at all.
        case emptyInput
        /// A name that is not an input, a parameter, a `let` binding or a constant.
        case unknownName
        /// A call of something that is not a function of the language.
        case unknownFunction
        /// A call with the wrong number of arguments.
        case wrongArgumentCount
        /// An input, parameter or definition named twice.
        case duplicateName
        /// A `let` binding with the name of an input or a parameter.
        case shadowedName
        /// Definitions with different input or parameter lists.
        case mismatchedSignature
        /// A `powi` exponent that is not an integer literal, or is out of range.
        case invalidExponent
        /// A tuple anywhere but as the whole body of a definition.
        case misplacedTuple
        /// Comparisons chained without parentheses, as in `a < b < c`.
        case chainedComparison
        /// More than ``ExpressionError/maximumNesting`` unfinished constructs at once.
        case nestingTooDeep
        /// The tape made from the text failed validation (not expected to happen).
        case invalidTape
    }

    /// How deeply an expression may nest: the most constructs that may be unfinished at once,
    /// counting open parentheses and calls, `let`s, unary operators and binary operators waiting
    /// for their right operand. (`((x))` has 2; `a + b * c` has 2 while `c` is read; `x + x + x`
    /// never more than 1.) Parsing does not recurse, so this bounds memory, not stack depth.
    public static let maximumNesting = 1024

    /// What kind of fault.
    public let kind: Kind
    /// The 1-based line of the offending token.
    public let line: Int
    /// The 1-based column (in characters) of the offending token.
    public let column: Int
    /// What is wrong, in words.
    public let message: String
    /// The text of the offending line, without its line break (empty if there is none).
    public let sourceLine: String

    /// An error at a position of the source.
    public init(_ kind: Kind, _ message: String, line: Int, column: Int, sourceLine: String = "") {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
        self.sourceLine = sourceLine
    }

    /// `line:column: error: message`, then the source line and a caret under the column.
    public var description: String {
        sourceDiagnostic(line: line, column: column, message: message, sourceLine: sourceLine)
    }
}
