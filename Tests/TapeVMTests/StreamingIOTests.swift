import Testing
import TapeVM
import TapeVMIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh path in the temporary directory.
private func temporaryPath(_ name: String) -> String {
    let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    return "\(dir)/tapevm-streamingtests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name)"
}

private func writeText(_ text: String, to path: String) {
    let f = fopen(path, "wb")!
    var text = text
    _ = text.withUTF8 { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

/// The message of the `FileError` that `body` throws, or `nil`.
private func fileErrorMessage(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return (error as? FileError)?.message ?? "not a FileError: \(error)" }
}

@Suite struct CSVReaderTests {
    @Test func readsColumnsByIndexInBlocks() throws {
        let path = temporaryPath("blocks.csv")
        defer { unlink(path) }
        // BOM, CRLF, spaces, a quoted label with a comma, blank lines, no final line end.
        writeText("\u{FEFF}x, label ,\"y\"\r\n1, a, 2\r\n\r\n-3,\"b,\"\"c\"\"\",0.5\n   \n.5,z,-1e-3\nnan,w,-inf", to: path)
        let csv = try CSVReader(path: path, bufferSize: 8)   // tiny buffer: lines span refills
        #expect(csv.columnNames == ["x", "label", "y"])
        let first = try csv.read(columns: [2, 0], rows: 3)
        #expect(first == [[2, 0.5, -1e-3], [1, -3, 0.5]])
        #expect(csv.lineNumber == 6)
        let rest = try csv.read(columns: [2, 0], rows: 3)
        #expect(rest[0] == [-.infinity])
        #expect(rest[1].count == 1 && rest[1][0].isNaN)
        #expect(try csv.read(columns: [2, 0], rows: 3) == [[], []])
    }

    @Test func streamsAFileLargerThanItsBuffer() throws {
        let path = temporaryPath("large.csv")
        defer { unlink(path) }
        let n = 10_000
        writeText("i,half\n" + (0..<n).map { "\($0),\(Double($0) / 2)\n" }.joined(), to: path)
        let csv = try CSVReader(path: path, bufferSize: 100)
        var all: [Double] = []
        while true {
            let block = try csv.read(columns: [1], rows: 777)
            if block[0].isEmpty { break }
            all += block[0]
        }
        #expect(all == (0..<n).map { Double($0) / 2 })
    }

    @Test func errorsNameTheLineAndColumn() throws {
        let path = temporaryPath("bad.csv")
        defer { unlink(path) }
        writeText("x,y\n1,2\n3,abc\n", to: path)
        #expect(fileErrorMessage { _ = try CSVReader(path: path).read(columns: [0, 1], rows: 10) }
                == "line 3, column 2 (y): 'abc' is not a number")
        // Columns not asked for are not parsed.
        #expect(try CSVReader(path: path).read(columns: [0], rows: 10) == [[1, 3]])
        writeText("x,y\n1,\n", to: path)
        #expect(fileErrorMessage { _ = try CSVReader(path: path).read(columns: [0, 1], rows: 10) }
                == "line 2, column 2 (y): empty field, expected a number")
        writeText("x,y\n1,2,3\n", to: path)
        #expect(fileErrorMessage { _ = try CSVReader(path: path).read(columns: [0], rows: 10) }
                == "line 2: 3 field(s), but the header has 2 (x,y)")
        writeText("x,y\n0x10,1e999\n", to: path)
        #expect(fileErrorMessage { _ = try CSVReader(path: path).read(columns: [0], rows: 10) }
                == "line 2, column 1 (x): '0x10' is not a number")
        #expect(fileErrorMessage { _ = try CSVReader(path: path).read(columns: [1], rows: 10) }
                == "line 2, column 2 (y): '1e999' is out of range for a double")
        writeText("x,y\n\"1,2\n", to: path)
        #expect(fileErrorMessage { _ = try CSVReader(path: path).read(columns: [0], rows: 10) }
                == "line 2, column 1: unterminated quoted field")
        writeText("\n\n", to: path)
        #expect(fileErrorMessage { _ = try CSVReader(path: path) } == "empty file: expected a header row of column names")
        #expect(fileErrorMessage { _ = try CSVReader(path: temporaryPath("missing.csv")) }?.hasPrefix("cannot open for reading") == true)
    }

    /// Text quoted from the file (a column name, a field) is escaped and cut at 40 characters,
    /// so an error stays one short line whatever the file holds.
    @Test func quotedTextIsEscapedAndShortened() throws {
        let path = temporaryPath("hostile.csv")
        defer { unlink(path) }
        let long = String(repeating: "9", count: 500)
        writeText("\"a\u{0B}b\u{2028}c\",é\ny\rz,\(long)x\n", to: path)
        #expect(fileErrorMessage { _ = try CSVReader(path: path).read(columns: [0], rows: 10) }
                == "line 2, column 1 (a\\u{0B}b\\u{2028}c): 'y\\rz' is not a number")
        #expect(fileErrorMessage { _ = try CSVReader(path: path).read(columns: [1], rows: 10) }
                == "line 2, column 2 (é): '\(String(repeating: "9", count: 40))…' is not a number")
    }
}

