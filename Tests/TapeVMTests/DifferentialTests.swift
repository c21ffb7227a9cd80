import Testing
@testable import TapeVM
import TapeVMCheck

/// The SIMD executor against the scalar reference interpreter, bit for bit, on random tapes
/// with every opcode and awkward points, on every code path this CPU has.
///
/// `sin` and `cos` are the exception, held to a stated tolerance instead: SLEEF's vector
/// trigonometric functions switch the whole vector to a wider argument reduction when any lane
/// is large, NaN or infinite, which can move the last bit of the other lanes' results
/// (cos(0.1) next to a NaN lane differs by 1 ULP from cos(0.1) alone).
@Suite struct DifferentialTests {
    static let exactOpcodes = Opcode.allCases.filter { $0.arity > 0 && $0 != .sin && $0 != .cos }

    static let specials: [Double] = [0, -0.0, 1, -1, 2, 0.5, 1e300, -1e300, 1e-300, .leastNonzeroMagnitude, .infinity, -.infinity, .nan, 3, -3, 0.1]

    /// Random points: mostly ordinary values, often a special one, often a tie with another input
    /// (`tapevm-check`'s generator, with this suite's special values).
    static func points(count: Int, inputs: Int, rng: inout SplitMix64) -> [[Double]] {
        Differential.points(count: count, inputs: inputs, rng: &rng, specials: specials)
    }

