import ArgumentParser
import TapeVM
import TapeVMIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The file formats `tapevm batch` reads and writes.
enum PointFormat: String, ExpressibleByArgument, CaseIterable {
    case csv, npy

    /// The format a path's extension names (`.csv`, `.npy`, any case), if any.
    static func of(_ path: String) -> PointFormat? {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
        return PointFormat(rawValue: path[path.index(after: dot)...].lowercased())
    }
}

/// Rows of input values read a block at a time, in the function's input order.
protocol PointSource: AnyObject {
    /// The number of rows, when the file says so up front (a `.npy` shape).
    var count: Int? { get }
    /// What was read, for the summary: format and columns.
    var summary: String { get }
    /// Reads up to `rows` rows: input `j` of row `i` into `columns[j][i]`. Returns the rows
    /// read, 0 at the end.
    func read(into columns: [UnsafeMutablePointer<Double>], rows: Int) throws(CLIError) -> Int
}

/// Opens the points file in the format asked for, or the one its extension names.
func openPoints(path: String, format: PointFormat?, inputs: [String]) throws(CLIError) -> any PointSource {
    guard let format = format ?? PointFormat.of(path) else {
        throw .usage("--in \(path): unknown file type: use a .csv or .npy file, or say which with --format csv|npy")
    }
    switch format {
    case .csv: return try CSVPoints(path: path, inputs: inputs)
    case .npy: return try NPYPoints(path: path, inputs: inputs)
    }
}

/// Points from a CSV file with a header row: columns matched to inputs by name, others ignored
/// (with a note on stderr).
final class CSVPoints: PointSource {
    let reader: CSVReader
    let columns: [Int]
    let ignored: [String]

    init(path: String, inputs: [String]) throws(CLIError) {
        do throws(FileError) {
            reader = try CSVReader(path: path)
        } catch {
            throw .file(error)
        }
        let names = reader.columnNames
        var columns: [Int] = []
        var missing: [String] = []
        for input in inputs {
            let matches = names.indices.filter { names[$0] == input }
            if matches.count > 1 {
                throw .data("\(path): \(matches.count) columns are named '\(input)' (columns \(matches.map { String($0 + 1) }.joined(separator: ", "))): which one is input '\(input)' is ambiguous")
            }
            if let c = matches.first { columns.append(c) } else { missing.append(input) }
        }
        if !missing.isEmpty {
            let numeric = names.allSatisfy { Double($0) != nil }
            throw .data("\(path): no column for input\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")) (the header names \(names.map { "'\($0)'" }.joined(separator: ", "))\(numeric ? "; the first line must be a header of column names" : ""))")
        }
        self.columns = columns
        ignored = names.indices.filter { !columns.contains($0) }.map { names[$0] }
        if !ignored.isEmpty {
            printError("note: \(path): ignoring column\(ignored.count > 1 ? "s" : "") \(ignored.joined(separator: ", ")) (not inputs of the function)")
        }
    }

    var count: Int? { nil }

    var summary: String {
        "CSV, columns \(columns.map { reader.columnNames[$0] }.joined(separator: ", "))" + (ignored.isEmpty ? "" : " (ignored: \(ignored.joined(separator: ", ")))")
    }

    func read(into destinations: [UnsafeMutablePointer<Double>], rows: Int) throws(CLIError) -> Int {
        do throws(FileError) {
            return try reader.read(columns: columns, into: destinations, rows: rows)
        } catch {
            throw .file(error)
        }
    }
}

/// Points from a `.npy` float64 array of shape `(N, inputs)`, or `(N,)` for one input.
final class NPYPoints: PointSource {
    let reader: NPYReader
    let width: Int
    private var interleaved: UnsafeMutableBufferPointer<Double> = .init(start: nil, count: 0)

    init(path: String, inputs: [String]) throws(CLIError) {
        do throws(FileError) {
            reader = try NPYReader(path: path)
        } catch {
            throw .file(error)
        }
        let shape = reader.header.shape
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(\(shape.map(String.init).joined(separator: ", ")))"
        let want = "(N, \(inputs.count)) for the inputs \(inputs.joined(separator: ", "))\(inputs.count == 1 ? ", or (N,)" : "")"
        switch shape.count {
        case 1:
            guard inputs.count == 1 else {
                throw .data("\(path): a 1-D array of shape \(shapeText) gives one input, the function has \(inputs.count): expected shape \(want)")
            }
        case 2:
            guard shape[1] == inputs.count else {
                throw .data("\(path): array of shape \(shapeText) has \(shape[1]) column(s), the function has \(inputs.count) input(s): expected shape \(want)")
            }
            guard !reader.header.fortranOrder || shape[1] == 1 || shape[0] <= 1 else {
                throw .file(FileError(path: path, "the array is in Fortran (column-major) order, which is not read: save it with numpy.ascontiguousarray"))
            }
        default:
            throw .file(FileError(path: path, "a \(shape.count)-D array of shape \(shapeText) is not a table of points: expected shape \(want)"))
        }
        width = inputs.count
    }

