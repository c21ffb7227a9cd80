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
    /// worker (``workspaceBytes``) plus a few partial sums. Full tiles read the input columns
    /// and write value and gradient columns in place (the kernels use them as register planes),
    /// so destinations must not overlap the inputs or each other. Each tile runs one forward sweep,
    /// then one reverse sweep per gradient request.
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
        try check(count: count, inputs: inputs.count, parameters: parameters)
        guard values.isEmpty || values.count == tape.outputs.count else {
            throw EvaluationError("expected \(tape.outputs.count) output value destination(s), got \(values.count)")
        }
        for (r, g) in gradients.enumerated() {
            guard g.seeds.count == tape.outputs.count else {
                throw EvaluationError("gradient request \(r): expected \(tape.outputs.count) seed(s), one per output, got \(g.seeds.count)")
            }
            guard g.inputGradients.isEmpty || g.inputGradients.count == tape.inputs.count else {
                throw EvaluationError("gradient request \(r): expected \(tape.inputs.count) input gradient destination(s), got \(g.inputGradients.count)")
            }
            guard g.parameterGradients.isEmpty || g.parameterGradients.count == tape.parameters.count else {
                throw EvaluationError("gradient request \(r): expected \(tape.parameters.count) parameter gradient destination(s), got \(g.parameterGradients.count)")
            }
        }
        let plan = RunPlan(program: self, count: count, gradients: gradients)
        let sums = UnsafeMutableBufferPointer<Double>.allocate(capacity: Swift.max(1, plan.chunkCount * plan.sumStride))
        sums.initialize(repeating: 0)
        defer { sums.deallocate() }

        let workers = Swift.min(options.resolvedThreads, plan.chunkCount)
        let job = RunBuffers(inputs: inputs, values: values, gradients: gradients,
                             reverse: gradients.map { reversePlan(seeds: $0.seeds) }, sums: sums.baseAddress!)
        if workers <= 1 {
            var next = 0
            runWorker(plan, job, parameters) {
                defer { next += 1 }
                return next
            }
        } else {
            let nextChunk = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                runWorker(plan, job, parameters) { nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue }
            }
        }
        // Reduce the per-chunk, per-lane partial sums in chunk and lane order: the same order
        // for any thread count and any code path.
        for (r, g) in gradients.enumerated() {
            guard let dest = g.parameterGradientSums else { continue }
            let p = tape.parameters.count
            for slot in 0..<p { dest[slot] = 0 }
            for chunk in 0..<plan.chunkCount {
                let base = sums.baseAddress! + chunk * plan.sumStride + r * p * 8
                for slot in 0..<p {
                    for lane in 0..<8 { dest[slot] += base[slot * 8 + lane] }
                }
            }
        }
    }

    func check(count: Int, inputs: Int, parameters: [Double]) throws(EvaluationError) {
        guard count >= 0 else { throw EvaluationError("the number of points must not be negative, got \(count)") }
        guard inputs == tape.inputs.count else {
            throw EvaluationError("expected \(tape.inputs.count) input column(s) (\(tape.inputs.joined(separator: ", "))), got \(inputs)")
        }
        guard parameters.count == tape.parameters.count else {
            throw EvaluationError("expected \(tape.parameters.count) parameter value(s) (\(tape.parameters.joined(separator: ", "))), got \(parameters.count)")
        }
    }

    /// One worker: claims chunks until none are left, running each chunk's tiles in order.
    ///
    /// Everything a tile needs besides the kernels (which planes to load, copy out, seed, gather
    /// and sum) is resolved to raw pointers once, before the first tile, so the per-tile work in
    /// Swift is a few flat loops with no reference counting.
    private func runWorker(_ plan: RunPlan, _ job: RunBuffers, _ parameters: [Double], claim: () -> Int) {
        let sweep = job.gradients.isEmpty ? valuesOnly : withGradients
        let tile = plan.tile
        let valueCount = sweep.valuePlaneCount * tile
        let adjointCount = (job.reverse.map(\.adjointPlaneCount).max() ?? 0) * tile
        let raw = UnsafeMutableRawPointer.allocate(byteCount: (valueCount + adjointCount) * MemoryLayout<Double>.stride, alignment: 64)
        defer { raw.deallocate() }
        let V = raw.bindMemory(to: Double.self, capacity: valueCount + adjointCount)
        let A = V + valueCount
        // No zeroing: the forward sweep writes every value plane before reading it, partial
        // tiles zero their input tails, and the reverse sweep stores each adjoint plane's
        // first contribution. Only parameters and constants are filled, once.
        for (plane, value) in sweep.constants { (V + plane * tile).update(repeating: value, count: tile) }
        for (slot, planes) in sweep.parameterPlanes.enumerated() {
            for plane in planes { (V + plane * tile).update(repeating: parameters[slot], count: tile) }
        }
        let forward = sweep.forward
        // The plans (and so the code buffers) outlive the run; raw pointers keep ARC out of the loop.
        let reverseCode = job.reverse.map { ($0.code.base, $0.code.count) }
        let tiles = TileTransfers(sweep: sweep, job: job, tile: tile, parameters: tape.parameters.count)
        // Plane tables: workspace planes by default; on full tiles the caller's columns stand
        // in for input values, output values and input/parameter gradients (no copies).
        let tables = UnsafeMutablePointer<UnsafeMutablePointer<Double>?>.allocate(
            capacity: sweep.valuePlaneCount + job.reverse.reduce(0) { $0 + $1.adjointPlaneCount })
        defer { tables.deallocate() }
        let vTable = tables
        for p in 0..<sweep.valuePlaneCount { vTable[p] = V + p * tile }
        var aTables: [UnsafeMutablePointer<UnsafeMutablePointer<Double>?>] = []
        var nextTable = tables + sweep.valuePlaneCount
        for r in job.reverse {
            for p in 0..<r.adjointPlaneCount { nextTable[p] = A + p * tile }
            aTables.append(nextTable)
            nextTable += r.adjointPlaneCount
        }
        let isa = instructionSet
        while true {
            let chunk = claim()
            if chunk >= plan.chunkCount { break }
            let chunkEnd = Swift.min(plan.count, (chunk + 1) * plan.chunkPoints)
            var start = chunk * plan.chunkPoints
            while start < chunkEnd {
                let n = Swift.min(tile, chunkEnd - start)
                let full = n == tile
                for (src, plane) in tiles.loads {
                    if full {
                        vTable[plane] = UnsafeMutablePointer(mutating: src + start)
                    } else {
                        let dst = V + plane * tile
                        vTable[plane] = dst
                        dst.update(from: src + start, count: n)
                        (dst + n).update(repeating: 0, count: tile - n)
                    }
                }
                for (plane, dest, direct) in tiles.stores where direct {
                    vTable[plane] = full ? dest + start : V + plane * tile
                }
                isa.forward(forward.base, forward.count, vTable, tile)
                for (plane, dest, direct) in tiles.stores where !(full && direct) {
                    (dest + start).update(from: vTable[plane]!, count: n)
                }
                for (r, request) in tiles.requests.enumerated() {
                    let aTable = aTables[r]
                    for gather in request.gathers where gather.direct {
                        aTable[gather.planes[0]] = full ? gather.destination + start : A + gather.planes[0] * tile
                    }
                    for (plane, seed, first) in request.seeds {
                        let p = aTable[plane]!
                        if first { p.update(repeating: seed, count: tile) }
                        else { for i in 0..<tile { p[i] += seed } }
                    }
                    isa.reverse(reverseCode[r].0, reverseCode[r].1, vTable, aTable, tile)
                    for gather in request.gathers where !(full && gather.direct) {
                        let dst = gather.destination + start
                        switch gather.planes.count {
                        case 0: dst.update(repeating: 0, count: n)
                        case 1:
                            let src = aTable[gather.planes[0]]!
                            dst.update(from: src, count: n)
                        default:
                            dst.update(from: aTable[gather.planes[0]]!, count: n)
                            for plane in gather.planes.dropFirst() {
                                let src = aTable[plane]!
                                for i in 0..<n { dst[i] += src[i] }
                            }
                        }
                    }
                    // Eight lane-wise partial sums per parameter and chunk.
                    let partial = job.sums + chunk * plan.sumStride
                    for (plane, offset) in request.sums { tv_accumulate_lanes(aTable[plane]!, n, partial + offset) }
                }
                start += n
            }
        }
    }
}

