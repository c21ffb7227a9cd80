/// The largest tapes TapeVM accepts. Every way of making a tape (``TapeBuilder``, tracing, the
/// expression language, tape text, `Codable`) ends in the validating initializer, which refuses
/// anything beyond these with a ``TapeError`` saying which limit and by how much; the parsers
/// report it at a line and column. Time and memory are linear in the tape's size up to them.
public enum TapeLimits {
    /// Instructions (and so registers) in one tape: 2²⁶ = 67,108,864.
    public static let maximumInstructions = 1 << 26
    /// Inputs, parameters or outputs (each) in one tape: 2²⁰ = 1,048,576.
    public static let maximumSlots = 1 << 20
    /// UTF-8 bytes in one name (of an input, a parameter or an output): 4096.
    public static let maximumNameBytes = 4096
    /// The largest |k| of an integer power `powi(x, k)`: 1,000,000.
    public static let maximumExponent = 1_000_000
}

/// A register of a tape: the result of the instruction at the same index.
///
/// Tapes are in static single-assignment form: instruction `i` writes register `i` and reads
/// only registers below `i`.
public struct Register: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The register's number, which is also the index of the instruction that defines it.
    public let index: Int

    /// A register by number.
    public init(_ index: Int) { self.index = index }

    public static func < (lhs: Register, rhs: Register) -> Bool { lhs.index < rhs.index }
    public var description: String { "r\(index)" }
}

/// One line of a tape: `r[i] = opcode(operands; immediate)`.
public struct Instruction: Hashable, Sendable, Codable {
    /// What the instruction computes.
    public let opcode: Opcode
    /// The registers it reads; as many as the opcode's arity.
    public let operands: [Register]
    /// The immediate: a slot index for `input`/`param`, the value of a `const`, the exponent
    /// of `powi`, otherwise 0 (see ``ImmediateKind``).
    public let immediate: Double

    /// An instruction. Nothing is checked here; ``Tape/init(instructions:inputs:parameters:outputs:)``
    /// validates whole tapes.
    public init(_ opcode: Opcode, _ operands: [Register] = [], immediate: Double = 0) {
        self.opcode = opcode
        self.operands = operands
        self.immediate = immediate
    }

    /// Equal when the opcode, operands and immediate bits match: `const nan` equals itself,
    /// and `const 0` differs from `const -0` (they compute different results).
    public static func == (lhs: Instruction, rhs: Instruction) -> Bool {
        lhs.opcode == rhs.opcode && lhs.operands == rhs.operands && lhs.immediate.bitPattern == rhs.immediate.bitPattern
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(opcode)
        hasher.combine(operands)
        hasher.combine(immediate.bitPattern)
    }
}

/// A named output of a tape.
public struct Output: Hashable, Sendable, Codable {
    /// The output's name (unique within the tape).
    public let name: String
    /// The register whose value is the output.
    public let register: Register

    /// An output naming a register.
    public init(name: String, register: Register) {
        self.name = name
        self.register = register
    }
}

/// A computation as a flat Wengert list: a validated, immutable value.
///
/// A tape has named per-point **inputs**, named **parameters** shared by every point of a
/// batch, and one or more named **outputs**. Instruction `i` defines register `i`; `input k`
/// and `param k` read slot `k` of the inputs or parameters, `const` holds a value.
///
/// Make one with ``TapeBuilder``, by tracing Swift code with ``Tape/trace(inputs:parameters:_:)``,
/// or by parsing the expression language with ``Tape/init(expression:)``. Every way ends in
/// the validating initializer, so a `Tape` value is always well formed: the executors run it
/// without further checks.
public struct Tape: Hashable, Sendable, Codable {
    /// The instructions; instruction `i` defines register `i`.
    public let instructions: [Instruction]
    /// Input names, by slot.
    public let inputs: [String]
    /// Parameter names, by slot.
    public let parameters: [String]
    /// The outputs, in order.
    public let outputs: [Output]

    /// Validates and makes a tape.
    ///
    /// - Throws: ``TapeError`` naming the instruction, register or name at fault: an operand
    ///   count that does not match the opcode, an operand that is not an earlier register, a
    ///   slot out of range, a non-integer `powi` exponent, duplicate or empty names, no outputs.
    public init(instructions: [Instruction], inputs: [String], parameters: [String] = [], outputs: [Output]) throws(TapeError) {
        try Tape.validate(instructions: instructions, inputs: inputs, parameters: parameters, outputs: outputs)
        self.instructions = instructions
        self.inputs = inputs
        self.parameters = parameters
        self.outputs = outputs
    }

