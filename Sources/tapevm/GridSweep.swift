import Dispatch
import Synchronization
import TapeVM
import TapeVMIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What each grid point gets, in column order: the value of each chosen output, then (unless
/// values only) the gradient of each chosen output with respect to every input, output by
/// output (`f, g, df/dx, df/dy, dg/dx, dg/dy`), then (with `--hessian`) the upper triangle of
/// each chosen output's Hessian, row by row, output by output (`d2f/dx2, d2f/dxdy, d2f/dy2, …`).
struct GridColumns {
    /// The chosen outputs, as indices into the tape's outputs.
    var outputs: [Int]
    var gradients: Bool
    var hessians: Bool
    var inputCount: Int
    var names: [String]

    init(tape: Tape, outputs: [Int], gradients: Bool, hessians: Bool = false) {
        self.outputs = outputs
        self.gradients = gradients || hessians
        self.hessians = hessians
        inputCount = tape.inputs.count
        let outNames = outputs.map { tape.outputs[$0].name }
        let x = tape.inputs
        names = outNames + (self.gradients ? outNames.flatMap { f in x.map { "d\(f)/d\($0)" } } : [])
        if hessians {
            names += outNames.flatMap { f in
                x.indices.flatMap { r in (r..<x.count).map { c in r == c ? "d2\(f)/d\(x[r])2" : "d2\(f)/d\(x[r])d\(x[c])" } }
            }
        }
    }

    var count: Int { names.count }
    /// The column of the `k`-th chosen output's gradient with respect to input slot `j`.
    func gradientColumn(output k: Int, input j: Int) -> Int { outputs.count + k * inputCount + j }
    /// Hessian entries per output: the upper triangle, `m(m+1)/2`.
    var hessianEntries: Int { inputCount * (inputCount + 1) / 2 }
    /// The column of `∂²f/∂x_r∂x_c` (`r ≤ c`) of the `k`-th chosen output.
    func hessianColumn(output k: Int, row r: Int, column c: Int) -> Int {
        outputs.count * (1 + inputCount) + k * hessianEntries + r * inputCount - r * (r - 1) / 2 + (c - r)
    }
}

/// One block of the sweep: points `start ..< start + count` of the grid (flat row-major
/// indices) with their input values (per input slot) and result columns.
struct GridBlock {
    var start: Int
    var count: Int
    var inputs: [UnsafePointer<Double>]
    var columns: [UnsafePointer<Double>]
}

/// Something that consumes the grid block by block, in order.
protocol GridSink: AnyObject {
    func consume(_ block: GridBlock) throws(CLIError)
    func finish() throws(CLIError)
    /// The temporary files being written, to remove if the run is interrupted.
    var temporaryPaths: [String] { get }
}

extension GridSink {
    var temporaryPaths: [String] { [] }
}

/// Streams the grid in blocks, each split into cache-sized chunks that the worker threads
/// claim one at a time: a worker fills a chunk's coordinates, evaluates it (one thread) and
/// summarizes its columns while they are still in its cache, with no barrier between these
/// steps. The sinks (files, pictures) then consume the whole block in order. Memory is a
/// block's worth whatever the grid size.
struct GridSweep {
    /// The program the workers run (one thread each: the sweep makes the threads).
    var program: Program
    var parameters: [Double]
    var columns: GridColumns
    var threads: Int
    /// Points per chunk, from ``chunkPoints(inputs:columns:tile:)``: the statistics are summed
    /// chunk by chunk in order, so the same chunks give the same bits for any thread count.
    var chunkPoints: Int

    /// Points per chunk such that a chunk's inputs and columns fit in about 512 KiB (a core's
    /// L2 cache, roughly), so the statistics read what the evaluation just wrote from cache; a
    /// whole number of tiles, at least 4096 points, so a `Program.run` call's cost stays small.
    static func chunkPoints(inputs: Int, columns: Int, tile: Int) -> Int {
        let points = Swift.max(4096, (512 << 10) / (8 * Swift.max(1, inputs + columns)))
        return (points + tile - 1) / tile * tile
    }

    /// A block is one chunk per worker at first: with sinks, they then read the block while it
    /// is still in cache. Without sinks a block needs no memory of its own, so blocks grow
    /// (doubling) until one takes about this long: fewer times the workers wait for each other
    /// and are woken again, which on a loaded machine costs more than the work between, while
    /// the progress line still moves.
    static let streamingBlockSeconds = 0.2

    /// Time spent evaluating (each worker's time inside the evaluation, summed over the
    /// workers and divided by their number), and in the whole sweep (wall clock).
    struct Timing { var run: Duration; var total: Duration }

    func run(_ grid: GridSpec, statistics: GridStatistics, sinks: [any GridSink], progress: Progress?) throws(CLIError) -> Timing {
        let clock = ContinuousClock()
        let begin = clock.now
        var runTime = Duration.zero
        let chunk = chunkPoints
        let cap = Swift.max(1, Swift.min(chunk * threads, grid.range.count))
        let nIn = grid.inputCount, nCol = columns.count
        // With sinks, the block's columns are kept for them: one buffer of `cap` points. Without,
        // each worker reuses one chunk's buffer, which stays in its cache, and blocks grow.
        let streaming = sinks.isEmpty
        let (regions, regionPoints) = streaming ? (threads, Swift.min(chunk, cap)) : (1, cap)
        let regionSize = (nIn + nCol) * regionPoints
        let buffer = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, regions * regionSize))
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 0, count: Swift.max(1, regions * regionSize))
        for r in 0..<regions {
            for f in grid.fixed { (buffer + r * regionSize + f.slot * regionPoints).update(repeating: f.value, count: regionPoints) }
        }
        let fillers = grid.axes.indices.map { AxisFiller(grid: grid, axis: $0) }
        let evaluate = ChunkEvaluation(program: program, parameters: parameters, columns: columns)
        let busy = UnsafeMutablePointer<Duration>.allocate(capacity: threads)
        defer { busy.deallocate() }
        let failure = Mutex<EvaluationError?>(nil)

        var blockPoints = cap
        var start = grid.range.lowerBound
        while start < grid.range.upperBound {
            let blockBegin = clock.now
            let n = Swift.min(blockPoints, grid.range.upperBound - start)
            let chunks = (n + chunk - 1) / chunk
            let workers = Swift.min(threads, chunks)
            busy.initialize(repeating: .zero, count: workers)
            statistics.beginBlock(chunks: chunks)
            let next = Atomic<Int>(0)
            let shared = Disjoint((fillers, buffer, grid.axes.map(\.slot), start, busy, statistics, evaluate))
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let (fillers, buffer, slots, start, busy, statistics, evaluate) = shared.value
                let clock = ContinuousClock()
                while case let c = next.wrappingAdd(1, ordering: .relaxed).oldValue, c < chunks {
                    let lo = c * chunk, m = Swift.min(chunk, n - lo)
                    let base = streaming ? buffer + w * regionSize : buffer + lo
                    let inputs = (0..<nIn).map { base + $0 * regionPoints }
                    let results = (0..<nCol).map { base + (nIn + $0) * regionPoints }
                    for (d, filler) in fillers.enumerated() { filler.fill(inputs[slots[d]], from: start + lo, count: m) }
                    let t0 = clock.now
                    do throws(EvaluationError) {
                        try evaluate(count: m, inputs: inputs.map { UnsafePointer($0) }, results: results)
                    } catch {
                        failure.withLock { $0 = $0 ?? error }
                    }
                    busy[w] += clock.now - t0
                    statistics.summarize(chunk: c, start: start + lo, inputs: inputs.map { UnsafePointer($0) },
                                         columns: results.map { UnsafePointer($0) }, count: m)
                }
            }
            if let error = failure.withLock({ $0 }) { throw .evaluation(error) }
            var sum = Duration.zero
            for w in 0..<workers { sum += busy[w] }
            runTime += sum / workers
            statistics.endBlock()
            if !streaming {
                let block = GridBlock(start: start, count: n, inputs: (0..<nIn).map { UnsafePointer(buffer + $0 * cap) },
                                      columns: (0..<nCol).map { UnsafePointer(buffer + (nIn + $0) * cap) })
                for sink in sinks { try sink.consume(block) }
            }
            start += n
            progress?.update(done: start - grid.range.lowerBound, elapsed: (clock.now - begin).seconds)
            if streaming && (clock.now - blockBegin).seconds < GridSweep.streamingBlockSeconds / 2 && blockPoints < 1 << 40 {
                blockPoints *= 2
            }
        }
        for sink in sinks { try sink.finish() }
        progress?.finish()
        return Timing(run: runTime, total: clock.now - begin)
    }
}

