/// Why a batch could not be evaluated: the arguments do not fit the tape.
public struct EvaluationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong, naming the input, parameter or output concerned.
    public let message: String

    /// An error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
