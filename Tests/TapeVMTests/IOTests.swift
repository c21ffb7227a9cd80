import Testing
import TapeVM
import TapeVMIO
import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh path in the temporary directory.
private func temporaryPath(_ name: String) -> String {
    let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    return "\(dir)/tapevm-iotests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name)"
}

private func readBytes(_ path: String) -> [UInt8] {
    guard let f = fopen(path, "rb") else { return [] }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        out += buf[0..<n]
        if n < buf.count { return out }
    }
}

private func writeBytes(_ bytes: [UInt8], to path: String) {
    let f = fopen(path, "wb")!
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

private func bigEndianUInt32(_ b: ArraySlice<UInt8>) -> UInt32 {
    b.reduce(0) { $0 << 8 | UInt32($1) }
}

@Suite struct NPYTests {
    @Test func headerIsVersion1AlignedTo64() {
        let bytes = NPYHeader(shape: [2000, 2000, 3]).encoded()
        #expect(Array(bytes[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        #expect(bytes.count % 64 == 0)
        #expect(Int(bytes[8]) | Int(bytes[9]) << 8 == bytes.count - 10)
        #expect(bytes.last == 0x0A)
        let text = String(decoding: bytes[10...], as: UTF8.self)
        #expect(text.hasPrefix("{'descr': '<f8', 'fortran_order': False, 'shape': (2000, 2000, 3), }"))
    }

    @Test func shapesPrintAsPythonTuples() {
        #expect(NPYHeader(shape: [5]).dictionaryText.contains("'shape': (5,)"))
        #expect(NPYHeader(shape: []).dictionaryText.contains("'shape': ()"))
        #expect(NPYHeader(shape: []).elementCount == 1)
    }

    @Test func writeStreamedThenReadBack() throws {
        let path = temporaryPath("roundtrip.npy")
        defer { unlink(path) }
        let values = (0..<24).map { Double($0) * 0.1 - 1 } + []
        let writer = try NPYWriter(path: path, shape: [2, 4, 3])
        try writer.write(Array(values[0..<5]))
        try writer.write(Array(values[5...]))
        try writer.finish()
        let reader = try NPYReader(path: path)
        #expect(reader.header == NPYHeader(shape: [2, 4, 3]))
        let back = try reader.readAll()
        #expect(back == values)
        #expect(readBytes(path).count == NPYHeader(shape: [2, 4, 3]).encoded().count + 8 * 24)
    }

    @Test func specialValuesSurvive() throws {
        let path = temporaryPath("special.npy")
        defer { unlink(path) }
        let values: [Double] = [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let writer = try NPYWriter(path: path, shape: [values.count])
        try writer.write(values)
        try writer.finish()
        let back = try NPYReader(path: path).readAll()
        #expect(back.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func finishRejectsAShortFile() throws {
        let path = temporaryPath("short.npy")
        defer { unlink(path) }
        let writer = try NPYWriter(path: path, shape: [3])
        try writer.write([1, 2])
        #expect(throws: FileError.self) { try writer.finish() }
        #expect(throws: FileError.self) { try NPYWriter(path: path, shape: [1]).write([1, 2]) }
    }

    @Test func readsAHandMadeHeader() throws {
        // As old NumPy wrote it: double quotes, other key order, 16-byte alignment, a 1-tuple.
        let dict = "{\"shape\": (3,), \"fortran_order\": False, \"descr\": \">f8\"}"
        var text = Array(dict.utf8)
        while (10 + text.count + 1) % 16 != 0 { text.append(0x20) }
        text.append(0x0A)
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.count), 0] + text
        for x in [1.5, -2.0, 1e300] {
            let bits = x.bitPattern
            bytes += (0..<8).map { UInt8((bits >> (8 * (7 - $0))) & 0xFF) }   // big-endian
        }
        let (header, offset) = try NPYHeader.decode(bytes)
        #expect(header == NPYHeader(descr: ">f8", fortranOrder: false, shape: [3]))
        #expect(offset == 10 + text.count)
        let path = temporaryPath("handmade.npy")
        defer { unlink(path) }
        writeBytes(bytes, to: path)
        #expect(try NPYReader(path: path).readAll() == [1.5, -2.0, 1e300])
    }

    @Test func rejectsWhatItCannotRead() {
        #expect(throws: NPYError.self) { try NPYHeader.decode(Array("PK\u{3}\u{4} not numpy".utf8)) }
        let dict = Array("{'descr': '<f8', 'shape': (2,), }\n".utf8)
        #expect(throws: NPYError.self) {
            try NPYHeader.decode([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(dict.count), 0] + dict)
        }
        let path = temporaryPath("int.npy")
        defer { unlink(path) }
        writeBytes(NPYHeader(descr: "<i4", shape: [1]).encoded() + [1, 0, 0, 0], to: path)
        #expect(throws: FileError.self) { try NPYReader(path: path) }
        #expect(throws: FileError.self) { try NPYReader(path: temporaryPath("missing.npy")) }
    }
}

