/// Builds a ``Tape`` one instruction at a time.
///
/// ```swift
/// let b = TapeBuilder()
/// let x = b.input("x"), y = b.input("y"), z = b.input("z")
/// b.output("f", b.mul(b.add(x, y), z))
/// let tape = try b.build()
/// ```
///
/// Every method appends one instruction and returns the register it defines; inputs,
/// parameters and constants are made once per name (or value) and then reused. Nothing is
/// checked until ``build()``, which runs the same validation as every other way of making a
/// tape and throws ``TapeError`` with the instruction at fault.
public final class TapeBuilder {
    private(set) var instructions: [Instruction] = []
    private(set) var inputNames: [String] = []
    private(set) var parameterNames: [String] = []
    private var outputs: [Output] = []
    private var leafRegisters: [String: Register] = [:]
    private var constants: [UInt64: Register] = [:]

    /// An empty builder.
    public init() {}

    /// The number of instructions so far.
    public var count: Int { instructions.count }

    /// Appends `opcode(operands; immediate)` and returns its register.
    @discardableResult
    public func emit(_ opcode: Opcode, _ operands: [Register], immediate: Double = 0) -> Register {
        instructions.append(Instruction(opcode, operands, immediate: immediate))
        return Register(instructions.count - 1)
    }

    /// The per-point input named `name`, declared on first use (slots follow declaration order).
    public func input(_ name: String) -> Register {
        leaf(name, opcode: .input, names: &inputNames)
    }

    /// The parameter named `name` (shared by every point of a batch), declared on first use.
    public func parameter(_ name: String) -> Register {
        leaf(name, opcode: .param, names: &parameterNames)
    }

    /// Whether `name` is already an input or a parameter.
    public func isDeclared(_ name: String) -> Bool { leafRegisters[name] != nil }

    /// A constant (one register per distinct value, bit for bit).
    public func constant(_ value: Double) -> Register {
        if let r = constants[value.bitPattern] { return r }
        let r = emit(.const, [], immediate: value)
        constants[value.bitPattern] = r
        return r
    }

    /// Marks `register` as the output named `name`.
    public func output(_ name: String, _ register: Register) {
        outputs.append(Output(name: name, register: register))
    }

    /// Validates and returns the tape.
    public func build() throws(TapeError) -> Tape {
        try Tape(instructions: instructions, inputs: inputNames, parameters: parameterNames, outputs: outputs)
    }

    private func leaf(_ name: String, opcode: Opcode, names: inout [String]) -> Register {
        if let r = leafRegisters[name] {
            // A name used as both input and parameter is caught by build().
            if instructions[r.index].opcode == opcode { return r }
        }
        names.append(name)
        let r = emit(opcode, [], immediate: Double(names.count - 1))
        if leafRegisters[name] == nil { leafRegisters[name] = r }
        return r
    }
}

