/// The header of a NumPy `.npy` file: element type, memory order and shape.
///
/// A `.npy` file is the magic string `\x93NUMPY`, a two-byte version, the length of the header
/// text, the header text — a Python dictionary literal such as
/// `{'descr': '<f8', 'fortran_order': False, 'shape': (2000, 2000, 3), }` padded with spaces
/// and ended by a newline so the data starts at a multiple of 64 bytes — and then the raw
/// elements. See the [format specification](https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
public struct NPYHeader: Hashable, Sendable {
    /// The NumPy type string, such as `<f8` (little-endian 64-bit float).
    public var descr: String
    /// Whether elements are in column-major (Fortran) order rather than row-major (C) order.
    public var fortranOrder: Bool
    /// The array's dimensions; empty for a scalar.
    public var shape: [Int]

    /// A header; the default describes row-major little-endian doubles.
    public init(descr: String = "<f8", fortranOrder: Bool = false, shape: [Int]) {
        self.descr = descr
        self.fortranOrder = fortranOrder
        self.shape = shape
    }

    /// The number of elements: the product of ``shape`` (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }

    /// The header text: the dictionary literal, without padding.
    public var dictionaryText: String {
        let dims = shape.map(String.init)
        let tuple = dims.count == 1 ? "(\(dims[0]),)" : "(\(dims.joined(separator: ", ")))"
        return "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(tuple), }"
    }

    /// The complete header bytes in format version 1.0 (2.0 if the text needs more than 65535
    /// bytes): magic, version, length and the padded text. Its length is a multiple of 64.
    public func encoded() -> [UInt8] { encoded(length: 0) }

    /// The header bytes padded with spaces to `length` bytes in all when that is longer than
    /// they need (`length` a multiple of 64), so that a header can be rewritten in place.
    func encoded(length: Int) -> [UInt8] {
        let text = Array(dictionaryText.utf8)
        let v1 = Swift.max(length, (10 + text.count + 1 + 63) / 64 * 64) - 10 <= 65535
        let prefix = v1 ? 10 : 12
        let headerLength = Swift.max(length, (prefix + text.count + 1 + 63) / 64 * 64) - prefix
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [v1 ? 1 : 2, 0]
        if v1 {
            bytes += [UInt8(headerLength & 0xFF), UInt8(headerLength >> 8)]
        } else {
            bytes += (0..<4).map { UInt8((headerLength >> (8 * $0)) & 0xFF) }
        }
        bytes += text
        bytes += [UInt8](repeating: 0x20, count: headerLength - text.count - 1)
        bytes.append(0x0A)
        return bytes
    }

    /// Parses a header from the start of a `.npy` file.
    ///
    /// - Parameter bytes: the file's first bytes; at least the whole header.
    /// - Returns: the header and the offset of the first data byte.
    /// - Throws: ``NPYError`` saying what is wrong: bad magic, unknown version, a truncated
    ///   header, or a dictionary without `descr`, `fortran_order` or `shape`.
    public static func decode(_ bytes: [UInt8]) throws(NPYError) -> (header: NPYHeader, dataOffset: Int) {
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw NPYError("not a .npy file: it does not start with \\x93NUMPY")
        }
        let major = bytes[6]
        let (prefix, length): (Int, Int)
        switch major {
        case 1:
            prefix = 10
            length = Int(bytes[8]) | Int(bytes[9]) << 8
        case 2, 3:
            guard bytes.count >= 12 else { throw NPYError("truncated .npy header") }
            prefix = 12
            length = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        default:
            throw NPYError("unsupported .npy format version \(major).\(bytes[7])")
        }
        guard bytes.count >= prefix + length else {
            throw NPYError("truncated .npy header: it announces \(length) byte(s) of header text, the file has \(bytes.count - prefix)")
        }
        var parser = DictionaryParser(bytes: Array(bytes[prefix..<prefix + length]))
        let header = try parser.parseHeader()
        return (header, prefix + length)
    }
}

/// Why bytes are not a valid `.npy` file, or hold a type this library does not read.
public struct NPYError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong, in words.
    public let message: String
    /// An error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The subset of Python literal syntax that `.npy` headers use.