/// The initializer's two throwing paths: before the file is open (the buffer must not exist
/// yet, or it leaks: nothing frees a partly initialized object) and after (`deinit` frees it).
/// Run under `swift test --sanitize=address` to have LeakSanitizer check the buffers.
@Suite struct CSVReaderFailedOpenTests {
    @Test func failedOpensThrowAndFreeTheBuffer() {
        let missing = temporaryPath("missing.csv"), empty = temporaryPath("empty.csv")
        writeText("\n  \n", to: empty)
        defer { unlink(empty) }
        for _ in 0..<4 {
            #expect(fileErrorMessage { _ = try CSVReader(path: missing, bufferSize: 1 << 20) }?.hasPrefix("cannot open for reading") == true)
            #expect(fileErrorMessage { _ = try CSVReader(path: empty, bufferSize: 1 << 20) } == "empty file: expected a header row of column names")
        }
    }
}

@Suite struct NPYStreamingTests {
    @Test func readIntoBlocksMatchesReadAll() throws {
        let path = temporaryPath("blocks.npy")
        defer { unlink(path) }
        let values = (0..<1000).map { Double($0) * 0.25 - 7 }
        let writer = try NPYWriter(path: path, shape: [500, 2])
        try writer.write(values)
        try writer.finish()
        let reader = try NPYReader(path: path)
        let block = UnsafeMutableBufferPointer<Double>.allocate(capacity: 96)
        defer { block.deallocate() }
        var back: [Double] = []
        while case let n = try reader.read(into: block), n > 0 {
            back += block[0..<n]
            #expect(reader.elementsRemaining == values.count - back.count)
        }
        #expect(back == values)
        #expect(try reader.read(count: 5) == [])
    }

    @Test func openFirstDimensionIsSetByFinish() throws {
        let path = temporaryPath("rows.npy")
        defer { unlink(path) }
        let writer = try NPYWriter(path: path, rowShape: [3])
        for r in 0..<1234 { try writer.write([Double(r), -Double(r), 0.5]) }
        try writer.finish()
        #expect(writer.header.shape == [1234, 3])
        let reader = try NPYReader(path: path)
        #expect(reader.header == NPYHeader(shape: [1234, 3]))
        let data = try reader.readAll()
        #expect(data.count == 3702 && data[3 * 1233] == 1233 && data[3 * 1233 + 1] == -1233)

        let empty = try NPYWriter(path: path, rowShape: [2])
        try empty.finish()
        #expect(try NPYReader(path: path).header.shape == [0, 2])

        let partial = try NPYWriter(path: path, rowShape: [2])
        try partial.write([1, 2, 3])
        #expect(throws: FileError.self) { try partial.finish() }
    }
}
