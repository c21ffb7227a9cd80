extension Tape {
    /// Reverse mode as a source transformation: a tape that computes this tape's outputs and
    /// then the gradient of one output, as further outputs named `∂<output>/∂<name>` for every
    /// input and then every parameter.
    ///
    /// The new instructions are the reverse sweep written out: each instruction's reverse rule
    /// from the opcode table, emitted as instructions, with adjoints accumulated by `add` in
    /// the order the executor's reverse sweep adds them (tests hold the two to the same bits).
    /// Because the result is an ordinary tape, everything applies to it again: running its
    /// ``Program/jacobian(inputs:parameters:parameterGradient:)`` gives Hessians, and a
    /// vector-Jacobian product of its gradient outputs gives Hessian-vector products
    /// (``hessianVectorTape(output:)`` wraps that).
    ///
    /// - Parameter output: the output to differentiate (index into ``outputs``).
    public func gradientTape(output: Int = 0) throws(TapeError) -> Tape {
        guard outputs.indices.contains(output) else {
            throw TapeError(.outputOutOfRange, "output index \(output) is out of range: the tape has \(outputs.count) output(s)")
        }
        var emitter = ReverseEmitter(self)
        let seeded = outputs.indices.map { $0 == output }
        let active = SweepPlan.active(self)
        let runs = SweepPlan.runsReverse(self, active, seeded: seeded)
        // Seed: 1.
        emitter.accumulate(outputs[output].register, emitter.constant(1), active: active)
        for i in instructions.indices.reversed() where runs[i] {
            guard let g = emitter.adjoint[i] else { continue }
            let d = emitter.contributions(of: i, adjoint: g)
            for (k, r) in instructions[i].operands.enumerated() where active[r.index] {
                emitter.accumulate(r, d[k], active: active)
            }
        }
        let name = outputs[output].name
        var newOutputs = outputs
        for (slot, input) in inputs.enumerated() {
            newOutputs.append(Output(name: "∂\(name)/∂\(input)", register: emitter.leafGradient(.input, slot: slot)))
        }
        for (slot, parameter) in parameters.enumerated() {
            newOutputs.append(Output(name: "∂\(name)/∂\(parameter)", register: emitter.leafGradient(.param, slot: slot)))
        }
        return try Tape(instructions: emitter.instructions, inputs: inputs, parameters: parameters, outputs: newOutputs)
    }

    /// A tape for Hessian-vector products: its inputs are this tape's inputs followed by one
    /// direction input `v_<name>` per input; its one output is `Σⱼ vⱼ·∂f/∂xⱼ`, whose gradient
    /// with respect to the original inputs is `H·v` (and with respect to the parameters, the
    /// mixed second derivatives along `v`).
    public func hessianVectorTape(output: Int = 0) throws(TapeError) -> Tape {
        let g = try gradientTape(output: output)
        var instructions = g.instructions
        let directionNames = inputs.map { "v_\($0)" }
        var sum: Register?
        for (slot, _) in inputs.enumerated() {
            instructions.append(Instruction(.input, immediate: Double(inputs.count + slot)))
            let v = Register(instructions.count - 1)
            let gradient = g.outputs[outputs.count + slot].register
            instructions.append(Instruction(.mul, [v, gradient]))
            let term = Register(instructions.count - 1)
            if let s = sum {
                instructions.append(Instruction(.add, [s, term]))
                sum = Register(instructions.count - 1)
            } else {
                sum = term
            }
        }
        if sum == nil {
            instructions.append(Instruction(.const, immediate: 0))
            sum = Register(instructions.count - 1)
        }
        return try Tape(instructions: instructions, inputs: inputs + directionNames, parameters: parameters,
                        outputs: [Output(name: "v·∇\(outputs[output].name)", register: sum!)])
    }
}

/// Writes reverse rules out as instructions, appended after the forward tape: each rule runs on
/// the recording lane (``Traced``), so every opcode's reverse rule is the one in `Rules`.
private struct ReverseEmitter {
    let tape: Tape
    let builder = TapeBuilder()
    /// The register holding each original register's adjoint so far.
    var adjoint: [Int: Register] = [:]

    var instructions: [Instruction] { builder.instructions }

    init(_ tape: Tape) {
        self.tape = tape
        for x in tape.instructions { builder.emit(x.opcode, x.operands, immediate: x.immediate) }
    }

    mutating func constant(_ value: Double) -> Register { builder.constant(value) }

    /// adj[r] = d the first time, adj[r] + d after: the executor's first-touch store and add.
    mutating func accumulate(_ r: Register, _ d: Register, active: [Bool]) {
        if let a = adjoint[r.index] {
            adjoint[r.index] = builder.emit(.add, [a, d])
        } else {
            adjoint[r.index] = d
        }
    }

    /// The gradient of an input or parameter slot: the sum of its registers' adjoints (0 if none).
    mutating func leafGradient(_ op: Opcode, slot: Int) -> Register {
        var sum: Register?
        for (i, x) in tape.instructions.enumerated() where x.opcode == op && Int(x.immediate) == slot {
            if let a = adjoint[i] { sum = sum.map { builder.emit(.add, [$0, a]) } ?? a }
        }
        return sum ?? constant(0)
    }

    /// Instruction `i`'s reverse rule applied to adjoint `g`, recorded: the contribution to each operand.
    mutating func contributions(of i: Int, adjoint g: Register) -> [Register] {
        let x = tape.instructions[i]
        let b = builder
        func operand(_ k: Int) -> Traced { k < x.operands.count ? Traced(x.operands[k], on: b) : Traced(0) }
        let d = x.opcode.reverse(Operands(operand(0), operand(1), operand(2), k: x.immediate),
                                 y: Traced(Register(i), on: b), g: Traced(g, on: b))
        return x.operands.indices.map { (d[$0] ?? Traced(0)).register(on: b) }
    }
}