    deinit { interleaved.deallocate() }

    var count: Int? { reader.header.shape[0] }

    var summary: String {
        "NPY float64, shape \(reader.header.shape.count == 1 ? "(\(reader.header.shape[0]),)" : "(\(reader.header.shape.map(String.init).joined(separator: ", ")))")"
    }

    func read(into columns: [UnsafeMutablePointer<Double>], rows: Int) throws(CLIError) -> Int {
        do throws(FileError) {
            if width == 1 {
                return try reader.read(into: UnsafeMutableBufferPointer(start: columns[0], count: rows))
            }
            if interleaved.count < rows * width {
                interleaved.deallocate()
                interleaved = .allocate(capacity: rows * width)
            }
            let n = try reader.read(into: UnsafeMutableBufferPointer(rebasing: interleaved[0..<rows * width])) / width
            for (j, column) in columns.enumerated() {
                for i in 0..<n { column[i] = interleaved[i * width + j] }
            }
            return n
        } catch {
            throw .file(error)
        }
    }
}

/// Where result rows go: one row per point of `columns` doubles.
protocol ResultSink: AnyObject {
    /// Appends `rows` rows; column `c` of row `i` is `columns[c][i]`.
    func write(_ columns: [UnsafePointer<Double>], rows: Int) throws(CLIError)
    /// Finishes the file.
    func finish() throws(CLIError)
}

/// A float64 `.npy` of shape `(N, columns)`.
final class NPYResultSink: ResultSink {
    let writer: NPYWriter
    private var interleaved: [Double] = []

    /// - Parameter rows: the number of rows when known (else the header is rewritten at the end,
    ///   which needs a regular file).
    init(path: String, columns: Int, rows: Int?) throws(CLIError) {
        do throws(FileError) {
            if let rows {
                writer = try NPYWriter(path: path, shape: [rows, columns])
            } else {
                writer = try NPYWriter(path: path, rowShape: [columns])
            }
        } catch {
            throw .file(error)
        }
    }

    func write(_ columns: [UnsafePointer<Double>], rows: Int) throws(CLIError) {
        let width = columns.count
        if interleaved.count < rows * width { interleaved = [Double](repeating: 0, count: rows * width) }
        for (c, column) in columns.enumerated() {
            for i in 0..<rows { interleaved[i * width + c] = column[i] }
        }
        do throws(FileError) {
            try interleaved.withUnsafeBufferPointer { (buf) throws(FileError) in
                try writer.write(UnsafeBufferPointer(rebasing: buf[0..<rows * width]))
            }
        } catch {
            throw .file(error)
        }
    }

    func finish() throws(CLIError) {
        do throws(FileError) { try writer.finish() } catch { throw .file(error) }
    }
}

/// A CSV file with a header row.
final class CSVResultSink: ResultSink {
    let file: OutputFile

    init(path: String, header: [String]) throws(CLIError) {
        do throws(FileError) {
            file = try OutputFile(path: path)
            try file.write(header.joined(separator: ",") + "\n")
        } catch {
            throw .file(error)
        }
    }

    func write(_ columns: [UnsafePointer<Double>], rows: Int) throws(CLIError) {
        var text = ""
        text.reserveCapacity(rows * columns.count * 20)
        for i in 0..<rows {
            for (c, column) in columns.enumerated() {
                if c > 0 { text += "," }
                text += csvCell(column[i])
            }
            text += "\n"
        }
        do throws(FileError) { try file.write(text) } catch { throw .file(error) }
    }

    func finish() throws(CLIError) {
        do throws(FileError) { try file.commit() } catch { throw .file(error) }
    }
}

/// min / max / mean of one output over its finite values.
struct ColumnStatistics {
    var minimum = Double.infinity
    var maximum = -Double.infinity
    var sum = 0.0
    var finite = 0
    var nonFinite = 0

    mutating func add(_ values: UnsafePointer<Double>, count: Int) {
        var (lo, hi, s, n) = (minimum, maximum, 0.0, 0)
        for i in 0..<count {
            let v = values[i]
            guard v.isFinite else { continue }
            lo = Swift.min(lo, v)
            hi = Swift.max(hi, v)
            s += v
            n += 1
        }
        (minimum, maximum, finite, nonFinite) = (lo, hi, finite + n, nonFinite + count - n)
        sum += s
    }

    /// `min …, max …, mean …`, noting values left out.
    var text: String {
        guard finite > 0 else { return nonFinite > 0 ? "no finite value (\(nonFinite) NaN or infinite)" : "no rows" }
        var line = "min \(readable(minimum)), max \(readable(maximum)), mean \(readable(sum / Double(finite)))"
        if nonFinite > 0 { line += " (over finite values; \(nonFinite) NaN or infinite)" }
        return line
    }
}