@Suite struct PNGTests {
    @Test func checksumsMatchKnownValues() {
        #expect(CRC32.checksum("123456789".utf8) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(Adler32.checksum("Wikipedia".utf8) == 0x11E6_0398)
        #expect(Adler32.checksum([UInt8]()) == 1)
        // Long inputs exercise the modulo reduction.
        let long = [UInt8](repeating: 0xFF, count: 100_000)
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in long { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        #expect(Adler32.checksum(long) == b << 16 | a)
    }

    @Test func encodesSignatureChunksAndCRCs() throws {
        let (w, h) = (3, 2)
        let rgb: [UInt8] = (0..<(3 * w * h)).map { UInt8($0 * 10) }
        let png = try #require(PNGWriter.encode(width: w, height: h, rgb: rgb))
        #expect(Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var offset = 8
        var types: [String] = []
        var idat: [UInt8] = []
        while offset < png.count {
            let length = Int(bigEndianUInt32(png[offset..<offset + 4]))
            let type = String(decoding: png[offset + 4..<offset + 8], as: UTF8.self)
            let data = Array(png[offset + 8..<offset + 8 + length])
            let crc = bigEndianUInt32(png[offset + 8 + length..<offset + 12 + length])
            #expect(crc == CRC32.checksum(Array(png[offset + 4..<offset + 8 + length])), "CRC of \(type)")
            if type == "IHDR" {
                #expect(data == [0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0])
            }
            if type == "IDAT" { idat += data }
            types.append(type)
            offset += 12 + length
        }
        #expect(types == ["IHDR", "IDAT", "IEND"])
        #expect(offset == png.count)
        // The zlib stream inflates to the scanlines, each after its filter byte, which undo to the pixels.
        let scanlines = try #require(inflate(idat, expected: 2 * (1 + 3 * w)))
        #expect(unfilter(scanlines, width: w, height: h) == rgb)
        #expect((Int(idat[0]) << 8 | Int(idat[1])) % 31 == 0)
    }

    /// A smooth picture compresses far below its raw size, and decodes to its pixels.
    @Test func smoothImagesCompress() throws {
        let (w, h) = (600, 400)
        var rgb = [UInt8](repeating: 0, count: 3 * w * h)
        for y in 0..<h {
            for x in 0..<w {
                rgb[3 * (y * w + x)] = UInt8(x * 255 / w)
                rgb[3 * (y * w + x) + 1] = UInt8(y * 255 / h)
                rgb[3 * (y * w + x) + 2] = UInt8((x + y) % 256)
            }
        }
        let png = try #require(PNGWriter.encode(width: w, height: h, rgb: rgb))
        #expect(png.count < 3 * w * h / 20, "\(png.count) bytes")
        let idatLength = Int(bigEndianUInt32(png[33..<37]))
        let idat = Array(png[41..<41 + idatLength])
        let scanlines = try #require(inflate(idat, expected: h * (1 + 3 * w)))
        #expect(unfilter(scanlines, width: w, height: h) == rgb)
    }

    @Test func rejectsMismatchedSizes() {
        #expect(PNGWriter.encode(width: 2, height: 2, rgb: [0, 0, 0]) == nil)
        #expect(PNGWriter.encode(width: 0, height: 1, rgb: []) == nil)
        #expect(throws: FileError.self) { try PNGWriter.write(width: 2, height: 2, rgb: [], to: temporaryPath("bad.png")) }
    }
}

@Suite struct JSONTests {
    @Test func numbersAreShortestRoundTrip() {
        #expect(JSONValue.format(-12) == "-12")
        #expect(JSONValue.format(0) == "0")
        #expect(JSONValue.format(-0.0) == "-0")
        #expect(JSONValue.format(0.1) == "0.1")
        #expect(JSONValue.format(1.0 / 3) == "0.3333333333333333")
        #expect(JSONValue.format(1e-5) == "1e-05")
        #expect(JSONValue.format(6.02e23) == "6.02e+23")
        for _ in 0..<1000 {
            let x = Double(bitPattern: UInt64.random(in: 0...UInt64.max))
            guard x.isFinite else { continue }
            #expect(Double(JSONValue.format(x)) == x)
        }
    }

