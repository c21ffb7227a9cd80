// TapeVM benchmarks for ordo-one's package-benchmark. From the Benchmarks directory:
//
//   swift package benchmark --filter staged
//   swift package benchmark thresholds check          (against Thresholds/, the recorded counts)
//   swift package --allow-writing-to-package-directory benchmark thresholds update
//
// Sweeps use the pointer API into buffers allocated once, outside the measured block, on one
// thread. A program keeps each thread's workspace, transfer tables and partial sums for its
// next run, so after the warm-up a run allocates nothing: the thresholds hold
// `mallocCountTotal` to 0 per call, at 1 point and at 65536.
import Benchmark
import TapeVM

/// Inputs, outputs and gradient buffers for one tape at `count` points, allocated once.
final class SweepBuffers: @unchecked Sendable {
    let count: Int
    let program: Program
    let inputs: [UnsafePointer<Double>]
    let parameters: [Double]
    let values: [UnsafeMutablePointer<Double>?]
    let requests: [GradientRequest]
    private let owned: [UnsafeMutablePointer<Double>]

    init(_ tape: Tape, count: Int, range: ClosedRange<Double> = -1...1,
         options: ExecutionOptions = ExecutionOptions(threads: 1)) {
        self.count = count
        program = Program(tape, options: options)
        var rng = SplitMix64(seed: 7)
        var owned: [UnsafeMutablePointer<Double>] = []
        func column() -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: count)
            p.initialize(repeating: 0, count: count)
            owned.append(p)
            return p
        }
        inputs = tape.inputs.map { _ in
            let c = column()
            for i in 0..<count { c[i] = Double.random(in: range, using: &rng) }
            return UnsafePointer(c)
        }
        parameters = Array(repeating: 0.5, count: tape.parameters.count)
        values = tape.outputs.map { _ in Optional(column()) }
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, tape.parameters.count))
        sums.initialize(repeating: 0, count: Swift.max(1, tape.parameters.count))
        owned.append(sums)
        requests = [GradientRequest(seeds: tape.outputs.indices.map { $0 == 0 ? 1 : 0 },
                                    inputGradients: tape.inputs.map { _ in Optional(column()) },
                                    parameterGradientSums: tape.parameters.isEmpty ? nil : sums)]
        self.owned = owned
    }

    deinit { for p in owned { p.deallocate() } }

    /// Forward sweep only: values.
    @inline(__always) func forward() {
        do { try program.run(count: count, inputs: inputs, parameters: parameters, values: values) } catch {
            fatalError("TapeVMBenchmarks: \(error)")
        }
    }

    /// Forward and reverse sweep: values and the gradient with respect to every input.
    @inline(__always) func forwardReverse() {
        do {
            try program.run(count: count, inputs: inputs, parameters: parameters, values: values, gradients: requests)
        } catch {
            fatalError("TapeVMBenchmarks: \(error)")
        }
    }
}

enum Tapes {
    static func staged() -> Tape {
        do {
            return try Tape(expression: "f(x, y) = (x + sigmoid(y)) / (sigmoid(x) + (x + y)^2)")
        } catch {
            fatalError("TapeVMBenchmarks: \(error)")
        }
    }

    /// A neuron with parameters: `sigmoid(w0·x0 + w1·x1 + w2)`.
    static func neuron() -> Tape {
        do {
            return try Tape(expression: "f(x0, x1; w0, w1, w2) = sigmoid(w0 * x0 + w1 * x1 + w2)")
        } catch {
            fatalError("TapeVMBenchmarks: \(error)")
        }
    }

    /// About 1000 live instructions (allLive: the optimizer cannot drop any as dead code).
    static func random1000() -> Tape {
        Tape.random(instructions: 1000, inputs: 4, opcodes: Tape.smoothOpcodes, allLive: true, seed: 1)
    }

    /// One instruction of `opcode` on the inputs.
    static func single(_ opcode: Opcode) -> Tape {
        let b = TapeBuilder()
        let args = (0..<opcode.arity).map { b.input("x\($0)") }
        b.output("f", b.emit(opcode, args, immediate: 0))
        do { return try b.build() } catch { fatalError("TapeVMBenchmarks: \(error)") }
    }
}

let points = 65536

/// Benchmark names without spaces: package-benchmark 1.38.1 writes threshold files with spaces
/// replaced by underscores but looks them up by the name as it is, so a name with a space never
/// finds its thresholds.
func slug(_ name: String) -> String { String(name.map { $0 == " " ? "_" : $0 }) }

