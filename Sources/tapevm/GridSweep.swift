import Dispatch
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
/// output: `f, g, df/dx, df/dy, dg/dx, dg/dy`.
struct GridColumns {
    /// The chosen outputs, as indices into the tape's outputs.
    var outputs: [Int]
    var gradients: Bool
    var inputCount: Int
    var names: [String]

    init(tape: Tape, outputs: [Int], gradients: Bool) {
        self.outputs = outputs
        self.gradients = gradients
        inputCount = tape.inputs.count
        let outNames = outputs.map { tape.outputs[$0].name }
        names = outNames + (gradients ? outNames.flatMap { f in tape.inputs.map { "d\(f)/d\($0)" } } : [])
    }

    var count: Int { names.count }
    /// The column of the `k`-th chosen output's gradient with respect to input slot `j`.
    func gradientColumn(output k: Int, input j: Int) -> Int { outputs.count + k * inputCount + j }
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

/// Streams the grid through `Program.run` in blocks of at most `blockPoints` points, so memory
/// is a block's worth whatever the grid size.
struct GridSweep {
    var program: Program
    var parameters: [Double]
    var columns: GridColumns
    var blockPoints = 1 << 16

    /// Points per block such that a block's inputs and columns fit in about 512 KiB per thread
    /// (a core's L2 cache, roughly): the statistics and files then read what the evaluation just
    /// wrote from cache rather than memory. At least 8192 points per thread, so the cost of a
    /// `Program.run` call stays small.
    static func blockPoints(inputs: Int, columns: Int, threads: Int) -> Int {
        let perThread = (512 << 10) / (8 * Swift.max(1, inputs + columns))
        return Swift.max(8192, perThread) * Swift.max(1, threads)
    }

    /// Points per chunk of a block whose coordinates one thread fills.
    static let fillChunk = 1 << 15

    /// Time spent inside `Program.run`, and in the whole sweep (including the sinks).
    struct Timing { var run: Duration; var total: Duration }

    func run(_ grid: GridSpec, sinks: [any GridSink], progress: Progress?) throws(CLIError) -> Timing {
        let clock = ContinuousClock()
        let begin = clock.now
        var runTime = Duration.zero
        let cap = Swift.max(1, Swift.min(blockPoints, grid.range.count))
        let nIn = grid.inputCount, nCol = columns.count
        let buffer = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, (nIn + nCol) * cap))
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 0, count: Swift.max(1, (nIn + nCol) * cap))
        let inputs = (0..<nIn).map { buffer + $0 * cap }
        let results = (0..<nCol).map { buffer + (nIn + $0) * cap }
        for f in grid.fixed { inputs[f.slot].update(repeating: f.value, count: cap) }
        let fillers = grid.axes.indices.map { AxisFiller(grid: grid, axis: $0) }

        let tape = program.tape
        var values = [UnsafeMutablePointer<Double>?](repeating: nil, count: tape.outputs.count)
        for (k, o) in columns.outputs.enumerated() { values[o] = results[k] }
        let requests = !columns.gradients ? [] : columns.outputs.enumerated().map { k, o in
            GradientRequest(seeds: tape.outputs.indices.map { $0 == o ? 1 : 0 },
                            inputGradients: (0..<nIn).map { results[columns.gradientColumn(output: k, input: $0)] })
        }
        let constInputs = inputs.map { UnsafePointer($0) }
        let constResults = results.map { UnsafePointer($0) }

        var start = grid.range.lowerBound
        while start < grid.range.upperBound {
            let n = Swift.min(cap, grid.range.upperBound - start)
            // The coordinates, in chunks filled in parallel.
            let chunks = (n + GridSweep.fillChunk - 1) / GridSweep.fillChunk
            let shared = Disjoint((fillers, inputs, grid.axes.map(\.slot), start))
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let (fillers, inputs, slots, start) = shared.value
                let lo = c * GridSweep.fillChunk, m = Swift.min(GridSweep.fillChunk, n - lo)
                for (d, filler) in fillers.enumerated() { filler.fill(inputs[slots[d]] + lo, from: start + lo, count: m) }
            }
            let t0 = clock.now
            do throws(EvaluationError) {
                try program.run(count: n, inputs: constInputs, parameters: parameters, values: values, gradients: requests)
            } catch {
                throw .evaluation(error)
            }
            runTime += clock.now - t0
            let block = GridBlock(start: start, count: n, inputs: constInputs, columns: constResults)
            for sink in sinks { try sink.consume(block) }
            start += n
            progress?.update(done: start - grid.range.lowerBound, elapsed: (clock.now - begin).seconds)
        }
        for sink in sinks { try sink.finish() }
        progress?.finish()
        return Timing(run: runTime, total: clock.now - begin)
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