    @Test func nonFiniteNumbersAreStrings() {
        #expect(JSONValue.format(.nan) == "\"NaN\"")
        #expect(JSONValue.format(.infinity) == "\"Infinity\"")
        #expect(JSONValue.format(-.infinity) == "\"-Infinity\"")
    }

    @Test func objectsKeepOrderAndEscape() {
        let v: JSONValue = .object([
            ("value", .number(-12)),
            ("gradient", .object([("x", .number(-4)), ("y", .number(.nan))])),
            ("a\"b\\c\n\u{1}", .array([.bool(true), .null, .string("é")])),
        ])
        #expect(v.serialized() == #"{"value": -12, "gradient": {"x": -4, "y": "NaN"}, "a\"b\\c\n\u0001": [true, null, "é"]}"#)
        #expect(JSONValue.object([(String, JSONValue)]()).serialized() == "{}")
    }
}

/// The bytes of a zlib stream, which must inflate to exactly `expected` bytes.
private func inflate(_ z: [UInt8], expected: Int) -> [UInt8]? {
    var out = [UInt8](repeating: 0, count: expected + 1)
    var size = uLong(out.count)
    let status = out.withUnsafeMutableBufferPointer { o in
        z.withUnsafeBufferPointer { uncompress(o.baseAddress, &size, $0.baseAddress, uLong($0.count)) }
    }
    guard status == Z_OK, Int(size) == expected else { return nil }
    return Array(out[0..<expected])
}

/// Undoes PNG filtering (method 0) of RGB scanlines: the decoder's half, written from the spec.
private func unfilter(_ lines: [UInt8], width: Int, height: Int) -> [UInt8] {
    let row = 3 * width
    var out = [UInt8](repeating: 0, count: row * height)
    for y in 0..<height {
        let type = lines[y * (row + 1)]
        for i in 0..<row {
            let x = lines[y * (row + 1) + 1 + i]
            let a = i >= 3 ? Int(out[y * row + i - 3]) : 0
            let b = y > 0 ? Int(out[(y - 1) * row + i]) : 0
            let c = y > 0 && i >= 3 ? Int(out[(y - 1) * row + i - 3]) : 0
            let p = a + b - c
            let paeth = abs(p - a) <= abs(p - b) && abs(p - a) <= abs(p - c) ? a : abs(p - b) <= abs(p - c) ? b : c
            let predicted = [0, a, b, (a + b) / 2, paeth][Int(type)]
            out[y * row + i] = x &+ UInt8(predicted & 0xFF)
        }
    }
    return out
}
