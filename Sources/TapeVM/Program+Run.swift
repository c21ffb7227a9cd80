import CTapeKernels
import Dispatch
import Synchronization

/// One reverse sweep's worth of results: the gradient of `Σₖ seeds[k]·output[k]`.
///
/// Pointers are the caller's; each non-nil one must hold `count` doubles (or, for
/// `parameterGradientSums`, one double per parameter). `nil` skips that result.
public struct GradientRequest {
    /// The adjoint seeded into each output (one per output).
    public var seeds: [Double]
    /// Per input slot: where to write the gradient at every point.
    public var inputGradients: [UnsafeMutablePointer<Double>?]
    /// Per parameter slot: where to write the gradient at every point.
    public var parameterGradients: [UnsafeMutablePointer<Double>?]
    /// Where to write the parameter gradient summed over the batch (one per parameter).
    public var parameterGradientSums: UnsafeMutablePointer<Double>?

    /// Whether a run with `other` writes where this one does with the same seeds (bit for bit,
    /// so `-0` and `+0` differ): then the transfer lists made for one serve the other.
    func hasSameTransfers(as other: GradientRequest) -> Bool {
        Workspace.same(seeds, other.seeds, by: { $0.bitPattern == $1.bitPattern })
            && Workspace.same(inputGradients, other.inputGradients) && Workspace.same(parameterGradients, other.parameterGradients)
            && parameterGradientSums == other.parameterGradientSums
    }

    /// A request; empty arrays mean "none of these".
    public init(seeds: [Double], inputGradients: [UnsafeMutablePointer<Double>?] = [],
                parameterGradients: [UnsafeMutablePointer<Double>?] = [],
                parameterGradientSums: UnsafeMutablePointer<Double>? = nil) {
        self.seeds = seeds
        self.inputGradients = inputGradients
        self.parameterGradients = parameterGradients
        self.parameterGradientSums = parameterGradientSums
    }
}

extension Program {
    /// Runs the program over `count` points: the level every other entry point is built on.
    ///
    /// Points stream through tiles, so memory beyond the caller's arrays is one workspace per
    /// worker (``workspaceBytes``) plus a few partial sums, kept with the program for its next
    /// run: once warm, a run allocates nothing. A run given argument arrays with the same
    /// contents as the last one's (the same pointers and seeds) reuses its transfer tables, and,
    /// with the same tile and parameter values (bit for bit), its set-up too: parameter and
    /// constant planes, the instructions of parameters only, the plane tables. A small batch
    /// then costs little more than its sweeps (about 0.1 µs for a 5-instruction tape at one
    /// point). The program holds those arrays until the next run, so changing one in place
    /// copies it (an allocation on the caller's side, once). A request that asks for no input
    /// gradient runs a reverse sweep that reaches parameters only (the same bits). Full tiles
    /// read the input columns and write value and gradient columns in place (the kernels use
    /// them as register planes), so destinations must not overlap the inputs or each other.
    /// Each tile runs one forward sweep, then one reverse sweep per gradient request. A batch
    /// of one chunk (up to 16 tiles) runs on the calling thread.
    ///
    /// - Parameters:
    ///   - count: the number of points.
    ///   - inputs: one column of `count` doubles per input slot.
    ///   - parameters: one value per parameter slot, shared by every point.
    ///   - values: per output, where to write its value at every point (`nil` skips it; an
    ///     empty array skips all).
    ///   - gradients: the reverse sweeps to run.
    /// - Throws: ``EvaluationError`` when the counts do not match the tape.
    public func run(count: Int, inputs: [UnsafePointer<Double>], parameters: [Double],
                    values: [UnsafeMutablePointer<Double>?], gradients: [GradientRequest] = []) throws(EvaluationError) {
        try check(count: count, inputs: inputs.count, parameters: parameters.count)
        try checkDestinations(values: values, gradients: gradients)
        let workspace = takeWorkspace()
        defer { giveBack(workspace) }
        // Borrowed from the pool until `giveBack`: no reference counting for the run.
        parameters.withUnsafeBufferPointer { p in
            workspace._withUnsafeGuaranteedRef { workspace in
                var observer = NoChunkObserver()
                execute(count: count, inputs: inputs, parameters: p, values: values, gradients: gradients,
                        workspace: workspace, threads: nil, observer: &observer)
            }
        }
    }

    func check(count: Int, inputs: Int, parameters: Int) throws(EvaluationError) {
        guard count >= 0 else { throw EvaluationError("the number of points must not be negative, got \(count)") }
        guard inputs == inputCount else {
            throw EvaluationError("expected \(inputCount) input column(s) (\(tape.inputs.joined(separator: ", "))), got \(inputs)")
        }
        guard parameters == parameterCount else {
            throw EvaluationError("expected \(parameterCount) parameter value(s) (\(tape.parameters.joined(separator: ", "))), got \(parameters)")
        }
    }

