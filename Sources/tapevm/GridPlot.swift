import Foundation
import TapeVM
import TapeVMIO

/// An RGB colour.
struct RGB: Equatable {
    var r: UInt8, g: UInt8, b: UInt8
    static let black = RGB(r: 0, g: 0, b: 0), white = RGB(r: 255, g: 255, b: 255)
    static let grey = RGB(r: 128, g: 128, b: 128), text = RGB(r: 34, g: 34, b: 34), faint = RGB(r: 100, g: 100, b: 100)
    var hex: String { "#" + [r, g, b].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
}

/// What a plot is made of, in picture coordinates (pixels, origin at the top left): drawn by
/// ``SVGRenderer`` as vector graphics and by ``RasterRenderer`` into a PNG, so both files
/// show the same picture.
enum PlotShape {
    /// `width × height` pixels (RGB, top row first) stretched over a rectangle.
    case image(x: Double, y: Double, width: Double, height: Double, pixels: [UInt8], pixelWidth: Int, pixelHeight: Int, smooth: Bool)
    case rect(x: Double, y: Double, width: Double, height: Double, fill: RGB?, stroke: RGB?)
    case line(x1: Double, y1: Double, x2: Double, y2: Double, color: RGB, width: Double)
    case polygon([(Double, Double)], fill: RGB, stroke: RGB?)
    /// Text with its baseline at `y`; `anchor` is 0 (start), 0.5 (middle) or 1 (end);
    /// `vertical` turns it a quarter anticlockwise about `(x, y)`.
    case text(String, x: Double, y: Double, size: Double, anchor: Double, color: RGB, vertical: Bool)
}

/// A picture: its size and shapes, drawn in order.
struct PlotScene {
    var width: Double
    var height: Double
    var shapes: [PlotShape] = []
}

/// `--plot`: a heat map of the first output over a 2-D grid (or slice), with axes, tick labels,
/// input names, a colour bar with values, the function as the title, and gradient arrows on a
/// coarser lattice; written as SVG or PNG.
///
/// Memory is the picture's, not the grid's: each pixel averages the finite values of the points
/// that fall in it (at most 600 × 600 pixels), each arrow cell averages their gradients.
final class GridPlotSink: GridSink {
    static let maximumSide = 600
    static let arrowCells = 16

    let path: String
    let isPNG: Bool
    let title: String
    let subtitle: String
    let outputName: String
    /// The horizontal (inner, last) and vertical (outer) axes.
    let across: GridAxis, up: GridAxis
    let valueColumn: Int
    /// The columns of ∂f/∂(across) and ∂f/∂(up), when there are gradients.
    let gradientColumns: (Int, Int)?
    let width: Int, height: Int
    let cellsAcross: Int, cellsUp: Int
    private var sums: [Double], counts: [Int32]
    /// Per arrow cell: the gradient (across, up) at the grid point nearest its centre.
    private var arrowGradients: [(Double, Double)?]
    /// The grid indices of the cells' centre points along each axis.
    private let centreAcross: [Int], centreUp: [Int]