let benchmarks: @Sendable () -> Void = {
    let timing: [BenchmarkMetric] = [.wallClock, .mallocCountTotal, .throughput]
    Benchmark.defaultConfiguration = .init(metrics: timing, timeUnits: .microseconds,
                                           maxDuration: .seconds(2), maxIterations: 1000)

    // Sweeps: `swift package benchmark thresholds check` holds mallocCountTotal to the count
    // recorded in Thresholds/ (the only metric recorded there: wall clock is too noisy on
    // shared hosts for a fixed threshold). The optimizer benchmark has no threshold: its
    // hash tables grow differently with each process's hash seed.
    let sweepConfiguration = Benchmark.Configuration(metrics: timing, timeUnits: .microseconds,
                                                     maxDuration: .seconds(2), maxIterations: 1000)

    func sweeps(_ name: String, _ make: @escaping @Sendable () -> Tape, range: ClosedRange<Double> = -1...1) {
        let buffers = SweepBuffers(make(), count: points, range: range)
        Benchmark(slug("\(name) forward \(points)"), configuration: sweepConfiguration) { benchmark in
            for _ in benchmark.scaledIterations { buffers.forward() }
        }
        Benchmark(slug("\(name) forward+reverse \(points)"), configuration: sweepConfiguration) { benchmark in
            for _ in benchmark.scaledIterations { buffers.forwardReverse() }
        }
    }

    sweeps("staged", Tapes.staged)

    // One point: the fixed cost of a call, and no allocation either (thresholds: 0 mallocs).
    let onePoint = SweepBuffers(Tapes.staged(), count: 1)
    Benchmark(slug("staged forward 1"), configuration: sweepConfiguration) { benchmark in
        for _ in benchmark.scaledIterations { onePoint.forward() }
    }
    Benchmark(slug("staged forward+reverse 1"), configuration: sweepConfiguration) { benchmark in
        for _ in benchmark.scaledIterations { onePoint.forwardReverse() }
    }
    // Parameters: a neuron's value and summed parameter gradient at 64 points.
    let neuron = SweepBuffers(Tapes.neuron(), count: 64)
    Benchmark(slug("neuron forward+reverse 64"), configuration: sweepConfiguration) { benchmark in
        for _ in benchmark.scaledIterations { neuron.forwardReverse() }
    }

    // A symbolic-regression generation: 200 random 30-node expressions over 1000 rows, value
    // and summed parameter gradient, Program included (allocates per expression: the programs).
    let population = (0..<200).map { k in
        Tape.random(instructions: 30, inputs: 5, parameters: 5, opcodes: [.add, .sub, .mul, .div, .sin, .exp, .square, .tanh],
                    seed: UInt64(k))
    }
    var rng = SplitMix64(seed: 11)
    let columns = (0..<5).map { j in (name: "x\(j)", values: (0..<1000).map { _ in Double.random(in: -2...2, using: &rng) }) }
    let constants = population.map { _ in (0..<5).map { _ in Double.random(in: -1...1, using: &rng) } }
    Benchmark("population_200x30_nodes_1000_rows", configuration: .init(metrics: timing, timeUnits: .milliseconds,
                                                                        maxDuration: .seconds(2), maxIterations: 100)) { benchmark in
        for _ in benchmark.scaledIterations {
            let r = try Population.evaluate(population, columns: columns, parameters: constants,
                                            options: ExecutionOptions(threads: 1))
            blackHole(r.count)
        }
    }
    sweeps("random-1000", Tapes.random1000)

    // The same sweep over 16x the points (16x the tiles) must allocate exactly as often: the
    // per-call bookkeeping only, nothing per tile or per instruction.
    let large = SweepBuffers(Tapes.staged(), count: 16 * points)
    Benchmark(slug("staged forward+reverse \(16 * points)"), configuration: sweepConfiguration) { benchmark in
        for _ in benchmark.scaledIterations { large.forwardReverse() }
    }

    // The optimizer passes on the random tape (no Program: just Tape.optimized).
    let random = Tapes.random1000()
    Benchmark(slug("random-1000 optimizer passes all")) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(random.optimized(.all)) }
    }

    // Per-opcode kernels: one instruction over 65536 points; inputs in [0.5, 2] so log is defined.
    let opcodes: [(String, Opcode)] = [("add", .add), ("mul", .mul), ("exp", .exp), ("tanh", .tanh),
                                       ("sigmoid", .sigmoid), ("log", .log)]
    for (name, opcode) in opcodes {
        sweeps("opcode \(name)", { Tapes.single(opcode) }, range: 0.5...2)
    }
}