    func checkDestinations(values: [UnsafeMutablePointer<Double>?], gradients: [GradientRequest]) throws(EvaluationError) {
        guard values.isEmpty || values.count == outputCount else {
            throw EvaluationError("expected \(outputCount) output value destination(s), got \(values.count)")
        }
        for (r, g) in gradients.enumerated() {
            guard g.seeds.count == outputCount else {
                throw EvaluationError("gradient request \(r): expected \(outputCount) seed(s), one per output, got \(g.seeds.count)")
            }
            guard g.inputGradients.isEmpty || g.inputGradients.count == inputCount else {
                throw EvaluationError("gradient request \(r): expected \(inputCount) input gradient destination(s), got \(g.inputGradients.count)")
            }
            guard g.parameterGradients.isEmpty || g.parameterGradients.count == parameterCount else {
                throw EvaluationError("gradient request \(r): expected \(parameterCount) parameter gradient destination(s), got \(g.parameterGradients.count)")
            }
        }
    }

    /// A workspace from this program's pool, or a new one, retained for the caller: given back
    /// with ``giveBack(_:)``, it passes between the pool and a run with no reference counting.
    func takeWorkspace() -> Unmanaged<Workspace> {
        if let spare = spareWorkspace.exchange(nil, ordering: .acquiring) { return spare }
        return .passRetained(workspaces.withLock { $0.popLast() } ?? Workspace())
    }

    /// Returns a workspace from ``takeWorkspace()`` to the pool for the next run.
    func giveBack(_ workspace: Unmanaged<Workspace>) {
        if spareWorkspace.compareExchange(expected: nil, desired: workspace, ordering: .releasing).exchanged { return }
        let pooled = workspace.takeRetainedValue()
        workspaces.withLock { $0.append(pooled) }
    }

    /// Runs a checked request. `workspace` is the calling thread's (it also holds the partial
    /// sums); other workers take theirs from the pool. `threads`: the workers' number, or nil
    /// for the program's own (asked only when the batch has more than one chunk). With more
    /// than one worker, `observer` must be a ``NoChunkObserver``: only single-threaded runs
    /// report chunks.
    func execute<O: ChunkObserver>(count: Int, inputs: [UnsafePointer<Double>], parameters: UnsafeBufferPointer<Double>,
                                   values: [UnsafeMutablePointer<Double>?], gradients: [GradientRequest],
                                   workspace: Workspace, threads: Int?, observer: inout O) {
        // The plans live as long as the program: no reference counting per run.
        unowned(unsafe) let sweep = (gradients.isEmpty ? valuesOnlyPlan
            : gradients.allSatisfy({ $0.inputGradients.allSatisfy { $0 == nil } }) ? parameterGradientsPlan : gradientsPlan)
            .takeUnretainedValue()
        let state = workspace.state
        // The calling thread's workspace keeps its transfer lists when the arguments are the
        // last run's; helpers' workspaces make theirs (and forget what they were made for).
        let transfersReady = workspace.sameTransfers(sweep: Unmanaged.passUnretained(sweep), inputs: inputs, values: values,
                                                     gradients: gradients)
        // The split of the last run is kept with the transfer lists: the same plan and requests
        // (the key) and the same count give the same split.
        let plan: RunPlan
        if transfersReady, let last = state.pointee.runPlan, last.count == count {
            plan = last
        } else {
            let tile = gradients.isEmpty ? options.resolvedTileSize(planes: sweep.tilePlaneCount) : gradientTile(sweep, count: count)
            plan = RunPlan(count: count, tileSize: tile, requests: gradients.count, parameters: parameterCount)
            state.pointee.runPlan = plan
        }
        let sumCount = Swift.max(1, plan.chunkCount * plan.sumStride)
        let sums = workspace.sums(sumCount)
        for i in 0..<sumCount { sums[i] = 0 }
        // The reverse plans, written only where they differ from the last run's (a repeated
        // call, whose plan and seeds are the last run's, looks at nothing).
        if !transfersReady { updateReversePlans(state, gradients, sweep) }
        inputs.withUnsafeBufferPointer { inputs in
            values.withUnsafeBufferPointer { values in
                gradients.withUnsafeBufferPointer { gradients in
                    let job = RunJob(plan: plan, sweep: sweep, inputs: inputs, parameters: parameters, values: values,
                                     gradients: gradients, caller: state, sums: sums)
                    let workers = plan.chunkCount <= 1 ? 1 : Swift.min(threads ?? options.resolvedThreads, plan.chunkCount)
                    if workers <= 1 || O.self != NoChunkObserver.self {
                        var next = 0
                        runWorker(job, workspace, transfersReady: transfersReady, observer: &observer) {
                            defer { next += 1 }
                            return next
                        }
                    } else {
                        let helpers = (1..<workers).map { _ in takeWorkspace() }
                        for h in helpers { h._withUnsafeGuaranteedRef { $0.forgetTransfers() } }
                        let nextChunk = Atomic<Int>(0)
                        DispatchQueue.concurrentPerform(iterations: workers) { w in
                            var none = NoChunkObserver()
                            let ws = w == 0 ? workspace : helpers[w - 1].takeUnretainedValue()
                            runWorker(job, ws, transfersReady: w == 0 && transfersReady, observer: &none) {
                                nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
                            }
                        }
                        for h in helpers { giveBack(h) }
                    }
                }
            }
        }
        // Reduce the per-chunk, per-lane partial sums in chunk and lane order: the same order
        // for any thread count and any code path. Each slot's total is summed in a local (the
        // same additions in the same order as adding into `dest`, without a store and reload
        // per term).
        let p = parameterCount
        for r in gradients.indices {
            guard let dest = gradients[r].parameterGradientSums else { continue }
            for slot in 0..<p {
                var total = 0.0
                for chunk in 0..<plan.chunkCount {
                    let base = sums + chunk * plan.sumStride + r * p * 8 + slot * 8
                    for lane in 0..<8 { total += base[lane] }
                }
                dest[slot] = total
            }
        }
    }

