import TapeVM
import TapeVMIO

/// A heat map of f, shaded by |∇f|, written as a PNG of at most 1000×1000 pixels.
///
/// Each pixel averages the finite values of f and |∇f| of the grid points that fall in it, so
/// memory is the picture's, not the grid's. Colour follows f (viridis, from its 1st to its
/// 99th percentile over the pixels); brightness falls where |∇f| is large relative to its median.
/// The top row of the picture is the largest y. Pixels without a finite value are grey.
final class PNGSink: GridSink {
    static let maximumSide = 1000

    let path: String
    let width: Int
    let height: Int
    private var fSum: [Double]
    private var gSum: [Double]
    private var counts: [Int32]
    private let columnOf: [Int]
    private let rowOf: [Int]

    init(path: String, grid: GridSpec) {
        self.path = path
        width = Swift.min(grid.nx, PNGSink.maximumSide)
        height = Swift.min(grid.ny, PNGSink.maximumSide)
        fSum = [Double](repeating: 0, count: width * height)
        gSum = fSum
        counts = [Int32](repeating: 0, count: width * height)
        let (w, h) = (width, height)
        columnOf = (0..<grid.nx).map { $0 * w / grid.nx }
        rowOf = (0..<grid.ny).map { h - 1 - $0 * h / grid.ny }
    }

    func consume(_ b: GridBlock, grid: GridSpec) throws(CLIError) {
        var (i, j) = (b.start % grid.nx, b.start / grid.nx)
        for k in 0..<b.count {
            let v = b.f[k]
            let g = (b.dfdx[k] * b.dfdx[k] + b.dfdy[k] * b.dfdy[k]).squareRoot()
            if v.isFinite && g.isFinite {
                let p = rowOf[j] * width + columnOf[i]
                fSum[p] += v
                gSum[p] += g
                counts[p] += 1
            }
            i += 1
            if i == grid.nx { i = 0; j += 1 }
        }
    }

    func finish(grid: GridSpec) throws(CLIError) {
        var values: [Double] = [], norms: [Double] = []
        values.reserveCapacity(counts.count)
        norms.reserveCapacity(counts.count)
        for p in counts.indices where counts[p] > 0 {
            fSum[p] /= Double(counts[p])
            gSum[p] /= Double(counts[p])
            values.append(fSum[p])
            norms.append(gSum[p])
        }
        values.sort()
        norms.sort()
        // Colour from the 1st to the 99th percentile, so a few extreme pixels (near a pole, say)
        // do not wash out the rest of the picture.
        let lo = values.isEmpty ? 0 : values[values.count / 100]
        let hi = values.isEmpty ? 0 : values[values.count - 1 - values.count / 100]
        let median = norms.isEmpty ? 1 : Swift.max(norms[norms.count / 2], .leastNormalMagnitude)
        var rgb = [UInt8](repeating: 0, count: 3 * width * height)
        for p in counts.indices {
            guard counts[p] > 0 else {
                rgb[3 * p] = 128; rgb[3 * p + 1] = 128; rgb[3 * p + 2] = 128
                continue
            }
            let t = hi > lo ? (fSum[p] - lo) / (hi - lo) : 0.5
            let r = gSum[p] / (gSum[p] + median)   // 0.5 at the median
            let shade = 1 - 0.6 * r * r
            let c = PNGSink.viridis(t)
            for ch in 0..<3 { rgb[3 * p + ch] = UInt8(Swift.max(0, Swift.min(255, (c[ch] * shade).rounded()))) }
        }
        do throws(FileError) {
            try PNGWriter.write(width: width, height: height, rgb: rgb, to: path)
        } catch {
            throw .file(error)
        }
    }

    /// The viridis colour map, by linear interpolation between nine of its colours.
    static func viridis(_ t: Double) -> [Double] {
        let stops: [[Double]] = [
            [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
            [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
        ]
        let u = Swift.max(0, Swift.min(1, t.isNaN ? 0 : t)) * Double(stops.count - 1)
        let k = Swift.min(stops.count - 2, Int(u))
        let w = u - Double(k)
        return (0..<3).map { stops[k][$0] * (1 - w) + stops[k + 1][$0] * w }
    }
}