/// The per-tile data movement of one worker, by plane number: which input columns feed which
/// value planes, which planes are output values, and for each gradient request the seeds, the
/// gathers of input and per-point parameter gradients, and the parameter sums. A store or
/// gather is `direct` when its plane can simply be the caller's column on full tiles.
private struct TileTransfers {
    struct Gather {
        let destination: UnsafeMutablePointer<Double>
        let planes: [Int]
        /// One dedicated adjoint plane: on full tiles it is the destination itself.
        let direct: Bool
    }
    struct Request {
        var seeds: [(Int, Double, Bool)] = []
        var gathers: [Gather] = []
        /// Adjoint plane and offset of its eight partial sums within a chunk's block.
        var sums: [(Int, Int)] = []
    }
    var loads: [(UnsafePointer<Double>, Int)] = []
    var stores: [(Int, UnsafeMutablePointer<Double>, Bool)] = []
    var requests: [Request] = []

    init(sweep: SweepPlan, job: RunBuffers, tile: Int, parameters p: Int) {
        for (slot, planes) in sweep.inputPlanes.enumerated() {
            for plane in planes { loads.append((job.inputs[slot], plane)) }
        }
        // An output's plane can be the caller's column when it holds a computed register and no
        // earlier output uses it (leaves' planes are inputs, parameters or constants).
        var claimed: [Int] = []
        for (k, dest) in job.values.enumerated() {
            guard let dest else { continue }
            let plane = sweep.outputPlanes[k]
            let direct = !sweep.isLeafPlane[plane] && !claimed.contains(plane)
            claimed.append(plane)
            stores.append((plane, dest, direct))
        }
        for (r, g) in job.gradients.enumerated() {
            let reverse = job.reverse[r]
            var request = Request()
            for (k, seed) in g.seeds.enumerated() {
                guard let plane = reverse.seedPlanes[k] else { continue }
                // The first seed a plane gets is stored, later ones added.
                request.seeds.append((plane, seed, !reverse.seedPlanes[..<k].contains(plane)))
            }
            var gathered: [Int] = []
            func gather(_ dest: UnsafeMutablePointer<Double>, _ planes: [Int]) -> Gather {
                let direct = planes.count == 1 && !gathered.contains(planes[0])
                gathered += planes
                return Gather(destination: dest, planes: planes, direct: direct)
            }
            for (slot, dest) in g.inputGradients.enumerated() {
                if let dest { request.gathers.append(gather(dest, reverse.inputAdjointPlanes[slot])) }
            }
            for (slot, dest) in g.parameterGradients.enumerated() {
                if let dest { request.gathers.append(gather(dest, reverse.parameterAdjointPlanes[slot])) }
            }
            if g.parameterGradientSums != nil {
                for slot in 0..<p {
                    for plane in reverse.parameterAdjointPlanes[slot] { request.sums.append((plane, r * p * 8 + slot * 8)) }
                }
            }
            requests.append(request)
        }
    }
}

/// The caller's buffers, shared by the workers. Workers write disjoint point ranges and
/// disjoint chunk partial sums, which is what makes sharing the raw pointers safe.
struct RunBuffers: @unchecked Sendable {
    let inputs: [UnsafePointer<Double>]
    let values: [UnsafeMutablePointer<Double>?]
    let gradients: [GradientRequest]
    /// The reverse plan of each gradient request.
    let reverse: [ReversePlan]
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

    init(program: Program, count: Int, gradients: [GradientRequest]) {
        self.count = count
        // Small batches use a smaller tile: no workspace larger than the batch.
        tile = Swift.min(program.tileSize, Swift.max(8, (count + 7) / 8 * 8))
        // At least 16 tiles per chunk, and at most about 1024 chunks.
        let wanted = Swift.max(16 * tile, (count + 1023) / 1024)
        chunkPoints = (wanted + tile - 1) / tile * tile
        chunkCount = (count + chunkPoints - 1) / chunkPoints
        sumStride = gradients.count * program.tape.parameters.count * 8
    }
}