    /// Writes the workspace's reverse plan of each gradient request where it differs from the
    /// last run's.
    private func updateReversePlans(_ state: UnsafeMutablePointer<Workspace.State>, _ gradients: [GradientRequest],
                                    _ sweep: SweepPlan) {
        if state.pointee.reverse.count != gradients.count {
            state.pointee.reverse.removeAll(keepingCapacity: true)
            for g in gradients { state.pointee.reverse.append(reversePlan(seeds: g.seeds, full: sweep)) }
            return
        }
        for r in gradients.indices {
            let plan = reversePlan(seeds: gradients[r].seeds, full: sweep)
            if state.pointee.reverse[r] !== plan { state.pointee.reverse[r] = plan }
        }
    }

    /// Fills a worker's planes and tables for `job` (everything but the caller's columns, which
    /// change from tile to tile): constants and parameters into their planes, the instructions
    /// of parameters and constants run once for every tile, every plane table entry pointed at
    /// its workspace plane, and the reverse sweeps' tables and code. A workspace keeps this
    /// until its transfer lists change (see ``Workspace/isSetUp(tile:parameters:)``), so a
    /// call repeated with the same arguments and parameter values skips it.
    private func setUp(_ job: RunJob, _ ws: Workspace) {
        let sweep = job.sweep
        let tile = job.plan.tile
        let state = ws.state
        let valueCount = sweep.valuePlaneCount * tile
        var adjointPlanes = 0
        for r in job.reverse { adjointPlanes = Swift.max(adjointPlanes, r.adjointPlaneCount) }
        let V = ws.planes(valueCount + adjointPlanes * tile)
        let A = V + valueCount
        // No zeroing: the forward sweep writes every value plane before reading it, partial
        // tiles zero their input tails, and the reverse sweep stores each adjoint plane's
        // first contribution. Only parameters and constants are filled.
        for (plane, value) in sweep.constants { Workspace.fill(V + plane * tile, value, tile) }
        for leaf in sweep.parameterPlanes { Workspace.fill(V + leaf.plane * tile, job.parameters[leaf.slot], tile) }
        // Plane tables: workspace planes by default; on full tiles the caller's columns stand
        // in for input values, output values and input/parameter gradients (no copies).
        var tableCount = sweep.valuePlaneCount
        for r in job.reverse { tableCount += r.adjointPlaneCount }
        let vTable = ws.tables(tableCount)
        for p in 0..<sweep.valuePlaneCount { vTable[p] = V + p * tile }
        var nextTable = vTable + sweep.valuePlaneCount
        state.pointee.aTables.removeAll(keepingCapacity: true)
        state.pointee.reverseCode.removeAll(keepingCapacity: true)
        for r in job.reverse {
            for p in 0..<r.adjointPlaneCount { nextTable[p] = A + p * tile }
            state.pointee.aTables.append(nextTable)
            nextTable += r.adjointPlaneCount
            // The plans (and so the code buffers) outlive the run; raw pointers keep ARC out of the loop.
            state.pointee.reverseCode.append((UnsafePointer(r.code.base), r.code.count))
        }
        state.pointee.forwardCode = (UnsafePointer(sweep.perTile.base), sweep.perTile.count)
        state.pointee.adjointOffset = valueCount
        // Instructions of parameters and constants only: once, for every tile of every run
        // until the set-up changes. Their values are the same at every point, so they run on
        // one block of 8 points, copied across the tile (their planes are never reused).
        if sweep.uniform.count > 0 {
            instructionSet.forward(sweep.uniform.base, sweep.uniform.count, vTable, 8)
            for k in 0..<sweep.uniform.count { Workspace.replicateBlock(V + Int(sweep.uniform.base[k].dst) * tile, tile) }
        }
        ws.setUpDone(tile: tile, parameters: job.parameters)
    }