    static func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    /// `muladd`, `mulkadd` and `sqdiff` fusion on random tapes: values exact, gradients reassociated (held to `close`
    /// on finite results; the random points' infinities and NaNs are compared exactly, and
    /// these opcodes cannot turn a reassociated NaN into a number).
    @Test(arguments: InstructionSet.supported)
    func multiplyAddFusionMatchesTheReference(isa: InstructionSet) throws {
        var rng = SplitMix64(seed: 77)
        var fused = 0
        defer { #expect(fused > 30, "the random tapes should exercise the fusion") }
        for t in 0..<300 {
            let tape = Tape.random(instructions: Int.random(in: 2...24, using: &rng), inputs: 3, parameters: 2, outputs: 2,
                                   opcodes: [.mul, .add, .mul, .add, .sub, .square, .exp, .sigmoid, .max, .select, .div, .neg],
                                   seed: UInt64(9000 + t))
            let n = [1, 8, 9, 17][t % 4]
            let inputs = Self.points(count: n, inputs: 3, rng: &rng)
            let passes: OptimizationPasses = [.constantOperands, .multiplyAdd, .squaredDifference, .deadCode]
            let fusedCount = { (t: Tape) in t.instructions.filter { [.muladd, .mulkadd, .sqdiff, .sqdiffk].contains($0.opcode) }.count }
            fused += fusedCount(tape.optimized(passes)) - fusedCount(tape)
            try Self.check(tape: tape, inputs: inputs, parameters: [0.7, -1.5],
                           options: ExecutionOptions(threads: 1, tileSize: 8, instructionSet: isa,
                                                     optimization: passes),
                           same: { Self.close($0, $1) || ($0 == 0 && $1 == 0) })
        }
    }

    /// Within 64 ULPs of the larger magnitude (or 1e-300 absolute): for results downstream of sin/cos.
    static func close(_ a: Double, _ b: Double) -> Bool {
        if same(a, b) { return true }
        guard a.isFinite, b.isFinite else { return false }
        return Swift.abs(a - b) <= Swift.max(64 * Swift.max(Swift.abs(a), Swift.abs(b)).ulp, 1e-300)
    }

    static func check(tape: Tape, inputs: [[Double]], parameters: [Double], options: ExecutionOptions,
                      same: (Double, Double) -> Bool = same) throws {
        let program = Program(tape, options: options)
        let got = try program.valueAndGradient(inputs: inputs, parameters: parameters, parameterGradient: .perPoint)
        let reference = ReferenceInterpreter(tape)
        let n = inputs.first?.count ?? 0
        for i in 0..<n {
            let want = reference.gradient(inputs: inputs.map { $0[i] }, parameters: parameters)
            for k in tape.outputs.indices where !same(got.values[k][i], want.values[k]) {
                Issue.record("value \(k) at point \(i): \(got.values[k][i]) != \(want.values[k]) [\(options.instructionSet)]\n\(tape.instructions)")
                return
            }
            for j in tape.inputs.indices where !same(got.inputGradients[j][i], want.inputs[j]) {
                Issue.record("∂/∂\(tape.inputs[j]) at point \(i): \(got.inputGradients[j][i]) != \(want.inputs[j]) [\(options.instructionSet)]\n\(tape.instructions)")
                return
            }
            for p in tape.parameters.indices where !same(got.parameterGradients[p][i], want.parameters[p]) {
                Issue.record("∂/∂\(tape.parameters[p]) at point \(i): \(got.parameterGradients[p][i]) != \(want.parameters[p])")
                return
            }
        }
    }

    static let passChoices: [OptimizationPasses] = [.none, .exact, .constantFolding, .constantOperands, .deadCode]

    @Test(arguments: InstructionSet.supported, passChoices)
    func randomTapesMatchTheReference(isa: InstructionSet, passes: OptimizationPasses) throws {
        var rng = SplitMix64(seed: 42)
        for t in 0..<500 {
            let tape = Tape.random(instructions: Int.random(in: 1...24, using: &rng), inputs: 3, parameters: 2,
                                   outputs: 2, opcodes: Self.exactOpcodes, seed: UInt64(t))
            let n = [0, 1, 7, 8, 9, 15, 16, 17, 31][t % 9]
            let inputs = Self.points(count: n, inputs: 3, rng: &rng)
            let params = [Double.random(in: -2...2, using: &rng), Self.specials[t % Self.specials.count]]
            try Self.check(tape: tape, inputs: inputs, parameters: params,
                           options: ExecutionOptions(threads: 1, tileSize: 8 * (1 + t % 2), instructionSet: isa, optimization: passes))
        }
    }

    /// The identities pass merges constant factors (`-(x·k) → x·(-k)`, `(x·2ⁿ)·b → x·(2ⁿ·b)`):
    /// values bit for bit against no optimization on every special value, for factors that
    /// qualify and factors that must not be merged (`½`, `3`, `b` below 1, infinite, NaN);
    /// the negation's gradient too. And it does merge where it may.
    @Test func constantFactorsMergeExactly() throws {
        let factors: [Double] = [2, -2, 4, 1, -1, 0.5, 3, 1e308, 0, -0.0, .infinity, .nan, 0x1p-3]
        let seconds: [Double] = [100, -100, 1, 0.5, -1, 3, .infinity, 1e300, 0x1p1000]
        let column = Self.specials + [1e308, -1e308, 0x1p-1074, 0x1p-1022, 0x1.8p-1030]
        for a in factors {
            for b in seconds {
                let builder = TapeBuilder()
                let x = builder.input("x")
                let m = builder.mul(x, builder.constant(a))
                builder.output("neg", builder.neg(m))
                builder.output("twice", builder.mul(builder.constant(b), m))
                let tape = try builder.build()
                let plain = try Program(tape, options: ExecutionOptions(threads: 1, optimization: .none))
                    .valueAndGradient(inputs: [column], output: 0)
                let options = ExecutionOptions(threads: 1, optimization: [.identities, .constantOperands, .deadCode])
                let program = Program(tape, options: options)
                let merged = try program.valueAndGradient(inputs: [column], output: 0)
                for i in column.indices {
                    for k in 0..<2 {
                        #expect(Self.same(merged.values[k][i], plain.values[k][i]),
                                "a \(a), b \(b), x \(column[i]), output \(k): \(merged.values[k][i]) vs \(plain.values[k][i])")
                    }
                    #expect(Self.same(merged.inputGradients[0][i], plain.inputGradients[0][i]), "a \(a), x \(column[i])")
                }
                if a == 2 && b == 100 {
                    #expect(program.optimizedTape.instructions.filter { $0.opcode == .mulk }.map(\.immediate).sorted() == [-2, 200],
                            "\(program.optimizedTape.text)")
                }
            }
        }
    }

    /// Long tapes, so that register planes are reused many times over, with every pass.
    /// Exact passes are held bit for bit; `.all` (with CSE and identities, which reassociate
    /// adjoint sums) within `close`, on smooth tapes and ordinary points.
    @Test(arguments: InstructionSet.supported)
    func longTapesWithPlaneReuse(isa: InstructionSet) throws {
        var rng = SplitMix64(seed: 5)
        for t in 0..<12 {
            let tape = Tape.random(instructions: 150 + 20 * t, inputs: 3, parameters: 2, outputs: 3,
                                   opcodes: t % 2 == 0 ? Self.exactOpcodes : Tape.smoothOpcodes, seed: UInt64(500 + t))
            let inputs = (0..<3).map { _ in (0..<19).map { _ in Double.random(in: -1.5...1.5, using: &rng) } }
            try Self.check(tape: tape, inputs: inputs, parameters: [0.3, -0.8],
                           options: ExecutionOptions(threads: 1, tileSize: 16, instructionSet: isa, optimization: .exact))
            if t % 2 == 1 {
                try Self.check(tape: tape, inputs: inputs, parameters: [0.3, -0.8],
                               options: ExecutionOptions(threads: 1, tileSize: 16, instructionSet: isa, optimization: .all),
                               same: Self.close)
            }
        }
    }

    /// Tapes with sin and cos among smooth opcodes, on ordinary points, within `close`.
    @Test(arguments: InstructionSet.supported)
    func trigonometricTapesMatchTheReferenceClosely(isa: InstructionSet) throws {
        var rng = SplitMix64(seed: 99)
        for t in 0..<100 {
            let tape = Tape.random(instructions: Int.random(in: 1...16, using: &rng), inputs: 2, parameters: 1,
                                   opcodes: Tape.smoothOpcodes + [.sin, .cos, .sin, .cos], seed: UInt64(1000 + t))
            let n = [1, 8, 9, 17][t % 4]
            var inputs = (0..<2).map { _ in (0..<n).map { _ in Double.random(in: -3...3, using: &rng) } }
            if t % 3 == 0 { inputs[0][0] = [Double.nan, 1e300, .infinity][t % 9 / 3] }  // a lane that takes the slow path
            try Self.check(tape: tape, inputs: inputs, parameters: [0.7],
                           options: ExecutionOptions(threads: 1, tileSize: 8, instructionSet: isa, optimization: .exact), same: Self.close)
        }
    }

    /// Each opcode alone, on every special value and pairs of them.
    @Test(arguments: Opcode.allCases.filter { $0.arity > 0 })
    func everyOpcodeOnSpecialValues(op: Opcode) throws {
        let b = TapeBuilder()
        let xs = (0..<3).map { b.input("x\($0)") }
        b.output("y", b.emit(op, Array(xs.prefix(op.arity)), immediate: op == .powi ? -3 : 0))
        let tape = try b.build()
        var cols: [[Double]] = [[], [], []]
        for a in Self.specials { for c in Self.specials { cols[0].append(a); cols[1].append(c); cols[2].append(a == 0 ? c : -c) } }
        for isa in InstructionSet.supported {
            try Self.check(tape: tape, inputs: cols, parameters: [], options: ExecutionOptions(threads: 1, instructionSet: isa, optimization: .none),
                           same: Self.exactOpcodes.contains(op) ? Self.same : Self.close)
        }
    }

    @Test func threadCountDoesNotChangeResults() throws {
        let tape = Tape.random(instructions: 60, inputs: 2, parameters: 3, opcodes: Tape.smoothOpcodes, seed: 7)
        var rng = SplitMix64(seed: 3)
        let n = 40_000
        let inputs = (0..<2).map { _ in (0..<n).map { _ in Double.random(in: -1...1, using: &rng) } }
        let one = try Program(tape, options: ExecutionOptions(threads: 1, tileSize: 64))
            .valueAndGradient(inputs: inputs, parameters: [0.3, -0.2, 0.9])
        for threads in [2, 3, 5] {
            let many = try Program(tape, options: ExecutionOptions(threads: threads, tileSize: 64))
                .valueAndGradient(inputs: inputs, parameters: [0.3, -0.2, 0.9])
            #expect(many.values.map { $0.map(\.bitPattern) } == one.values.map { $0.map(\.bitPattern) })
            #expect(many.inputGradients.map { $0.map(\.bitPattern) } == one.inputGradients.map { $0.map(\.bitPattern) })
            #expect(many.parameterGradientSum.map(\.bitPattern) == one.parameterGradientSum.map(\.bitPattern))
        }
    }
}
