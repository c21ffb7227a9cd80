/// A small, fast, seedable random number generator (SplitMix64), so random tapes and test
/// points are the same on every machine and every run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator starting from `seed`.
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Tape {
    /// The opcodes whose values and derivatives are smooth and finite on all of ℝ (for moderate
    /// arguments): random tapes made of these suit finite-difference checks.
    public static let smoothOpcodes: [Opcode] = [.add, .sub, .mul, .square, .sin, .cos, .tanh, .sigmoid, .softplus,
                                                 .logaddexp, .muladd, .neg]

    /// A random tape, the same for the same arguments: for tests, fuzzing and benchmarks.
    ///
    /// Operands are drawn mostly from recent registers, as in real computations, so values flow
    /// through long chains. Leaves come first: the inputs, the parameters and two constants.
    ///
    /// - Parameters:
    ///   - instructions: how many compute instructions to add after the leaves.
    ///   - inputs: how many inputs (named `x0`, `x1`, ...).
    ///   - parameters: how many parameters (named `w0`, `w1`, ...).
    ///   - outputs: how many outputs (`y0`, ...): the last registers of the tape.
    ///   - opcodes: the opcodes to draw from; defaults to every compute opcode.
    ///   - allLive: when true, every result no other instruction reads is added into the last
    ///     output, so no instruction is dead code (benchmarks: the optimizer cannot drop work).
    ///   - seed: the random seed.
    public static func random(instructions: Int, inputs: Int = 3, parameters: Int = 0, outputs: Int = 1,
                              opcodes: [Opcode] = Opcode.allCases.filter { $0.arity > 0 },
                              allLive: Bool = false, seed: UInt64) -> Tape {
        var rng = SplitMix64(seed: seed)
        let b = TapeBuilder()
        var pool: [Register] = (0..<inputs).map { b.input("x\($0)") } + (0..<parameters).map { b.parameter("w\($0)") }
        pool.append(b.constant(0.5))
        pool.append(b.constant(-1.25))
        func operand() -> Register {
            // Mostly one of the last eight registers, sometimes any earlier one.
            let n = pool.count
            if Int.random(in: 0..<4, using: &rng) == 0 { return pool[Int.random(in: 0..<n, using: &rng)] }
            return pool[n - 1 - Int.random(in: 0..<Swift.min(8, n), using: &rng)]
        }
        for _ in 0..<Swift.max(1, instructions) {
            let op = opcodes[Int.random(in: 0..<opcodes.count, using: &rng)]
            let immediate: Double
            switch op.info.immediate {
            case .exponent: immediate = Double(Int.random(in: -3...4, using: &rng))
            case .value: immediate = [0.5, -1.25, 2, 3.75, -0.0][Int.random(in: 0..<5, using: &rng)]
            case .none, .slot: immediate = 0
            }
            let args = (0..<op.arity).map { _ in operand() }
            pool.append(b.emit(op, args, immediate: immediate))
        }
        let outs = Swift.max(1, Swift.min(outputs, pool.count))
        var results = Array(pool.suffix(outs))
        if allLive {
            var used = Set<Register>(results)
            for ins in b.instructions { used.formUnion(ins.operands) }
            let dangling = pool.dropLast(outs).filter { !used.contains($0) && b.instructions[$0.index].opcode.arity > 0 }
            for r in dangling { results[outs - 1] = b.add(results[outs - 1], r) }
        }
        for k in 0..<outs { b.output("y\(k)", results[k]) }
        do {
            return try b.build()
        } catch {
            preconditionFailure("Tape.random built an invalid tape: \(error)")
        }
    }
}