    /// One worker: claims chunks until none are left, running each chunk's tiles in order.
    ///
    /// Everything a tile needs besides the kernels (which planes to load, copy out, seed, gather
    /// and sum) is resolved to raw pointers in the worker's workspace before the first tile (and
    /// kept for the next run with the same arguments), so the per-tile work in Swift is a few
    /// flat loops with no reference counting.
    private func runWorker<O: ChunkObserver>(_ job: RunJob, _ ws: Workspace, transfersReady: Bool, observer: inout O,
                                             claim: () -> Int) {
        let tile = job.plan.tile
        if !transfersReady { ws.prepareTransfers(job) }
        if !ws.isSetUp(tile: tile, parameters: job.parameters) { setUp(job, ws) }
        let state = ws.state
        let V = state.pointee.planeStorage!
        let A = V + state.pointee.adjointOffset
        let vTable = state.pointee.tableStorage!
        let forward = state.pointee.forwardCode
        let isa = instructionSet
        let plan = job.plan
        ws.withTransfers { loads, stores, requests, seeds, gathers, gatherPlanes, sumPlanes, aTables, reverseCode in
            while true {
                let chunk = claim()
                if chunk >= plan.chunkCount { break }
                let chunkStart = chunk * plan.chunkPoints
                let chunkEnd = Swift.min(plan.count, (chunk + 1) * plan.chunkPoints)
                var start = chunkStart
                while start < chunkEnd {
                    let n = Swift.min(tile, chunkEnd - start)
                    let full = n == tile
                    for i in loads.indices {
                        let (src, plane) = loads[i]
                        if full {
                            vTable[plane] = UnsafeMutablePointer(mutating: src + start)
                        } else {
                            let dst = V + plane * tile
                            vTable[plane] = dst
                            dst.update(from: src + start, count: n)
                            (dst + n).update(repeating: 0, count: tile - n)
                        }
                    }
                    for s in stores where s.direct {
                        vTable[s.plane] = full ? s.destination + start : V + s.plane * tile
                    }
                    isa.forward(forward.0, forward.1, vTable, tile)
                    for s in stores where !(full && s.direct) {
                        (s.destination + start).update(from: vTable[s.plane]!, count: n)
                    }
                    for r in requests.indices {
                        let request = requests[r]
                        let aTable = aTables[r]
                        for gather in gathers[request.gathers] where gather.direct {
                            let plane = gatherPlanes[gather.planes.lowerBound]
                            aTable[plane] = full ? gather.destination + start : A + plane * tile
                        }
                        for seed in seeds[request.seeds] {
                            let p = aTable[seed.plane]!
                            if seed.first { Workspace.fill(p, seed.value, tile) }
                            else { for i in 0..<tile { p[i] += seed.value } }
                        }
                        isa.reverse(reverseCode[r].0, reverseCode[r].1, vTable, aTable, tile)
                        for gather in gathers[request.gathers] where !(full && gather.direct) {
                            let dst = gather.destination + start
                            let planes = gatherPlanes[gather.planes]
                            if planes.isEmpty {
                                dst.update(repeating: 0, count: n)
                            } else {
                                dst.update(from: aTable[planes.first!]!, count: n)
                                for plane in planes.dropFirst() {
                                    let src = aTable[plane]!
                                    for i in 0..<n { dst[i] += src[i] }
                                }
                            }
                        }
                        // Eight lane-wise partial sums per parameter and chunk.
                        let partial = job.sums + chunk * plan.sumStride
                        for s in sumPlanes[request.sums] { tv_accumulate_lanes(aTable[s.plane]!, n, partial + s.offset) }
                    }
                    start += n
                }
                let partial = UnsafeBufferPointer(start: job.sums + chunk * plan.sumStride, count: plan.sumStride)
                if !observer.chunkDone(start: chunkStart, end: chunkEnd, sums: partial) { break }
            }
        }
    }
}

/// Told after each chunk of a single-threaded run; returning false ends the run early.
protocol ChunkObserver {
    /// `sums`: the chunk's lane-wise partial sums of the parameter gradients (8 per parameter
    /// and request, requests in order; zeros for requests without sums).
    mutating func chunkDone(start: Int, end: Int, sums: UnsafeBufferPointer<Double>) -> Bool
}

