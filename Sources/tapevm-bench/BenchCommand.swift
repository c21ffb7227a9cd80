import ArgumentParser
import Foundation
import TapeVM

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tapevm-bench",
        abstract: "Compare TapeVM with other ways of computing values + gradients over many points.",
        discussion: """
        Systems: tapevm (Program, 1 thread), tapevm-mt (all threads), tapevm-noopt (1 thread, no optimizer \
        passes: the optimizer's effect), tapevm-swift (1 thread, the Swift SIMD8 interpreter path), \
        reference (ReferenceInterpreter, \
        per point), swift-ad (Swift's _Differentiation, valueWithGradient per point), graph-ad (per-point \
        object-graph AD, micrograd style), handwritten (straight-line scalar Swift), handwritten-c \
        (straight-line AVX-512 C with SLEEF exp/tanh; n/a without AVX-512). All run in one \
        process on the same points, interleaved, after a warm-up; the median of the repeats is reported.

        --expr 'f(x, y) = ...' (repeatable) and --tape-file PATH (repeatable, the tape text format) add \
        cases, run by the tape systems only (tapevm, tapevm-mt, tapevm-noopt, tapevm-swift, reference), with inputs \
        uniform in [-1, 1] and every parameter 0.5. They run after the built-in cases; --filter applies to all.

        Time to first result starts from text: parse (Tape(expression:) for the staged function and \
        --expr cases, Tape(text:) on the printed tape text for random-1000 and --tape-file cases) → \
        Program (1 thread) → first value + gradient at 4096 points; cold (first in the process) and the \
        median of fresh repeats.

        Build and run in release: swift run -c release tapevm-bench. Pin with taskset -c N for \
        single-thread comparisons.
        """)

    @Option(help: "Batch sizes, comma-separated.")
    var sizes: String?

    @Option(help: "Run only the cases whose name contains this.")
    var filter: String?

    @Option(help: "Systems to run, comma-separated: \(BenchSystem.allNames.joined(separator: ",")).")
    var systems: String?

    @Option(help: "Timed repeats per system (at most; cut down to fit --budget, never below 3).")
    var repeats: Int = 7

    @Option(help: "Seconds of timed samples per case and batch size, all systems together.")
    var budget: Double = 4

    @Option(help: "Skip a system (other than tapevm, tapevm-mt) at a batch size when its estimated time per call, from the previous size, exceeds this many seconds.")
    var maxCall: Double = 3.0

    @Flag(help: "Small sizes and few repeats, for smoke tests.")
    var quick = false

    @Flag(help: "Print the results as JSON on standard output (progress goes to standard error).")
    var json = false

    @Flag(help: "Instead of the systems: the cost of a JVP, an HVP and a full Hessian per point relative to one gradient (1 thread; default size 65536; see SecondOrder.swift).")
    var secondOrder = false

    @Option(help: "With --second-order: the tile size in points of every program (default: each program's own choice).")
    var tile: Int?

    @Option(help: "Seed for the random points.")
    var seed: UInt64 = 20_240_601

    @Option(name: .customLong("expr"),
            help: "Add a case from the expression language, e.g. 'f(x, y) = x * sigmoid(y)' (repeatable).")
    var expressions: [String] = []

    @Option(name: .customLong("tape-file"), help: "Add a case from a file in the tape text format (repeatable).")
    var tapeFiles: [String] = []

    @Flag(help: "Run the population benchmark instead of the suite: 10,000 random expressions of 10–50 nodes over 5 inputs with 5 parameters, scored end to end (Program included) at --population-rows rows, values only and value + summed parameter gradient, one thread and all threads.")
    var population = false

    @Option(help: "Expressions in the population benchmark.")
    var populationCount: Int = 10_000

    @Option(help: "Row counts of the population benchmark, comma-separated.")
    var populationRows: String = "100,1000,10000"

    mutating func validate() throws {
        if let systems {
            for s in systems.split(separator: ",") where !BenchSystem.allNames.contains(String(s)) {
                throw ValidationError("unknown system '\(s)'; known: \(BenchSystem.allNames.joined(separator: ", "))")
            }
        }
        if let sizes {
            for s in sizes.split(separator: ",") {
                guard let n = Int(s.replacingOccurrences(of: "_", with: "")), n > 0 else {
                    throw ValidationError("bad batch size '\(s)'")
                }
            }
        }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        _ = try textCases()
    }

    /// The cases from --expr and --tape-file, named `expr-K:<first output>` and `file:<file name>`.
    func textCases() throws -> [BenchCase] {
        var cases: [BenchCase] = []
        for (k, text) in expressions.enumerated() {
            do {
                let tape = try Tape(expression: text)
                cases.append(try textCase(name: "expr-\(k + 1):\(tape.outputs.first?.name ?? "f")",
                                          source: CaseSource(kind: .expression, text: text)))
            } catch {
                throw ValidationError("--expr '\(text)':\n\(error)")
            }
        }
        for path in tapeFiles {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ValidationError("--tape-file \(path): cannot read: \(error.localizedDescription)")
            }
            do {
                cases.append(try textCase(name: "file:" + URL(fileURLWithPath: path).lastPathComponent,
                                          source: CaseSource(kind: .tapeText, text: text)))
            } catch {
                throw ValidationError("--tape-file \(path):\n\(error)")
            }
        }
        return cases
    }

    func run() throws {
        if population {
            let rows = populationRows.split(separator: ",").compactMap { Int($0.replacingOccurrences(of: "_", with: "")) }
            guard !rows.isEmpty, rows.allSatisfy({ $0 > 0 }), populationCount > 0 else {
                throw ValidationError("--population-rows needs positive row counts and --population-count a positive count")
            }
            try PopulationBench(expressions: populationCount, rows: rows, repeats: quick ? 1 : 3, seed: seed).run()
            return
        }
        let threads = ExecutionOptions.coreCount
        let batchSizes = sizes.map { $0.split(separator: ",").map { Int($0.replacingOccurrences(of: "_", with: ""))! } }
            ?? (quick ? [1, 64, 4096] : [1, 64, 4096, 65536, 1_048_576])
        var policy = TimingPolicy(repeats: quick ? Swift.min(repeats, 3) : repeats,
                                  budgetSeconds: quick ? Swift.min(budget, 0.3) : budget,
                                  maxCallSeconds: quick ? Swift.min(maxCall, 0.2) : maxCall)
        if quick {
            policy.minRepeats = Swift.min(policy.minRepeats, policy.repeats)
            policy.minSampleSeconds = 0.002
            policy.warmupSeconds = 0.005
        } else {
            policy.minRepeats = Swift.min(policy.minRepeats, policy.repeats)
        }
        if secondOrder {
            let cases = (builtinSuite() + (try textCases())).filter { filter == nil || $0.name.contains(filter!) }
            for line in try SecondOrderBench(cases: cases, sizes: sizes == nil ? [65536] : batchSizes, policy: policy, seed: seed, tile: tile).run() {
                print(line)
            }
            return
        }
        let selected = systems.map { $0.split(separator: ",").map(String.init) } ?? BenchSystem.allNames
        let systemList = BenchSystem.all(threads: threads).filter { selected.contains($0.name) }
        let systemNames = systemList.map(\.name)
        let baseline = systemNames.contains("tapevm") ? "tapevm" : systemNames[0]
        let cases = (builtinSuite() + (try textCases())).filter { filter == nil || $0.name.contains(filter!) }
        if cases.isEmpty { throw ValidationError("no case matches --filter \(filter!)") }

        let loadStart = loadavg()
        var header = [
            "tapevm-bench: instruction set \(InstructionSet.preferred) (best \(InstructionSet.best)), "
                + "tapevm-mt threads \(threads), /proc/loadavg \(loadStart)",
            "sizes \(batchSizes.map(String.init).joined(separator: ",")), repeats ≤ \(policy.repeats), "
                + "budget \(policy.budgetSeconds) s per case and size, skip above \(policy.maxCallSeconds) s per call",
            "time to first result: parse text → Program (1 thread) → first value + gradient at 4096 points",
        ]
        #if DEBUG
        header.append("WARNING: debug build: numbers are meaningless; use -c release.")
        #endif
        for line in header { progress(line) }

        // First, while nothing has run yet in this process: text to first result.
        var firsts: [FirstResult] = []
        for c in cases {
            guard let source = c.source else { continue }
            let f = timeToFirstResult(c, source: source, points: 4096, seed: seed, again: quick ? 3 : 7)
            firsts.append(f)
            progress(String(format: "%@, %@ at 4096 points: %.3f ms cold, %.3f ms median of fresh repeats",
                            source.label, f.case, f.coldMilliseconds, f.warmMedianMilliseconds))
        }

        var results: [ResultRow] = []
        var warnings: [String] = []
        var caseInfos: [CaseInfo] = []
        for c in cases {
            caseInfos.append(CaseInfo(name: c.name, formula: c.formula, instructions: c.tape.instructions.count,
                                      inputs: c.tape.inputs.count, parameters: c.tape.parameters.count))
            for w in verify(c, systems: systemList, seed: seed) {
                warnings.append(w)
                progress(w)
            }
            var lastNs: [String: Double] = [:]
            for n in batchSizes {
                let batch = Batch(count: n, inputs: c.tape.inputs.count, range: c.inputRange,
                                  parameters: c.parameters, seed: seed)
                let out = Outputs(count: n, inputs: c.tape.inputs.count, parameters: c.tape.parameters.count)
                var runners: [(String, () -> Void)] = []
                for s in systemList {
                    var row = ResultRow(case: c.name, n: n, system: s.name)
                    if let cap = s.maxPoints, n > cap {
                        row.skipped = "N > \(cap)"
                    } else if !s.name.hasPrefix("tapevm"), let ns = lastNs[s.name],
                              ns * Double(n) * 1e-9 > policy.maxCallSeconds {
                        row.skipped = String(format: "estimated %.1f s per call", ns * Double(n) * 1e-9)
                    } else if let run = s.prepare(c, batch, out) {
                        runners.append((s.name, run))
                    } else {
                        row.skipped = Skip.noVersion
                    }
                    if row.skipped != nil { results.append(row) }
                }
                let timings = measureInterleaved(runners.map(\.1), points: n, policy: policy)
                for ((name, _), t) in zip(runners, timings) {
                    lastNs[name] = t.nsPerPoint
                    results.append(ResultRow(case: c.name, n: n, system: name, nsPerPoint: t.nsPerPoint,
                                             minNsPerPoint: t.minNs, maxNsPerPoint: t.maxNs, repeats: t.repeats,
                                             callsPerSample: t.callsPerSample))
                }
                if runners.isEmpty { continue }
                let summary = runners.indices.map { "\(runners[$0].0) \(Format.ns(timings[$0].nsPerPoint))" }
                progress("  \(c.name) N=\(n): " + summary.joined(separator: ", ") + " ns/point")
            }
        }
        // Ratios to the baseline.
        for k in results.indices {
            guard let v = results[k].nsPerPoint,
                  let b = results.first(where: { $0.case == results[k].case && $0.n == results[k].n && $0.system == baseline })?.nsPerPoint
            else { continue }
            results[k].ratioToBaseline = v / b
        }

        let report = Report(
            instructionSet: InstructionSet.preferred.description, threads: threads,
            loadavgStart: loadStart, loadavgEnd: loadavg(), baseline: baseline, systems: systemNames,
            sizes: batchSizes, cases: caseInfos, results: results, warnings: warnings, firstResult: firsts,
            notes: header + [
                "verification: \(verifyDescription)",
                "ns/point covers value + gradient w.r.t. every input per point + parameter gradient summed over the batch",
            ])
        if json {
            print(report.json())
            return
        }
        print()
        print(report.table())
        print()
        for c in caseInfos {
            print("  \(Format.pad(c.name, 13, left: true)) \(c.instructions) instructions, \(c.inputs) inputs, \(c.parameters) parameters: \(c.formula)")
        }
        print()
        for f in firsts {
            print(String(format: "%@, %@ at %d points: %.3f ms cold (first in process), %.3f ms median of fresh repeats (%@)",
                         f.label, f.case, f.points, f.coldMilliseconds, f.warmMedianMilliseconds, f.what))
        }
        print("verification: \(warnings.isEmpty ? "all systems agree with tapevm" : "\(warnings.count) warning(s)") (\(verifyDescription))")
        for w in warnings { print(w) }
        print("/proc/loadavg at start \(loadStart), at end \(report.loadavgEnd); instruction set \(report.instructionSet), tapevm-mt threads \(threads)")
    }

    private var verifyDescription: String {
        "16 points per case, values, input gradients and summed parameter gradients vs tapevm, relative 1e-9"
    }
}

