/// The CRC-32 of PNG chunks, zlib's `crc32` and gzip (polynomial `0xEDB88320`, reflected).
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// Continues a checksum over more bytes; start with `0`.
    public static func update<S: Sequence<UInt8>>(_ crc: UInt32, _ bytes: S) -> UInt32 {
        var c = ~crc
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return ~c
    }

    /// The checksum of `bytes`; `checksum("123456789".utf8) == 0xCBF43926`.
    public static func checksum<S: Sequence<UInt8>>(_ bytes: S) -> UInt32 { update(0, bytes) }
}

/// The Adler-32 checksum that ends a zlib stream.
public enum Adler32 {
    /// Continues a checksum over more bytes; start with `1`.
    public static func update<S: Sequence<UInt8>>(_ adler: UInt32, _ bytes: S) -> UInt32 {
        var a = adler & 0xFFFF, b = adler >> 16
        var pending = 0
        for byte in bytes {
            a += UInt32(byte)
            b += a
            pending += 1
            // 5552 is the most bytes before b can overflow 32 bits.
            if pending == 5552 { a %= 65521; b %= 65521; pending = 0 }
        }
        return (b % 65521) << 16 | (a % 65521)
    }

    /// The checksum of `bytes`; `checksum("Wikipedia".utf8) == 0x11E60398`.
    public static func checksum<S: Sequence<UInt8>>(_ bytes: S) -> UInt32 { update(1, bytes) }
}

/// A minimal PNG encoder for 8-bit RGB images, with no dependencies.
///
/// The image data is stored, not compressed: the zlib stream inside `IDAT` is made of
/// *stored* deflate blocks (at most 65535 bytes each) followed by the Adler-32 checksum, and
/// every chunk ends with its CRC-32. Files are therefore about `3·width·height` bytes, which is
/// fine for the plots this library draws (at most a few megabytes) and keeps the encoder small
/// enough to check by eye.
///
/// ```swift
/// var pixels = [UInt8](repeating: 0, count: 3 * width * height)   // RGB, top row first
/// try PNGWriter.write(width: width, height: height, rgb: pixels, to: "plot.png")
/// ```
public enum PNGWriter {
    /// The eight bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Encodes an image as PNG bytes.
    ///
    /// - Parameters:
    ///   - width: pixels per row, at least 1.
    ///   - height: rows, at least 1.
    ///   - rgb: `3·width·height` bytes: red, green, blue of each pixel, rows from the top.
    /// - Returns: `nil` if the sizes do not match.
    public static func encode(width: Int, height: Int, rgb: [UInt8]) -> [UInt8]? {
        guard width > 0, height > 0, width <= 0x7FFF_FFFF, height <= 0x7FFF_FFFF, rgb.count == 3 * width * height else { return nil }
        var png = signature
        // IHDR: width, height, bit depth 8, colour type 2 (RGB), compression 0, filter 0, no interlace.
        appendChunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 2, 0, 0, 0], to: &png)
        // Raw scanlines: filter type 0 (none), then the row's bytes.
        let rowBytes = 3 * width
        var raw: [UInt8] = []
        raw.reserveCapacity((rowBytes + 1) * height)
        for y in 0..<height {
            raw.append(0)
            raw += rgb[y * rowBytes..<(y + 1) * rowBytes]
        }
        appendChunk("IDAT", zlibStored(raw), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// Encodes an image and writes it to `path`.
    ///
    /// - Throws: ``FileError`` when the sizes do not match or the file cannot be written.
    public static func write(width: Int, height: Int, rgb: [UInt8], to path: String) throws(FileError) {
        guard let bytes = encode(width: width, height: height, rgb: rgb) else {
            throw FileError(path: path, "a \(width)×\(height) RGB image needs \(3 * width * height) bytes, got \(rgb.count)")
        }
        let file = try CFile(path: path, mode: "wb")
        try file.write(bytes)
        try file.close()
    }

    /// A zlib stream (RFC 1950) holding `data` in stored deflate blocks (RFC 1951, BTYPE 00).
    public static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        // CMF 0x78: deflate, 32 KiB window; FLG 0x01: no dictionary, (0x7801 % 31 == 0).
        var out: [UInt8] = [0x78, 0x01]
        out.reserveCapacity(data.count + data.count / 65535 * 5 + 11)
        var start = 0
        repeat {
            let n = Swift.min(65535, data.count - start)
            let final: UInt8 = start + n == data.count ? 1 : 0
            out.append(final)
            out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[start..<start + n]
            start += n
        } while start < data.count
        out += bigEndian(Adler32.checksum(data))
        return out
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        png += bigEndian(UInt32(data.count))
        png += typeBytes
        png += data
        png += bigEndian(CRC32.update(CRC32.checksum(typeBytes), data))
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }
}