/// Observes nothing: every chunk runs.
struct NoChunkObserver: ChunkObserver {
    /// One byte of storage: runs pass the observer `inout` through generic code, and in
    /// ThreadSanitizer builds an inout access to a value of an empty type hands the sanitizer its
    /// address, which is unspecified for empty types, and the sanitizer can crash on it
    /// (swiftlang/swift#35579 skips only types known to be empty where the access is compiled).
    var padding: UInt8 = 0
    @inline(__always) mutating func chunkDone(start: Int, end: Int, sums: UnsafeBufferPointer<Double>) -> Bool { true }
}

/// What the workers of one run share: the split into chunks, the plans, the caller's buffers
/// and the partial sums. Workers write disjoint point ranges and disjoint chunk partial sums,
/// which is what makes sharing the raw pointers safe.
///
/// It borrows everything (buffers of the caller's arrays, the plan unretained): `execute`
/// holds them for the run, and a job made per call then costs no reference counting.
struct RunJob: @unchecked Sendable {
    let plan: RunPlan
    unowned(unsafe) let sweep: SweepPlan
    let inputs: UnsafeBufferPointer<UnsafePointer<Double>>
    let parameters: UnsafeBufferPointer<Double>
    let values: UnsafeBufferPointer<UnsafeMutablePointer<Double>?>
    let gradients: UnsafeBufferPointer<GradientRequest>
    /// The calling thread's workspace state: its reverse plans are the run's, one per
    /// gradient request (read by set-ups, not per call).
    let caller: UnsafeMutablePointer<Workspace.State>
    /// The reverse plan of each gradient request.
    var reverse: [ReversePlan] { caller.pointee.reverse }
    let sums: UnsafeMutablePointer<Double>
}

/// The fixed split of a batch into chunks: it depends on the point count and tile size only,
/// never on the thread count, so per-chunk partial sums reduce to identical totals.
struct RunPlan: Sendable {
    let count: Int
    let tile: Int
    let chunkPoints: Int
    let chunkCount: Int
    let sumStride: Int

    init(count: Int, tileSize: Int, requests: Int, parameters: Int) {
        self.count = count
        // Small batches use a smaller tile: no workspace larger than the batch.
        tile = Swift.min(tileSize, Swift.max(8, (count + 7) / 8 * 8))
        // At least 16 tiles per chunk, and at most about 1024 chunks.
        let wanted = Swift.max(16 * tile, (count + 1023) / 1024)
        // Batches of up to 16 tiles (every small one) take no division.
        chunkPoints = wanted == 16 * tile ? wanted : (wanted + tile - 1) / tile * tile
        chunkCount = count <= chunkPoints ? (count > 0 ? 1 : 0) : (count + chunkPoints - 1) / chunkPoints
        sumStride = requests * parameters * 8
    }
}

/// One worker's memory, kept with a program (or a population worker) and reused run after
/// run: the tile's register planes, the plane tables, the partial sums and the per-tile
/// transfer lists. Storage only grows, so a warm workspace allocates nothing.
final class Workspace: @unchecked Sendable {
    struct Store { let plane: Int; let destination: UnsafeMutablePointer<Double>; let direct: Bool }
    struct Seed { let plane: Int; let value: Double; let first: Bool }
    struct Gather {
        let destination: UnsafeMutablePointer<Double>
        /// Its adjoint planes: a range of `gatherPlanes`.
        let planes: Range<Int>
        /// One dedicated adjoint plane: on full tiles it is the destination itself.
        let direct: Bool
    }
    struct SumPlane { let plane: Int; let offset: Int }
    /// One gradient request's ranges of `seeds`, `gathers` and `sumPlanes`.
    struct Request { var seeds: Range<Int>; var gathers: Range<Int>; var sums: Range<Int> }

    /// Everything that changes from run to run. It lives behind a pointer, not in stored
    /// properties: a class's `var` properties are checked for exclusive access at run time
    /// on every access, a pointer's memory is not.
    struct State {
        var planeStorage: UnsafeMutablePointer<Double>?
        var planeCapacity = 0
        var tableStorage: UnsafeMutablePointer<UnsafeMutablePointer<Double>?>?
        var tableCapacity = 0
        var sumStorage: UnsafeMutablePointer<Double>?
        var sumCapacity = 0

