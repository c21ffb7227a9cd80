import TapeVM

/// Differential testing at scale: many random tapes, each on every supported code path and
/// several optimizer levels, against the reference interpreter (``Differential/check``).
///
/// Tape `k` (counting from `seed`) is fully determined by `seed + k`: its size (1 to 40 compute
/// instructions, one in eight up to 160), inputs (0 to 4), parameters (0 to 3), outputs (1 to 3),
/// points (sizes around tile boundaries: 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, and one in
/// sixteen 511, 512 or 513), tile size (8, 16 or automatic), threads (1, one in eight 2) and
/// levels (none, exact, all and one single pass). Opcodes are drawn from every compute opcode
/// (`Opcode.allCases`); points mix ordinary values with specials (±0, ±∞, NaN, 1e±300, subnormals).
public enum DifferentialRun {
    /// What to run.
    public struct Settings: Sendable {
        /// How many tapes.
        public var tapes = 100_000
        /// The seed of tape 0.
        public var seed: UInt64 = 0x7A9E_5EED
        /// The first tape to run (to replay one: `--first K --tapes 1`).
        public var first = 0
        public init() {}
    }

    /// The settings of tape `k`, and the tape.
    static func make(_ seed: UInt64) -> (tape: Tape, inputs: [[Double]], parameters: [Double], tile: Int?, threads: Int,
                                         levels: [OptimizationPasses]) {
        var rng = SplitMix64(seed: seed)
        let size = Int.random(in: 0..<8, using: &rng) == 0 ? Int.random(in: 1...160, using: &rng) : Int.random(in: 1...40, using: &rng)
        let nIn = Int.random(in: 0...4, using: &rng), nPar = Int.random(in: 0...3, using: &rng)
        let nOut = Int.random(in: 1...3, using: &rng)
        let tape = Tape.random(instructions: size, inputs: nIn, parameters: nPar, outputs: nOut,
                               seed: rng.next())
        let n = Int.random(in: 0..<16, using: &rng) == 0 ? [511, 512, 513].randomElement(using: &rng)!
            : [1, 7, 8, 9, 15, 16, 17, 63, 64, 65].randomElement(using: &rng)!
        let inputs = Differential.points(count: n, inputs: nIn, rng: &rng)
        let parameters = Differential.points(count: 1, inputs: nPar, rng: &rng).map { $0[0] }
        let tile = [8, 16, nil].randomElement(using: &rng)!
        let threads = Int.random(in: 0..<8, using: &rng) == 0 ? 2 : 1
        let levels: [OptimizationPasses] = [.none, .exact, .all, Differential.singlePasses.randomElement(using: &rng)!]
        return (tape, inputs, parameters, tile, threads, levels)
    }

    /// Runs the tapes, printing progress and a summary through `log`; false on a mismatch.
    public static func run(_ settings: Settings, log: (String) -> Void) -> Bool {
        let paths = InstructionSet.supported
        var runs = 0, comparisons = 0, exempt = 0, exemptDiffering = 0, points = 0, mismatches = 0
        var opcodeCounts = [Opcode: Int]()
        var levelRuns = [String: Int]()
        var clock = ContinuousClock.now
        let start = clock
        log("differential: \(settings.tapes) tape(s) from seed \(settings.seed) (first \(settings.first)), paths \(paths.map(\.rawValue).joined(separator: ", ")), math \(InstructionSet.portableMath ? "portable" : "native")")
        for k in settings.first..<(settings.first + settings.tapes) {
            let c = make(settings.seed &+ UInt64(k))
            for ins in c.tape.instructions { opcodeCounts[ins.opcode, default: 0] += 1 }
            let outcome = Differential.check(c.tape, inputs: c.inputs, parameters: c.parameters, paths: paths,
                                             levels: c.levels, threads: c.threads, tileSize: c.tile)
            runs += outcome.runs
            comparisons += outcome.comparisons
            exempt += outcome.exemptPoints
            exemptDiffering += outcome.exemptDifferences
            points += (c.tape.inputs.isEmpty ? 1 : c.inputs[0].count) * outcome.runs
            for level in c.levels { levelRuns[Differential.describe(level), default: 0] += paths.count }
            if let mismatch = outcome.mismatch {
                mismatches += 1
                if mismatches <= 10 {
                    log("MISMATCH in tape \(k) (replay: tapevm-check differential --seed \(settings.seed) --first \(k) --tapes 1): \(mismatch)\n\(c.tape.text)")
                }
            }
            if ContinuousClock.now - clock > .seconds(60) {
                clock = .now
                log("  \(k - settings.first + 1) tapes, \(mismatches) mismatch(es), \(clock - start)")
            }
        }
        let missing = Opcode.allCases.filter { $0.arity > 0 && opcodeCounts[$0] == nil }
        log("""
            differential: \(settings.tapes) tapes, \(runs) program runs (path × level), \(points) point runs, \
            \(comparisons) scalar comparisons, \(exempt) point runs exempt under the sin/cos/tan lane coupling (\(exemptDiffering) of them did differ), \
            \(mismatches) mismatching tape(s), \(ContinuousClock.now - start)
              runs per level: \(levelRuns.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
              instructions per opcode: \(opcodeCounts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            """)
        // A long run that never drew an opcode did not test it: say so and fail.
        if !missing.isEmpty && settings.tapes >= 1000 { log("  opcodes never drawn: \(missing)"); return false }
        return mismatches == 0
    }
}
