import Foundation
import TapeVM
import TapeVMIO

/// The seed corpus's origin: `tapevm-check seeds DIR` writes it (Fuzz/corpus was made this
/// way, then grown by fuzzing and minimized with libFuzzer's -merge=1).
public enum Seeds {
    /// Expressions in the language's corners: every function (from the opcode table), lets,
    /// tuples, several definitions, comments, integer and other exponents, and common errors.
    public static var expressions: [String] {
        var list = [
            "f(x, y; w) = w * (x + sigmoid(y)) / (sigmoid(x) + (x + y)^2)",
            "f(x,y,z) = (x+y)*z",
            "f(x; w) = w * x^2",
            "loss(x, y; w, b) = (w * x + b - y)^2",
            "g(u, v; k) = k * sin(u) * v",
            "f(x) = let a = x * 2, b = a + 1 in a * b",
            "f(x) = let s = x * x in (s, s + 1, -s)",
            "f(x) = (let a = x, b = 2 in a + b) * 2",
            "f(x) = where(x > 0, x, -x)",
            "f(a, b) = (a < b, a <= b, a > b, a >= b, a == b, a != b)",
            "f() = (1, 2.5, .5, 1e-3, 6.02E23, 2., 1e+2)",
            "f() = (pi, e)",
            "f() = 2^3^2 + 2**3**2 - -2^2",
            "f(x) = x^-3 + x^0 + x^1000000 + x^0.5 + 2^x",
            "f(x) = max(\n  x,\n  2\n)  # a comment\ng(x, y) = x * y",
            "f(x) = 2 * sqrt(x) - sqrt(x)",
            "f(x) = ((((((((x))))))))",
            "f(x) = powi(x, -3) + muladd(x, x, x) + logsumexp(x, 1)",
            "f(\"x y\") = 1",
            "f(x) = 1e999 + 1e-999",
            "f(x) = sigmod(x)",
            "f(x) = (x + 1",
            "f(x) = let a = x in a\ng(x) = a",
            "f(x) = powi(x, 10000000)",
            "f(a, b, c) = a < b < c",
            "f(x) = \u{00e9}x",
        ]
        for op in Opcode.allCases where op.arity > 0 {
            let args = ["a", "b", "c"].prefix(op.arity).joined(separator: ", ")
            list.append("f(a, b, c) = \(op.mnemonic)(\(args))")
        }
        return list
    }

    /// Writes the seed corpus: `expression/`, `tape-text/` (the expressions' tapes and random
    /// tapes over every opcode, printed) and `c-abi/` (both, behind option and fault bytes).
    public static func write(to directory: String) throws {
        let fm = FileManager.default
        var count = 0
        func put(_ target: FuzzTarget, _ bytes: [UInt8]) throws {
            let dir = directory + "/" + target.rawValue
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let name = String(format: "seed-%04d", count)
            count += 1
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        var texts: [String] = []
        for (i, e) in expressions.enumerated() {
            try put(.expression, Array(e.utf8))
            if let tape = try? Tape(expression: e) { texts.append(tape.text) }
            try put(.cABI, [UInt8(truncatingIfNeeded: i * 37), UInt8(truncatingIfNeeded: i * 11)] + Array(e.utf8))
        }
        for k in 0..<12 {
            let tape = Tape.random(instructions: 4 + 3 * k, inputs: k % 4, parameters: k % 3, outputs: 1 + k % 3, seed: UInt64(k))
            texts.append(tape.text)
        }
        let csvs = [
            "x,y\n1,2\n3,4\n", "x,y,label\n1,2,a\n3,4,b\n-1e300,nan,c\n0.5,-0,d\n1e-310,7,e\n",
            "\u{FEFF}\"x\",\"y, z\"\n  1 , \"2\"\n\n3,4\r\n", "a\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n",
            "x,y\n1,abc\n", "x,y\n1\n", "x,\"y\n1,2\n", "", "x\ninf\n-INF\nInfinity\nNaN\n.5\n1e999\n0x10\n",
        ]
        for (i, c) in csvs.enumerated() { try put(.csv, [UInt8(i * 17 % 256)] + Array(c.utf8)) }
        for (shape, descr) in [([3], "<f8"), ([2, 2], ">f8"), ([0, 3], "<f8"), ([], "<f8"), ([4], "<f4"), ([2, 3], "<f8")] {
            let header = NPYHeader(descr: descr, shape: shape)
            let data = (0..<header.elementCount).flatMap { k -> [UInt8] in
                let bits = Double(k) * 1.5 - 2
                return withUnsafeBytes(of: descr.hasPrefix(">") ? bits.bitPattern.byteSwapped : bits.bitPattern.littleEndian, Array.init)
            }
            try put(.npy, header.encoded() + data)
            try put(.npy, header.encoded() + data.dropLast(5))   // truncated
        }
        for (i, t) in texts.enumerated() {
            try put(.tapeText, Array(t.utf8))
            try put(.cABI, [UInt8(truncatingIfNeeded: i * 29) | 1, UInt8(truncatingIfNeeded: i * 13)] + Array(t.utf8))
        }
    }
}
