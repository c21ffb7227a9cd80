import CGridStatistics
import Foundation
import TapeVM
import TapeVMIO

/// min / max / mean and the counts of NaN and infinite values of one column.
struct ColumnSummary {
    var minimum = Double.infinity
    var maximum = -Double.infinity
    var sum = 0.0
    var finite = 0
    var nan = 0
    var infinite = 0

    var mean: Double { finite > 0 ? sum / Double(finite) : .nan }

    /// The summary of `n` values (one pass, vectorized where every value is finite).
    init(_ values: UnsafePointer<Double>, count n: Int) {
        var s = tvg_summary()
        tvg_summarize(values, n, &s)
        (minimum, maximum, sum) = (s.minimum, s.maximum, s.sum)
        (finite, nan, infinite) = (s.finite, s.nan, s.infinite)
    }

    init() {}

    /// Adds the values another summary counted (after this one's, for the sum's order).
    mutating func merge(_ other: ColumnSummary) {
        minimum = Swift.min(minimum, other.minimum)
        maximum = Swift.max(maximum, other.maximum)
        sum += other.sum
        (finite, nan, infinite) = (finite + other.finite, nan + other.nan, infinite + other.infinite)
    }

    /// `min …, max …, mean …`, with the NaN and infinite counts.
    var text: String {
        var line = finite > 0 ? "min \(readable(minimum)), max \(readable(maximum)), mean \(readable(mean))" : "no finite value"
        if nan > 0 || infinite > 0 { line += "; \(nan) NaN, \(infinite) infinite" }
        return line
    }
}

/// Per column: min / max / mean and NaN and infinite counts; per chosen output (with
/// gradients): the largest finite |∇f|; and every column at a few sample points (the first and
/// last point computed, and the grid's centre, or the middle point of a shard without it).
///
/// The sweep's workers summarize their chunks in parallel (``summarize(chunk:columns:count:)``)
/// into per-chunk slots, merged in chunk order at the end of each block: the same sums whatever
/// the number of threads.
final class GridStatistics {
    struct Sample { var point: Int; var coordinates: [Double] = []; var columns: [Double] = [] }

    let grid: GridSpec
    let layout: GridColumns
    var columns: [ColumnSummary]
    /// Per chosen output (with gradients): the largest finite |∇f| over all inputs.
    var maxGradientNorm: [Double]
    /// The points sampled, and per sample its coordinates (one per axis) then its columns,
    /// written by the worker that summarizes the chunk holding it.
    private let samplePoints: [Int]
    private let sampleStore: UnsafeMutablePointer<Double>
    private let sampleFound: UnsafeMutablePointer<Bool>
    /// This block's per-chunk summaries (`chunk * columns + column`) and largest norms
    /// (`chunk * outputs + output`).
    private var parts: UnsafeMutablePointer<ColumnSummary>
    private var norms: UnsafeMutablePointer<Double>
    private var capacity = 0
    private var chunks = 0

    init(grid: GridSpec, columns layout: GridColumns) {
        self.grid = grid
        self.layout = layout
        columns = Array(repeating: ColumnSummary(), count: layout.count)
        maxGradientNorm = layout.gradients ? Array(repeating: 0, count: layout.outputs.count) : []
        var picks: [Int] = []
        let r = grid.range
        // The centre of the grid (the middle index of every axis) when this run computes it.
        let centre = grid.axes.reduce(0) { $0 * $1.count + $1.count / 2 }
        for p in [r.lowerBound, r.contains(centre) ? centre : r.lowerBound + r.count / 2, r.upperBound - 1] where r.contains(p) && !picks.contains(p) {
            picks.append(p)
        }
        samplePoints = picks
        sampleStore = .allocate(capacity: Swift.max(1, picks.count * (grid.axes.count + layout.count)))
        sampleFound = .allocate(capacity: Swift.max(1, picks.count))
        sampleFound.initialize(repeating: false, count: Swift.max(1, picks.count))
        parts = .allocate(capacity: 1)
        norms = .allocate(capacity: 1)
    }

    deinit {
        parts.deallocate()
        norms.deallocate()
        sampleStore.deallocate()
        sampleFound.deallocate()
    }

