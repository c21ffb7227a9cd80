import TapeVM
import TapeVMIO

/// The grid: `nx` points from `x.lo` to `x.hi` (ends included) times `ny` from `y.lo` to `y.hi`,
/// ordered row by row (`y` outer, `x` inner), as in the `.npy` array of shape `(ny, nx, 3)`.
struct GridSpec {
    var nx: Int
    var ny: Int
    var x: AxisRange
    var y: AxisRange

    var count: Int { nx * ny }

    /// Coordinate `i` of `n` on `[lo, hi]`: the ends exactly, and `0` exactly at the middle of
    /// a symmetric range with an odd `n`.
    static func coordinate(_ i: Int, of n: Int, _ r: AxisRange) -> Double {
        n == 1 ? r.lo : (r.lo * Double(n - 1 - i) + r.hi * Double(i)) / Double(n - 1)
    }
}

/// One block of the sweep: points `start ..< start + count` in row-major order, and their
/// coordinates, value and gradient.
struct GridBlock {
    var start: Int
    var count: Int
    var x: UnsafePointer<Double>
    var y: UnsafePointer<Double>
    var f: UnsafePointer<Double>
    var dfdx: UnsafePointer<Double>
    var dfdy: UnsafePointer<Double>
}

/// Something that consumes the grid block by block, in order.
protocol GridSink: AnyObject {
    func consume(_ block: GridBlock, grid: GridSpec) throws(CLIError)
    func finish(grid: GridSpec) throws(CLIError)
}

/// Streams the grid through `Program.run` in blocks of at most `blockPoints` points, so memory
/// is a few blocks' worth whatever the grid size.
struct GridSweep {
    var program: Program
    var parameters: [Double]
    /// The output differentiated.
    var output: Int
    var blockPoints = 1 << 18

    /// Time spent inside `Program.run`, and in the whole sweep (including the sinks).
    struct Timing { var run: Duration; var total: Duration }

    func run(_ grid: GridSpec, sinks: [any GridSink]) throws(CLIError) -> Timing {
        let clock = ContinuousClock()
        let begin = clock.now
        var runTime = Duration.zero
        let cap = Swift.max(1, Swift.min(blockPoints, grid.count))
        let buffer = UnsafeMutablePointer<Double>.allocate(capacity: 5 * cap)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 0, count: 5 * cap)
        let (x, y, f, gx, gy) = (buffer, buffer + cap, buffer + 2 * cap, buffer + 3 * cap, buffer + 4 * cap)
        let outputs = program.tape.outputs.count
        let values = (0..<outputs).map { $0 == output ? f : nil }
        let request = GradientRequest(seeds: (0..<outputs).map { $0 == output ? 1 : 0 }, inputGradients: [gx, gy])
        var start = 0
        while start < grid.count {
            let n = Swift.min(cap, grid.count - start)
            // Coordinates computed per point: nothing the size of a grid side is allocated.
            var (i, j) = (start % grid.nx, start / grid.nx)
            var yj = GridSpec.coordinate(j, of: grid.ny, grid.y)
            for k in 0..<n {
                x[k] = GridSpec.coordinate(i, of: grid.nx, grid.x)
                y[k] = yj
                i += 1
                if i == grid.nx { i = 0; j += 1; yj = GridSpec.coordinate(j, of: grid.ny, grid.y) }
            }
            let t0 = clock.now
            do throws(EvaluationError) {
                try program.run(count: n, inputs: [x, y], parameters: parameters, values: values, gradients: [request])
            } catch {
                throw .evaluation(error)
            }
            runTime += clock.now - t0
            let block = GridBlock(start: start, count: n, x: x, y: y, f: f, dfdx: gx, dfdy: gy)
            for sink in sinks { try sink.consume(block, grid: grid) }
            start += n
        }
        for sink in sinks { try sink.finish(grid: grid) }
        return Timing(run: runTime, total: clock.now - begin)
    }
}
