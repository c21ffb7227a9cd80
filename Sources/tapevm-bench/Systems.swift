import TapeVM

/// A competitor: something that computes the value and the full gradient of a case's first
/// output over a batch (input gradient per point, parameter gradient summed over the batch).
struct BenchSystem {
    let name: String
    /// Larger batches are not run (reported as "—").
    let maxPoints: Int?
    /// Prepares a run of `batch` into `out` (everything that may allocate up front), or nil
    /// when the system has no version of the case.
    private let prepareAny: (BenchCase, Batch, Outputs) -> (() -> Void)?

    init(name: String, maxPoints: Int?, prepare: @escaping (BenchCase, Batch, Outputs) -> (() -> Void)?) {
        self.name = name
        self.maxPoints = maxPoints
        self.prepareAny = prepare
    }

    /// Prepares a run, or nil when the system has no version of the case (cases from text run
    /// only on the tape systems).
    func prepare(_ c: BenchCase, _ batch: Batch, _ out: Outputs) -> (() -> Void)? {
        if c.tapeSystemsOnly && !BenchSystem.tapeSystemNames.contains(name) { return nil }
        return prepareAny(c, batch, out)
    }

    static let allNames = ["tapevm", "tapevm-mt", "tapevm-noopt", "tapevm-swift", "reference", "swift-ad", "graph-ad", "handwritten", "handwritten-c"]

    /// The systems that run a case's tape itself, and so any case (`--expr`, `--tape-file`).
    static let tapeSystemNames: Set<String> = ["tapevm", "tapevm-mt", "tapevm-noopt", "tapevm-swift", "reference"]

    static func all(threads: Int) -> [BenchSystem] {
        [
            tapevm(name: "tapevm", threads: 1),
            tapevm(name: "tapevm-mt", threads: threads),
            // The optimizer's effect: the tape as given, no passes.
            tapevm(name: "tapevm-noopt", threads: 1, optimization: .none),
            // The Swift SIMD8<Double> interpreter, whatever path is preferred.
            tapevm(name: "tapevm-swift", threads: 1, instructionSet: .swift),
            BenchSystem(name: "reference", maxPoints: 65536) { c, batch, out in
                let interpreter = ReferenceInterpreter(c.tape)
                return { runReference(interpreter, batch, out) }
            },
            BenchSystem(name: "swift-ad", maxPoints: nil) { c, batch, out in
                c.swiftAD.map { kernel in { kernel(batch, out) } }
            },
            BenchSystem(name: "graph-ad", maxPoints: nil) { c, batch, out in
                var graph = GraphAD(c.tape)
                return { graph.run(batch, out) }
            },
            BenchSystem(name: "handwritten", maxPoints: nil) { c, batch, out in
                c.handwritten.map { kernel in { kernel(batch, out) } }
            },
            BenchSystem(name: "handwritten-c", maxPoints: nil) { c, batch, out in
                guard CKernels.isSupported else { return nil }
                return c.handwrittenC.map { kernel in { kernel(batch, out) } }
            },
        ]
    }

    /// TapeVM's pointer API into preallocated buffers: one forward and one reverse sweep per tile.
    static func tapevm(name: String, threads: Int, optimization: OptimizationPasses = .all,
                       instructionSet: InstructionSet = .preferred) -> BenchSystem {
        BenchSystem(name: name, maxPoints: nil) { c, batch, out in
            let program = Program(c.tape, options: ExecutionOptions(threads: threads, instructionSet: instructionSet,
                                                                    optimization: optimization))
            let seeds = c.tape.outputs.indices.map { $0 == 0 ? 1.0 : 0.0 }
            let request = GradientRequest(
                seeds: seeds, inputGradients: out.inputGradients.map { Optional($0) },
                parameterGradientSums: c.tape.parameters.isEmpty ? nil : out.parameterSums)
            // Only the first output's values are kept; others are skipped.
            let values: [UnsafeMutablePointer<Double>?] = c.tape.outputs.indices.map { $0 == 0 ? out.values : nil }
            let (inputs, parameters, count) = (batch.inputPointers, batch.parameters, batch.count)
            // The argument arrays are made once, as a caller in a loop keeps them: the call is
            // timed, not the harness's allocations (and the program reuses its transfer lists).
            let gradients = [request]
            return {
                do {
                    try program.run(count: count, inputs: inputs, parameters: parameters,
                                    values: values, gradients: gradients)
                } catch {
                    fatalError("tapevm-bench: \(name): \(error)")
                }
            }
        }
    }

    /// The reference interpreter, one point at a time through its array API.
    static func runReference(_ interpreter: ReferenceInterpreter, _ batch: Batch, _ out: Outputs) {
        let nIn = batch.columns.count, nPar = batch.parameters.count
        var point = [Double](repeating: 0, count: nIn)
        var sums = [Double](repeating: 0, count: nPar)
        for i in 0..<batch.count {
            for j in 0..<nIn { point[j] = batch.columns[j][i] }
            let r = interpreter.gradient(inputs: point, parameters: batch.parameters)
            out.values[i] = r.values[0]
            for j in 0..<nIn { out.inputGradients[j][i] = r.inputs[j] }
            for k in 0..<nPar { sums[k] += r.parameters[k] }
        }
        for k in 0..<nPar { out.parameterSums[k] = sums[k] }
    }
}
