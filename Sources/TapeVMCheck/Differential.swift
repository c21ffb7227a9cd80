import TapeVM

/// Runs one tape on every code path this CPU has and at several optimizer levels, and holds the
/// results to the scalar ``ReferenceInterpreter``: the property behind the differential script
/// (`tapevm-check differential`) and every fuzz target that produces a tape.
///
/// What is compared, point by point (NaN equals NaN whatever its payload, otherwise bit for bit):
/// - every output's value, on every path and level, against the reference;
/// - every output's gradient with respect to each input and (per point) each parameter: against
///   the reference at the levels that keep gradients exact (``OptimizationPasses/exact`` and its
///   subsets); at the other levels, which reassociate adjoint sums, against the first path's
///   result at the same level (paths must agree with each other bit for bit at every level);
/// - the parameter gradient summed over the batch, between paths.
///
/// The README's stated exception is honoured and counted, not hidden: SLEEF's vector `sin`,
/// `cos` and `tan` switch a whole vector to the wide argument reduction when one lane's argument
/// is not below 15 in magnitude (or is NaN or infinite), which can move the last bit of the other
/// lanes. A point whose group of eight lanes (the widest vector; padding lanes of a partial tile
/// hold zero inputs) has such an argument is *exempt*: it is not compared, and
/// ``Outcome/exemptPoints`` counts it. Every other point of such a tape is compared exactly.
/// With `TAPEVM_MATH=portable` (``InstructionSet/portableMath``) SLEEF's deterministic routines
/// reduce each lane on its own, so there is no exception: every point is compared.
public enum Differential {
    /// The opcodes whose vector forms couple lanes (the README's Conventions): SLEEF's `xsin_u1`,
    /// `xcos_u1` and `xtan_u1` test all lanes against TRIGRANGEMAX2 at once (not in SLEEF's
    /// deterministic build, which portable mode uses).
    public static var laneCoupledOpcodes: Set<Opcode> { InstructionSet.portableMath ? [] : [.sin, .cos, .tan] }

    /// SLEEF's fast-path bound for `sin`/`cos`/`tan` (TRIGRANGEMAX2): a vector with a lane at or
    /// above it takes the slower reduction in every lane.
    static let trigFastRange = 15.0

    /// The optimizer levels every check runs: none, the exact passes, all passes, and each pass
    /// on its own.
    public static var levels: [OptimizationPasses] {
        [.none, .exact, .all] + singlePasses
    }

    /// Each optimizer pass on its own.
    public static let singlePasses: [OptimizationPasses] = (0..<OptimizationPasses.all.rawValue.bitWidth)
        .map { OptimizationPasses(rawValue: 1 << $0) }
        .filter { OptimizationPasses.all.contains($0) }

    /// Whether a level keeps gradients bit-identical to the reference.
    public static func isExact(_ level: OptimizationPasses) -> Bool { OptimizationPasses.exact.isSuperset(of: level) }

    /// NaN equals NaN; everything else bit for bit (so `0` differs from `-0`).
    public static func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    /// The result of one check.
    public struct Outcome: Sendable {
        /// Programs made and run (one per path and level).
        public var runs = 0
        /// Scalar comparisons made.
        public var comparisons = 0
        /// Points held to no comparison under the stated `sin`/`cos`/`tan` exception (per program run).
        public var exemptPoints = 0
        /// Of those, how many did differ (in any value or gradient): the exception actually seen.
        public var exemptDifferences = 0
        /// The first disagreement, described; nil when everything agreed.
        public var mismatch: String?
    }

    /// Special values that random points draw from.
    public static let specials: [Double] = [0, -0.0, 1, -1, 2, 0.5, 1e300, -1e300, 1e-300, .leastNonzeroMagnitude,
                                            .infinity, -.infinity, .nan, 3, -3, 0.1, 20, -40]

    /// Random points: mostly ordinary values in [-4, 4], often a special one, sometimes a tie
    /// with the previous input. `inputs` columns of `count` values each.
    public static func points(count: Int, inputs: Int, rng: inout SplitMix64,
                              specials: [Double] = Differential.specials) -> [[Double]] {
        var cols = [[Double]](repeating: [], count: inputs)
        for _ in 0..<count {
            for j in 0..<inputs {
                let r = Int.random(in: 0..<10, using: &rng)
                let v: Double
                if r < 2 { v = specials[Int.random(in: 0..<specials.count, using: &rng)] }
                else if r == 2, j > 0 { v = cols[j - 1].last! }
                else { v = Double.random(in: -4...4, using: &rng) }
                cols[j].append(v)
            }
        }
        return cols
    }

