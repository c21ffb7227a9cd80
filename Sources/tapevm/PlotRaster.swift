import Foundation

/// Draws a ``PlotScene`` into RGB pixels for a PNG: anti-aliased lines and text (``PlotFont``),
/// filled polygons, and images scaled by nearest neighbour (the colour bar by interpolation).
struct RasterRenderer {
    let width: Int, height: Int
    /// RGB, top row first.
    private(set) var pixels: [UInt8]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 255, count: 3 * width * height)
    }

    mutating func draw(_ scene: PlotScene) {
        for shape in scene.shapes {
            switch shape {
            case let .image(x, y, w, h, src, pw, ph, smooth): image(x, y, w, h, src, pw, ph, smooth)
            case let .rect(x, y, w, h, fill, stroke):
                if let fill { fillRect(x, y, w, h, fill) }
                if let stroke {
                    let (x0, y0, x1, y1) = (x.rounded() + 0.5, y.rounded() + 0.5, (x + w).rounded() - 0.5, (y + h).rounded() - 0.5)
                    line(x0, y0, x1, y0, stroke, 1); line(x1, y0, x1, y1, stroke, 1)
                    line(x1, y1, x0, y1, stroke, 1); line(x0, y1, x0, y0, stroke, 1)
                }
            case let .line(x1, y1, x2, y2, color, w): line(x1, y1, x2, y2, color, w)
            case let .polygon(points, fill, stroke):
                polygon(points, fill)
                if let stroke {
                    for k in points.indices {
                        let (a, b) = (points[k], points[(k + 1) % points.count])
                        line(a.0, a.1, b.0, b.1, stroke, 1)
                    }
                }
            case let .text(text, x, y, size, anchor, color, vertical): self.text(text, x, y, size, anchor, color, vertical)
            }
        }
    }

    /// Mixes `color` into pixel `(x, y)` with opacity `alpha` (0 to 1).
    private mutating func blend(_ x: Int, _ y: Int, _ color: RGB, _ alpha: Double) {
        guard x >= 0, y >= 0, x < width, y < height, alpha > 0 else { return }
        let a = Swift.min(1, alpha), p = 3 * (y * width + x)
        for (k, c) in [color.r, color.g, color.b].enumerated() {
            pixels[p + k] = UInt8((Double(pixels[p + k]) * (1 - a) + Double(c) * a).rounded())
        }
    }

    private mutating func fillRect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ color: RGB) {
        for py in Int(y.rounded())..<Int((y + h).rounded()) {
            for px in Int(x.rounded())..<Int((x + w).rounded()) { blend(px, py, color, 1) }
        }
    }

    private mutating func image(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ src: [UInt8], _ pw: Int, _ ph: Int, _ smooth: Bool) {
        let (x0, y0) = (Int(x.rounded()), Int(y.rounded()))
        let (x1, y1) = (Int((x + w).rounded()), Int((y + h).rounded()))
        for py in y0..<y1 {
            for px in x0..<x1 {
                // The source position of this pixel's centre.
                let sx = (Double(px - x0) + 0.5) / Double(x1 - x0) * Double(pw) - 0.5
                let sy = (Double(py - y0) + 0.5) / Double(y1 - y0) * Double(ph) - 0.5
                var c = [0.0, 0, 0]
                if smooth {
                    let (ix, iy) = (Swift.max(0, Swift.min(pw - 1, Int(sx.rounded(.down)))), Swift.max(0, Swift.min(ph - 1, Int(sy.rounded(.down)))))
                    let (jx, jy) = (Swift.min(pw - 1, ix + 1), Swift.min(ph - 1, iy + 1))
                    let (fx, fy) = (Swift.max(0, Swift.min(1, sx - Double(ix))), Swift.max(0, Swift.min(1, sy - Double(iy))))
                    for k in 0..<3 {
                        let top = Double(src[3 * (iy * pw + ix) + k]) * (1 - fx) + Double(src[3 * (iy * pw + jx) + k]) * fx
                        let bottom = Double(src[3 * (jy * pw + ix) + k]) * (1 - fx) + Double(src[3 * (jy * pw + jx) + k]) * fx
                        c[k] = top * (1 - fy) + bottom * fy
                    }
                } else {
                    let (ix, iy) = (Swift.max(0, Swift.min(pw - 1, Int((sx + 0.5).rounded(.down)))), Swift.max(0, Swift.min(ph - 1, Int((sy + 0.5).rounded(.down)))))
                    for k in 0..<3 { c[k] = Double(src[3 * (iy * pw + ix) + k]) }
                }
                blend(px, py, RGB(r: UInt8(c[0].rounded()), g: UInt8(c[1].rounded()), b: UInt8(c[2].rounded())), 1)
            }
        }
    }

    /// A line of width `w` with round ends: each pixel covered by its distance to the segment.
    private mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ color: RGB, _ w: Double) {
        let r = w / 2
        let (dx, dy) = (x2 - x1, y2 - y1)
        let length2 = dx * dx + dy * dy
        for py in Int((Swift.min(y1, y2) - r - 1).rounded(.down))...Int((Swift.max(y1, y2) + r + 1).rounded(.up)) {
            for px in Int((Swift.min(x1, x2) - r - 1).rounded(.down))...Int((Swift.max(x1, x2) + r + 1).rounded(.up)) {
                let (cx, cy) = (Double(px) + 0.5, Double(py) + 0.5)
                let t = length2 > 0 ? Swift.max(0, Swift.min(1, ((cx - x1) * dx + (cy - y1) * dy) / length2)) : 0
                let (ex, ey) = (cx - x1 - t * dx, cy - y1 - t * dy)
                let d = (ex * ex + ey * ey).squareRoot()
                blend(px, py, color, Swift.max(0, Swift.min(1, r + 0.5 - d)))
            }
        }
    }

    /// A convex polygon, its edge pixels covered by 4 × 4 samples.
    private mutating func polygon(_ points: [(Double, Double)], _ color: RGB) {
        guard points.count >= 3 else { return }
        let xs = points.map(\.0), ys = points.map(\.1)
        func inside(_ x: Double, _ y: Double) -> Bool {
            var sign = 0.0
            for k in points.indices {
                let (a, b) = (points[k], points[(k + 1) % points.count])
                let cross = (b.0 - a.0) * (y - a.1) - (b.1 - a.1) * (x - a.0)
                if cross != 0 {
                    if sign == 0 { sign = cross } else if (cross > 0) != (sign > 0) { return false }
                }
            }
            return true
        }
        for py in Int(ys.min()!.rounded(.down))...Int(ys.max()!.rounded(.up)) {
            for px in Int(xs.min()!.rounded(.down))...Int(xs.max()!.rounded(.up)) {
                var hits = 0
                for sy in 0..<4 { for sx in 0..<4 where inside(Double(px) + (Double(sx) + 0.5) / 4, Double(py) + (Double(sy) + 0.5) / 4) { hits += 1 } }
                blend(px, py, color, Double(hits) / 16)
            }
        }
    }

    /// Text in the nearest of ``PlotFont/sizes``; characters without a glyph show as `?`.
    private mutating func text(_ s: String, _ x: Double, _ y: Double, _ size: Double, _ anchor: Double, _ color: RGB, _ vertical: Bool) {
        let f = PlotFont.sizes.indices.min { abs(PlotFont.sizes[$0] - size) < abs(PlotFont.sizes[$1] - size) }!
        let glyphs = s.map { PlotFont.glyphs[f][$0] ?? PlotFont.glyphs[f]["?"]! }
        let total = glyphs.reduce(0) { $0 + $1.advance }
        var pen = -anchor * total
        for g in glyphs {
            let origin = Int(pen.rounded())
            for row in 0..<g.height {
                for col in 0..<g.width {
                    let k = row * g.width + col
                    let byte = PlotFont.coverage[g.offset + k / 2]
                    let a = Double(k % 2 == 0 ? byte >> 4 : byte & 15) / 15
                    guard a > 0 else { continue }
                    // Offsets from the anchor point: along the text, and down from the baseline.
                    let (along, down) = (origin + g.left + col, g.top + row)
                    if vertical {
                        blend(Int(x.rounded()) + down, Int(y.rounded()) - along, color, a)
                    } else {
                        blend(Int(x.rounded()) + along, Int(y.rounded()) + down, color, a)
                    }
                }
            }
            pen += g.advance
        }
    }
}