// One method per opcode, named after it.
extension TapeBuilder {
    public func neg(_ a: Register) -> Register { emit(.neg, [a]) }
    public func recip(_ a: Register) -> Register { emit(.recip, [a]) }
    public func square(_ a: Register) -> Register { emit(.square, [a]) }
    public func sqrt(_ a: Register) -> Register { emit(.sqrt, [a]) }
    public func exp(_ a: Register) -> Register { emit(.exp, [a]) }
    public func log(_ a: Register) -> Register { emit(.log, [a]) }
    public func sigmoid(_ a: Register) -> Register { emit(.sigmoid, [a]) }
    public func tanh(_ a: Register) -> Register { emit(.tanh, [a]) }
    public func sin(_ a: Register) -> Register { emit(.sin, [a]) }
    public func cos(_ a: Register) -> Register { emit(.cos, [a]) }
    public func abs(_ a: Register) -> Register { emit(.abs, [a]) }
    public func relu(_ a: Register) -> Register { emit(.relu, [a]) }
    public func softplus(_ a: Register) -> Register { emit(.softplus, [a]) }
    public func log1p(_ a: Register) -> Register { emit(.log1p, [a]) }
    public func expm1(_ a: Register) -> Register { emit(.expm1, [a]) }
    /// `a` to the integer power `n`.
    public func powi(_ a: Register, _ n: Int) -> Register { emit(.powi, [a], immediate: Double(n)) }
    public func add(_ a: Register, _ b: Register) -> Register { emit(.add, [a, b]) }
    public func sub(_ a: Register, _ b: Register) -> Register { emit(.sub, [a, b]) }
    public func mul(_ a: Register, _ b: Register) -> Register { emit(.mul, [a, b]) }
    public func div(_ a: Register, _ b: Register) -> Register { emit(.div, [a, b]) }
    public func pow(_ a: Register, _ b: Register) -> Register { emit(.pow, [a, b]) }
    public func max(_ a: Register, _ b: Register) -> Register { emit(.max, [a, b]) }
    public func min(_ a: Register, _ b: Register) -> Register { emit(.min, [a, b]) }
    public func logaddexp(_ a: Register, _ b: Register) -> Register { emit(.logaddexp, [a, b]) }
    public func lt(_ a: Register, _ b: Register) -> Register { emit(.lt, [a, b]) }
    public func le(_ a: Register, _ b: Register) -> Register { emit(.le, [a, b]) }
    public func gt(_ a: Register, _ b: Register) -> Register { emit(.gt, [a, b]) }
    public func ge(_ a: Register, _ b: Register) -> Register { emit(.ge, [a, b]) }
    public func eq(_ a: Register, _ b: Register) -> Register { emit(.eq, [a, b]) }
    public func ne(_ a: Register, _ b: Register) -> Register { emit(.ne, [a, b]) }
    /// `ifNonzero` where `condition` ≠ 0, else `ifZero`.
    public func select(_ condition: Register, _ ifNonzero: Register, _ ifZero: Register) -> Register {
        emit(.select, [condition, ifNonzero, ifZero])
    }
    /// `a·b + c`, rounded twice.
    public func muladd(_ a: Register, _ b: Register, _ c: Register) -> Register { emit(.muladd, [a, b, c]) }
    public func tan(_ a: Register) -> Register { emit(.tan, [a]) }
    public func atan(_ a: Register) -> Register { emit(.atan, [a]) }
    public func asin(_ a: Register) -> Register { emit(.asin, [a]) }
    public func acos(_ a: Register) -> Register { emit(.acos, [a]) }
    public func sinh(_ a: Register) -> Register { emit(.sinh, [a]) }
    public func cosh(_ a: Register) -> Register { emit(.cosh, [a]) }
    public func asinh(_ a: Register) -> Register { emit(.asinh, [a]) }
    public func acosh(_ a: Register) -> Register { emit(.acosh, [a]) }
    public func atanh(_ a: Register) -> Register { emit(.atanh, [a]) }
    public func erf(_ a: Register) -> Register { emit(.erf, [a]) }
    public func erfc(_ a: Register) -> Register { emit(.erfc, [a]) }
    public func cbrt(_ a: Register) -> Register { emit(.cbrt, [a]) }
    public func exp2(_ a: Register) -> Register { emit(.exp2, [a]) }
    public func log2(_ a: Register) -> Register { emit(.log2, [a]) }
    public func log10(_ a: Register) -> Register { emit(.log10, [a]) }
    public func sign(_ a: Register) -> Register { emit(.sign, [a]) }
    public func floor(_ a: Register) -> Register { emit(.floor, [a]) }
    public func ceil(_ a: Register) -> Register { emit(.ceil, [a]) }
    /// `atan2(y, x)`: the angle of the point (x, y).
    public func atan2(_ y: Register, _ x: Register) -> Register { emit(.atan2, [y, x]) }
    public func hypot(_ a: Register, _ b: Register) -> Register { emit(.hypot, [a, b]) }
}
