import CTapeKernels
import Dispatch
import Synchronization

/// The tangent of one input slot along one direction.
public enum TangentSeed {
    /// No tangent (a symbolic zero: nothing is computed from it).
    case zero
    /// The same tangent at every point.
    case shared(Double)
    /// A tangent per point: `count` doubles, the caller's.
    case perPoint(UnsafePointer<Double>)

    /// Whether this seed can make a tangent non-zero somewhere.
    var isActive: Bool {
        if case .shared(let v) = self { return v != 0 }  // NaN != 0: active
        if case .perPoint = self { return true }
        return false
    }
}

/// One direction of a tangent sweep (forward mode) and where its results go: the directional
/// derivative `J·v` of every output, with `v` given per input slot and per parameter slot.
///
/// Pointers are the caller's; each non-nil output pointer must hold `count` doubles,
/// `outputTangentSums` one double per output.
public struct TangentRequest {
    /// Per input slot, its tangent; empty means zero for every input.
    public var inputTangents: [TangentSeed]
    /// Per parameter slot, its tangent (shared by all points); empty means zero for every parameter.
    public var parameterTangents: [Double]
    /// Per output, where to write its tangent at every point (`nil` skips it; empty skips all).
    public var outputTangents: [UnsafeMutablePointer<Double>?]
    /// Where to write each output's tangent summed over the batch (one per output), or `nil`.
    public var outputTangentSums: UnsafeMutablePointer<Double>?

    /// A request; empty arrays mean "none of these".
    public init(inputTangents: [TangentSeed] = [], parameterTangents: [Double] = [],
                outputTangents: [UnsafeMutablePointer<Double>?] = [], outputTangentSums: UnsafeMutablePointer<Double>? = nil) {
        self.inputTangents = inputTangents
        self.parameterTangents = parameterTangents
        self.outputTangents = outputTangents
        self.outputTangentSums = outputTangentSums
    }
}

