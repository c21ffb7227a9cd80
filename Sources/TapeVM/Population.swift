import Dispatch
import Synchronization

/// What to compute for each tape of a population (see ``Population``).
public struct PopulationRequest: Sendable, Hashable {
    /// The parameter gradient summed over the rows: of the tape's value, or with a target,
    /// of the loss.
    public var gradient: Bool
    /// The per-row gradient of the tape's value with respect to its parameters (the Jacobian
    /// of the residuals, what Levenberg–Marquardt needs).
    public var jacobian: Bool
    /// The tape's value at every row.
    public var values: Bool
    /// Stop evaluating a tape at the first chunk of rows (at most 16 tiles, 8192 rows by
    /// default) in which a row's value or gradient is not finite, as SymbolicRegression.jl's
    /// early exit: the tape's loss and gradient are then NaN, and its values and Jacobian past
    /// that chunk NaN. Its ``PopulationResult/nonFiniteRows`` counts the rows evaluated.
    public var stopOnNonFinite: Bool

    /// A request; by default the summed parameter gradient, nothing per row, no early stop.
    public init(gradient: Bool = true, jacobian: Bool = false, values: Bool = false, stopOnNonFinite: Bool = false) {
        self.gradient = gradient
        self.jacobian = jacobian
        self.values = values
        self.stopOnNonFinite = stopOnNonFinite
    }
}

/// One tape's results from ``Population/evaluate(_:columns:parameters:target:request:options:)``.
public struct PopulationResult: Sendable, Hashable {
    /// The value at every row, when requested; else empty.
    public var values: [Double]
    /// With a target: the sum over rows of the squared residual, `Σᵢ (f(xᵢ) − yᵢ)²`; else nil.
    public var loss: Double?
    /// When requested: `∂/∂θₚ` of the loss with a target, of `Σᵢ f(xᵢ)` without; else empty.
    public var gradient: [Double]
    /// When requested: `jacobian[p][i] = ∂f(xᵢ)/∂θₚ`; else empty.
    public var jacobian: [[Double]]
    /// Rows whose value, or (with gradients) whose parameter gradient, is NaN or infinite.
    public var nonFiniteRows: Int
    /// Whether ``PopulationRequest/stopOnNonFinite`` stopped the tape before its last row.
    public var stoppedEarly: Bool
}