/// Text to first value + gradient: parse the case's text (expression or tape text), compile a
/// Program (1 thread), allocate outputs, run at `points` points. The points themselves are made
/// beforehand and not counted.
func timeToFirstResult(_ c: BenchCase, source: CaseSource, points: Int, seed: UInt64, again: Int) -> FirstResult {
    let batch = Batch(count: points, inputs: c.tape.inputs.count, range: c.inputRange, parameters: c.parameters, seed: seed)
    func once() -> Double {
        var sink = 0.0
        let t = seconds {
            let tape: Tape
            do { tape = try source.parse() } catch { fatalError("tapevm-bench: \(c.name): \(error)") }
            let program = Program(tape, options: ExecutionOptions(threads: 1))
            let out = Outputs(count: points, inputs: tape.inputs.count, parameters: tape.parameters.count)
            let request = GradientRequest(seeds: tape.outputs.indices.map { $0 == 0 ? 1.0 : 0.0 },
                                          inputGradients: out.inputGradients.map { Optional($0) },
                                          parameterGradientSums: tape.parameters.isEmpty ? nil : out.parameterSums)
            do {
                try program.run(count: points, inputs: batch.inputPointers, parameters: batch.parameters,
                                values: tape.outputs.indices.map { $0 == 0 ? out.values : nil }, gradients: [request])
            } catch {
                fatalError("tapevm-bench: \(error)")
            }
            sink = out.values[0]
        }
        blackHole(sink)
        return t * 1e3
    }
    let cold = once()
    let warm = (0..<again).map { _ in once() }.sorted()
    let parser = source.kind == .expression ? "Tape(expression:)" : "Tape(text:)"
    return FirstResult(case: c.name, label: source.label,
                       what: "\(parser) on \(source.text.utf8.count) bytes → Program → run, 1 thread",
                       points: points, coldMilliseconds: cold, warmMedianMilliseconds: warm[warm.count / 2])
}

nonisolated(unsafe) private var sunk = 0.0

/// Keeps a result observable so the work producing it is not optimized away.
@inline(never) func blackHole(_ x: Double) { sunk += x }

func loadavg() -> String {
    ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "unavailable")
        .trimmingCharacters(in: .whitespacesAndNewlines)
}

func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