        var reverse: [ReversePlan] = []
        var aTables = ScratchList<UnsafeMutablePointer<UnsafeMutablePointer<Double>?>>()
        var reverseCode = ScratchList<(UnsafePointer<tv_rinstr>, Int)>()
        var loads = ScratchList<(UnsafePointer<Double>, Int)>()
        var stores = ScratchList<Store>()
        var requests = ScratchList<Request>()
        var seeds = ScratchList<Seed>()
        var gathers = ScratchList<Gather>()
        var gatherPlanes = ScratchList<Int>()
        var sumPlanes = ScratchList<SumPlane>()
        /// What the transfer lists were made for: the plan and the caller's arrays (see
        /// ``Workspace/sameTransfers(sweep:inputs:values:gradients:)``).
        var keySweep: SweepPlan?
        /// `keySweep`'s address, compared without reference counting (it cannot be another
        /// plan's while `keySweep` holds the plan).
        var keySweepAddress: UnsafeMutableRawPointer?
        var keyInputs: [UnsafePointer<Double>] = []
        var keyValues: [UnsafeMutablePointer<Double>?] = []
        var keyGradients: [GradientRequest] = []

        /// The last run's split into tiles and chunks (for runs with the transfer lists' key).
        var runPlan: RunPlan?
        /// What ``Program/setUp`` left in the planes and tables: for runs with the transfer
        /// lists' key, this tile (0: nothing) and these parameter values (bit for bit).
        var setUpTile = 0
        var setUpParameters = ScratchList<Double>()
        /// The set-up's forward code per tile, and where its adjoint planes start.
        var forwardCode: (UnsafePointer<tv_instr>, Int) = (UnsafePointer(bitPattern: 8)!, 0)
        var adjointOffset = 0
    }

    let state: UnsafeMutablePointer<State>

    init() {
        state = .allocate(capacity: 1)
        state.initialize(to: State())
    }

    deinit {
        state.pointee.planeStorage?.deallocate()
        state.pointee.tableStorage?.deallocate()
        state.pointee.sumStorage?.deallocate()
        state.pointee.aTables.deallocate()
        state.pointee.reverseCode.deallocate()
        state.pointee.loads.deallocate()
        state.pointee.stores.deallocate()
        state.pointee.requests.deallocate()
        state.pointee.seeds.deallocate()
        state.pointee.gathers.deallocate()
        state.pointee.gatherPlanes.deallocate()
        state.pointee.sumPlanes.deallocate()
        state.pointee.setUpParameters.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// At least `count` doubles of plane storage, 64-byte aligned.
    func planes(_ count: Int) -> UnsafeMutablePointer<Double> {
        Self.reserve(count, &state.pointee.planeStorage, &state.pointee.planeCapacity)
    }

    /// At least `count` plane-table entries.
    func tables(_ count: Int) -> UnsafeMutablePointer<UnsafeMutablePointer<Double>?> {
        Self.reserve(count, &state.pointee.tableStorage, &state.pointee.tableCapacity)
    }

    /// At least `count` doubles for partial sums.
    func sums(_ count: Int) -> UnsafeMutablePointer<Double> {
        Self.reserve(count, &state.pointee.sumStorage, &state.pointee.sumCapacity)
    }

    /// Whether the planes and tables hold the set-up of a run with the transfer lists' key, this
    /// tile and these parameter values.
    @inline(__always)
    func isSetUp(tile: Int, parameters: UnsafeBufferPointer<Double>) -> Bool {
        let s = state
        guard s.pointee.setUpTile == tile, s.pointee.setUpParameters.count == parameters.count else { return false }
        let kept = s.pointee.setUpParameters.buffer
        for i in parameters.indices where kept[i].bitPattern != parameters[i].bitPattern { return false }
        return true
    }

    /// Forgets the set-up: for a user of the planes and tables other than a run (a tangent
    /// sweep), which overwrites them. The transfer lists stay valid.
    func discardSetUp() { state.pointee.setUpTile = 0 }

    /// Records a finished set-up (see ``isSetUp(tile:parameters:)``).
    func setUpDone(tile: Int, parameters: UnsafeBufferPointer<Double>) {
        state.pointee.setUpTile = tile
        state.pointee.setUpParameters.removeAll(keepingCapacity: true)
        for x in parameters { state.pointee.setUpParameters.append(x) }
    }

    /// Stores `value` at `count` doubles from `p` (a multiple of 8: a tile's plane), eight at a time.
    @inline(__always)
    static func fill(_ p: UnsafeMutablePointer<Double>, _ value: Double, _ count: Int) {
        UnsafeMutableRawPointer(p).storeBytes(of: SIMD8<Double>(repeating: value), as: SIMD8<Double>.self)
        replicateBlock(p, count)
    }

    /// Copies the first 8 doubles at `p` over the rest of its `count` (a multiple of 8).
    @inline(__always)
    static func replicateBlock(_ p: UnsafeMutablePointer<Double>, _ count: Int) {
        let raw = UnsafeMutableRawPointer(p)
        let block = raw.loadUnaligned(as: SIMD8<Double>.self)
        for i in 1..<Swift.max(1, count / 8) { raw.storeBytes(of: block, toByteOffset: i &* 64, as: SIMD8<Double>.self) }
    }

    /// `storage`, grown (contents not kept) to at least `count` elements, 64-byte aligned.
    @inline(__always) private static func reserve<T>(_ count: Int, _ storage: inout UnsafeMutablePointer<T>?,
                                                     _ capacity: inout Int) -> UnsafeMutablePointer<T> {
        if let storage, count <= capacity { return storage }
        storage?.deallocate()
        capacity = Swift.max(count, 2 * capacity, 8)
        let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<T>.stride, alignment: 64)
            .bindMemory(to: T.self, capacity: capacity)
        storage = grown
        return grown
    }