    /// The number of registers (one per instruction).
    public var registerCount: Int { instructions.count }

    /// The slot of a named input, if there is one.
    public func inputSlot(named name: String) -> Int? { inputs.firstIndex(of: name) }
    /// The slot of a named parameter, if there is one.
    public func parameterSlot(named name: String) -> Int? { parameters.firstIndex(of: name) }
    /// The index of a named output, if there is one.
    public func outputIndex(named name: String) -> Int? { outputs.firstIndex { $0.name == name } }

    // Codable goes through the validating initializer, so a decoded tape is as safe as a built one.
    private enum CodingKeys: String, CodingKey { case instructions, inputs, parameters, outputs }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            instructions: c.decode([Instruction].self, forKey: .instructions),
            inputs: c.decode([String].self, forKey: .inputs),
            parameters: c.decode([String].self, forKey: .parameters),
            outputs: c.decode([Output].self, forKey: .outputs))
    }
}

extension Tape {
    static func validate(instructions: [Instruction], inputs: [String], parameters: [String], outputs: [Output]) throws(TapeError) {
        try checkNames(inputs, kind: "input")
        try checkNames(parameters, kind: "parameter")
        try checkNames(outputs.map(\.name), kind: "output")
        if let clash = Set(inputs).intersection(parameters).sorted().first {
            throw TapeError(.duplicateName, "'\(clash)' is both an input and a parameter")
        }
        guard instructions.count <= TapeLimits.maximumInstructions else {
            throw TapeError(.tooLarge, "the tape has \(instructions.count) instructions; at most \(TapeLimits.maximumInstructions) are allowed")
        }
        for (i, ins) in instructions.enumerated() {
            let info = ins.opcode.info
            guard ins.operands.count == info.arity else {
                throw TapeError(.wrongArity, "\(info.mnemonic) takes \(info.arity) operand(s), got \(ins.operands.count)", instruction: i)
            }
            for r in ins.operands where r.index < 0 || r.index >= i {
                throw TapeError(.operandOutOfOrder,
                    "operand \(r) of \(info.mnemonic) is not an earlier register (r0...r\(i - 1))", instruction: i)
            }
            switch info.immediate {
            case .slot:
                let count = ins.opcode == .input ? inputs.count : parameters.count
                guard ins.immediate >= 0, ins.immediate < Double(count), ins.immediate.rounded() == ins.immediate else {
                    throw TapeError(.slotOutOfRange,
                        "\(info.mnemonic) slot \(ins.immediate) is out of range: the tape has \(count) \(ins.opcode == .input ? "input" : "parameter")(s)",
                        instruction: i)
                }
            case .exponent:
                guard ins.immediate.rounded() == ins.immediate, Swift.abs(ins.immediate) <= Double(TapeLimits.maximumExponent) else {
                    throw TapeError(.invalidInstruction, "powi needs an integer exponent with |k| ≤ \(TapeLimits.maximumExponent), got \(ins.immediate)", instruction: i)
                }
            case .none:
                guard ins.immediate == 0 else {
                    throw TapeError(.invalidInstruction, "\(info.mnemonic) takes no immediate, got \(ins.immediate)", instruction: i)
                }
            case .value:
                break
            }
        }
        guard !outputs.isEmpty else { throw TapeError(.noOutputs, "a tape needs at least one output") }
        for o in outputs where o.register.index < 0 || o.register.index >= instructions.count {
            throw TapeError(.outputOutOfRange,
                "output '\(o.name)' names \(o.register), but the tape has \(instructions.count) register(s)")
        }
    }

    private static func checkNames(_ names: [String], kind: String) throws(TapeError) {
        guard names.count <= TapeLimits.maximumSlots else {
            throw TapeError(.tooLarge, "the tape has \(names.count) \(kind)s; at most \(TapeLimits.maximumSlots) are allowed")
        }
        var seen = Set<String>()
        for name in names {
            guard !name.isEmpty else { throw TapeError(.invalidName, "\(kind == "input" ? "an" : "a") \(kind) name is empty") }
            guard name.utf8.count <= TapeLimits.maximumNameBytes else {
                throw TapeError(.tooLarge, "\(kind == "input" ? "an" : "a") \(kind) name has \(name.utf8.count) bytes; at most \(TapeLimits.maximumNameBytes) are allowed ('\(name.prefix(20))…')")
            }
            guard seen.insert(name).inserted else { throw TapeError(.duplicateName, "\(kind) '\(name)' is named twice") }
        }
    }
}