/// Evaluates one chunk of points into the result columns: values and gradients with one
/// `Program.run` (one forward sweep, one reverse sweep per output), or with `--hessian` one
/// `Program.runHessian` per output (values, gradient and the upper triangle of the Hessian).
struct ChunkEvaluation {
    let program: Program
    let parameters: [Double]
    let columns: GridColumns

    func callAsFunction(count: Int, inputs: [UnsafePointer<Double>], results: [UnsafeMutablePointer<Double>]) throws(EvaluationError) {
        let tape = program.tape
        let m = columns.inputCount
        var values = [UnsafeMutablePointer<Double>?](repeating: nil, count: tape.outputs.count)
        for (k, o) in columns.outputs.enumerated() { values[o] = results[k] }
        guard columns.hessians else {
            let requests = !columns.gradients ? [] : columns.outputs.enumerated().map { k, o in
                GradientRequest(seeds: tape.outputs.indices.map { $0 == o ? 1 : 0 },
                                inputGradients: (0..<m).map { results[columns.gradientColumn(output: k, input: $0)] })
            }
            try program.run(count: count, inputs: inputs, parameters: parameters, values: values, gradients: requests)
            return
        }
        for (k, o) in columns.outputs.enumerated() {
            let hessian = (0..<m).map { r in
                (0..<m).map { c in r <= c ? results[columns.hessianColumn(output: k, row: r, column: c)] : nil }
            }
            try program.runHessian(count: count, inputs: inputs, parameters: parameters, output: o,
                                   values: k == 0 ? values : [],
                                   gradient: (0..<m).map { results[columns.gradientColumn(output: k, input: $0)] },
                                   hessian: hessian)
        }
    }
}

