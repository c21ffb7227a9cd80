import Foundation
import TapeVM
import TapeVMIO

/// The file-format fuzz targets. Each input becomes a file (the readers read paths, as the CLI
/// does) in the temporary directory, named per process.
///
/// - `csv`: the first byte picks the reader's buffer size (64 to 1087 bytes, so lines cross
///   buffer refills), the rest is the file. Reading every column in blocks of 1 row and in
///   blocks of 7 rows, each with a fresh reader, gives the same header, the same values (bit for
///   bit) and the same error, which is one non-empty line naming the file.
/// - `npy`: the input is the file. `NPYHeader.decode` either fails or gives a header whose
///   encoding decodes to the same header; `NPYReader` either fails with a one-line error or
///   reads exactly `elementCount` doubles, in blocks of 3, equal to the bytes after the header
///   (either byte order), or fails at the end of truncated data.
extension FuzzChecks {
    static let scratchFile = NSTemporaryDirectory() + "/tapevm-fuzz-\(getpid())"

    /// Writes the input to the scratch file in place with plain stdio: no temporary file, rename
    /// or sync per input (FileManager's atomic write cost most of each execution, and one stalled
    /// for 44 s on the loaded machine, a libFuzzer timeout that replays in milliseconds).
    static func writeScratch(_ bytes: ArraySlice<UInt8>) throws(FuzzFailure) -> String {
        guard let file = fopen(scratchFile, "wb") else { throw FuzzFailure("cannot write the scratch file \(scratchFile)") }
        let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        guard fclose(file) == 0, written == bytes.count else {
            throw FuzzFailure("cannot write the scratch file \(scratchFile)")
        }
        return scratchFile
    }

    static func oneLine(_ error: FileError, _ path: String) throws(FuzzFailure) {
        let text = error.description
        // Scalars, not Characters: "\r\n" is one Character, unequal to "\n".
        let breaks = text.unicodeScalars.contains {
            switch $0.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator: true
            default: false
            }
        }
        guard !error.message.isEmpty, !breaks, text.hasPrefix(path + ": ") else {
            throw FuzzFailure("file error is not one line naming the file: \(text.debugDescription)")
        }
    }

    /// The whole CSV read in blocks of `block` rows: header, values per column, and the error.
    static func readCSV(_ path: String, bufferSize: Int, block: Int) -> (names: [String], columns: [[UInt64]], error: FileError?) {
        var names: [String] = []
        var columns: [[UInt64]] = []
        do throws(FileError) {
            let reader = try CSVReader(path: path, bufferSize: bufferSize)
            names = reader.columnNames
            columns = [[UInt64]](repeating: [], count: names.count)
            while true {
                let got = try reader.read(columns: Array(names.indices), rows: block)
                guard let first = got.first, !first.isEmpty else { break }
                for (c, values) in got.enumerated() { columns[c] += values.map(\.bitPattern) }
            }
            return (names, columns, nil)
        } catch {
            return (names, columns, error)
        }
    }

    static func csv(_ data: [UInt8]) throws(FuzzFailure) {
        guard let first = data.first else { return }
        let path = try writeScratch(data.dropFirst())
        let bufferSize = 64 + Int(first) * 4
        let one = readCSV(path, bufferSize: bufferSize, block: 1)
        let seven = readCSV(path, bufferSize: 1 << 20, block: 7)
        if let e = one.error { try oneLine(e, path) }
        if let e = seven.error { try oneLine(e, path) }
        guard one.error == seven.error else {
            throw FuzzFailure("csv: different errors for different block and buffer sizes: \(String(describing: one.error)) / \(String(describing: seven.error))")
        }
        guard one.names == seven.names else { throw FuzzFailure("csv: different headers: \(one.names) / \(seven.names)") }
        // After an error the blocks read so far differ with the block size; before, never.
        if one.error == nil {
            guard one.columns == seven.columns else { throw FuzzFailure("csv: different values for block sizes 1 and 7") }
        }
    }

    static func npy(_ data: [UInt8]) throws(FuzzFailure) {
        if let (header, _) = try? NPYHeader.decode(data) {
            let encoded = header.encoded()
            guard let (again, offset) = try? NPYHeader.decode(encoded), again == header, offset == encoded.count else {
                throw FuzzFailure("npy: the header \(header) does not encode and decode back to itself")
            }
        }
        let path = try writeScratch(data[...])
        let reader: NPYReader
        do throws(FileError) { reader = try NPYReader(path: path) } catch {
            try oneLine(error, path)
            return
        }
        guard let (header, offset) = try? NPYHeader.decode(data), header == reader.header else {
            throw FuzzFailure("npy: NPYReader accepted a header NPYHeader.decode refuses or reads differently")
        }
        let count = header.elementCount
        let available = (data.count - offset) / 8
        let bigEndian = header.descr.hasPrefix(">")
        var values: [Double] = []
        let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: 3)
        defer { buffer.deallocate() }
        do throws(FileError) {
            while true {
                let got = try reader.read(into: buffer)
                if got == 0 { break }
                values += buffer.prefix(got)
            }
        } catch {
            try oneLine(error, path)
            guard available < count else { throw FuzzFailure("npy: read failed although the data is complete: \(error)") }
            return
        }
        guard values.count == count, available >= count else {
            throw FuzzFailure("npy: read \(values.count) element(s), the header announces \(count), the file holds \(available)")
        }
        for (i, v) in values.enumerated() {
            let bytes = data[(offset + 8 * i)..<(offset + 8 * i + 8)]
            let raw = bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let bits = bigEndian ? raw.byteSwapped : raw
            guard v.bitPattern == bits else {
                throw FuzzFailure("npy: element \(i) reads as \(v), the file holds \(Double(bitPattern: bits))")
            }
        }
    }
}