    /// Fills the transfer lists for `job`: which input columns feed which value planes,
    /// which planes are output values, and for each gradient request the seeds, the gathers
    /// of input and per-point parameter gradients, and the parameter sums. A store or gather
    /// is `direct` when its plane can simply be the caller's column on full tiles.
    func prepareTransfers(_ job: RunJob) {
        let sweep = job.sweep
        let s = state
        s.pointee.loads.removeAll(keepingCapacity: true)
        s.pointee.stores.removeAll(keepingCapacity: true)
        s.pointee.requests.removeAll(keepingCapacity: true)
        s.pointee.seeds.removeAll(keepingCapacity: true)
        s.pointee.gathers.removeAll(keepingCapacity: true)
        s.pointee.gatherPlanes.removeAll(keepingCapacity: true)
        s.pointee.sumPlanes.removeAll(keepingCapacity: true)
        for leaf in sweep.inputPlanes { s.pointee.loads.append((job.inputs[leaf.slot], leaf.plane)) }
        // An output's plane can be the caller's column when it holds a computed register and no
        // earlier output uses it (leaves' planes are inputs, parameters or constants).
        for (k, dest) in job.values.enumerated() {
            guard let dest else { continue }
            let plane = sweep.outputPlanes[k]
            let claimed = sweep.outputPlanes[..<k].enumerated().contains { job.values[$0.offset] != nil && $0.element == plane }
            s.pointee.stores.append(Store(plane: plane, destination: dest, direct: !sweep.isLeafPlane[plane] && !claimed))
        }
        for (r, g) in job.gradients.enumerated() {
            let reverse = job.reverse[r]
            let seedStart = s.pointee.seeds.count, gatherStart = s.pointee.gathers.count, sumStart = s.pointee.sumPlanes.count
            for (k, seed) in g.seeds.enumerated() {
                let plane = reverse.seedPlanes[k]
                guard plane >= 0 else { continue }
                // The first seed a plane gets is stored, later ones added.
                s.pointee.seeds.append(Seed(plane: plane, value: seed, first: !reverse.seedPlanes[..<k].contains(plane)))
            }
            let gatheredFrom = s.pointee.gatherPlanes.count
            func gather(_ dest: UnsafeMutablePointer<Double>, _ leaves: [LeafPlane], slot: Int) {
                let first = s.pointee.gatherPlanes.count
                for leaf in leaves where leaf.slot == slot { s.pointee.gatherPlanes.append(leaf.plane) }
                let planes = first..<s.pointee.gatherPlanes.count
                let direct = planes.count == 1 && !s.pointee.gatherPlanes[gatheredFrom..<first].contains(s.pointee.gatherPlanes[first])
                s.pointee.gathers.append(Gather(destination: dest, planes: planes, direct: direct))
            }
            for (slot, dest) in g.inputGradients.enumerated() {
                if let dest { gather(dest, reverse.inputAdjointPlanes, slot: slot) }
            }
            for (slot, dest) in g.parameterGradients.enumerated() {
                if let dest { gather(dest, reverse.parameterAdjointPlanes, slot: slot) }
            }
            if g.parameterGradientSums != nil {
                let count = job.parameters.count
                for slot in 0..<count {
                    for leaf in reverse.parameterAdjointPlanes where leaf.slot == slot {
                        s.pointee.sumPlanes.append(SumPlane(plane: leaf.plane, offset: r * count * 8 + slot * 8))
                    }
                }
            }
            s.pointee.requests.append(Request(seeds: seedStart..<s.pointee.seeds.count, gathers: gatherStart..<s.pointee.gathers.count,
                                    sums: sumStart..<s.pointee.sumPlanes.count))
        }
    }