    init(path: String, grid: GridSpec, columns: GridColumns, tape: Tape, title: String) throws(CLIError) {
        let ext = path.split(separator: ".").last.map { $0.lowercased() }
        guard ext == "svg" || ext == "png" else { throw .usage("--plot \(path): unknown picture type: use .svg or .png") }
        let plotted = grid.axes.filter { $0.count > 1 }
        guard plotted.count == 2 else {
            throw .usage("--plot draws a 2-D grid or slice: this grid has \(plotted.count) axes of more than one point\(plotted.isEmpty ? "" : " (\(plotted.map(\.name).joined(separator: ", ")))")\(plotted.count > 2 ? "; fix the others with --at" : "; give two --grid axes")")
        }
        guard grid.shard == nil else { throw .usage("--plot draws the whole grid: it cannot be used with --shard") }
        self.path = path
        isPNG = ext == "png"
        self.title = title
        (up, across) = (plotted[0], plotted[1])
        let output = columns.outputs[0]
        outputName = tape.outputs[output].name
        valueColumn = 0
        gradientColumns = columns.gradients
            ? (columns.gradientColumn(output: 0, input: plotted[1].slot), columns.gradientColumn(output: 0, input: plotted[0].slot)) : nil
        let held = grid.fixed.map { "\($0.name) = \(readable($0.value))" } + grid.axes.filter { $0.count == 1 }.map { "\($0.name) = \(readable($0.start))" }
        subtitle = "\(outputName) over \(across.name) and \(up.name)" + (held.isEmpty ? "" : " at " + held.joined(separator: ", "))
        width = Swift.min(across.count, GridPlotSink.maximumSide)
        height = Swift.min(up.count, GridPlotSink.maximumSide)
        cellsAcross = Swift.min(across.count, GridPlotSink.arrowCells)
        cellsUp = Swift.min(up.count, GridPlotSink.arrowCells)
        sums = [Double](repeating: 0, count: width * height)
        counts = [Int32](repeating: 0, count: width * height)
        arrowGradients = Array(repeating: nil, count: cellsAcross * cellsUp)
        let (na, nu, ca, cu) = (across.count, up.count, cellsAcross, cellsUp)
        centreAcross = (0..<ca).map { Swift.min(na - 1, Int(((Double($0) + 0.5) * Double(na) / Double(ca) - 0.5).rounded())) }
        centreUp = (0..<cu).map { Swift.min(nu - 1, Int(((Double($0) + 0.5) * Double(nu) / Double(cu) - 0.5).rounded())) }
    }

    var summary: String {
        "\(path): \(isPNG ? "PNG" : "SVG") heat map of \(outputName) over \(across.name) and \(up.name)\(gradientColumns == nil ? "" : " with gradient arrows")"
    }

    func consume(_ b: GridBlock) throws(CLIError) {
        // Only the two plotted axes have more than one point, the outer before the inner.
        var (i, j) = (b.start % across.count, b.start / across.count)
        let f = b.columns[valueColumn]
        let g = gradientColumns.map { (b.columns[$0.0], b.columns[$0.1]) }
        for k in 0..<b.count {
            let v = f[k]
            if v.isFinite {
                let p = (height - 1 - j * height / up.count) * width + i * width / across.count
                sums[p] += v
                counts[p] += 1
            }
            if let (ga, gu) = g {
                let (ca, cu) = (i * cellsAcross / across.count, j * cellsUp / up.count)
                if centreAcross[ca] == i && centreUp[cu] == j && ga[k].isFinite && gu[k].isFinite {
                    arrowGradients[cu * cellsAcross + ca] = (ga[k], gu[k])
                }
            }
            i += 1
            if i == across.count { i = 0; j += 1 }
        }
    }

    func finish() throws(CLIError) {
        let scene = makeScene()
        do throws(FileError) {
            let file = try OutputFile(path: path)
            if isPNG {
                var raster = RasterRenderer(width: Int(scene.width), height: Int(scene.height))
                raster.draw(scene)
                guard let bytes = PNGWriter.encode(width: raster.width, height: raster.height, rgb: raster.pixels) else {
                    throw FileError(path: path, "cannot encode the picture")
                }
                try file.write(bytes)
            } else {
                try file.write(SVGRenderer.render(scene))
            }
            try file.commit()
        } catch {
            throw .file(error)
        }
    }

    // MARK: Layout

