import TapeVM

extension Tape {
    /// The tape of one output alone: the instructions it depends on (plus every input and
    /// parameter leaf, so slots stay the same), renumbered in order.
    ///
    /// Why: a reverse sweep visits every instruction, and an instruction outside the output's
    /// cone has adjoint 0, but `0 · ∞` is NaN: `f(x, y) = (x * y, x / y)` at `y = 0` would get
    /// a NaN in the gradient of `x * y` from the other output, and an unused `let s = sqrt(x)`
    /// would poison `∂f/∂x` for `x < 0`. Differentiating the slice gives each output the
    /// gradient of its own expression.
    func slice(output k: Int) -> Tape {
        var live = [Bool](repeating: false, count: instructions.count)
        live[outputs[k].register.index] = true
        for i in stride(from: instructions.count - 1, through: 0, by: -1) {
            let ins = instructions[i]
            if ins.opcode == .input || ins.opcode == .param { live[i] = true }
            guard live[i] else { continue }
            for r in ins.operands { live[r.index] = true }
        }
        var renumber = [Int](repeating: -1, count: instructions.count)
        var kept: [Instruction] = []
        for (i, ins) in instructions.enumerated() where live[i] {
            renumber[i] = kept.count
            kept.append(Instruction(ins.opcode, ins.operands.map { Register(renumber[$0.index]) }, immediate: ins.immediate))
        }
        let output = Output(name: outputs[k].name, register: Register(renumber[outputs[k].register.index]))
        // A sub-tape of a valid tape is valid: operands still come before their users.
        return try! Tape(instructions: kept, inputs: inputs, parameters: parameters, outputs: [output])
    }
}