private struct DictionaryParser {
    enum Value { case string(String), bool(Bool), tuple([Int]) }
    let bytes: [UInt8]
    var i = 0
    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseHeader() throws(NPYError) -> NPYHeader {
        var descr: String?, fortran: Bool?, shape: [Int]?
        skipSpace()
        try expect(UInt8(ascii: "{"))
        while true {
            skipSpace()
            if peek == UInt8(ascii: "}") { i += 1; break }
            guard case .string(let key) = try value() else { throw NPYError("header dictionary: expected a string key at byte \(i)") }
            skipSpace()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            let v = try value()
            switch (key, v) {
            case ("descr", .string(let s)): descr = s
            case ("fortran_order", .bool(let b)): fortran = b
            case ("shape", .tuple(let t)): shape = t
            case ("descr", _), ("fortran_order", _), ("shape", _):
                throw NPYError("header dictionary: '\(excerpt(key))' has a value of the wrong type")
            default: break
            }
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1 }
        }
        guard let descr else { throw NPYError("header dictionary has no 'descr'") }
        guard let fortran else { throw NPYError("header dictionary has no 'fortran_order'") }
        guard let shape else { throw NPYError("header dictionary has no 'shape'") }
        // The element count must be a byte count this machine can address.
        var elements = 1
        for dimension in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard dimension >= 0, !overflow, product <= Int.max / 16 else {
                throw NPYError("header shape \(shape) is not a valid array size")
            }
            elements = product
        }
        return NPYHeader(descr: descr, fortranOrder: fortran, shape: shape)
    }

    var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D { i += 1 }
    }

    mutating func expect(_ c: UInt8) throws(NPYError) {
        guard peek == c else {
            throw NPYError("header dictionary: expected '\(Character(Unicode.Scalar(c)))' at byte \(i)")
        }
        i += 1
    }

    mutating func value() throws(NPYError) -> Value {
        guard let c = peek else { throw NPYError("header dictionary ends early") }
        if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
            i += 1
            let start = i
            while let d = peek, d != c { i += 1 }
            guard peek == c else { throw NPYError("header dictionary: unterminated string") }
            let s = String(decoding: bytes[start..<i], as: UTF8.self)
            i += 1
            return .string(s)
        }
        if c == UInt8(ascii: "(") {
            i += 1
            var dims: [Int] = []
            while true {
                skipSpace()
                if peek == UInt8(ascii: ")") { i += 1; return .tuple(dims) }
                let start = i
                while let d = peek, d >= 0x30, d <= 0x39 { i += 1 }
                // Python 2 era files may write long integers as 3L.
                guard i > start, let n = Int(String(decoding: bytes[start..<i], as: UTF8.self)) else {
                    throw NPYError("header dictionary: expected a dimension at byte \(i)")
                }
                if peek == UInt8(ascii: "L") { i += 1 }
                dims.append(n)
                skipSpace()
                if peek == UInt8(ascii: ",") { i += 1 } else if peek != UInt8(ascii: ")") {
                    throw NPYError("header dictionary: expected ',' or ')' in the shape at byte \(i)")
                }
            }
        }
        for (word, b) in [("True", true), ("False", false)] where bytes[i...].starts(with: word.utf8) {
            i += word.utf8.count
            return .bool(b)
        }
        throw NPYError("header dictionary: unexpected '\(excerpt(byte: c))' at byte \(i)")
    }
}

/// Writes a `.npy` file of doubles incrementally: the header first, then the data in as many
/// pieces as the caller likes, so an array larger than memory can be streamed to disk.
///
/// The file is written under a temporary name and gets its own only when ``finish()``
/// succeeds, so a failed run leaves no file that looks whole.
///
/// ```swift
/// let npy = try NPYWriter(path: "grid.npy", shape: [ny, nx, 3])
/// for block in blocks { try npy.write(block) }   // row-major order
/// try npy.finish()                                // checks the element count
/// ```
///
/// When the number of rows is not known in advance (rows streamed from a CSV file, say),
/// ``init(path:rowShape:)`` leaves the first dimension open: ``finish()`` sets it to the rows
/// written and rewrites the header in place.
///
/// Elements are written little-endian (`<f8`) in row-major order, whatever the host.
public final class NPYWriter {
    /// The header written at the start of the file. With an open first dimension
    /// (``init(path:rowShape:)``), its first dimension is 0 until ``finish()`` sets it.
    public private(set) var header: NPYHeader
    /// The path written to.
    public let path: String
    /// Elements written so far.
    public private(set) var elementsWritten = 0
    private let file: OutputFile
    /// With an open first dimension: the shape of one row, and the bytes reserved for the header.
    private let openRows: (rowShape: [Int], headerLength: Int)?