    func makeScene() -> PlotScene {
        // The heat map: pixel means, coloured from the 1st to the 99th percentile.
        var values: [Double] = []
        values.reserveCapacity(counts.count)
        for p in counts.indices where counts[p] > 0 {
            sums[p] /= Double(counts[p])
            values.append(sums[p])
        }
        values.sort()
        var lo = values.isEmpty ? 0 : values[values.count / 100]
        var hi = values.isEmpty ? 1 : values[values.count - 1 - values.count / 100]
        if !(hi > lo) { (lo, hi) = (lo - 0.5, lo + 0.5) }
        var pixels = [UInt8](repeating: 128, count: 3 * width * height)
        for p in counts.indices where counts[p] > 0 {
            let c = viridis((sums[p] - lo) / (hi - lo))
            (pixels[3 * p], pixels[3 * p + 1], pixels[3 * p + 2]) = (c.r, c.g, c.b)
        }

        let plotW = 560.0
        let aspect = abs(up.stop - up.start) / Swift.max(abs(across.stop - across.start), .leastNormalMagnitude)
        let plotH = Swift.min(560, Swift.max(280, (plotW * aspect).rounded()))
        let (left, top) = (86.0, 74.0)
        var scene = PlotScene(width: left + plotW + 150, height: top + plotH + 92)
        func x(_ v: Double) -> Double { left + plotW * (v - across.start) / (across.stop - across.start) }
        func y(_ v: Double) -> Double { top + plotH - plotH * (v - up.start) / (up.stop - up.start) }

        scene.shapes.append(.rect(x: 0, y: 0, width: scene.width, height: scene.height, fill: .white, stroke: nil))
        scene.shapes.append(.text(title, x: scene.width / 2, y: 28, size: 16, anchor: 0.5, color: .text, vertical: false))
        scene.shapes.append(.text(subtitle, x: scene.width / 2, y: 50, size: 12, anchor: 0.5, color: .faint, vertical: false))
        scene.shapes.append(.image(x: left, y: top, width: plotW, height: plotH, pixels: pixels, pixelWidth: width, pixelHeight: height,
                                   smooth: width >= 100 && height >= 100))
        scene.shapes += arrows(left: left, top: top, plotW: plotW, plotH: plotH)
        scene.shapes.append(.rect(x: left, y: top, width: plotW, height: plotH, fill: nil, stroke: .text))

        // Axes: ticks, labels and names.
        for t in niceTicks(across.start, across.stop, target: 7) {
            let px = x(t)
            scene.shapes.append(.line(x1: px, y1: top + plotH, x2: px, y2: top + plotH + 6, color: .text, width: 1))
            scene.shapes.append(.text(tickLabel(t), x: px, y: top + plotH + 21, size: 12, anchor: 0.5, color: .text, vertical: false))
        }
        scene.shapes.append(.text(across.name, x: left + plotW / 2, y: top + plotH + 44, size: 14, anchor: 0.5, color: .text, vertical: false))
        for t in niceTicks(up.start, up.stop, target: 6) {
            let py = y(t)
            scene.shapes.append(.line(x1: left - 6, y1: py, x2: left, y2: py, color: .text, width: 1))
            scene.shapes.append(.text(tickLabel(t), x: left - 9, y: py + 4, size: 12, anchor: 1, color: .text, vertical: false))
        }
        scene.shapes.append(.text(up.name, x: left - 56, y: top + plotH / 2, size: 14, anchor: 0.5, color: .text, vertical: true))

        // The colour bar, with the values of its colours.
        let barX = left + plotW + 28, barW = 18.0
        let bar = (0..<256).reversed().flatMap { k -> [UInt8] in let c = viridis(Double(k) / 255); return [c.r, c.g, c.b] }
        scene.shapes.append(.image(x: barX, y: top, width: barW, height: plotH, pixels: bar, pixelWidth: 1, pixelHeight: 256, smooth: true))
        scene.shapes.append(.rect(x: barX, y: top, width: barW, height: plotH, fill: nil, stroke: .text))
        for t in niceTicks(lo, hi, target: 6) where t >= lo && t <= hi {
            let py = top + plotH - plotH * (t - lo) / (hi - lo)
            scene.shapes.append(.line(x1: barX + barW, y1: py, x2: barX + barW + 5, y2: py, color: .text, width: 1))
            scene.shapes.append(.text(tickLabel(t), x: barX + barW + 8, y: py + 4, size: 12, anchor: 0, color: .text, vertical: false))
        }
        scene.shapes.append(.text(outputName, x: barX + barW / 2, y: top - 10, size: 14, anchor: 0.5, color: .text, vertical: false))

        var notes = ["colours: \(outputName) from \(readable(lo)) to \(readable(hi))\(values.count >= 100 ? " (1st to 99th percentile)" : "")"]
        if counts.contains(0) { notes[0] += "; grey: NaN or infinite" }
        if let norm = fullLengthNorm {
            notes.append("arrows: ∇\(outputName) at their centres, pointing uphill; length grows with |∇\(outputName)| up to full length at \(readable(norm))")
        }
        for (k, note) in notes.enumerated() {
            scene.shapes.append(.text(note, x: left, y: top + plotH + 66 + 16 * Double(k), size: 11, anchor: 0, color: .faint, vertical: false))
        }
        return scene
    }

