import TapeVM
import TapeVMIO

/// min / max / mean of f, max |∇f|, and the value and gradient at a few sample points.
final class GridStatistics: GridSink {
    struct Sample { var i: Int; var j: Int; var x = 0.0, y = 0.0, f = 0.0, dfdx = 0.0, dfdy = 0.0 }

    var minimum = Double.infinity
    var maximum = -Double.infinity
    var sum = 0.0
    var finiteCount = 0
    var nonFiniteValues = 0
    var maxGradientNorm = 0.0
    var nonFiniteGradients = 0
    var samples: [Sample]

    init(grid: GridSpec) {
        // The first corner, the centre and the opposite corner.
        var picks: [(Int, Int)] = []
        for p in [(0, 0), (grid.nx / 2, grid.ny / 2), (grid.nx - 1, grid.ny - 1)] where !picks.contains(where: { $0 == p }) {
            picks.append(p)
        }
        samples = picks.map { Sample(i: $0.0, j: $0.1) }
    }

    var mean: Double { finiteCount > 0 ? sum / Double(finiteCount) : .nan }

    func consume(_ b: GridBlock, grid: GridSpec) throws(CLIError) {
        var (lo, hi, s, finite, bad) = (minimum, maximum, 0.0, 0, 0)
        var (gmax, gbad) = (maxGradientNorm, 0)
        for k in 0..<b.count {
            let v = b.f[k]
            if v.isFinite {
                lo = Swift.min(lo, v)
                hi = Swift.max(hi, v)
                s += v
                finite += 1
            } else {
                bad += 1
            }
            let g2 = b.dfdx[k] * b.dfdx[k] + b.dfdy[k] * b.dfdy[k]
            if g2.isFinite { gmax = Swift.max(gmax, g2.squareRoot()) } else { gbad += 1 }
        }
        (minimum, maximum, finiteCount, nonFiniteValues) = (lo, hi, finiteCount + finite, nonFiniteValues + bad)
        sum += s
        (maxGradientNorm, nonFiniteGradients) = (gmax, nonFiniteGradients + gbad)
        for (n, p) in samples.enumerated() {
            let k = p.j * grid.nx + p.i - b.start
            if k >= 0 && k < b.count {
                samples[n] = Sample(i: p.i, j: p.j, x: b.x[k], y: b.y[k], f: b.f[k], dfdx: b.dfdx[k], dfdy: b.dfdy[k])
            }
        }
    }

    func finish(grid: GridSpec) throws(CLIError) {}
}

/// Streams `[f, df/dx, df/dy]` per point into a `.npy` file of shape `(ny, nx, 3)`.
final class NPYSink: GridSink {
    let writer: NPYWriter
    private var interleaved: [Double] = []

    init(path: String, grid: GridSpec) throws(CLIError) {
        do throws(FileError) {
            writer = try NPYWriter(path: path, shape: [grid.ny, grid.nx, 3])
        } catch {
            throw .file(error)
        }
    }

    func consume(_ b: GridBlock, grid: GridSpec) throws(CLIError) {
        if interleaved.count < 3 * b.count { interleaved = [Double](repeating: 0, count: 3 * b.count) }
        for k in 0..<b.count {
            interleaved[3 * k] = b.f[k]
            interleaved[3 * k + 1] = b.dfdx[k]
            interleaved[3 * k + 2] = b.dfdy[k]
        }
        do throws(FileError) {
            try interleaved.withUnsafeBufferPointer { (buf) throws(FileError) in
                try writer.write(UnsafeBufferPointer(rebasing: buf[0..<3 * b.count]))
            }
        } catch {
            throw .file(error)
        }
    }

    func finish(grid: GridSpec) throws(CLIError) {
        do throws(FileError) { try writer.finish() } catch { throw .file(error) }
    }
}

/// Streams `x,y,f,df/dx,df/dy` rows into a CSV file.
final class CSVSink: GridSink {
    let file: OutputFile
    let names: [String]

    init(path: String, inputs: [String], output: String) throws(CLIError) {
        names = inputs
        do throws(FileError) {
            file = try OutputFile(path: path)
            try file.write("\(inputs[0]),\(inputs[1]),\(output),d\(output)/d\(inputs[0]),d\(output)/d\(inputs[1])\n")
        } catch {
            throw .file(error)
        }
    }

    func consume(_ b: GridBlock, grid: GridSpec) throws(CLIError) {
        var text = ""
        text.reserveCapacity(b.count * 80)
        for k in 0..<b.count {
            text += csvCell(b.x[k]); text += ","
            text += csvCell(b.y[k]); text += ","
            text += csvCell(b.f[k]); text += ","
            text += csvCell(b.dfdx[k]); text += ","
            text += csvCell(b.dfdy[k]); text += "\n"
        }
        do throws(FileError) { try file.write(text) } catch { throw .file(error) }
    }

    func finish(grid: GridSpec) throws(CLIError) {
        do throws(FileError) { try file.commit() } catch { throw .file(error) }
    }
}
