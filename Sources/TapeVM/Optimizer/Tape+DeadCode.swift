extension Tape {
    /// Dead-code elimination: keeps only the instructions some output depends on. Unused
    /// inputs and parameters keep their slots (and get a zero gradient).
    func removingDeadCode() -> Tape {
        var live = [Bool](repeating: false, count: instructions.count)
        for o in outputs { live[o.register.index] = true }
        for i in instructions.indices.reversed() where live[i] {
            for r in instructions[i].operands { live[r.index] = true }
        }
        var map = [Register?](repeating: nil, count: instructions.count)
        var kept: [Instruction] = []
        for (i, ins) in instructions.enumerated() where live[i] {
            kept.append(Instruction(ins.opcode, ins.operands.map { map[$0.index]! }, immediate: ins.immediate))
            map[i] = Register(kept.count - 1)
        }
        do {
            return try Tape(instructions: kept, inputs: inputs, parameters: parameters,
                            outputs: outputs.map { Output(name: $0.name, register: map[$0.register.index]!) })
        } catch {
            preconditionFailure("dead-code elimination produced an invalid tape: \(error)")
        }
    }
}
