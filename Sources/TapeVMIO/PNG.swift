import CZlib

/// The CRC-32 of PNG chunks, zlib's `crc32` and gzip (polynomial `0xEDB88320`, reflected):
/// zlib's own implementation.
public enum CRC32 {
    /// Continues a checksum over more bytes; start with `0`.
    public static func update<S: Sequence<UInt8>>(_ crc: UInt32, _ bytes: S) -> UInt32 {
        withBytes(bytes) { UInt32(crc32_z(uLong(crc), $0.baseAddress, $0.count)) }
    }

    /// The checksum of `bytes`; `checksum("123456789".utf8) == 0xCBF43926`.
    public static func checksum<S: Sequence<UInt8>>(_ bytes: S) -> UInt32 { update(0, bytes) }
}

/// The Adler-32 checksum that ends a zlib stream: zlib's own implementation.
public enum Adler32 {
    /// Continues a checksum over more bytes; start with `1`.
    public static func update<S: Sequence<UInt8>>(_ adler: UInt32, _ bytes: S) -> UInt32 {
        withBytes(bytes) { UInt32(adler32_z(uLong(adler), $0.baseAddress, $0.count)) }
    }

    /// The checksum of `bytes`; `checksum("Wikipedia".utf8) == 0x11E60398`.
    public static func checksum<S: Sequence<UInt8>>(_ bytes: S) -> UInt32 { update(1, bytes) }
}

/// Calls `body` with the bytes of a sequence in contiguous memory (copied if they are not).
private func withBytes<S: Sequence<UInt8>>(_ bytes: S, _ body: (UnsafeBufferPointer<UInt8>) -> UInt32) -> UInt32 {
    bytes.withContiguousStorageIfAvailable(body) ?? Array(bytes).withUnsafeBufferPointer(body)
}

/// A PNG encoder for 8-bit RGB images, compressed with the system's zlib.
///
/// Each scanline gets the PNG filter (None, Sub, Up, Average or Paeth) with the smallest sum of
/// absolute differences, the usual heuristic, and the filtered lines are deflated at zlib's
/// best compression. A smooth 600×400 heat map takes tens of kilobytes rather than the
/// 720 KB of raw pixels.
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
        appendChunk("IDAT", deflate(filteredScanlines(width: width, height: height, rgb: rgb)), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// Encodes an image and writes it to `path` (through a temporary file, see ``OutputFile``).
    ///
    /// - Throws: ``FileError`` when the sizes do not match or the file cannot be written.
    public static func write(width: Int, height: Int, rgb: [UInt8], to path: String) throws(FileError) {
        guard let bytes = encode(width: width, height: height, rgb: rgb) else {
            throw FileError(path: path, "a \(width)×\(height) RGB image needs \(3 * width * height) bytes, got \(rgb.count)")
        }
        let file = try OutputFile(path: path)
        try file.write(bytes)
        try file.commit()
    }

    /// A zlib stream (RFC 1950) of `data`, deflated at the best compression.
    public static func deflate(_ data: [UInt8]) -> [UInt8] {
        var size = compressBound(uLong(data.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = out.withUnsafeMutableBufferPointer { o in
            data.withUnsafeBufferPointer { d in
                compress2(o.baseAddress, &size, d.baseAddress, uLong(d.count), Z_BEST_COMPRESSION)
            }
        }
        // compress2 fails only for lack of memory or room, and compressBound gives the room.
        precondition(status == Z_OK, "zlib compress2 failed (\(status))")
        out.removeLast(out.count - Int(size))
        return out
    }

    /// The scanlines, each a filter-type byte then the filtered row (PNG filter method 0).
    static func filteredScanlines(width: Int, height: Int, rgb: [UInt8]) -> [UInt8] {
        let rowBytes = 3 * width, bpp = 3
        var out = [UInt8]()
        out.reserveCapacity((rowBytes + 1) * height)
        var candidate = [UInt8](repeating: 0, count: rowBytes)
        var best = [UInt8](repeating: 0, count: rowBytes)
        for y in 0..<height {
            let row = y * rowBytes, above = row - rowBytes
            var bestType: UInt8 = 0, bestCost = Int.max
            for type in UInt8(0)...4 {
                var cost = 0
                for i in 0..<rowBytes {
                    let x = rgb[row + i]
                    let a = i >= bpp ? rgb[row + i - bpp] : 0
                    let b = y > 0 ? rgb[above + i] : 0
                    let c = y > 0 && i >= bpp ? rgb[above + i - bpp] : 0
                    let predicted: UInt8
                    switch type {
                    case 0: predicted = 0
                    case 1: predicted = a
                    case 2: predicted = b
                    case 3: predicted = UInt8((Int(a) + Int(b)) / 2)
                    default: predicted = paeth(a, b, c)
                    }
                    let v = x &- predicted
                    candidate[i] = v
                    cost += v < 128 ? Int(v) : 256 - Int(v)
                }
                if cost < bestCost { bestCost = cost; bestType = type; swap(&best, &candidate) }
            }
            out.append(bestType)
            out += best
        }
        return out
    }

    private static func paeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let p = Int(a) + Int(b) - Int(c)
        let (pa, pb, pc) = (abs(p - Int(a)), abs(p - Int(b)), abs(p - Int(c)))
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
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