    /// The sample points computed, with their coordinates and columns.
    var samples: [Sample] {
        let width = grid.axes.count + layout.count
        return samplePoints.indices.filter { sampleFound[$0] }.map { s in
            let row = UnsafeBufferPointer(start: sampleStore + s * width, count: width)
            return Sample(point: samplePoints[s], coordinates: Array(row[0..<grid.axes.count]), columns: Array(row[grid.axes.count...]))
        }
    }

    /// Makes room for a block of `chunks` chunks.
    func beginBlock(chunks: Int) {
        if chunks > capacity {
            parts.deallocate()
            norms.deallocate()
            capacity = chunks
            parts = .allocate(capacity: chunks * Swift.max(1, columns.count))
            norms = .allocate(capacity: chunks * Swift.max(1, maxGradientNorm.count))
        }
        self.chunks = chunks
    }

    /// Summarizes chunk `c` of the block, grid points `start ..< start + n` (any thread; each
    /// chunk once).
    func summarize(chunk c: Int, start: Int, inputs: [UnsafePointer<Double>], columns data: [UnsafePointer<Double>], count n: Int) {
        let nCol = columns.count, nOut = maxGradientNorm.count
        let width = grid.axes.count + nCol
        for (s, p) in samplePoints.enumerated() where p >= start && p < start + n {
            for (d, axis) in grid.axes.enumerated() { sampleStore[s * width + d] = inputs[axis.slot][p - start] }
            for col in 0..<nCol { sampleStore[s * width + grid.axes.count + col] = data[col][p - start] }
            sampleFound[s] = true
        }
        for col in 0..<nCol { (parts + c * nCol + col).initialize(to: ColumnSummary(data[col], count: n)) }
        for k in 0..<nOut {
            let g = (0..<layout.inputCount).map { Optional(data[layout.gradientColumn(output: k, input: $0)]) }
            norms[c * nOut + k] = g.isEmpty ? 0 : tvg_largest_finite_norm(g, g.count, n)
        }
    }

    /// Merges the block's chunks in order.
    func endBlock() {
        let nCol = columns.count, nOut = maxGradientNorm.count
        for c in 0..<chunks {
            for col in 0..<nCol { columns[col].merge(parts[c * nCol + col]) }
            for k in 0..<nOut { maxGradientNorm[k] = Swift.max(maxGradientNorm[k], norms[c * nOut + k]) }
        }
        parts.deinitialize(count: chunks * nCol)
    }
}

/// Values shared by the threads of a `concurrentPerform` that each work on their own part of
/// them (their own chunk of points, their own result slots): no two threads touch the same memory.
struct Disjoint<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The file formats of `--out`, by extension.
enum GridFileFormat: String, CaseIterable {
    case npy, csv, jsonl

    static func of(_ path: String) -> GridFileFormat? {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
        let ext = path[path.index(after: dot)...].lowercased()
        return ext == "ndjson" ? .jsonl : GridFileFormat(rawValue: ext)
    }
}

/// What a grid `.npy` file holds, written next to it as `<file>.json` (the sidecar), so the
/// column names, axes and shard travel with the numbers.
struct GridFileDescription: Codable, Equatable {
    struct Axis: Codable, Equatable { var name: String; var start: Double; var stop: Double; var count: Int }
    struct Value: Codable, Equatable { var name: String; var value: Double }
    struct Shard: Codable, Equatable { var index: Int; var count: Int; var firstPoint: Int; var points: Int }

    var format = "tapevm grid 1"
    var function: String
    /// The last dimension of the array: one name per column.
    var columns: [String]
    /// The shape of the array in the file.
    var shape: [Int]
    /// The shape of the whole grid's array: one dimension per axis, then the columns.
    var gridShape: [Int]
    /// The axes in array order (row-major: the last varies fastest).
    var axes: [Axis]
    var fixed: [Value]
    var parameters: [Value]
    /// For `--shard k/n`: this file holds points `firstPoint ..< firstPoint + points` of the
    /// whole grid in row-major order, as an array of shape `(points, columns)`.
    var shard: Shard?

    init(function: String, columns: [String], grid: GridSpec, parameters: [(String, Double)]) {
        self.function = function
        self.columns = columns
        gridShape = grid.shape + [columns.count]
        shape = grid.shard == nil ? gridShape : [grid.range.count, columns.count]
        axes = grid.axes.map { Axis(name: $0.name, start: $0.start, stop: $0.stop, count: $0.count) }
        fixed = grid.fixed.map { Value(name: $0.name, value: $0.value) }
        self.parameters = parameters.map { Value(name: $0.0, value: $0.1) }
        shard = grid.shard.map { Shard(index: $0.index, count: $0.count, firstPoint: grid.range.lowerBound, points: grid.range.count) }
    }

