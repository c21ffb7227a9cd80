import Foundation

/// One cell of the results: a system at a case and batch size.
struct ResultRow: Codable {
    var `case`: String
    var n: Int
    var system: String
    /// Median ns per point (value + full gradient); absent when not run.
    var nsPerPoint: Double?
    var minNsPerPoint: Double?
    var maxNsPerPoint: Double?
    var repeats: Int?
    var callsPerSample: Int?
    /// This system's median over the baseline's (tapevm's) median.
    var ratioToBaseline: Double?
    /// Why it was not run: "no version of this case", "N > cap", "estimated ... s per call".
    var skipped: String?
}

struct FirstResult: Codable {
    var `case`: String
    /// "expression text → first result" or "tape text → first result".
    var label: String
    var what: String
    var points: Int
    /// The first time in this process.
    var coldMilliseconds: Double
    /// Median of further fresh runs (new tape, new program, new buffers each time).
    var warmMedianMilliseconds: Double
}

struct CaseInfo: Codable {
    var name: String
    var formula: String
    var instructions: Int
    var inputs: Int
    var parameters: Int
}

struct Report: Codable {
    var instructionSet: String
    var threads: Int
    var loadavgStart: String
    var loadavgEnd: String
    var baseline: String
    var systems: [String]
    var sizes: [Int]
    var cases: [CaseInfo]
    var results: [ResultRow]
    var warnings: [String]
    var firstResult: [FirstResult]
    var notes: [String]
}

enum Format {
    static func ns(_ x: Double) -> String {
        x < 10 ? String(format: "%.2f", x) : x < 100 ? String(format: "%.1f", x) : String(format: "%.0f", x)
    }

    static func ratio(_ x: Double) -> String {
        x < 10 ? String(format: "%.2fx", x) : x < 100 ? String(format: "%.1fx", x) : String(format: "%.0fx", x)
    }

    static func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
        let n = s.count
        if n >= width { return s }
        let fill = String(repeating: " ", count: width - n)
        return left ? s + fill : fill + s
    }
}

extension Report {
    /// The table for people: ns/point per system, then each system's ratio to the baseline.
    func table() -> String {
        var lines: [String] = []
        let others = systems.filter { $0 != baseline }
        let head = ["case", "N"] + systems + others.map { "\($0)/\(baseline)" }
        var rows: [[String]] = []
        var lastCase = ""
        for c in cases {
            for n in sizes {
                let cells = systems.map { s in results.first { $0.case == c.name && $0.n == n && $0.system == s } }
                guard cells.contains(where: { $0 != nil }) else { continue }
                var row = [c.name == lastCase ? "" : c.name, "\(n)"]
                lastCase = c.name
                for cell in cells {
                    if let v = cell?.nsPerPoint { row.append(Format.ns(v)) } else {
                        row.append(cell?.skipped == Skip.noVersion ? "n/a" : "—")
                    }
                }
                for s in others {
                    let r = results.first { $0.case == c.name && $0.n == n && $0.system == s }?.ratioToBaseline
                    row.append(r.map(Format.ratio) ?? "")
                }
                rows.append(row)
            }
        }
        let widths = head.indices.map { k in ([head[k]] + rows.map { $0[k] }).map(\.count).max()! }
        func render(_ r: [String]) -> String {
            r.enumerated().map { k, s in Format.pad(s, widths[k], left: k == 0) }.joined(separator: "  ")
        }
        lines.append("ns per point, value + full gradient (median of repeats); ratios = system / \(baseline)")
        lines.append(render(head))
        lines.append(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)))
        for r in rows { lines.append(render(r)) }
        lines.append("n/a: the system has no version of this case.  —: not run at this size (" +
                     "reference above 65536 points, or estimated time per call over the cap).")
        return lines.joined(separator: "\n")
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        } catch {
            return "{\"error\": \"\(error)\"}"
        }
    }
}

enum Skip {
    static let noVersion = "no version of this case"
}
