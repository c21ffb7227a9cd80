#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a CSV file of numbers with a header row of column names, a block of rows at a time.
///
/// ```swift
/// let csv = try CSVReader(path: "points.csv")        // reads the header
/// let x = csv.columnNames.firstIndex(of: "x")!, y = csv.columnNames.firstIndex(of: "y")!
/// while true {
///     let rows = try csv.read(columns: [x, y], rows: 65536)   // [[x...], [y...]]
///     if rows[0].isEmpty { break }
/// }
/// ```
///
/// The file streams through a buffer of about 1 MiB (more only for a longer line), so memory
/// stays bounded whatever its size. The format:
///
/// - Fields are separated by commas; lines end with `\n` or `\r\n` (the last one may have no
///   line end). Empty lines, and lines of spaces, are skipped. A UTF-8 byte order mark before
///   the header is ignored.
/// - Every row has as many fields as the header. A field may be quoted (`"a,b"`, with `""` for
///   a quote inside); a quoted field cannot span lines. Spaces around a field are ignored.
/// - Only the columns asked for are parsed as numbers, so other columns may hold anything.
///   A number is decimal (`-2`, `0.5`, `1e-3`, `.5`) or `nan`, `inf`, `-inf`, `infinity` in any
///   case (as NumPy and pandas write them); hexadecimal and out-of-range numbers (`1e999`) are
///   errors.
///
/// Errors say where: `points.csv: line 7, column 2 (y): 'abc' is not a number`.
public final class CSVReader {
    /// The path read from.
    public let path: String
    /// The column names from the header row, in file order (spaces and quotes removed).
    public private(set) var columnNames: [String] = []
    /// The number of the last line read: 1 after the header (counting skipped empty lines).
    public private(set) var lineNumber = 0

    private let file: CFile
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Unread bytes are `storage[start..<end]`.
    private var start = 0
    private var end = 0
    private var atEndOfFile = false

    /// Opens the file and reads its header row.
    ///
    /// - Throws: ``FileError`` when the file cannot be read or has no header row.
    public init(path: String, bufferSize: Int = 1 << 20) throws(FileError) {
        self.path = path
        // Open first: a throw before every stored property is set does not run `deinit`, so
        // the buffer must not exist yet (it leaked here when the file could not be opened).
        // Throws after this point run `deinit`, which frees it.
        file = try CFile(path: path, mode: "rb")
        capacity = Swift.max(64, bufferSize)
        storage = .allocate(capacity: capacity)
        var header: UnsafeBufferPointer<UInt8>?
        repeat { header = try nextLine() } while header.map(CSVReader.isBlank) == true
        guard var line = header else {
            throw FileError(path: path, "empty file: expected a header row of column names")
        }
        if line.count >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF {
            line = UnsafeBufferPointer(rebasing: line[3...])
        }
        var names: [String] = []
        let headerLine = lineNumber
        try CSVReader.forEachField(line) { (_, field, quoted) throws(FileError) in
            var name = String(decoding: field, as: UTF8.self)
            if quoted { name = name.replacing("\"\"", with: "\"") }
            names.append(name)
        } malformed: { (column) throws(FileError) in
            throw FileError(path: path, "line \(headerLine), column \(column): unterminated quoted field in the header")
        }
        columnNames = names
    }

    deinit { storage.deallocate() }

    /// Reads up to `rows` rows, parsing the columns `columns` (indices into ``columnNames``) of
    /// each as numbers into the matching destination: row `i` of the block, column
    /// `columns[j]`, goes to `destinations[j][i]`.
    ///
    /// - Returns: the rows read: `rows` unless the file ends first; 0 at the end of the file.
    /// - Throws: ``FileError`` naming the line and column of a field that is not a number, a
    ///   row with the wrong number of fields, or a failed read.
    public func read(columns: [Int], into destinations: [UnsafeMutablePointer<Double>], rows: Int) throws(FileError) -> Int {
        precondition(columns.count == destinations.count, "one destination per column")
        precondition(columns.allSatisfy { columnNames.indices.contains($0) }, "column index out of range")
        // Per field of a row: the destination it fills, if any.
        var target = [UnsafeMutablePointer<Double>?](repeating: nil, count: columnNames.count)
        for (j, c) in columns.enumerated() { target[c] = destinations[j] }
        let fieldCount = columnNames.count
        var row = 0
        while row < rows, let line = try nextLine() {
            if CSVReader.isBlank(line) { continue }
            var fields = 0
            try CSVReader.forEachField(line) { (k, field, _) throws(FileError) in
                fields = k + 1
                guard k < fieldCount, let dest = target[k] else { return }
                dest[row] = try number(field, column: k)
            } malformed: { (column) throws(FileError) in
                throw FileError(path: path, "line \(lineNumber), column \(column): unterminated quoted field")
            }
            guard fields == fieldCount else {
                throw FileError(path: path, "line \(lineNumber): \(fields) field(s), but the header has \(fieldCount) (\(excerpt(columnNames.joined(separator: ","), limit: 80)))")
            }
            row += 1
        }
        return row
    }

