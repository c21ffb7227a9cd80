import Foundation
import Testing
@testable import TapeVM

/// The optimizer's and planner's cached opcode facts agree with the opcode table.
@Suite struct PlannerTests {
    @Test func flatArityIsTheTablesArity() {
        for op in Opcode.allCases { #expect(op.flatArity == op.info.arity, "\(op)") }
    }

    /// A program plans its gradient sweep on first use, with the tile size it would have had
    /// planned eagerly (the sums depend on the tile).
    @Test func lazyGradientPlanKeepsTheTileSize() throws {
        for n in [3, 30, 31, 32, 100, 400] {
            let tape = Tape.random(instructions: n, inputs: 3, parameters: 2, seed: UInt64(n))
            let program = Program(tape, options: ExecutionOptions(threads: 1))
            let plan = program.withGradients
            #expect(program.tileSize == program.options.resolvedTileSize(planes: plan.tilePlaneCount + plan.reverse.adjointPlaneCount))
            #expect(plan.tilePlaneCount <= plan.valuePlaneCount)
        }
    }

    /// Runs that ask for no input gradient use a plan whose reverse sweep reaches parameters
    /// only: shorter where subtrees read inputs alone, and the same bits (sums included, over
    /// batches of many chunks and tapes large enough for smaller tiles) as the full plan.
    @Test func parameterGradientPlansSkipInputOnlySubtreesWithTheSameBits() throws {
        let small = try Tape(expression: "f(x, y; a) = sin(x) * cos(y) + a * exp(x * y)")
        let smallProgram = Program(small, options: ExecutionOptions(threads: 1))
        #expect(smallProgram.withParameterGradients.reverse.code.count < smallProgram.withGradients.reverse.code.count)
        for (k, tape) in [small, Tape.random(instructions: 400, inputs: 3, parameters: 2, opcodes: Tape.smoothOpcodes, seed: 11)].enumerated() {
            let program = Program(tape, options: ExecutionOptions(threads: 2))
            for n in [100, 5000] {
                let inputs = tape.inputs.indices.map { j in (0..<n).map { sin(Double($0 * (j + 2))) } }
                let parameters = tape.parameters.indices.map { 0.3 - 0.2 * Double($0) }
                let full = try program.valueAndGradient(inputs: inputs, parameters: parameters)
                let perPoint = try program.valueAndGradient(inputs: inputs, parameters: parameters, parameterGradient: .perPoint)
                // Parameter gradients only: the summed and the per-point ones through the run API.
                var sums = [Double](repeating: 0, count: tape.parameters.count)
                var columns = tape.parameters.map { _ in [Double](repeating: 0, count: n) }
                let ins = inputs.map { column in
                    let p = UnsafeMutablePointer<Double>.allocate(capacity: n)
                    p.initialize(from: column, count: n)
                    return UnsafePointer(p)
                }
                let cols = columns.indices.map { _ in UnsafeMutablePointer<Double>.allocate(capacity: n) }
                let s = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, sums.count))
                defer {
                    for c in cols { c.deallocate() }
                    for p in ins { p.deallocate() }
                    s.deallocate()
                }
                try program.run(count: n, inputs: ins, parameters: parameters, values: [],
                                gradients: [GradientRequest(seeds: [1], parameterGradientSums: s),
                                            GradientRequest(seeds: [1], parameterGradients: cols)])
                for (p, c) in cols.enumerated() { columns[p] = Array(UnsafeBufferPointer(start: c, count: n)) }
                sums = Array(UnsafeBufferPointer(start: s, count: sums.count))
                #expect(sums.map(\.bitPattern) == full.parameterGradientSum.map(\.bitPattern), "tape \(k), \(n) points")
                #expect(columns.map { $0.map(\.bitPattern) } == perPoint.parameterGradients.map { $0.map(\.bitPattern) }, "tape \(k), \(n) points")
            }
        }
    }

    /// A program called again with the very same argument arrays reuses its transfer lists;
    /// a caller that changes an array (so it is copied) or passes new ones gets new lists.
    @Test func transferListsFollowTheCallersArrays() throws {
        let tape = try Tape(expression: "f(x; a) = a * x + sin(x)")
        let program = Program(tape, options: ExecutionOptions(threads: 1))
        let x = UnsafeMutablePointer<Double>.allocate(capacity: 1), y = UnsafeMutablePointer<Double>.allocate(capacity: 2)
        let g = UnsafeMutablePointer<Double>.allocate(capacity: 2)
        defer { x.deallocate(); y.deallocate(); g.deallocate() }
        x.pointee = 0.5
        y.initialize(repeating: 0, count: 2)
        g.initialize(repeating: 0, count: 2)
        let inputs = [UnsafePointer(x)]
        var values: [UnsafeMutablePointer<Double>?] = [y]
        var gradients = [GradientRequest(seeds: [1], inputGradients: [g])]
        for _ in 0..<2 { try program.run(count: 1, inputs: inputs, parameters: [2], values: values, gradients: gradients) }
        values[0] = y + 1
        gradients[0].inputGradients[0] = g + 1
        try program.run(count: 1, inputs: inputs, parameters: [2], values: values, gradients: gradients)
        #expect(y[0] == y[1] && y[1] == 2 * 0.5 + sin(0.5))
        #expect(g[0] == g[1] && g[1] == 2 + cos(0.5))
    }

    /// New argument arrays at every call (`gradients: [request]` written in the call) reuse the
    /// transfer lists when their contents are the same, and get new ones when any pointer or
    /// seed differs.
    @Test func transferListsFollowTheContentsOfNewArrays() throws {
        let tape = try Tape(expression: "f(x, z; a) = a * x * z")
        let program = Program(tape, options: ExecutionOptions(threads: 1))
        let buffer = UnsafeMutablePointer<Double>.allocate(capacity: 8)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 0, count: 8)
        let (x, z, y, g) = (buffer, buffer + 1, buffer + 2, buffer + 4)
        x.pointee = 0.5
        z.pointee = 3
        func run(_ seed: Double, value: UnsafeMutablePointer<Double>, gradient: UnsafeMutablePointer<Double>,
                 inputs: [UnsafePointer<Double>]? = nil) throws {
            try program.run(count: 1, inputs: inputs ?? [UnsafePointer(x), UnsafePointer(z)], parameters: [2],
                            values: [value], gradients: [GradientRequest(seeds: [seed], inputGradients: [gradient, nil])])
        }
        for _ in 0..<3 { try run(1, value: y, gradient: g) }
        #expect(y.pointee == 3 && g.pointee == 6)
        try run(2, value: y + 1, gradient: g + 1)
        #expect(y[1] == 3 && g[1] == 12 && g[0] == 6)
        try run(-2, value: y, gradient: g + 2)
        #expect(g[2] == -12)
        try run(-2, value: y, gradient: g + 2)
        #expect(g[2] == -12)
        try run(3, value: y, gradient: g + 2)
        #expect(g[2] == 18)
        try run(1, value: y, gradient: g + 3, inputs: [UnsafePointer(z), UnsafePointer(x)])
        #expect(g[3] == 0.5 * 2)
    }

    /// A call with the last call's argument arrays reuses the workspace's set-up (parameter and
    /// constant planes, the instructions of parameters only, plane tables) only while it holds:
    /// new parameter values (`+0` and `-0` differ), another batch size and tile, values-only and
    /// parameter-only runs in between, and inputs changed in place all give what a fresh program
    /// gives, bit for bit.
    @Test func repeatedCallsRedoTheSetUpWhenItChanges() throws {
        let tape = try Tape(expression: "f(x, y; a, b) = exp(a) * x + 3 * sin(b) * y + x / b + (a * b) * 2")
        let program = Program(tape, options: ExecutionOptions(threads: 1))
        let capacity = 1100
        let columns = (0..<6).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: capacity) }
        defer { for c in columns { c.deallocate() } }
        let (x, y, value, gx, gy) = (columns[0], columns[1], columns[2], columns[3], columns[4])
        let sums = columns[5]
        let inputs = [UnsafePointer(x), UnsafePointer(y)]
        let values: [UnsafeMutablePointer<Double>?] = [value]
        let full = [GradientRequest(seeds: [1], inputGradients: [gx, gy], parameterGradientSums: sums)]
        let parametersOnly = [GradientRequest(seeds: [1], parameterGradientSums: sums)]
        var rng = SplitMix64(seed: 7)
        let steps: [(count: Int, a: Double, b: Double, kind: Int)] = [
            (64, 0.5, 2, 0), (64, 0.5, 2, 0), (64, 0.25, 2, 0), (64, 0.25, 0.0, 0), (64, 0.25, -0.0, 0),
            (5, 0.25, -0.0, 0), (700, 0.25, -0.0, 0), (700, 0.25, 1.5, 1), (700, 0.25, 1.5, 0), (1, 1, 1.5, 2),
            (1, 1, 1.5, 0), (1100, -1, 3, 0), (1100, -1, 3, 0), (64, -1, 3, 1), (64, -1, 3, 0),
        ]
        for (i, step) in steps.enumerated() {
            // New input contents every call, in the same columns.
            for k in 0..<step.count { x[k] = Double.random(in: -2...2, using: &rng); y[k] = Double.random(in: -2...2, using: &rng) }
            let parameters = [step.a, step.b]
            let gradients = step.kind == 2 ? [] : step.kind == 1 ? parametersOnly : full
            try program.run(count: step.count, inputs: inputs, parameters: parameters, values: values, gradients: gradients)
            // A fresh program (nothing kept) into fresh columns.
            let fresh = Program(tape, options: ExecutionOptions(threads: 1))
            let n = step.count
            let expected = (0..<3).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: n) }
            let expectedSums = UnsafeMutablePointer<Double>.allocate(capacity: 2)
            defer { for c in expected { c.deallocate() }; expectedSums.deallocate() }
            let request = step.kind == 1 ? GradientRequest(seeds: [1], parameterGradientSums: expectedSums)
                : GradientRequest(seeds: [1], inputGradients: [expected[1], expected[2]], parameterGradientSums: expectedSums)
            try fresh.run(count: n, inputs: inputs, parameters: parameters, values: [expected[0]],
                          gradients: step.kind == 2 ? [] : [request])
            for k in 0..<n { #expect(value[k].bitPattern == expected[0][k].bitPattern, "step \(i) point \(k)") }
            guard step.kind != 2 else { continue }
            #expect(sums[0].bitPattern == expectedSums[0].bitPattern && sums[1].bitPattern == expectedSums[1].bitPattern, "step \(i)")
            guard step.kind == 0 else { continue }
            for k in 0..<n {
                #expect(gx[k].bitPattern == expected[1][k].bitPattern && gy[k].bitPattern == expected[2][k].bitPattern,
                        "step \(i) point \(k)")
            }
        }
    }

    /// Tangent sweeps borrow a run's workspace (planes, tables, sums), here over fewer points, so
    /// with a smaller tile, and other parameter values: a run after one, with the same arrays and
    /// parameters as the run before it, redoes its set-up and gives the same bits; the tangent
    /// sweeps give the same bits as on a fresh program.
    @Test func runsAndTangentSweepsShareWorkspaces() throws {
        let tape = try Tape(expression: "f(x, y; a, b) = exp(a) * x + 3 * sin(b) * y * x + (a * b) * 2")
        let program = Program(tape, options: ExecutionOptions(threads: 1))
        let n = 1000, m = 37
        let columns = (0..<9).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: n) }
        defer { for c in columns { c.deallocate() } }
        var rng = SplitMix64(seed: 11)
        for k in 0..<n { columns[0][k] = Double.random(in: -2...2, using: &rng); columns[1][k] = Double.random(in: -2...2, using: &rng) }
        let inputs = [UnsafePointer(columns[0]), UnsafePointer(columns[1])]
        let parameters = [0.75, -1.25]
        let values: [UnsafeMutablePointer<Double>?] = [columns[2]]
        let gradients = [GradientRequest(seeds: [1], inputGradients: [columns[3], columns[4]])]
        func bits(_ range: Range<Int>, _ count: Int) -> [[UInt64]] {
            range.map { c in (0..<count).map { columns[c][$0].bitPattern } }
        }
        try program.run(count: n, inputs: inputs, parameters: parameters, values: values, gradients: gradients)
        let first = bits(2..<5, n)
        func tangents(_ p: Program, _ out: Int) throws -> [[UInt64]] {
            let requests = (0..<3).map { d in
                TangentRequest(inputTangents: [.shared(Double(d)), .perPoint(UnsafePointer(columns[1]))],
                               parameterTangents: [0.5, Double(d) / 4], outputTangents: d == 1 ? [columns[out]] : [])
            }
            try p.runTangents(count: m, inputs: inputs, parameters: [0.1, 0.2], values: [columns[out + 1]], tangents: requests)
            return bits(out..<out + 2, m)
        }
        for round in 0..<3 {
            let got = try tangents(program, 5)
            #expect(got == (try tangents(Program(tape, options: ExecutionOptions(threads: 1)), 7)), "round \(round)")
            try program.run(count: n, inputs: inputs, parameters: parameters, values: values, gradients: gradients)
            #expect(bits(2..<5, n) == first, "round \(round)")
        }
    }

    /// Passes whose patterns' opcodes are not on the tape are skipped; the tape comes out the
    /// same as with every pass run (a tape with constants gets folded and fused as before).
    @Test func optimizerSkipsPassesWithNothingToMatch() throws {
        let withConstants = try Tape(expression: "f(x; a) = (2 * 3) * x + a * x - (x - 0) * 1 + (a - x)^2")
        let optimized = withConstants.optimized()
        #expect(!optimized.instructions.contains { $0.opcode == .const })
        #expect(optimized.instructions.contains { $0.opcode == .mulkadd || $0.opcode == .mulk })
        #expect(optimized.instructions.contains { $0.opcode == .sqdiff })
        let noConstants = try Tape(expression: "f(x, y; a) = a * x + sin(y) * y")
        #expect(noConstants.optimized().instructions.contains { $0.opcode == .muladd })
    }

    /// Skipping the passes that cannot change a tape gives the tape that running every pass
    /// twice gives, on random tapes with and without constants and fused opcodes.
    @Test func skippedPassesWouldHaveChangedNothing() throws {
        var opcodes = Tape.smoothOpcodes
        opcodes.append(contentsOf: [.const, .muladd, .sqdiff, .mulk, .addk, .neg, .powi, .add, .mul, .sub, .square])
        // Expression trees without constants, as a symbolic-regression engine makes them.
        func tree(_ seed: UInt64) throws -> Tape {
            var rng = SplitMix64(seed: seed)
            let b = TapeBuilder()
            let leaves = (0..<3).map { b.input("x\($0)") } + (0..<2).map { b.parameter("c\($0)") }
            func node(_ n: Int) -> Register {
                if n <= 1 { return leaves.randomElement(using: &rng)! }
                if n == 2 || Int.random(in: 0..<4, using: &rng) == 0 {
                    let a = node(n - 1)
                    return [b.sin(a), b.square(a), b.neg(a), b.exp(a)][Int.random(in: 0..<4, using: &rng)]
                }
                let left = Int.random(in: 1...(n - 2), using: &rng)
                let (l, r) = (node(left), node(n - 1 - left))
                return [b.add(l, r), b.sub(l, r), b.mul(l, r), b.div(l, r)][Int.random(in: 0..<4, using: &rng)]
            }
            b.output("f", node(Int.random(in: 5...60, using: &rng)))
            return try b.build()
        }
        // A fused instruction already on the tape, which fusing makes again: the second round's
        // common subexpressions must merge the two.
        let b = TapeBuilder()
        let (x, y, z) = (b.input("x"), b.input("y"), b.input("z"))
        b.output("f", b.mul(b.emit(.muladd, [x, y, z]), b.add(b.mul(x, y), z)))
        let refused = try b.build()
        #expect(refused.optimized().instructions.filter { $0.opcode == .muladd }.count == 1)
        for seed in -1..<450 {
            let random = seed < 0 ? refused : seed < 300
                ? Tape.random(instructions: 10 + seed % 60, inputs: 3, parameters: 2,
                              opcodes: seed % 2 == 0 ? opcodes : Tape.smoothOpcodes, seed: UInt64(seed))
                : try tree(UInt64(seed))
            var skipping = FlatTape(random), everyPass = FlatTape(random)
            var optimizer = FlatOptimizer()
            optimizer.optimize(&skipping, .all)
            var reference = FlatOptimizer()
            reference.skipsIdlePasses = false
            reference.optimize(&everyPass, .all)
            #expect(skipping.instructions == everyPass.instructions && skipping.outputs == everyPass.outputs, "seed \(seed)")
        }
    }

    /// Instructions of parameters and constants only run once per workspace, before the tiles:
    /// values and gradients are still the reference interpreter's, bit for bit (exact passes),
    /// on full and partial tiles, and outputs that are such instructions are copied out.
    @Test func uniformInstructionsRunOncePerWorkspace() throws {
        let tape = try Tape(expression: """
            f(x, y; a, b) = sin(a) * x + exp(a * b) / (y + cos(b)) + tanh(a - b) * (x - sin(a))
            """)
        let onlyParameters = try Tape(expression: "g(x; a, b) = exp(a) * cos(b)")
        for t in [tape, onlyParameters] {
            let program = Program(t, options: ExecutionOptions(threads: 1, tileSize: 16, optimization: .exact))
            #expect(program.withGradients.uniform.count > 0)
            #expect(program.withGradients.uniform.count + program.withGradients.perTile.count == program.withGradients.forward.count)
            let n = 37  // two full tiles and a partial one
            let inputs = t.inputs.indices.map { j in (0..<n).map { Double($0) * 0.1 - 1.7 + Double(j) } }
            let parameters = [0.7, -1.3]
            let r = try program.valueAndGradient(inputs: inputs, parameters: parameters, parameterGradient: .perPoint)
            let reference = ReferenceInterpreter(t)
            for i in 0..<n {
                let g = reference.gradient(inputs: inputs.map { $0[i] }, parameters: parameters)
                #expect(r.values[0][i].bitPattern == g.values[0].bitPattern)
                for j in t.inputs.indices { #expect(r.inputGradients[j][i].bitPattern == g.inputs[j].bitPattern) }
                for p in t.parameters.indices { #expect(r.parameterGradients[p][i].bitPattern == g.parameters[p].bitPattern) }
            }
            let values = try program.evaluate(inputs: inputs, parameters: parameters)
            for i in 0..<n { #expect(values[0][i].bitPattern == r.values[0][i].bitPattern) }
        }
    }
}
