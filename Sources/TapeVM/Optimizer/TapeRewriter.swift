/// Rebuilds a tape instruction by instruction: the shared machinery of the optimizer's passes.
///
/// A pass looks at each instruction of the old tape, with its operands already renamed to
/// registers of the new tape, and either emits instructions or maps the old register onto an
/// existing new one. Outputs follow the mapping. Because instructions are visited in order and
/// only earlier registers can be named, the result is valid by construction.
struct TapeRewriter {
    let source: Tape
    private(set) var instructions: [Instruction] = []
    /// New register for each old register visited so far.
    private(set) var map: [Register] = []
    private var constants: [UInt64: Register] = [:]

    init(_ source: Tape) {
        self.source = source
        instructions.reserveCapacity(source.instructions.count)
        map.reserveCapacity(source.instructions.count)
    }

    /// Appends an instruction to the new tape.
    mutating func emit(_ ins: Instruction) -> Register {
        if ins.opcode == .const, let r = constants[ins.immediate.bitPattern] { return r }
        instructions.append(ins)
        let r = Register(instructions.count - 1)
        if ins.opcode == .const { constants[ins.immediate.bitPattern] = r }
        return r
    }

    /// The new-tape instruction defining `r`.
    func defining(_ r: Register) -> Instruction { instructions[r.index] }

    /// The constant value of new register `r`, if it is a `const`.
    func constantValue(_ r: Register) -> Double? {
        let ins = instructions[r.index]
        return ins.opcode == .const ? ins.immediate : nil
    }

    /// How many times each register is read, outputs included: a fusion may absorb a result
    /// only where its one reader is the fused instruction.
    static func useCounts(_ tape: Tape) -> [Int] {
        var uses = [Int](repeating: 0, count: tape.instructions.count)
        for ins in tape.instructions { for r in ins.operands { uses[r.index] += 1 } }
        for o in tape.outputs { uses[o.register.index] += 1 }
        return uses
    }

    /// Runs `step` over every instruction (operands renamed) and returns the new tape.
    static func rewrite(_ tape: Tape, _ step: (inout TapeRewriter, Instruction) -> Register) -> Tape {
        rewrite(tape) { w, ins, _ in step(&w, ins) }
    }

    /// Runs `step` over every instruction (operands renamed; the third argument is the
    /// instruction's index in the source tape) and returns the new tape.
    static func rewrite(_ tape: Tape, _ step: (inout TapeRewriter, Instruction, Int) -> Register) -> Tape {
        var w = TapeRewriter(tape)
        for (i, ins) in tape.instructions.enumerated() {
            let renamed = Instruction(ins.opcode, ins.operands.map { w.map[$0.index] }, immediate: ins.immediate)
            let r = step(&w, renamed, i)
            w.map.append(r)
        }
        return w.finish()
    }

    func finish() -> Tape {
        let outputs = source.outputs.map { Output(name: $0.name, register: map[$0.register.index]) }
        do {
            return try Tape(instructions: instructions, inputs: source.inputs, parameters: source.parameters, outputs: outputs)
        } catch {
            preconditionFailure("optimizer produced an invalid tape: \(error)")
        }
    }
}
