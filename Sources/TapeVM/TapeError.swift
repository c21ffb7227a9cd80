/// Why a tape could not be made, and where.
public struct TapeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Kinds of invalid tape.
    public enum Kind: String, Hashable, Sendable {
        case wrongArity, operandOutOfOrder, slotOutOfRange, invalidInstruction
        case noOutputs, outputOutOfRange, duplicateName, invalidName, unknownName
        /// Beyond one of the ``TapeLimits``.
        case tooLarge
    }

    /// What kind of fault.
    public let kind: Kind
    /// What is wrong, in words.
    public let message: String
    /// The index of the instruction at fault, when one is.
    public let instruction: Int?

    /// An error.
    public init(_ kind: Kind, _ message: String, instruction: Int? = nil) {
        self.kind = kind
        self.message = message
        self.instruction = instruction
    }

    public var description: String {
        if let instruction { return "invalid tape: instruction \(instruction) (r\(instruction)): \(message)" }
        return "invalid tape: \(message)"
    }
}
