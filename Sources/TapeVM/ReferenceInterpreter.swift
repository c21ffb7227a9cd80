/// The plainest possible interpreter: one point at a time, in `Double`, running each opcode's
/// rule on the `Double` lane.
///
/// It is the oracle the SIMD executor is tested against (bit for bit), and the baseline that
/// `tapevm-bench` compares with. It allocates per call and is slow on purpose: clarity first.
public struct ReferenceInterpreter: Sendable {
    /// The tape it runs.
    public let tape: Tape

    /// An interpreter for `tape`.
    public init(_ tape: Tape) { self.tape = tape }

    /// The forward sweep: every register's value at one point.
    public func registerValues(inputs: [Double], parameters: [Double] = []) -> [Double] {
        precondition(inputs.count == tape.inputs.count && parameters.count == tape.parameters.count,
                     "ReferenceInterpreter: expected \(tape.inputs.count) inputs and \(tape.parameters.count) parameters")
        var v = [Double](repeating: 0, count: tape.registerCount)
        for (i, ins) in tape.instructions.enumerated() {
            switch ins.opcode {
            case .input: v[i] = inputs[Int(ins.immediate)]
            case .param: v[i] = parameters[Int(ins.immediate)]
            default:
                v[i] = ins.opcode.forward(operands(ins, v))
            }
        }
        return v
    }

    /// An instruction's operands, read from the register values `v`.
    private func operands(_ ins: Instruction, _ v: [Double]) -> Operands<Double> {
        let o = ins.operands
        return Operands(o.count > 0 ? v[o[0].index] : 0, o.count > 1 ? v[o[1].index] : 0,
                        o.count > 2 ? v[o[2].index] : 0, k: ins.immediate)
    }

    /// The outputs' values at one point.
    public func evaluate(inputs: [Double], parameters: [Double] = []) -> [Double] {
        let v = registerValues(inputs: inputs, parameters: parameters)
        return tape.outputs.map { v[$0.register.index] }
    }

    /// Value and gradient at one point.
    ///
    /// - Parameter seeds: the adjoint given to each output (one per output); the default seeds
    ///   the first output with 1 and the others with 0, giving the first output's gradient.
    /// - Returns: the outputs' values, the gradient with respect to the inputs and with
    ///   respect to the parameters, all of the seeded sum `Σ seeds[k]·output[k]`.
    public func gradient(inputs: [Double], parameters: [Double] = [], seeds: [Double]? = nil)
        -> (values: [Double], inputs: [Double], parameters: [Double])
    {
        let v = registerValues(inputs: inputs, parameters: parameters)
        let seeds = seeds ?? tape.outputs.indices.map { $0 == 0 ? 1 : 0 }
        // An adjoint is nil until its first contribution, which is stored as it is; later ones
        // are added. (Starting from 0 would turn a first contribution of -0 into +0.)
        var adj = [Double?](repeating: nil, count: tape.registerCount)
        func accumulate(_ r: Int, _ d: Double) { adj[r] = adj[r].map { $0 + d } ?? d }
        // An output seeded with 0 is left out entirely (a symbolic zero, as in JAX).
        for (k, out) in tape.outputs.enumerated() where seeds[k] != 0 { accumulate(out.register.index, seeds[k]) }
        // Instructions no seeded output depends on through differentiable instructions contribute
        // nothing (not even 0·∞ = NaN): their adjoint is zero by structure, not by value.
        var reachesOutput = [Bool](repeating: false, count: tape.registerCount)
        for (k, out) in tape.outputs.enumerated() where seeds[k] != 0 { reachesOutput[out.register.index] = true }
        for (i, ins) in tape.instructions.enumerated().reversed() where reachesOutput[i] && ins.opcode.info.isDifferentiable {
            for r in ins.operands { reachesOutput[r.index] = true }
        }
        for (i, ins) in tape.instructions.enumerated().reversed() where ins.opcode.info.isDifferentiable && reachesOutput[i] {
            let d = ins.opcode.reverse(operands(ins, v), y: v[i], g: adj[i] ?? 0)
            for (k, r) in ins.operands.enumerated() { accumulate(r.index, d[k] ?? 0) }
        }
        // A slot's gradient: the sum of its leaves' adjoints, in instruction order (0 if none).
        var gi = [Double?](repeating: nil, count: tape.inputs.count)
        var gp = [Double?](repeating: nil, count: tape.parameters.count)
        for (i, ins) in tape.instructions.enumerated() {
            guard let a = adj[i] else { continue }
            if ins.opcode == .input { gi[Int(ins.immediate)] = gi[Int(ins.immediate)].map { $0 + a } ?? a }
            if ins.opcode == .param { gp[Int(ins.immediate)] = gp[Int(ins.immediate)].map { $0 + a } ?? a }
        }
        return (tape.outputs.map { v[$0.register.index] }, gi.map { $0 ?? 0 }, gp.map { $0 ?? 0 })
    }
}