    /// The sidecar's path for a `.npy` path.
    static func path(for npyPath: String) -> String { npyPath + ".json" }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        // Encoding plain numbers, strings and arrays cannot fail.
        return Array(try! encoder.encode(self)) + [0x0A]
    }

    static func decode(_ bytes: [UInt8]) throws -> GridFileDescription {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try decoder.decode(GridFileDescription.self, from: Data(bytes))
    }
}

/// Streams the columns into a float64 `.npy` of shape `(n1, …, nk, columns)` (a shard:
/// `(points, columns)`), and writes its sidecar `<file>.json`.
final class NPYGridSink: GridSink {
    let writer: NPYWriter
    let sidecar: OutputFile
    private var interleaved: [Double] = []

    init(path: String, description: GridFileDescription) throws(CLIError) {
        do throws(FileError) {
            writer = try NPYWriter(path: path, shape: description.shape)
            sidecar = try OutputFile(path: GridFileDescription.path(for: path))
            try sidecar.write(description.encoded())
        } catch {
            throw .file(error)
        }
    }

    var temporaryPaths: [String] { [writer.temporaryPath, sidecar.temporaryPath] }

    func consume(_ b: GridBlock) throws(CLIError) {
        let width = b.columns.count
        if interleaved.count < width * b.count { interleaved = [Double](repeating: 0, count: width * b.count) }
        interleaved.withUnsafeMutableBufferPointer { out in
            for (c, column) in b.columns.enumerated() {
                for i in 0..<b.count { out[i * width + c] = column[i] }
            }
        }
        do throws(FileError) {
            try interleaved.withUnsafeBufferPointer { (buf) throws(FileError) in
                try writer.write(UnsafeBufferPointer(rebasing: buf[0..<width * b.count]))
            }
        } catch {
            throw .file(error)
        }
    }

    func finish() throws(CLIError) {
        do throws(FileError) {
            try writer.finish()
            try sidecar.commit()
        } catch {
            throw .file(error)
        }
    }
}

/// Rows of text, one per point: CSV (a header row, then values) or JSON lines (one object per
/// point, keyed by name). Each row has the axis coordinates, then the columns.
final class TextGridSink: GridSink {
    let file: OutputFile
    let format: GridFileFormat
    let axisSlots: [Int]
    /// JSON lines: each key, quoted, with its `: ` (and `, ` after the first).
    private let keys: [String]

    init(path: String, format: GridFileFormat, grid: GridSpec, columns: [String]) throws(CLIError) {
        self.format = format
        axisSlots = grid.axes.map(\.slot)
        let names = grid.axes.map(\.name) + columns
        keys = names.enumerated().map { ($0 == 0 ? "{" : ", ") + JSONValue.quote($1) + ": " }
        do throws(FileError) {
            file = try OutputFile(path: path)
            if format == .csv { try file.write(names.map(TextGridSink.csvName).joined(separator: ",") + "\n") }
        } catch {
            throw .file(error)
        }
    }

    var temporaryPaths: [String] { [file.temporaryPath] }

    /// A CSV header cell, quoted when it holds a comma, quote or space.
    static func csvName(_ name: String) -> String {
        name.contains(where: { $0 == "," || $0 == "\"" || $0 == " " }) ? "\"" + name.replacing("\"", with: "\"\"") + "\"" : name
    }

    func consume(_ b: GridBlock) throws(CLIError) {
        let fields = axisSlots.map { b.inputs[$0] } + b.columns
        var text = ""
        text.reserveCapacity(b.count * fields.count * 22)
        for i in 0..<b.count {
            for (c, field) in fields.enumerated() {
                if format == .csv {
                    if c > 0 { text += "," }
                    text += csvCell(field[i])
                } else {
                    text += keys[c]
                    text += JSONValue.format(field[i])
                }
            }
            text += format == .csv ? "\n" : "}\n"
        }
        do throws(FileError) { try file.write(text) } catch { throw .file(error) }
    }

    func finish() throws(CLIError) {
        do throws(FileError) { try file.commit() } catch { throw .file(error) }
    }
}