    /// Checks `tape` at the points `inputs` (one column per input) with `parameters`, on
    /// `paths` (default: every supported one) at `levels`, with the given threads and tile size.
    public static func check(_ tape: Tape, inputs: [[Double]], parameters: [Double],
                             paths: [InstructionSet] = InstructionSet.supported,
                             levels: [OptimizationPasses] = Differential.levels,
                             threads: Int = 1, tileSize: Int? = nil) -> Outcome {
        var outcome = Outcome()
        let n = tape.inputs.isEmpty ? 1 : (inputs.first?.count ?? 0)
        let reference = ReferenceInterpreter(tape)
        let point = { (i: Int) in inputs.map { $0[i] } }
        // want[k][i]: the reference gradient of output k at point i.
        let want = tape.outputs.indices.map { k in
            (0..<n).map { i in
                reference.gradient(inputs: point(i), parameters: parameters,
                                   seeds: tape.outputs.indices.map { $0 == k ? 1 : 0 })
            }
        }
        let exempt = exemptPoints(tape, inputs: inputs, parameters: parameters, count: n)
        let exemptCount = exempt.filter { $0 }.count

        var exemptPoint = false, exemptDiffers = false
        func fail(_ what: String, _ got: Double, _ expected: Double, _ isa: InstructionSet, _ level: OptimizationPasses,
                  against: String) {
            if exemptPoint { exemptDiffers = true; return }
            guard outcome.mismatch == nil else { return }
            outcome.mismatch = "\(what): \(got) (0x\(String(got.bitPattern, radix: 16))) != \(against) \(expected) "
                + "(0x\(String(expected.bitPattern, radix: 16))) [path \(isa), optimization \(describe(level)), "
                + "threads \(threads), tile \(tileSize.map(String.init) ?? "auto"), \(n) point(s)]"
        }

        for level in levels {
            var first: (isa: InstructionSet, jacobian: [GradientResult], sum: [Double])?
            for isa in paths {
                let program = Program(tape, options: ExecutionOptions(threads: threads, tileSize: tileSize,
                                                                      instructionSet: isa, optimization: level))
                let jacobian: [GradientResult]
                let sum: [Double]
                do {
                    jacobian = try program.jacobian(inputs: inputs, parameters: parameters, parameterGradient: .perPoint)
                    sum = try program.valueAndGradient(inputs: inputs, parameters: parameters).parameterGradientSum
                } catch {
                    outcome.mismatch = "run failed [path \(isa), optimization \(describe(level))]: \(error)"
                    return outcome
                }
                outcome.runs += 1
                outcome.exemptPoints += exemptCount
                for i in 0..<n {
                    exemptPoint = exempt[i]
                    exemptDiffers = false
                    defer { if exemptDiffers { outcome.exemptDifferences += 1 } }
                    for (k, result) in jacobian.enumerated() {
                        let w = want[k][i]
                        for k2 in tape.outputs.indices {
                            if !exemptPoint { outcome.comparisons += 1 }
                            if !same(result.values[k2][i], want[0][i].values[k2]) {
                                fail("value of '\(tape.outputs[k2].name)' at point \(i)", result.values[k2][i],
                                     want[0][i].values[k2], isa, level, against: "reference")
                            }
                        }
                        // Gradients: the reference where the level is exact, else the first path.
                        let other = first.map { $0.jacobian[k] }
                        let gradients = tape.inputs.indices.map { j in
                            (tape.inputs[j], result.inputGradients[j][i], w.inputs[j], other?.inputGradients[j][i])
                        } + tape.parameters.indices.map { p in
                            (tape.parameters[p], result.parameterGradients[p][i], w.parameters[p], other?.parameterGradients[p][i])
                        }
                        for (slot, got, reference, firstPath) in gradients {
                            if !exemptPoint { outcome.comparisons += 1 }
                            let what = "∂\(tape.outputs[k].name)/∂\(slot) at point \(i)"
                            if isExact(level) {
                                if !same(got, reference) { fail(what, got, reference, isa, level, against: "reference") }
                            } else if let firstPath, !same(got, firstPath) {
                                fail(what, got, firstPath, isa, level, against: "path \(first!.isa)")
                            }
                        }
                    }
                }
                // The summed parameter gradient: the same bits on every path (lane partial sums
                // are reduced in a fixed order), unless an exempt point took part.
                if let first, exemptCount == 0 {
                    for p in tape.parameters.indices {
                        outcome.comparisons += 1
                        if !same(sum[p], first.sum[p]) {
                            fail("Σ∂\(tape.outputs[0].name)/∂\(tape.parameters[p])", sum[p], first.sum[p], isa, level, against: "path \(first.isa)")
                        }
                    }
                }
                if first == nil { first = (isa, jacobian, sum) }
                if outcome.mismatch != nil { return outcome }
            }
        }
        return outcome
    }

    /// Which points fall under the stated `sin`/`cos`/`tan` exception: those sharing a group of
    /// eight lanes with a lane (a point, or a zero-input padding lane past the last point) where a
    /// `sin`, `cos` or `tan` argument is not below ``trigFastRange`` in magnitude.
    static func exemptPoints(_ tape: Tape, inputs: [[Double]], parameters: [Double], count n: Int) -> [Bool] {
        let opcodes = laneCoupledOpcodes
        let coupled = tape.instructions.filter { opcodes.contains($0.opcode) }
        guard !coupled.isEmpty else { return [Bool](repeating: false, count: n) }
        let reference = ReferenceInterpreter(tape)
        func wide(_ point: [Double]) -> Bool {
            let v = reference.registerValues(inputs: point, parameters: parameters)
            return coupled.contains { !(Swift.abs(v[$0.operands[0].index]) < trigFastRange) }
        }
        let padding = wide([Double](repeating: 0, count: tape.inputs.count))
        let lanes = (0..<n).map { i in wide(inputs.map { $0[i] }) }
        return (0..<n).map { i in
            let group = (i / 8 * 8)..<(i / 8 * 8 + 8)
            return group.contains { $0 < n ? lanes[$0] : padding }
        }
    }

    /// A level's name for messages: `none`, `exact`, `all` or the passes it holds.
    public static func describe(_ level: OptimizationPasses) -> String {
        switch level {
        case .none: "none"
        case .exact: "exact"
        case .all: "all"
        default: "passes(0x\(String(level.rawValue, radix: 16)))"
        }
    }
}
