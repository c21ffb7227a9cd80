import Testing
@testable import TapeVM

/// The batch entry points agree with each other: jacobian rows with single-output gradients,
/// seeded VJPs with weighted sums, per-point with summed parameter gradients, the array API with
/// the pointer-level `run`; and results do not depend on the thread count or the code path.
@Suite struct BatchAPITests {
    static let exactOpcodes = Opcode.allCases.filter { $0.arity > 0 && $0 != .sin && $0 != .cos }

    /// Bit patterns, with every NaN made the canonical quiet NaN: NaN payloads are not part of
    /// the contract (the AVX-512 path propagates different payloads from the portable one).
    static func bits(_ values: [Double]) -> [UInt64] { values.map { $0.isNaN ? Double.nan.bitPattern : $0.bitPattern } }
    static func bits(_ columns: [[Double]]) -> [[UInt64]] { columns.map { bits($0) } }

    /// Equal values (`+0` equal to `-0`), NaN equal to NaN.
    static func equal(_ a: [[Double]], _ b: [[Double]]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in x.count == y.count && zip(x, y).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) } }
    }

    /// `n` points per input, uniform in `range`.
    static func points(_ inputs: Int, _ n: Int, in range: ClosedRange<Double> = -1.5...1.5, seed: UInt64) -> [[Double]] {
        var rng = SplitMix64(seed: seed)
        return (0..<inputs).map { _ in (0..<n).map { _ in Double.random(in: range, using: &rng) } }
    }

    /// A smooth random tape with 2 inputs, 2 parameters and `outputs` outputs, every output
    /// depending on every input and parameter (the first such tape from `seed` on), so that
    /// gradient comparisons are not between zeros.
    static func smoothTape(outputs: Int, seed: UInt64) -> Tape {
        let reference = (seed..<seed + 1000).lazy.map { s in
            Tape.random(instructions: 20, inputs: 2, parameters: 2, outputs: outputs,
                        opcodes: Tape.smoothOpcodes.filter { $0 != .sin && $0 != .cos }, seed: s)
        }.first { tape in
            tape.outputs.indices.allSatisfy { k in
                let g = ReferenceInterpreter(tape).gradient(inputs: [0.3, -0.7], parameters: parameters,
                                                            seeds: tape.outputs.indices.map { $0 == k ? 1 : 0 })
                return (g.inputs + g.parameters).allSatisfy { $0 != 0 && $0.isFinite }
            }
        }
        return reference!
    }

    static let parameters = [0.6, -1.1]

    // MARK: - Jacobian

    @Test(arguments: [2, 3])
    func jacobianRowsEqualPerOutputValueAndGradient(outputs: Int) throws {
        let tape = Self.smoothTape(outputs: outputs, seed: 11)
        #expect(tape.outputs.count == outputs)
        let inputs = Self.points(2, 300, seed: 1)
        let program = Program(tape, options: ExecutionOptions(threads: 2, tileSize: 8))
        for mode in [ParameterGradientMode.none, .summed, .perPoint] {
            let jacobian = try program.jacobian(inputs: inputs, parameters: Self.parameters, parameterGradient: mode)
            #expect(jacobian.count == outputs)
            for k in 0..<outputs {
                let single = try program.valueAndGradient(inputs: inputs, parameters: Self.parameters, output: k, parameterGradient: mode)
                #expect(Self.bits(jacobian[k].values) == Self.bits(single.values), "output \(k) \(mode): values")
                #expect(Self.bits(jacobian[k].inputGradients) == Self.bits(single.inputGradients), "output \(k) \(mode): ∂inputs")
                #expect(Self.bits(jacobian[k].parameterGradients) == Self.bits(single.parameterGradients), "output \(k) \(mode): ∂params")
                #expect(Self.bits(jacobian[k].parameterGradientSum) == Self.bits(single.parameterGradientSum), "output \(k) \(mode): Σ∂params")
            }
            // The rows really are different gradients (the tape's outputs are different functions).
            if mode == .perPoint {
                #expect(Self.bits(jacobian[0].inputGradients + jacobian[0].parameterGradients)
                        != Self.bits(jacobian[1].inputGradients + jacobian[1].parameterGradients))
            }
            #expect(jacobian[0].parameterGradients.count == (mode == .perPoint ? 2 : 0))
            #expect(jacobian[0].parameterGradientSum.count == (mode == .summed ? 2 : 0))
        }
    }

    @Test func jacobianOfALinearMapIsItsMatrix() throws {
        // f = 2x - 3y + w, g = x·w + 5: ∂f = (2, -3), ∂g = (w, 0); ∂f/∂w = 1, ∂g/∂w = x.
        let b = TapeBuilder()
        let x = b.input("x"), y = b.input("y"), w = b.parameter("w")
        b.output("f", b.add(b.sub(b.mul(b.constant(2), x), b.mul(b.constant(3), y)), w))
        b.output("g", b.add(b.mul(x, w), b.constant(5)))
        let program = Program(try b.build(), options: ExecutionOptions(threads: 1))
        let xs: [Double] = [1, -2, 0.5], ys: [Double] = [4, 0, -1]
        let j = try program.jacobian(inputs: [xs, ys], parameters: [7], parameterGradient: .perPoint)
        #expect(j[0].values == [[-3, 3, 11], [12, -9, 8.5]])
        #expect(j[0].inputGradients == [[2, 2, 2], [-3, -3, -3]])
        #expect(j[1].inputGradients == [[7, 7, 7], [0, 0, 0]])
        #expect(j[0].parameterGradients == [[1, 1, 1]])
        #expect(j[1].parameterGradients == [xs])
    }

    // MARK: - Seeds (vector-Jacobian products)

    @Test func seedsGiveTheWeightedSumOfPerOutputGradients() throws {
        let tape = Self.smoothTape(outputs: 2, seed: 23)
        let inputs = Self.points(2, 200, seed: 2)
        let program = Program(tape, options: ExecutionOptions(threads: 1, tileSize: 16))
        let g0 = try program.valueAndGradient(inputs: inputs, parameters: Self.parameters, output: 0, parameterGradient: .perPoint)
        let g1 = try program.valueAndGradient(inputs: inputs, parameters: Self.parameters, output: 1, parameterGradient: .perPoint)

        // Power-of-two weights scale every adjoint exactly: bit-identical results.
        let scaled = try program.valueAndGradient(inputs: inputs, parameters: Self.parameters, seeds: [0, -0.25], parameterGradient: .perPoint)
        #expect(Self.equal(scaled.inputGradients, g1.inputGradients.map { $0.map { -0.25 * $0 } }))
        #expect(Self.equal(scaled.parameterGradients, g1.parameterGradients.map { $0.map { -0.25 * $0 } }))
        #expect(Self.bits(scaled.values) == Self.bits(g0.values))

        // General weights: equal up to rounding.
        for seeds in [[1.0, 1.0], [0.3, -1.7], [2.5, 0.125]] {
            let vjp = try program.valueAndGradient(inputs: inputs, parameters: Self.parameters, seeds: seeds, parameterGradient: .perPoint)
            func expectWeightedSum(_ got: [[Double]], _ a: [[Double]], _ b: [[Double]], _ what: String) {
                for (j, column) in got.enumerated() {
                    for (i, v) in column.enumerated() {
                        let (ta, tb) = (seeds[0] * a[j][i], seeds[1] * b[j][i])
                        let want = ta + tb
                        let tol = 1e-12 * (Swift.abs(ta) + Swift.abs(tb)) + 1e-300
                        if Swift.abs(v - want) > tol {
                            Issue.record("seeds \(seeds) \(what) \(j) at point \(i): \(v) vs \(want)")
                            return
                        }
                    }
                }
            }
            expectWeightedSum(vjp.inputGradients, g0.inputGradients, g1.inputGradients, "∂input")
            expectWeightedSum(vjp.parameterGradients, g0.parameterGradients, g1.parameterGradients, "∂parameter")
        }
    }

    @Test func seedsOnOutputsSharingARegisterAdd() throws {
        // Outputs "a" and "b" are the same register, "c" is the input itself, "d" a constant.
        let b = TapeBuilder()
        let x = b.input("x")
        let sq = b.square(x)
        b.output("a", sq)
        b.output("b", sq)
        b.output("c", x)
        b.output("d", b.constant(4))
        let program = Program(try b.build(), options: ExecutionOptions(threads: 1))
        let xs: [Double] = [-1.5, 0, 3]
        let r = try program.valueAndGradient(inputs: [xs], seeds: [1, 2, -1, 8])
        #expect(r.values == [[2.25, 0, 9], [2.25, 0, 9], xs, [4, 4, 4]])
        #expect(r.inputGradients == [xs.map { 3 * 2 * $0 - 1 }])
        let c = try program.valueAndGradient(inputs: [xs], output: 2)
        #expect(c.inputGradients == [[1, 1, 1]])
        let d = try program.valueAndGradient(inputs: [xs], output: 3)
        #expect(d.inputGradients == [[0, 0, 0]])
    }

    // MARK: - Parameter gradient modes

    @Test func perPointAndSummedParameterGradientsAreConsistent() throws {
        let tape = Self.smoothTape(outputs: 1, seed: 31)
        let n = 5_000
        let inputs = Self.points(2, n, seed: 3)
        for tile in [8, 128] {
            let program = Program(tape, options: ExecutionOptions(threads: 2, tileSize: tile))
            let perPoint = try program.valueAndGradient(inputs: inputs, parameters: Self.parameters, parameterGradient: .perPoint)
            let summed = try program.valueAndGradient(inputs: inputs, parameters: Self.parameters, parameterGradient: .summed)
            let none = try program.valueAndGradient(inputs: inputs, parameters: Self.parameters, parameterGradient: .none)
            #expect(none.parameterGradients.isEmpty && none.parameterGradientSum.isEmpty)
            // The mode changes nothing else.
            #expect(Self.bits(perPoint.values) == Self.bits(summed.values))
            #expect(Self.bits(perPoint.inputGradients) == Self.bits(summed.inputGradients))
            #expect(Self.bits(none.inputGradients) == Self.bits(summed.inputGradients))
            for p in 0..<2 {
                let column = perPoint.parameterGradients[p]
                #expect(column.count == n)
                let total = column.reduce(0, +)
                let magnitude = column.reduce(0) { $0 + Swift.abs($1) }
                #expect(magnitude > 0)
                #expect(Swift.abs(summed.parameterGradientSum[p] - total) <= 1e-12 * magnitude,
                        "tile \(tile) Σ∂/∂w\(p): \(summed.parameterGradientSum[p]) vs Σ per point \(total)")
            }
        }
    }

    @Test func perPointParameterGradientsMatchTheReference() throws {
        let tape = Self.smoothTape(outputs: 1, seed: 37)
        let inputs = Self.points(2, 50, seed: 4)
        let r = try Program(tape, options: ExecutionOptions(threads: 1))
            .valueAndGradient(inputs: inputs, parameters: Self.parameters, parameterGradient: .perPoint)
        let reference = ReferenceInterpreter(tape)
        for i in 0..<50 {
            let want = reference.gradient(inputs: [inputs[0][i], inputs[1][i]], parameters: Self.parameters)
            #expect(Self.bits([r.parameterGradients[0][i], r.parameterGradients[1][i]]) == Self.bits(want.parameters), "point \(i)")
        }
    }

    // MARK: - Pointer level

    @Test func pointerLevelRunSkipsNilDestinationsAndWritesOnlyCountPoints() throws {
        let tape = Self.smoothTape(outputs: 2, seed: 41)
        let n = 21
        let inputs = Self.points(2, n, seed: 5)
        let program = Program(tape, options: ExecutionOptions(threads: 1, tileSize: 8))
        let want0 = try program.valueAndGradient(inputs: inputs, parameters: Self.parameters, output: 0, parameterGradient: .perPoint)
        let want1 = try program.valueAndGradient(inputs: inputs, parameters: Self.parameters, output: 1, parameterGradient: .summed)

        let sentinel = -12345.0
        let capacity = n + 5  // room past `count` that must stay untouched
        var value1 = [Double](repeating: sentinel, count: capacity)
        var input1Gradient = [Double](repeating: sentinel, count: capacity)
        var param0Gradient = [Double](repeating: sentinel, count: capacity)
        var sums = [Double](repeating: sentinel, count: 2)
        try inputs[0].withUnsafeBufferPointer { x0 in
            try inputs[1].withUnsafeBufferPointer { x1 in
                try value1.withUnsafeMutableBufferPointer { v1 in
                    try input1Gradient.withUnsafeMutableBufferPointer { gi1 in
                        try param0Gradient.withUnsafeMutableBufferPointer { gp0 in
                            try sums.withUnsafeMutableBufferPointer { s in
                                try program.run(
                                    count: n, inputs: [x0.baseAddress!, x1.baseAddress!], parameters: Self.parameters,
                                    values: [nil, v1.baseAddress!],
                                    gradients: [
                                        // Output 0: only ∂x1 and per-point ∂w0.
                                        GradientRequest(seeds: [1, 0], inputGradients: [nil, gi1.baseAddress!],
                                                        parameterGradients: [gp0.baseAddress!, nil]),
                                        // Output 1: only the parameter sums.
                                        GradientRequest(seeds: [0, 1], parameterGradientSums: s.baseAddress!),
                                        // Nothing at all: runs, writes nothing.
                                        GradientRequest(seeds: [1, 1]),
                                    ])
                            }
                        }
                    }
                }
            }
        }
        #expect(Self.bits(Array(value1[..<n])) == Self.bits(want0.values[1]))
        #expect(Self.bits(Array(input1Gradient[..<n])) == Self.bits(want0.inputGradients[1]))
        #expect(Self.bits(Array(param0Gradient[..<n])) == Self.bits(want0.parameterGradients[0]))
        #expect(Self.bits(sums) == Self.bits(want1.parameterGradientSum))
        for tail in [value1, input1Gradient, param0Gradient] {
            #expect(tail[n...].allSatisfy { $0 == sentinel }, "a destination was written past count")
        }
    }

    @Test func pointerLevelRunWithNoValueDestinationsStillComputesGradients() throws {
        let tape = Self.smoothTape(outputs: 1, seed: 43)
        let inputs = Self.points(2, 10, seed: 6)
        let program = Program(tape, options: ExecutionOptions(threads: 1))
        let want = try program.valueAndGradient(inputs: inputs, parameters: Self.parameters)
        var g0 = [Double](repeating: .nan, count: 10), g1 = [Double](repeating: .nan, count: 10)
        try inputs[0].withUnsafeBufferPointer { x0 in
            try inputs[1].withUnsafeBufferPointer { x1 in
                try g0.withUnsafeMutableBufferPointer { a in
                    try g1.withUnsafeMutableBufferPointer { b in
                        try program.run(count: 10, inputs: [x0.baseAddress!, x1.baseAddress!], parameters: Self.parameters,
                                        values: [], gradients: [GradientRequest(seeds: [1], inputGradients: [a.baseAddress!, b.baseAddress!])])
                    }
                }
            }
        }
        #expect(Self.bits([g0, g1]) == Self.bits(want.inputGradients))
    }

    // MARK: - Determinism

    /// Every result of a batch, as bits: values, input gradients, per-point and summed parameter gradients.
    static func fingerprint(_ tape: Tape, _ inputs: [[Double]], _ options: ExecutionOptions) throws -> [[UInt64]] {
        let program = Program(tape, options: options)
        let perPoint = try program.jacobian(inputs: inputs, parameters: parameters, parameterGradient: .perPoint)
        let summed = try program.jacobian(inputs: inputs, parameters: parameters, parameterGradient: .summed)
        return perPoint.flatMap { bits($0.values) + bits($0.inputGradients) + bits($0.parameterGradients) }
            + summed.map { bits($0.parameterGradientSum) }
    }

    @Test func resultsAreBitIdenticalAcrossThreadCounts() throws {
        let n = 3_001  // 24 chunks of 128 points with 8-point tiles
        for seed in UInt64(0)..<4 {
            let tape = Tape.random(instructions: 25, inputs: 2, parameters: 2, outputs: 2, opcodes: Self.exactOpcodes, seed: 900 + seed)
            let inputs = Self.points(2, n, in: -3...3, seed: seed)
            for tile in [8, 64] {
                let one = try Self.fingerprint(tape, inputs, ExecutionOptions(threads: 1, tileSize: tile))
                for threads in [2, 4] {
                    let many = try Self.fingerprint(tape, inputs, ExecutionOptions(threads: threads, tileSize: tile))
                    #expect(many == one, "seed \(seed) tile \(tile): \(threads) threads differ from 1")
                }
            }
        }
    }

    @Test func resultsAreBitIdenticalAcrossInstructionSets() throws {
        let n = 1_000
        for seed in UInt64(0)..<6 {
            let tape = Tape.random(instructions: 25, inputs: 2, parameters: 2, outputs: 2, opcodes: Self.exactOpcodes, seed: 950 + seed)
            let inputs = Self.points(2, n, in: -3...3, seed: 100 + seed)
            let portable = try Self.fingerprint(tape, inputs, ExecutionOptions(threads: 2, tileSize: 16, instructionSet: .swift))
            for isa in InstructionSet.supported where isa != .swift {
                let other = try Self.fingerprint(tape, inputs, ExecutionOptions(threads: 2, tileSize: 16, instructionSet: isa))
                #expect(other == portable, "seed \(seed): \(isa) differs from portable")
            }
        }
    }
}
