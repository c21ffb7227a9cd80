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

/// Writes reverse rules out as instructions, appended after the forward tape.
private struct ReverseEmitter {
    let tape: Tape
    var instructions: [Instruction]
    /// The register holding each original register's adjoint so far.
    var adjoint: [Int: Register] = [:]
    private var constants: [UInt64: Register] = [:]

    init(_ tape: Tape) {
        self.tape = tape
        instructions = tape.instructions
    }

    mutating func emit(_ op: Opcode, _ operands: [Register], _ immediate: Double = 0) -> Register {
        instructions.append(Instruction(op, operands, immediate: immediate))
        return Register(instructions.count - 1)
    }

    mutating func constant(_ value: Double) -> Register {
        if let r = constants[value.bitPattern] { return r }
        let r = emit(.const, [], value)
        constants[value.bitPattern] = r
        return r
    }

    /// adj[r] = d the first time, adj[r] + d after: the executor's first-touch store and add.
    mutating func accumulate(_ r: Register, _ d: Register, active: [Bool]) {
        if let a = adjoint[r.index] {
            adjoint[r.index] = emit(.add, [a, d])
        } else {
            adjoint[r.index] = d
        }
    }

    /// The gradient of an input or parameter slot: the sum of its registers' adjoints (0 if none).
    mutating func leafGradient(_ op: Opcode, slot: Int) -> Register {
        var sum: Register?
        for (i, x) in tape.instructions.enumerated() where x.opcode == op && Int(x.immediate) == slot {
            if let a = adjoint[i] { sum = sum.map { emit(.add, [$0, a]) } ?? a }
        }
        return sum ?? constant(0)
    }

    /// Instruction `i`'s reverse rule applied to adjoint `g`: the contribution to each operand.
    /// Each case spells the opcode table's `backward` rule with the same operations in order.
    mutating func contributions(of i: Int, adjoint g: Register) -> [Register] {
        let x = tape.instructions[i]
        let o = x.operands
        let y = Register(i)
        let k = x.immediate
        let zero = constant(0)
        switch x.opcode {
        case .input, .param, .const, .lt, .le, .gt, .ge, .eq, .ne:
            return o.map { _ in zero }
        case .neg: return [emit(.neg, [g])]
        case .recip: return [emit(.neg, [emit(.mul, [emit(.mul, [g, y]), y])])]
        case .square: return [emit(.mul, [g, emit(.mul, [constant(2), o[0]])])]
        case .sqrt: return [emit(.div, [g, emit(.mul, [constant(2), y])])]
        case .exp: return [emit(.mul, [g, y])]
        case .log: return [emit(.div, [g, o[0]])]
        case .sigmoid: return [emit(.mul, [g, emit(.mul, [y, emit(.sub, [constant(1), y])])])]
        case .tanh: return [emit(.mul, [g, emit(.sub, [constant(1), emit(.mul, [y, y])])])]
        case .sin: return [emit(.mul, [g, emit(.cos, [o[0]])])]
        case .cos: return [emit(.neg, [emit(.mul, [g, emit(.sin, [o[0]])])])]
        case .abs:
            // a > 0 ? g : a < 0 ? -g : a == 0 ? 0 : a
            let a = o[0]
            let inner = emit(.select, [emit(.eq, [a, zero]), zero, a])
            let mid = emit(.select, [emit(.lt, [a, zero]), emit(.neg, [g]), inner])
            return [emit(.select, [emit(.gt, [a, zero]), g, mid])]
        case .relu:
            // a > 0 ? g : a == a ? 0 : a
            let a = o[0]
            return [emit(.select, [emit(.gt, [a, zero]), g, emit(.select, [emit(.eq, [a, a]), zero, a])])]
        case .softplus: return [emit(.mul, [g, emit(.sigmoid, [o[0]])])]
        case .log1p: return [emit(.div, [g, emit(.add, [constant(1), o[0]])])]
        case .expm1: return [emit(.mul, [g, emit(.add, [y, constant(1)])])]
        case .powi:
            if k == 0 { return [zero] }
            return [emit(.mul, [g, emit(.mul, [constant(k), emit(.powi, [o[0]], k - 1)])])]
        case .add: return [g, g]
        case .sub: return [g, emit(.neg, [g])]
        case .mul: return [emit(.mul, [g, o[1]]), emit(.mul, [g, o[0]])]
        case .div: return [emit(.div, [g, o[1]]), emit(.neg, [emit(.div, [emit(.mul, [g, y]), o[1]])])]
        case .pow:
            let (a, b) = (o[0], o[1])
            let da = emit(.mul, [g, emit(.mul, [b, emit(.pow, [a, emit(.sub, [b, constant(1)])])])])
            let db = emit(.mul, [g, emit(.mul, [emit(.log, [a]), y])])
            return [emit(.select, [emit(.eq, [b, zero]), zero, da]), emit(.select, [emit(.eq, [a, zero]), zero, db])]
        case .max, .min:
            // a beats b ? g : a loses ? 0 : a == b ? g/2 : a + b (NaN)
            let (a, b) = (o[0], o[1])
            let (wins, loses): (Opcode, Opcode) = x.opcode == .max ? (.gt, .lt) : (.lt, .gt)
            let tie = emit(.select, [emit(.eq, [a, b]), emit(.mul, [constant(0.5), g]), emit(.add, [a, b])])
            let da = emit(.select, [emit(wins, [a, b]), g, emit(.select, [emit(loses, [a, b]), zero, tie])])
            let db = emit(.select, [emit(wins, [b, a]), g, emit(.select, [emit(loses, [b, a]), zero, tie])])
            return [da, db]
        case .logaddexp:
            let (a, b) = (o[0], o[1])
            let tie = emit(.eq, [a, b])
            let half = emit(.mul, [constant(0.5), g])
            let da = emit(.select, [tie, half, emit(.div, [g, emit(.add, [constant(1), emit(.exp, [emit(.sub, [b, a])])])])])
            let db = emit(.select, [tie, half, emit(.div, [g, emit(.add, [constant(1), emit(.exp, [emit(.sub, [a, b])])])])])
            return [da, db]
        case .select:
            // (0, a ≠ 0 and a = a ? g : 0, a == 0 ? g : 0)
            let a = o[0]
            let chosen = emit(.select, [emit(.eq, [a, a]), emit(.select, [emit(.ne, [a, zero]), g, zero]), zero])
            return [zero, chosen, emit(.select, [emit(.eq, [a, zero]), g, zero])]
        case .muladd: return [emit(.mul, [g, o[1]]), emit(.mul, [g, o[0]]), g]
        case .addk: return [g]
        case .mulk: return [emit(.mulk, [g], k)]
        case .rsubk: return [emit(.neg, [g])]
        case .divk: return [emit(.divk, [g], k)]
        case .rdivk: return [emit(.neg, [emit(.div, [emit(.mul, [g, y]), o[0]])])]
        case .sqdiff:
            let c = emit(.mul, [g, emit(.mul, [constant(2), emit(.sub, [o[0], o[1]])])])
            return [c, emit(.neg, [c])]
        case .mulkadd: return [emit(.mulk, [g], k), g]
        case .sqdiffk:
            let c = emit(.mul, [g, emit(.mul, [constant(2), emit(.rsubk, [o[0]], k)])])
            return [emit(.neg, [c])]
        }
    }
}
