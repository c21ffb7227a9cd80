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
    /// worker (``workspaceBytes``) plus a few partial sums. Each tile runs one forward sweep,
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
    private func runWorker(_ plan: RunPlan, _ job: RunBuffers, _ parameters: [Double], claim: () -> Int) {
        let (inputs, values, gradients, sums) = (job.inputs, job.values, job.gradients, job.sums)
        let sweep = gradients.isEmpty ? valuesOnly : withGradients
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
        let isa = options.instructionSet.cValue
        let p = tape.parameters.count
        sweep.forward.withUnsafeBufferPointer { forward in
            while true {
                let chunk = claim()
                if chunk >= plan.chunkCount { break }
                let chunkEnd = Swift.min(plan.count, (chunk + 1) * plan.chunkPoints)
                var start = chunk * plan.chunkPoints
                while start < chunkEnd {
                    let n = Swift.min(tile, chunkEnd - start)
                    for (slot, planes) in sweep.inputPlanes.enumerated() {
                        for plane in planes {
                            let dst = V + plane * tile
                            dst.update(from: inputs[slot] + start, count: n)
                            if n < tile { (dst + n).update(repeating: 0, count: tile - n) }
                        }
                    }
                    tv_forward(isa, forward.baseAddress, forward.count, V, tile)
                    for (k, dest) in values.enumerated() {
                        guard let dest else { continue }
                        (dest + start).update(from: V + sweep.outputPlanes[k] * tile, count: n)
                    }
                    for (r, g) in gradients.enumerated() {
                        let reverse = job.reverse[r]
                        // Seeds: the first seed a plane gets is stored (as 0 + seed), later ones added.
                        for (k, seed) in g.seeds.enumerated() {
                            guard let seedPlane = reverse.seedPlanes[k] else { continue }
                            let plane = A + seedPlane * tile
                            let isFirst = !reverse.seedPlanes[..<k].contains(seedPlane)
                            for i in 0..<tile { plane[i] = (isFirst ? 0 : plane[i]) + seed }
                        }
                        reverse.code.withUnsafeBufferPointer { code in
                            tv_reverse(isa, code.baseAddress, code.count, V, A, tile)
                        }
                        for (slot, dest) in g.inputGradients.enumerated() {
                            guard let dest else { continue }
                            gatherAdjoint(A, reverse.inputAdjointPlanes[slot], tile, into: dest + start, count: n)
                        }
                        for (slot, dest) in g.parameterGradients.enumerated() {
                            guard let dest else { continue }
                            gatherAdjoint(A, reverse.parameterAdjointPlanes[slot], tile, into: dest + start, count: n)
                        }
                        if g.parameterGradientSums != nil {
                            // Eight lane-wise partial sums per parameter and chunk.
                            let partial = sums + chunk * plan.sumStride + r * p * 8
                            for slot in 0..<p {
                                for plane in reverse.parameterAdjointPlanes[slot] {
                                    tv_accumulate_lanes(A + plane * tile, n, partial + slot * 8)
                                }
                            }
                        }
                    }
                    start += n
                }
            }
        }
    }

    /// dest[i] = 0 + Σ over planes of the adjoint at lane i (the reference interpreter's order).
    private func gatherAdjoint(_ A: UnsafeMutablePointer<Double>, _ planes: [Int], _ stride: Int,
                               into dest: UnsafeMutablePointer<Double>, count n: Int) {
        for i in 0..<n { dest[i] = 0 }
        for plane in planes {
            let src = A + plane * stride
            for i in 0..<n { dest[i] += src[i] }
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