extension Program {
    /// Forward mode over `count` points: the outputs' values and their tangents along each
    /// requested direction, all directions in one sweep (the pointer-level entry point of
    /// ``jvp(inputs:parameters:direction:)`` and the second-order functions).
    ///
    /// The tangent sweep derives every instruction's tangent from its reverse rule (see
    /// ``TangentRequest`` and the conventions in the README): `ẏ = Σₖ ∂y/∂xₖ·ẋₖ`, where a
    /// routing instruction selects a tangent rather than multiplying it by 0 or 1. Input or
    /// parameter slots that no direction moves, constants, and results of comparisons carry no
    /// tangent at all (symbolic zeros), so an infinity there cannot make a `0·∞` NaN.
    /// All directions run in one sweep on the program's ``instructionSet`` (the AVX2 and AVX-512
    /// paths have a tangent sweep generated from the same rules; the Swift interpreter's runs on
    /// its `SIMD8<Double>` lane), each instruction's value computed once for all of them. Every
    /// path gives the same bits. Threads and tiles as ``run(count:inputs:parameters:values:gradients:)``;
    /// results are identical for any thread count.
    ///
    /// - Throws: ``EvaluationError`` when the counts do not match the tape.
    public func runTangents(count: Int, inputs: [UnsafePointer<Double>], parameters: [Double],
                            values: [UnsafeMutablePointer<Double>?], tangents: [TangentRequest]) throws(EvaluationError) {
        try check(count: count, inputs: inputs.count, parameters: parameters.count)
        let (nIn, nPar, nOut) = (tape.inputs.count, tape.parameters.count, tape.outputs.count)
        guard values.isEmpty || values.count == nOut else {
            throw EvaluationError("expected \(nOut) output value destination(s), got \(values.count)")
        }
        for (r, t) in tangents.enumerated() {
            guard t.inputTangents.isEmpty || t.inputTangents.count == nIn else {
                throw EvaluationError("tangent request \(r): expected \(nIn) input tangent(s), one per input, got \(t.inputTangents.count)")
            }
            guard t.parameterTangents.isEmpty || t.parameterTangents.count == nPar else {
                throw EvaluationError("tangent request \(r): expected \(nPar) parameter tangent(s), one per parameter, got \(t.parameterTangents.count)")
            }
            guard t.outputTangents.isEmpty || t.outputTangents.count == nOut else {
                throw EvaluationError("tangent request \(r): expected \(nOut) output tangent destination(s), got \(t.outputTangents.count)")
            }
        }
        let activeInputs = (0..<nIn).map { s in tangents.contains { !$0.inputTangents.isEmpty && $0.inputTangents[s].isActive } }
        let activeParameters = (0..<nPar).map { s in tangents.contains { !$0.parameterTangents.isEmpty && $0.parameterTangents[s] != 0 } }
        let plan = tangentPlan(activeInputs: activeInputs, activeParameters: activeParameters)
        let D = tangents.count
        let tileSize = options.resolvedTileSize(planes: plan.values.tilePlaneCount * (1 + D))
        let split = RunPlan(count: count, tileSize: tileSize, requests: D, parameters: nOut)
        // Plane tables and partial sums come from the program's workspaces, as a run's do: a
        // tangent sweep in a loop allocates them once.
        let workspace = takeWorkspace()
        defer { giveBack(workspace) }
        let ws = workspace.takeUnretainedValue()
        let sumCount = Swift.max(1, split.chunkCount * split.sumStride)
        let sums = ws.sums(sumCount)
        for i in 0..<sumCount { sums[i] = 0 }
        let job = TangentBuffers(inputs: inputs, values: values, requests: tangents, sums: sums)
        // The core count (a system call) is asked only when there is more than one chunk to share.
        let workers = split.chunkCount <= 1 ? 1 : Swift.min(options.resolvedThreads, split.chunkCount)
        if workers <= 1 {
            var next = 0
            tangentWorker(plan, split, job, parameters, ws) {
                defer { next += 1 }
                return next
            }
        } else {
            let helpers = (1..<workers).map { _ in takeWorkspace() }
            let nextChunk = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                tangentWorker(plan, split, job, parameters, w == 0 ? ws : helpers[w - 1].takeUnretainedValue()) {
                    nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
                }
            }
            for h in helpers { giveBack(h) }
        }
        // Partial sums reduced in chunk and lane order: the same bits for any thread count.
        for (d, request) in tangents.enumerated() {
            guard let dest = request.outputTangentSums else { continue }
            for k in 0..<nOut {
                dest[k] = 0
                for chunk in 0..<split.chunkCount {
                    let base = sums + chunk * split.sumStride + (d * nOut + k) * 8
                    for lane in 0..<8 { dest[k] += base[lane] }
                }
            }
        }
    }

    /// The tangent plan for a set of active slots, made once per set.
    func tangentPlan(activeInputs: [Bool], activeParameters: [Bool]) -> TangentPlan {
        let key = activeInputs + activeParameters
        return tangentPlans.withLock { cache in
            if let plan = cache[key] { return plan }
            let plan = TangentPlan(valuesOnly, activeInputs: activeInputs, activeParameters: activeParameters)
            cache[key] = plan
            return plan
        }
    }

    /// One worker of a tangent sweep, with workspace `ws` (its plane tables; a run's set-up kept
    /// there is dropped): claims chunks until none are left.
    private func tangentWorker(_ plan: TangentPlan, _ split: RunPlan, _ job: TangentBuffers, _ parameters: [Double],
                               _ ws: Workspace, claim: () -> Int) {
        let sweep = plan.values
        let tile = split.tile
        let P = sweep.valuePlaneCount
        let D = job.requests.count
        let nOut = tape.outputs.count
        ws.discardSetUp()
        // The planes are this call's own: in the workspace's reused storage the Rosenbrock-8 HVP
        // at 65536 points ran 40% slower (tapevm-bench --second-order; a layout effect, as in
        // `directColumnLimit`), while an allocation per call costs little.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: P * (1 + D) * tile * MemoryLayout<Double>.stride, alignment: 64)
        defer { raw.deallocate() }
        let V = raw.bindMemory(to: Double.self, capacity: P * (1 + D) * tile)
        let T = V + P * tile
        let tables = ws.tables(P * (1 + D))
        let vTable = tables, tTable = tables + P
        for p in 0..<P { vTable[p] = V + p * tile }
        for q in 0..<P * D { tTable[q] = T + q * tile }
        for (plane, value) in sweep.constants { (V + plane * tile).update(repeating: value, count: tile) }
        for leaf in sweep.parameterPlanes { (V + leaf.plane * tile).update(repeating: parameters[leaf.slot], count: tile) }
        // Leaf tangents: shared ones filled once, per-point ones loaded per tile.
        var tangentLoads: [(UnsafePointer<Double>, Int)] = []
        tangentLoads.reserveCapacity(D * plan.inputTangentPlanes.reduce(0) { $0 + $1.count })
        for (d, request) in job.requests.enumerated() {
            for (slot, planes) in plan.inputTangentPlanes.enumerated() {
                let seed = request.inputTangents.isEmpty ? .zero : request.inputTangents[slot]
                for plane in planes {
                    switch seed {
                    case .zero: (T + (plane * D + d) * tile).update(repeating: 0, count: tile)
                    case .shared(let v): (T + (plane * D + d) * tile).update(repeating: v, count: tile)
                    case .perPoint(let column): tangentLoads.append((column, plane * D + d))
                    }
                }
            }
            for (slot, planes) in plan.parameterTangentPlanes.enumerated() {
                let v = request.parameterTangents.isEmpty ? 0 : request.parameterTangents[slot]
                for plane in planes { (T + (plane * D + d) * tile).update(repeating: v, count: tile) }
            }
        }
        var loads: [(UnsafePointer<Double>, Int, UnsafeMutablePointer<UnsafeMutablePointer<Double>?>, UnsafeMutablePointer<Double>)] = []
        loads.reserveCapacity(sweep.inputPlanes.count + tangentLoads.count)
        for leaf in sweep.inputPlanes { loads.append((job.inputs[leaf.slot], leaf.plane, vTable + leaf.plane, V + leaf.plane * tile)) }
        for (column, q) in tangentLoads { loads.append((column, q, tTable + q, T + q * tile)) }
        // Outputs: on full tiles a computed register's value and tangent planes are the caller's
        // columns (no copies), as in `run`, for up to `directColumnLimit` of them; the rest are
        // copied after the sweep, inactive tangents written as 0. Entry e of `tables` is
        // workspace plane e (`V + e·tile`).
        var stores: [(destination: UnsafeMutablePointer<Double>, entry: Int, direct: Bool)] = []
        stores.reserveCapacity(job.values.count + job.requests.reduce(0) { $0 + $1.outputTangents.count })
        var zeros: [UnsafeMutablePointer<Double>] = []
        // Entries written in place so far (at most `directColumnLimit`: a short list to search).
        var claimed = 0
        func store(_ destination: UnsafeMutablePointer<Double>?, plane: Int, entry: Int) {
            guard let destination else { return }
            let direct = claimed < Self.directColumnLimit && !sweep.isLeafPlane[plane]
                && !stores.contains { $0.direct && $0.entry == entry }
            if direct { claimed += 1 }
            stores.append((destination, entry, direct))
        }
        for (k, dest) in job.values.enumerated() { store(dest, plane: sweep.outputPlanes[k], entry: sweep.outputPlanes[k]) }
        for (d, request) in job.requests.enumerated() {
            for (k, dest) in request.outputTangents.enumerated() {
                if plan.outputActive[k] {
                    store(dest, plane: sweep.outputPlanes[k], entry: P + sweep.outputPlanes[k] * D + d)
                } else if let dest {
                    zeros.append(dest)
                }
            }
        }
        let code = plan.code
        let isa = instructionSet
        while true {
            let chunk = claim()
            if chunk >= split.chunkCount { break }
            let chunkEnd = Swift.min(split.count, (chunk + 1) * split.chunkPoints)
            var start = chunk * split.chunkPoints
            while start < chunkEnd {
                let n = Swift.min(tile, chunkEnd - start)
                // Full tiles read the caller's columns in place (leaf planes are never written);
                // a partial tile copies them and zeroes the tail.
                for (src, _, entry, own) in loads {
                    if n == tile {
                        entry.pointee = UnsafeMutablePointer(mutating: src + start)
                    } else {
                        entry.pointee = own
                        own.update(from: src + start, count: n)
                        (own + n).update(repeating: 0, count: tile - n)
                    }
                }
                for s in stores where s.direct { tables[s.entry] = n == tile ? s.destination + start : V + s.entry * tile }
                if !isa.tangent(code.base, code.count, vTable, tTable, tile, directions: D) {
                    TangentSweep.run(code.base, code.count, vTable, tTable, directions: D, tile: tile)
                }
                for s in stores where !(n == tile && s.direct) { (s.destination + start).update(from: tables[s.entry]!, count: n) }
                for dest in zeros { (dest + start).update(repeating: 0, count: n) }
                let partial = job.sums + chunk * split.sumStride
                for (d, request) in job.requests.enumerated() {
                    if request.outputTangentSums != nil {
                        for k in 0..<nOut where plan.outputActive[k] {
                            tv_accumulate_lanes(tTable[sweep.outputPlanes[k] * D + d]!, n, partial + (d * nOut + k) * 8)
                        }
                    }
                }
                start += n
            }
        }
    }
}

extension Program {
    /// The most output columns a tangent sweep writes in place (the rest through the workspace).
    /// Stores to many columns at once can collide in the cache when the columns sit at the same
    /// offsets within their pages (separate large allocations do): a full Hessian of Rosenbrock-8
    /// (72 output columns) written in place ran at 457–533 ns/point against 183–200 copied per
    /// tile, and with up to 16 columns in place as fast as with none (tapevm-bench
    /// --second-order --filter rosenbrock, 65536 points).
    static let directColumnLimit = 16
}

/// The caller's buffers, shared by the workers (disjoint point ranges and chunk sums).
private struct TangentBuffers: @unchecked Sendable {
    let inputs: [UnsafePointer<Double>]
    let values: [UnsafeMutablePointer<Double>?]
    let requests: [TangentRequest]
    let sums: UnsafeMutablePointer<Double>
}