    /// Reads up to `rows` rows of the columns `columns`, one array per column (shorter than
    /// `rows` only at the end of the file; empty once it has been read).
    public func read(columns: [Int], rows: Int) throws(FileError) -> [[Double]] {
        let buffer = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, columns.count * rows))
        defer { buffer.deallocate() }
        let n = try read(columns: columns, into: columns.indices.map { buffer + $0 * rows }, rows: rows)
        return columns.indices.map { Array(UnsafeBufferPointer(start: buffer + $0 * rows, count: n)) }
    }

    // MARK: Lines and fields

    /// The next line without its line end, valid until the next call; `nil` at the end of the file.
    private func nextLine() throws(FileError) -> UnsafeBufferPointer<UInt8>? {
        var scanned = start
        while true {
            if let found = memchr(storage + scanned, 0x0A, end - scanned) {
                let newline = storage.distance(to: found.assumingMemoryBound(to: UInt8.self))
                defer { start = newline + 1 }
                lineNumber += 1
                return trimmingCR(start, newline)
            }
            if atEndOfFile {
                guard start < end else { return nil }
                defer { start = end }
                lineNumber += 1
                return trimmingCR(start, end)
            }
            // Keep the partial line, then fill the rest of the buffer (growing it for a long line).
            if start > 0 {
                (storage).update(from: storage + start, count: end - start)
                end -= start
                start = 0
            }
            if end == capacity {
                let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: 2 * capacity)
                grown.update(from: storage, count: end)
                storage.deallocate()
                storage = grown
                capacity *= 2
            }
            scanned = end
            let room = capacity - end
            let got = try file.read(into: UnsafeMutableRawBufferPointer(start: storage + end, count: room))
            end += got
            if got < room { atEndOfFile = true }
        }
    }

    private func trimmingCR(_ from: Int, _ to: Int) -> UnsafeBufferPointer<UInt8> {
        var to = to
        if to > from && storage[to - 1] == 0x0D { to -= 1 }
        return UnsafeBufferPointer(start: storage + from, count: to - from)
    }

    private static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }

    /// Calls `body(index, text, quoted)` for each field of a line: the text without the spaces
    /// around it, and without its quotes when quoted (a doubled quote inside is left doubled).
    private static func forEachField(_ line: UnsafeBufferPointer<UInt8>,
                                     _ body: (Int, UnsafeBufferPointer<UInt8>, Bool) throws(FileError) -> Void,
                                     malformed: (Int) throws(FileError) -> Void) throws(FileError) {
        let (comma, quote, space, tab): (UInt8, UInt8, UInt8, UInt8) = (0x2C, 0x22, 0x20, 0x09)
        var i = 0, k = 0
        let n = line.count
        while true {
            while i < n && (line[i] == space || line[i] == tab) { i += 1 }
            var from = i, to: Int
            var quoted = false
            if i < n && line[i] == quote {
                quoted = true
                i += 1
                from = i
                while true {
                    guard i < n else { try malformed(k + 1); return }
                    if line[i] == quote {
                        if i + 1 < n && line[i + 1] == quote { i += 2; continue }
                        break
                    }
                    i += 1
                }
                to = i
                i += 1
                while i < n && line[i] != comma { i += 1 }
            } else {
                while i < n && line[i] != comma { i += 1 }
                to = i
                while to > from && (line[to - 1] == space || line[to - 1] == tab) { to -= 1 }
            }
            try body(k, UnsafeBufferPointer(rebasing: line[from..<to]), quoted)
            k += 1
            guard i < n else { return }
            i += 1   // the comma
        }
    }

    // MARK: Numbers

    /// A field as a number, or an error naming its line and column.
    private func number(_ field: UnsafeBufferPointer<UInt8>, column k: Int) throws(FileError) -> Double {
        if let x = CSVReader.parseNumber(field) { return x }
        let text = String(decoding: field, as: UTF8.self)
        let place = "line \(lineNumber), column \(k + 1) (\(excerpt(columnNames[k])))"
        if field.isEmpty { throw FileError(path: path, "\(place): empty field, expected a number") }
        if CSVReader.isDecimal(field) { throw FileError(path: path, "\(place): '\(excerpt(text))' is out of range for a double") }
        throw FileError(path: path, "\(place): '\(excerpt(text))' is not a number")
    }

    /// Whether the bytes are plain decimal syntax: an optional sign, then a digit or `.`, then
    /// digits, `.`, `e`, `E` and signs (`strtod` checks the rest).
    private static func isDecimal(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        if i < s.count && (s[i] == 0x2B || s[i] == 0x2D) { i += 1 }
        guard i < s.count, (s[i] >= 0x30 && s[i] <= 0x39) || s[i] == 0x2E else { return false }
        return s[i...].allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x65 || $0 == 0x45 || $0 == 0x2B || $0 == 0x2D }
    }

    /// A decimal number, `nan`, `inf` or `infinity` (any case, optional sign); `nil` for
    /// anything else, including hexadecimal and numbers too large for a double.
    static func parseNumber(_ s: UnsafeBufferPointer<UInt8>) -> Double? {
        guard !s.isEmpty else { return nil }
        if isDecimal(s) {
            // strtod needs a NUL-terminated string: copy (on the stack for the usual lengths).
            func parse(_ buf: UnsafeMutableBufferPointer<CChar>) -> Double? {
                for (i, b) in s.enumerated() { buf[i] = CChar(bitPattern: b) }
                buf[s.count] = 0
                var endPointer: UnsafeMutablePointer<CChar>?
                let x = strtod(buf.baseAddress!, &endPointer)
                guard endPointer == buf.baseAddress! + s.count, x.isFinite else { return nil }
                return x
            }
            if s.count < 64 {
                return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { parse($0) }
            }
            let buf = UnsafeMutableBufferPointer<CChar>.allocate(capacity: s.count + 1)
            defer { buf.deallocate() }
            return parse(buf)
        }
        var i = 0, negative = false
        if s[0] == 0x2B || s[0] == 0x2D { negative = s[0] == 0x2D; i = 1 }
        let word = String(decoding: s[i...], as: UTF8.self).lowercased()
        switch word {
        case "nan": return .nan
        case "inf", "infinity": return negative ? -.infinity : .infinity
        default: return nil
        }
    }
}