    /// The |∇f| from which arrows are drawn at full length, once the arrows are laid out.
    private var fullLengthNorm: Double?

    /// Arrows on a lattice of cells, each along the gradient at the grid point nearest the
    /// cell's centre, drawn in picture coordinates (so they cross the colour bands at right
    /// angles). Length grows with |∇f| up to 85% of a cell, reached at the 90th percentile of
    /// the arrows (so a pole does not shrink all the others to dots); very short ones are left out.
    private func arrows(left: Double, top: Double, plotW: Double, plotH: Double) -> [PlotShape] {
        guard gradientColumns != nil else { return [] }
        let (cellW, cellH) = (plotW / Double(cellsAcross), plotH / Double(cellsUp))
        // Change of the inputs per picture pixel along each direction.
        let (perA, perU) = ((across.stop - across.start) / plotW, (up.stop - up.start) / plotH)
        var vectors: [(x: Double, y: Double, dx: Double, dy: Double, norm: Double)] = []
        for cu in 0..<cellsUp {
            for ca in 0..<cellsAcross {
                guard let (ga, gu) = arrowGradients[cu * cellsAcross + ca] else { continue }
                let x = left + plotW * (Double(centreAcross[ca]) / Double(across.count - 1))
                let y = top + plotH - plotH * (Double(centreUp[cu]) / Double(up.count - 1))
                vectors.append((x, y, ga * perA, -gu * perU, (ga * ga + gu * gu).squareRoot()))
            }
        }
        let lengths = vectors.map { ($0.dx * $0.dx + $0.dy * $0.dy).squareRoot() }
        let order = lengths.indices.filter { lengths[$0] > 0 }.sorted { lengths[$0] < lengths[$1] }
        guard !order.isEmpty else { return [] }
        let reference = order[Swift.min(order.count - 1, order.count * 9 / 10)]
        fullLengthNorm = vectors[reference].norm
        let full = 0.85 * Swift.min(cellW, cellH)
        var shapes: [PlotShape] = []
        for (v, length) in zip(vectors, lengths) {
            let drawn = full * Swift.min(1, length / lengths[reference])
            guard drawn >= 4 else { continue }
            let (ux, uy) = (v.dx / length, v.dy / length)
            let (x0, y0, x1, y1) = (v.x - ux * drawn / 2, v.y - uy * drawn / 2, v.x + ux * drawn / 2, v.y + uy * drawn / 2)
            let head = Swift.min(7, 0.5 * drawn)
            let (bx, by) = (x1 - ux * head, y1 - uy * head)
            let wing = 0.5 * head
            shapes.append(.line(x1: x0, y1: y0, x2: bx, y2: by, color: .black, width: 3.4))
            shapes.append(.line(x1: x0, y1: y0, x2: bx, y2: by, color: .white, width: 1.6))
            shapes.append(.polygon([(x1, y1), (bx - uy * wing, by + ux * wing), (bx + uy * wing, by - ux * wing)], fill: .white, stroke: .black))
        }
        return shapes
    }
}

/// About `target` round tick values (1, 2 or 5 times a power of ten apart) within `[a, b]`.
func niceTicks(_ a: Double, _ b: Double, target: Int) -> [Double] {
    let (lo, hi) = (Swift.min(a, b), Swift.max(a, b))
    guard hi > lo, lo.isFinite, hi.isFinite else { return lo.isFinite ? [lo] : [] }
    let raw = (hi - lo) / Double(target)
    let power = pow(10, (log10(raw)).rounded(.down))
    let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
    var ticks: [Double] = []
    var k = (lo / step).rounded(.up)
    while k * step <= hi + step * 1e-9 {
        let t = k * step
        ticks.append(abs(t) < step * 1e-9 ? 0 : t)
        k += 1
    }
    return ticks
}

/// A tick value: `%g` with enough digits for round steps (`0.1`, `2.5`, `1e+06`).
func tickLabel(_ t: Double) -> String {
    var s = format(t, "%.6g")
    if s == "-0" { s = "0" }
    return s.replacing("-", with: "−")
}

/// The viridis colour map, by linear interpolation between nine of its colours.
func viridis(_ t: Double) -> RGB {
    let stops: [[Double]] = [
        [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
        [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
    ]
    let u = Swift.max(0, Swift.min(1, t.isNaN ? 0 : t)) * Double(stops.count - 1)
    let k = Swift.min(stops.count - 2, Int(u))
    let w = u - Double(k)
    let c = (0..<3).map { UInt8((stops[k][$0] * (1 - w) + stops[k + 1][$0] * w).rounded()) }
    return RGB(r: c[0], g: c[1], b: c[2])
}

/// Draws a ``PlotScene`` as an SVG document; images are embedded PNGs.
enum SVGRenderer {
    static func render(_ scene: PlotScene) -> String {
        func n(_ v: Double) -> String { format(v, "%.2f") }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(n(scene.width))" height="\(n(scene.height))" \
            viewBox="0 0 \(n(scene.width)) \(n(scene.height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">

            """
        for shape in scene.shapes {
            switch shape {
            case let .image(x, y, w, h, pixels, pw, ph, smooth):
                let png = PNGWriter.encode(width: pw, height: ph, rgb: pixels) ?? []
                out += "<image x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\" preserveAspectRatio=\"none\""
                out += smooth ? "" : " style=\"image-rendering:pixelated\""
                out += " href=\"data:image/png;base64,\(Data(png).base64EncodedString())\"/>\n"
            case let .rect(x, y, w, h, fill, stroke):
                out += "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\" fill=\"\(fill?.hex ?? "none")\""
                out += stroke.map { " stroke=\"\($0.hex)\" stroke-width=\"1\"" } ?? ""
                out += "/>\n"
            case let .line(x1, y1, x2, y2, color, width):
                out += "<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(color.hex)\" stroke-width=\"\(n(width))\" stroke-linecap=\"round\"/>\n"
            case let .polygon(points, fill, stroke):
                out += "<polygon points=\"\(points.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " "))\" fill=\"\(fill.hex)\""
                out += stroke.map { " stroke=\"\($0.hex)\" stroke-width=\"1\" stroke-linejoin=\"round\"" } ?? ""
                out += "/>\n"
            case let .text(text, x, y, size, anchor, color, vertical):
                let a = anchor == 0 ? "start" : anchor == 1 ? "end" : "middle"
                out += "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" text-anchor=\"\(a)\" fill=\"\(color.hex)\""
                out += vertical ? " transform=\"rotate(-90 \(n(x)) \(n(y)))\"" : ""
                out += ">\(escape(text))</text>\n"
            }
        }
        return out + "</svg>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;").replacing("\"", with: "&quot;")
    }
}