/// Writes one axis's coordinates for a run of consecutive grid points.
///
/// An axis with stride `s` (the product of the counts after it) holds each coordinate for `s`
/// consecutive points, so the fill is a few runs of one value, except for the last axis, whose
/// coordinates are copied from a table (computed per point when the axis is too long for one).
struct AxisFiller {
    let axis: GridAxis
    let stride: Int
    let table: [Double]?

    init(grid: GridSpec, axis d: Int) {
        axis = grid.axes[d]
        stride = grid.axes[(d + 1)...].reduce(1) { $0 * $1.count }
        let a = grid.axes[d]
        table = a.count <= 1 << 22 ? (0..<a.count).map { a.coordinate($0) } : nil
    }

    func coordinate(_ i: Int) -> Double { table?[i] ?? axis.coordinate(i) }

    func fill(_ out: UnsafeMutablePointer<Double>, from start: Int, count n: Int) {
        var k = 0
        if stride == 1 {
            var i = start % axis.count
            while k < n {
                let length = Swift.min(axis.count - i, n - k)
                if let table {
                    table.withUnsafeBufferPointer { (out + k).update(from: $0.baseAddress! + i, count: length) }
                } else {
                    for m in 0..<length { out[k + m] = axis.coordinate(i + m) }
                }
                k += length
                i = 0
            }
            return
        }
        var p = start
        while k < n {
            let i = (p / stride) % axis.count
            let length = Swift.min(stride - p % stride, n - k)
            (out + k).update(repeating: coordinate(i), count: length)
            k += length
            p += length
        }
    }
}

/// The progress line on stderr: points done, rate and time left, redrawn in place at most four
/// times a second once the run has taken a second, and only when stderr is a terminal.
final class Progress {
    let total: Int
    private var lastDraw = 0.0
    private var drawn = false

    /// A progress line, or `nil` when it should not show (`quiet`, or stderr not a terminal).
    static func make(total: Int, quiet: Bool) -> Progress? {
        quiet || isatty(2) == 0 ? nil : Progress(total: total)
    }

    init(total: Int) { self.total = total }

    func update(done: Int, elapsed: Double) {
        guard elapsed >= 1, elapsed - lastDraw >= 0.25, done < total else { return }
        lastDraw = elapsed
        drawn = true
        let rate = Double(done) / elapsed
        let left = Double(total - done) / Swift.max(rate, 1)
        let line = "\(format(100 * Double(done) / Double(total), "%.1f"))%  \(done) of \(total) points  \(format(rate / 1e6, "%.1f")) Mpoints/s  \(readableDuration(left)) left"
        writeStderr("\r\u{1B}[K" + line)
    }

    /// Clears the line.
    func finish() {
        if drawn { writeStderr("\r\u{1B}[K") }
    }
}

/// `3 s`, `4 min 10 s`, `2 h 5 min`.
func readableDuration(_ s: Double) -> String {
    guard s.isFinite else { return "?" }
    let t = Int(s.rounded(.up))
    if t < 60 { return "\(t) s" }
    if t < 3600 { return "\(t / 60) min \(t % 60) s" }
    return "\(t / 3600) h \((t % 3600) / 60) min"
}