/// Many tapes over one data set: the evaluation backend of a symbolic-regression engine.
///
/// Every tape of a population reads the same input columns, matched by name (a tape may use
/// any subset of them), has its own parameters and exactly one output. For each tape, one call
/// makes the ``Program`` (the default passes: values bit-identical to the reference
/// interpreter) and computes what the ``PopulationRequest`` asks for: the summed parameter
/// gradient, the per-row Jacobian, the values, and with a target column the loss
/// `Σᵢ (f(xᵢ) − yᵢ)²` with its gradient. It always counts the rows whose value or gradient is
/// not finite.
///
/// Threads run whole tapes (each on one thread, its rows in order); with fewer tapes than
/// threads and no early stop, each tape's rows are split among the threads instead. Either
/// way every result is the same, bit for bit, whatever the thread count: it is the result of
/// ``Program/run(count:inputs:parameters:values:gradients:)`` on that tape alone.
public enum Population {
    /// Evaluates `tapes` over the rows of `columns`.
    ///
    /// - Parameters:
    ///   - tapes: the expressions; each has one output and reads inputs named in `columns`.
    ///   - columns: the data set: input name and its column, all columns of the same length.
    ///   - parameters: per tape, one value per parameter slot.
    ///   - target: a column of the same length: adds the loss `Σᵢ (f(xᵢ) − yᵢ)²`, and the
    ///     gradient becomes the loss's.
    ///   - request: what to compute.
    ///   - options: threads, code path, optimizer passes (the tile size is chosen per tape
    ///     unless set).
    /// - Throws: ``EvaluationError`` naming the tape and what does not fit; nothing is run then.
    public static func evaluate(_ tapes: [Tape], columns: [(name: String, values: [Double])], parameters: [[Double]],
                                target: [Double]? = nil, request: PopulationRequest = PopulationRequest(),
                                options: ExecutionOptions = ExecutionOptions()) throws(EvaluationError) -> [PopulationResult] {
        let n = columns.first?.values.count ?? target?.count ?? 0
        for c in columns where c.values.count != n {
            throw EvaluationError("column '\(c.name)' has \(c.values.count) value(s), but '\(columns[0].name)' has \(n): all columns need the same length")
        }
        if let target, target.count != n {
            throw EvaluationError("the target has \(target.count) value(s), but the columns have \(n)")
        }
        guard parameters.count == tapes.count else {
            throw EvaluationError("expected one parameter list per tape (\(tapes.count)), got \(parameters.count)")
        }
        let counts = tapes.map { $0.parameters.count }  // a closure: a key path costs a runtime call per tape
        var offsets = [0]
        for c in counts { offsets.append(offsets.last! + c) }
        let total = offsets.last!
        var values = [Double](repeating: 0, count: Swift.max(1, request.values ? tapes.count * n : 0))
        var gradients = [Double](repeating: 0, count: Swift.max(1, request.gradient ? total : 0))
        var jacobians = [Double](repeating: 0, count: Swift.max(1, request.jacobian ? total * n : 0))
        var losses = [Double](repeating: 0, count: Swift.max(1, tapes.count))
        var nonFinite = [Int](repeating: 0, count: Swift.max(1, tapes.count))
        var stopped = [Bool](repeating: false, count: Swift.max(1, tapes.count))
        let flatParameters = parameters.joined().map { $0 }
        var given = [0]  // offsets of the parameter lists as given (run checks them against the tapes)
        for list in parameters { given.append(given.last! + list.count) }
        try withColumns(columns.map(\.values) + (target.map { [$0] } ?? [])) { (pointers) throws(EvaluationError) in
            try flatParameters.withUnsafeBufferPointer { (p) throws(EvaluationError) in
                try values.withUnsafeMutableBufferPointer { (v) throws(EvaluationError) in
                    try gradients.withUnsafeMutableBufferPointer { (g) throws(EvaluationError) in
                        try jacobians.withUnsafeMutableBufferPointer { (j) throws(EvaluationError) in
                            try losses.withUnsafeMutableBufferPointer { (l) throws(EvaluationError) in
                                try nonFinite.withUnsafeMutableBufferPointer { (nf) throws(EvaluationError) in
                                    try stopped.withUnsafeMutableBufferPointer { (s) throws(EvaluationError) in
                                        let (vb, gb, jb) = (v.baseAddress, g.baseAddress, j.baseAddress)
                                        let destinations = PopulationDestinations(
                                            values: request.values ? { vb! + $0 * n } : nil,
                                            gradient: request.gradient ? { gb! + offsets[$0] } : nil,
                                            jacobian: request.jacobian ? { jb! + offsets[$0] * n } : nil,
                                            losses: target != nil ? l.baseAddress : nil,
                                            nonFiniteRows: nf.baseAddress!, stopped: s.baseAddress!)
                                        try run(tapes, count: n, names: columns.map(\.name),
                                                columns: Array(pointers.prefix(columns.count)),
                                                target: target != nil ? pointers.last : nil,
                                                parameters: tapes.indices.map { UnsafeBufferPointer(rebasing: p[given[$0]..<given[$0 + 1]]) },
                                                destinations: destinations, request: request, options: options)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return tapes.indices.map { k in
            let (lo, hi) = (offsets[k], offsets[k + 1])
            return PopulationResult(
                values: request.values ? Array(values[k * n..<(k + 1) * n]) : [],
                loss: target != nil ? losses[k] : nil,
                gradient: request.gradient ? Array(gradients[lo..<hi]) : [],
                jacobian: request.jacobian ? (lo..<hi).map { Array(jacobians[$0 * n..<($0 + 1) * n]) } : [],
                nonFiniteRows: nonFinite[k], stoppedEarly: stopped[k])
        }
    }

    /// The pointer-level population call the Swift and C entry points share: checks
    /// everything, then runs. `parameters[k]` holds tape k's parameter values; destinations
    /// give per tape where to write (see ``PopulationDestinations``).
    package static func run(_ tapes: [Tape], count n: Int, names: [String], columns: [UnsafePointer<Double>],
                    target: UnsafePointer<Double>?, parameters: [UnsafeBufferPointer<Double>],
                    destinations: PopulationDestinations, request: PopulationRequest,
                    options: ExecutionOptions) throws(EvaluationError) {
        guard n >= 0 else { throw EvaluationError("the number of rows must not be negative, got \(n)") }
        var slot: [String: Int] = [:]
        for (c, name) in names.enumerated() {
            guard slot.updateValue(c, forKey: name) == nil else { throw EvaluationError("column '\(name)' is named twice") }
        }
        // Each tape's input columns, by input slot, flattened.
        var inputColumns: [Int] = []
        var inputStart: [Int] = [0]
        for (k, tape) in tapes.enumerated() {
            guard tape.outputs.count == 1 else {
                throw EvaluationError("tape \(k): a population tape has one output, this one has \(tape.outputs.count) (\(tape.outputs.map(\.name).joined(separator: ", ")))")
            }
            for name in tape.inputs {
                guard let c = slot[name] else {
                    throw EvaluationError("tape \(k): input '\(name)' is not a column of the data set (\(names.joined(separator: ", ")))")
                }
                inputColumns.append(c)
            }
            inputStart.append(inputColumns.count)
            guard k < parameters.count else { throw EvaluationError("expected one parameter list per tape (\(tapes.count)), got \(parameters.count)") }
            let p = parameters[k].count
            guard p == tape.parameters.count else {
                throw EvaluationError("tape \(k): expected \(tape.parameters.count) parameter value(s) (\(tape.parameters.joined(separator: ", "))), got \(p)")
            }
        }
        let job = PopulationJob(tapes: tapes, count: n, columns: columns, inputColumns: inputColumns, inputStart: inputStart,
                                target: target, parameters: parameters, destinations: destinations, request: request, options: options)
        let threads = options.resolvedThreads
        if tapes.count >= threads || threads == 1 || request.stopOnNonFinite {
            // Whole tapes per thread.
            let workers = Swift.min(threads, tapes.count)
            if workers <= 1 {
                let worker = PopulationWorker()
                for k in tapes.indices { worker.evaluate(job, k, threads: 1) }
            } else {
                let next = Atomic<Int>(0)
                DispatchQueue.concurrentPerform(iterations: workers) { _ in
                    let worker = PopulationWorker()
                    while true {
                        let k = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        if k >= tapes.count { break }
                        worker.evaluate(job, k, threads: 1)
                    }
                }
            }
        } else {
            // Few tapes: each one's rows split among the threads.
            let worker = PopulationWorker()
            for k in tapes.indices { worker.evaluate(job, k, threads: threads) }
        }
    }
}

/// Where a population call writes, per tape `k` (nil: not requested).
package struct PopulationDestinations: @unchecked Sendable {
    /// `count` doubles: the values.
    let values: ((Int) -> UnsafeMutablePointer<Double>?)?
    /// One double per parameter: the summed gradient.
    let gradient: ((Int) -> UnsafeMutablePointer<Double>?)?
    /// Parameters × `count` doubles, parameter-major: the per-row gradients.
    let jacobian: ((Int) -> UnsafeMutablePointer<Double>?)?
    /// One double per tape: the losses (with a target).
    let losses: UnsafeMutablePointer<Double>?
    /// One count per tape.
    let nonFiniteRows: UnsafeMutablePointer<Int>
    /// One flag per tape.
    let stopped: UnsafeMutablePointer<Bool>

    package init(values: ((Int) -> UnsafeMutablePointer<Double>?)?, gradient: ((Int) -> UnsafeMutablePointer<Double>?)?,
                 jacobian: ((Int) -> UnsafeMutablePointer<Double>?)?, losses: UnsafeMutablePointer<Double>?,
                 nonFiniteRows: UnsafeMutablePointer<Int>, stopped: UnsafeMutablePointer<Bool>) {
        self.values = values
        self.gradient = gradient
        self.jacobian = jacobian
        self.losses = losses
        self.nonFiniteRows = nonFiniteRows
        self.stopped = stopped
    }
}

/// One population call's shared, read-only description.
struct PopulationJob: @unchecked Sendable {
    let tapes: [Tape]
    let count: Int
    let columns: [UnsafePointer<Double>]
    let inputColumns: [Int]
    let inputStart: [Int]
    let target: UnsafePointer<Double>?
    let parameters: [UnsafeBufferPointer<Double>]
    let destinations: PopulationDestinations
    let request: PopulationRequest
    let options: ExecutionOptions
}

/// One thread's reusable state for evaluating tapes one after another: the optimizer's
/// scratch, the run workspace, scratch columns and the argument arrays of each run.
final class PopulationWorker {
    /// Everything that changes from tape to tape, behind a pointer: a class's `var` properties
    /// are checked for exclusive access at run time on every access, a pointer's memory is not.
    private struct State {
        var optimizer = FlatOptimizer()
        var scratch: UnsafeMutablePointer<Double>?
        var scratchCapacity = 0
        var inputs: [UnsafePointer<Double>] = []
        var values: [UnsafeMutablePointer<Double>?] = []
        var gradientColumns: [UnsafeMutablePointer<Double>?] = []
        /// The per-row gradient columns the non-finite count reads, and which parameters have one.
        var counted: [UnsafeMutablePointer<Double>] = []
        var used: [Bool] = []
        var requests: [GradientRequest] = []
    }

    private let workspace = Workspace()
    private let state: UnsafeMutablePointer<State>

    init() {
        state = .allocate(capacity: 1)
        state.initialize(to: State())
    }

    deinit {
        state.pointee.scratch?.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    private func scratchColumns(_ count: Int) -> UnsafeMutablePointer<Double> {
        if count > state.pointee.scratchCapacity || state.pointee.scratch == nil {
            state.pointee.scratch?.deallocate()
            state.pointee.scratchCapacity = Swift.max(count, 2 * state.pointee.scratchCapacity, 8)
            state.pointee.scratch = .allocate(capacity: state.pointee.scratchCapacity)
        }
        return state.pointee.scratch!
    }

    /// Makes tape `k`'s program and runs it, writing its results.
    func evaluate(_ job: PopulationJob, _ k: Int, threads: Int) {
        let tape = job.tapes[k]
        let n = job.count
        let request = job.request
        let p = tape.parameters.count
        let loss = job.target != nil
        state.pointee.inputs.removeAll(keepingCapacity: true)
        for i in job.inputStart[k]..<job.inputStart[k + 1] { state.pointee.inputs.append(job.columns[job.inputColumns[i]]) }
        // With a target, the loss (f - y)² is appended to the tape as a second output, with the
        // target as one more input: its reverse sweep gives the loss gradient.
        var flat = FlatTape(tape)
        if loss, let target = job.target {
            let f = flat.outputs[0]
            let y = Int32(flat.instructions.count)
            flat.instructions.append(FlatInstruction(.input, immediate: Double(tape.inputs.count)))
            flat.instructions.append(FlatInstruction(.sub, f, y))
            flat.instructions.append(FlatInstruction(.square, y + 1))
            flat.outputs.append(y + 2)
            state.pointee.inputs.append(target)
        }
        var options = job.options
        options.threads = threads
        let program = Program(tape, flat: flat, inputs: state.pointee.inputs.count, outputs: flat.outputs.count,
                              options: options, optimizer: &state.pointee.optimizer)
        let wantsGradients = request.gradient || request.jacobian
        // Scratch: the values when not requested (the loss and the non-finite count read them),
        // and the per-row gradient when no Jacobian is requested (the non-finite count reads it).
        let scratchValues = 1, scratchGradients = wantsGradients ? p : 0
        let s = scratchColumns((scratchValues + scratchGradients) * Swift.max(n, 1))
        let f = job.destinations.values?(k) ?? s
        let jacobian = request.jacobian ? job.destinations.jacobian?(k) : nil
        state.pointee.values.removeAll(keepingCapacity: true)
        state.pointee.values.append(f)
        if loss { state.pointee.values.append(nil) }
        state.pointee.requests.removeAll(keepingCapacity: true)
        state.pointee.gradientColumns.removeAll(keepingCapacity: true)
        state.pointee.counted.removeAll(keepingCapacity: true)
        if wantsGradients {
            // The gradient whose rows are counted: the loss's with a target, else f's. In
            // scratch, the columns of parameters the program never reads are left out: their
            // gradient is 0 at every row (the caller's Jacobian gets all of them).
            let rows = (loss || jacobian == nil) ? s + n : jacobian!
            let everyColumn = !loss && jacobian != nil
            state.pointee.used.removeAll(keepingCapacity: true)
            state.pointee.used.append(contentsOf: repeatElement(everyColumn, count: p))
            if !everyColumn {
                for x in program.flat.instructions where x.opcode == .param { state.pointee.used[Int(x.immediate)] = true }
            }
            for q in 0..<p {
                if state.pointee.used[q] {
                    state.pointee.gradientColumns.append(rows + q * n)
                    state.pointee.counted.append(rows + q * n)
                } else {
                    state.pointee.gradientColumns.append(nil)
                }
            }
            state.pointee.requests.append(GradientRequest(seeds: loss ? [0, 1] : [1], parameterGradients: state.pointee.gradientColumns,
                                            parameterGradientSums: request.gradient ? job.destinations.gradient?(k) : nil))
            if loss, let jacobian {
                state.pointee.requests.append(GradientRequest(seeds: [1, 0], parameterGradients: (0..<p).map { jacobian + $0 * n }))
            }
        }
        let parameters = job.parameters[k]
        let observer = state.pointee.counted.withUnsafeBufferPointer { columns in
            var observer = NonFiniteCounter(values: f, gradients: columns, count: n, stopEarly: request.stopOnNonFinite,
                                            summed: request.gradient)
            if threads > 1 {
                var none = NoChunkObserver()
                program.execute(count: n, inputs: state.pointee.inputs, parameters: parameters, values: state.pointee.values, gradients: state.pointee.requests,
                                workspace: workspace, threads: threads, observer: &none)
                _ = observer.chunkDone(start: 0, end: n, sums: UnsafeBufferPointer(start: nil, count: 0))
            } else {
                program.execute(count: n, inputs: state.pointee.inputs, parameters: parameters, values: state.pointee.values, gradients: state.pointee.requests,
                                workspace: workspace, threads: 1, observer: &observer)
            }
            return observer
        }
        // The next tape's arrays are these, refilled: let the workspace drop its references,
        // or refilling them would copy them.
        workspace.forgetTransfers()
        let stopped = observer.stoppedAt < n
        job.destinations.nonFiniteRows[k] = observer.nonFinite
        job.destinations.stopped[k] = stopped
        if stopped {
            let from = observer.stoppedAt
            (f + from).update(repeating: .nan, count: n - from)
            if let jacobian { for q in 0..<p { (jacobian + q * n + from).update(repeating: .nan, count: n - from) } }
            if request.gradient, let g = job.destinations.gradient?(k) { g.update(repeating: .nan, count: p) }
        }
        if loss, let target = job.target, let losses = job.destinations.losses {
            var sum = 0.0
            if stopped {
                sum = .nan
            } else {
                // (f - y)·(f - y): the same operations as the tape's sub and square.
                for i in 0..<n {
                    let d = f[i] - target[i]
                    sum += d * d
                }
            }
            losses[k] = sum
        }
    }
}

/// Counts, chunk by chunk, the rows whose value or counted gradient is NaN or infinite, and
/// stops the run after the first chunk with one when asked to.
///
/// With summed gradients, a chunk's gradient rows are read only when one of its partial sums
/// is not finite: a NaN or infinite row makes its lane's sum NaN or infinite (no later finite
/// term brings it back), so finite sums mean finite rows; a sum that overflows from finite
/// rows only costs the row-by-row count.
struct NonFiniteCounter: ChunkObserver {
    let values: UnsafeMutablePointer<Double>
    /// The per-row gradient columns counted.
    let gradients: UnsafeBufferPointer<UnsafeMutablePointer<Double>>
    let count: Int
    let stopEarly: Bool
    /// Whether the chunks' partial sums hold the counted gradient's.
    let summed: Bool
    private(set) var nonFinite = 0
    /// The first row not evaluated (`count` when every row was).
    private(set) var stoppedAt: Int

    init(values: UnsafeMutablePointer<Double>, gradients: UnsafeBufferPointer<UnsafeMutablePointer<Double>>, count: Int,
         stopEarly: Bool, summed: Bool) {
        self.values = values
        self.gradients = gradients
        self.count = count
        self.stopEarly = stopEarly
        self.summed = summed
        stoppedAt = count
    }

    mutating func chunkDone(start: Int, end: Int, sums: UnsafeBufferPointer<Double>) -> Bool {
        // x·0 is 0 for finite x and NaN otherwise; summed per row, NaN marks the row. Eight rows at a time.
        @inline(__always) func load(_ p: UnsafeMutablePointer<Double>) -> SIMD8<Double> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
        }
        var finiteSums = summed && sums.count > 0
        if finiteSums {
            var m = 0.0
            for x in sums { m += x * 0 }
            finiteSums = m == 0
        }
        let gradients = finiteSums ? UnsafeBufferPointer(rebasing: self.gradients[0..<0]) : self.gradients
        var counts = SIMD8<Int64>()
        var i = start
        while i + 8 <= end {
            var m = load(values + i) * 0
            for g in gradients { m += load(g + i) * 0 }
            counts &+= SIMD8<Int64>().replacing(with: 1, where: m .!= 0)
            i += 8
        }
        var bad = Int(counts.wrappedSum())
        while i < end {
            var m = values[i] * 0
            for g in gradients { m += g[i] * 0 }
            if m != 0 { bad += 1 }
            i += 1
        }
        nonFinite += bad
        if bad > 0 && stopEarly {
            stoppedAt = end
            return false
        }
        return true
    }
}