    /// Whether the transfer lists already are those of a run with this plan and these
    /// argument arrays: made for the same plan from the very same arrays (a program called
    /// again and again with the same arrays, as a one-point loop does), or from arrays with the
    /// same contents (a caller writing `gradients: [request]` at every call). The arrays are
    /// held until the next run, so theirs are the only references to their buffers but the
    /// caller's: a caller changing one copies it first, and equal buffers mean equal contents.
    /// Otherwise the key becomes these arguments, for lists about to be made from them.
    func sameTransfers(sweep: Unmanaged<SweepPlan>, inputs: [UnsafePointer<Double>], values: [UnsafeMutablePointer<Double>?],
                       gradients: [GradientRequest]) -> Bool {
        let s = state
        if s.pointee.keySweepAddress == sweep.toOpaque() && Self.same(s.pointee.keyInputs, inputs) && Self.same(s.pointee.keyValues, values)
            && Self.same(s.pointee.keyGradients, gradients, by: { $0.hasSameTransfers(as: $1) }) {
            return true
        }
        s.pointee.setUpTile = 0
        s.pointee.keySweep = sweep.takeUnretainedValue()
        s.pointee.keySweepAddress = sweep.toOpaque()
        s.pointee.keyInputs = inputs
        s.pointee.keyValues = values
        s.pointee.keyGradients = gradients
        return false
    }

    /// Whether two arrays hold the same elements: the same buffer, or equal element by element.
    @inline(__always)
    static func same<T: Equatable>(_ a: [T], _ b: [T]) -> Bool { same(a, b, by: ==) }

    @inline(__always)
    static func same<T>(_ a: [T], _ b: [T], by equal: (T, T) -> Bool) -> Bool {
        a.count == b.count && a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                if x.baseAddress == y.baseAddress { return true }
                for i in 0..<x.count where !equal(x[i], y[i]) { return false }
                return true
            }
        }
    }

    /// Drops the references to the last run's plan and arrays: its transfer lists will not be
    /// reused (for callers that refill the same arrays, which would otherwise be copied).
    func forgetTransfers() {
        state.pointee.setUpTile = 0
        state.pointee.keySweep = nil
        state.pointee.keySweepAddress = nil
        state.pointee.keyInputs = []
        state.pointee.keyValues = []
        state.pointee.keyGradients = []
    }

    /// Calls `body` with the transfer lists as buffers (no copies, no reference counting in the tile loop).
    func withTransfers<R>(_ body: (UnsafeBufferPointer<(UnsafePointer<Double>, Int)>, UnsafeBufferPointer<Store>,
                                   UnsafeBufferPointer<Request>, UnsafeBufferPointer<Seed>, UnsafeBufferPointer<Gather>,
                                   UnsafeBufferPointer<Int>, UnsafeBufferPointer<SumPlane>,
                                   UnsafeBufferPointer<UnsafeMutablePointer<UnsafeMutablePointer<Double>?>>,
                                   UnsafeBufferPointer<(UnsafePointer<tv_rinstr>, Int)>) -> R) -> R {
        let s = state
        return s.pointee.loads.withUnsafeBufferPointer { a in
            s.pointee.stores.withUnsafeBufferPointer { b in
                s.pointee.requests.withUnsafeBufferPointer { c in
                    s.pointee.seeds.withUnsafeBufferPointer { d in
                        s.pointee.gathers.withUnsafeBufferPointer { e in
                            s.pointee.gatherPlanes.withUnsafeBufferPointer { f in
                                s.pointee.sumPlanes.withUnsafeBufferPointer { g in
                                    s.pointee.aTables.withUnsafeBufferPointer { h in
                                        s.pointee.reverseCode.withUnsafeBufferPointer { i in body(a, b, c, d, e, f, g, h, i) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A list of plain values (no references: they are never deinitialized) in memory the list owns, for a workspace's per-run tables: emptied
/// in O(1), grown by doubling, freed only by ``deallocate()`` (its owner's `deinit`). Unlike an
/// `Array` it never reaches the generic runtime on the paths a run takes.
struct ScratchList<Element> {
    private(set) var base: UnsafeMutablePointer<Element>?
    private(set) var count = 0
    private var capacity = 0

    @inline(__always) mutating func append(_ x: Element) {
        if count == capacity { grow() }
        (base! + count).initialize(to: x)
        count += 1
    }

    @inline(never) private mutating func grow() {
        let bigger = Swift.max(8, 2 * capacity)
        let storage = UnsafeMutablePointer<Element>.allocate(capacity: bigger)
        if let base {
            storage.initialize(from: base, count: count)
            base.deallocate()
        }
        base = storage
        capacity = bigger
    }

    /// Empties the list (its memory is kept).
    @inline(__always) mutating func removeAll(keepingCapacity: Bool) { count = 0 }

    var buffer: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }
    subscript(i: Int) -> Element { base![i] }
    subscript(r: Range<Int>) -> Slice<UnsafeBufferPointer<Element>> { buffer[r] }

    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) -> R) -> R { body(buffer) }

    func deallocate() { base?.deallocate() }
}