    /// Creates (or truncates) the file at `path` and writes the header for an array of doubles
    /// with the given shape.
    public init(path: String, shape: [Int]) throws(FileError) {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw FileError(path: path, "a .npy shape cannot have negative dimensions: \(shape)") }
        self.path = path
        self.header = NPYHeader(shape: shape)
        self.openRows = nil
        self.file = try OutputFile(path: path)
        try file.write(header.encoded())
    }

    /// Creates (or truncates) the file at `path` for an array of shape `[rows] + rowShape`
    /// whose number of rows is whatever is written: ``finish()`` rewrites the header with it.
    ///
    /// The header reserves room for any row count, so the file must be a regular file (seekable),
    /// not a pipe. Until ``finish()`` succeeds, the file does not load.
    ///
    /// - Parameter rowShape: the shape of one row (`[3]` for an array of shape `(rows, 3)`).
    public init(path: String, rowShape: [Int]) throws(FileError) {
        guard rowShape.allSatisfy({ $0 >= 0 }) else { throw FileError(path: path, "a .npy shape cannot have negative dimensions: \(rowShape)") }
        self.path = path
        self.header = NPYHeader(shape: [0] + rowShape)
        // The widest first dimension there can be, so any row count fits in the same bytes.
        let reserved = NPYHeader(shape: [Int.max] + rowShape).encoded()
        self.openRows = (rowShape, reserved.count)
        self.file = try OutputFile(path: path)
        try file.write(reserved)
    }

    /// Appends elements, in row-major order.
    ///
    /// - Throws: ``FileError`` when writing fails or more elements than the shape holds are written.
    public func write(_ values: UnsafeBufferPointer<Double>) throws(FileError) {
        guard openRows != nil || elementsWritten + values.count <= header.elementCount else {
            throw FileError(path: path, "too many elements for shape \(header.shape): \(elementsWritten + values.count) > \(header.elementCount)")
        }
        #if _endian(little)
        try file.write(UnsafeRawBufferPointer(values))
        #else
        try file.write(values.flatMap { x in withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) } })
        #endif
        elementsWritten += values.count
    }

    /// Appends elements, in row-major order.
    public func write(_ values: [Double]) throws(FileError) {
        var failure: FileError?
        values.withUnsafeBufferPointer { buf in
            do throws(FileError) { try write(buf) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Completes the file: with an open first dimension, first rewrites the header with the
    /// number of rows written; then flushes it and gives it its name (until then it is a
    /// temporary file, see ``OutputFile``).
    ///
    /// - Throws: ``FileError`` when fewer elements were written than the shape holds, or not a
    ///   whole number of rows (the file would not load), or when the final flush fails. The
    ///   temporary file is then removed and nothing is left at ``path``.
    public func finish() throws(FileError) {
        if let (rowShape, headerLength) = openRows {
            let rowElements = rowShape.reduce(1, *)
            guard rowElements == 0 ? elementsWritten == 0 : elementsWritten % rowElements == 0 else {
                file.discard()
                throw FileError(path: path, "incomplete .npy file: \(elementsWritten) element(s) is not a whole number of rows of \(rowElements)")
            }
            header.shape = [rowElements == 0 ? 0 : elementsWritten / rowElements] + rowShape
            try file.seek(to: 0)
            try file.write(header.encoded(length: headerLength))
        }
        guard elementsWritten == header.elementCount else {
            file.discard()
            throw FileError(path: path, "incomplete .npy file: \(elementsWritten) of \(header.elementCount) element(s) written")
        }
        try file.commit()
    }

    /// The temporary file written until ``finish()`` gives it its name (see ``OutputFile``).
    public var temporaryPath: String { file.temporaryPath }

    /// Abandons the file: removes the temporary file (also done when the writer is released
    /// without ``finish()``).
    public func discard() { file.discard() }
}

/// Reads a `.npy` file of doubles (`<f8` or `>f8`).
///
/// ```swift
/// let npy = try NPYReader(path: "grid.npy")
/// print(npy.header.shape)          // [2000, 2000, 3]
/// let data = try npy.readAll()     // in file order (row-major unless fortranOrder)
/// ```
public final class NPYReader {
    /// The file's header.
    public let header: NPYHeader
    /// The path read from.
    public let path: String
    private let file: CFile
    private var elementsRead = 0

    /// Opens the file and parses its header.
    ///
    /// - Throws: ``FileError`` when the file cannot be read, is not a `.npy` file, or holds
    ///   elements other than 64-bit floats.
    public init(path: String) throws(FileError) {
        self.path = path
        file = try CFile(path: path, mode: "rb")
        var bytes = try file.read(12)
        guard bytes.count >= 10 else { throw FileError(path: path, "not a .npy file: only \(bytes.count) byte(s)") }
        let length = bytes[6] == 1 ? Int(bytes[8]) | Int(bytes[9]) << 8
            : bytes.count == 12 ? (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) } : 0
        let prefix = bytes[6] == 1 ? 10 : 12
        guard length <= 1 << 24 else {
            throw FileError(path: path, "not a .npy file: it announces \(length) byte(s) of header text")
        }
        if prefix + length > bytes.count { bytes += try file.read(prefix + length - bytes.count) }
        do throws(NPYError) {
            header = try NPYHeader.decode(bytes).header
        } catch {
            throw FileError(path: path, error.message)
        }
        guard header.descr == "<f8" || header.descr == ">f8" else {
            // The descr is the file's bytes: escaped and shortened, so the error stays one line.
            throw FileError(path: path, "unsupported element type '\(excerpt(header.descr))': only 64-bit floats ('<f8', '>f8') are read")
        }
    }

    /// Elements not read yet.
    public var elementsRemaining: Int { header.elementCount - elementsRead }

    /// Reads the next elements into `buffer`, as many as fit (fewer at the end of the array):
    /// the streaming read, with no allocation, for arrays larger than memory.
    ///
    /// ```swift
    /// let npy = try NPYReader(path: "points.npy")
    /// let block = UnsafeMutableBufferPointer<Double>.allocate(capacity: 65536)
    /// defer { block.deallocate() }
    /// while case let n = try npy.read(into: block), n > 0 { use(block[..<n]) }
    /// ```
    ///
    /// - Returns: the number of elements read; 0 once the whole array has been read.
    /// - Throws: ``FileError`` when reading fails or the file ends before the array does.
    public func read(into buffer: UnsafeMutableBufferPointer<Double>) throws(FileError) -> Int {
        let n = Swift.min(buffer.count, elementsRemaining)
        guard n > 0 else { return 0 }
        let raw = UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[0..<8 * n])
        let got = try file.read(into: raw)
        guard got == 8 * n else {
            throw FileError(path: path, "truncated .npy data: expected \(header.elementCount) element(s), the file ends after \(elementsRead + got / 8)")
        }
        let big = header.descr.hasPrefix(">")
        #if _endian(little)
        if big { for k in 0..<n { buffer[k] = Double(bitPattern: buffer[k].bitPattern.byteSwapped) } }
        #else
        if !big { for k in 0..<n { buffer[k] = Double(bitPattern: buffer[k].bitPattern.byteSwapped) } }
        #endif
        elementsRead += n
        return n
    }

    /// Reads the next `count` elements (fewer at the end of the array).
    public func read(count: Int) throws(FileError) -> [Double] {
        let n = Swift.max(0, Swift.min(count, elementsRemaining))
        var values = [Double](repeating: 0, count: n)
        var failure: FileError?
        values.withUnsafeMutableBufferPointer { buf in
            do throws(FileError) { _ = try read(into: buf) } catch { failure = error }
        }
        if let failure { throw failure }
        return values
    }

    /// Reads every remaining element.
    public func readAll() throws(FileError) -> [Double] {
        try read(count: header.elementCount - elementsRead)
    }
}
