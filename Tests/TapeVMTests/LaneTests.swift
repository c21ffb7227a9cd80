import Testing
@testable import TapeVM

/// The lanes agree on the primitives the rules are written with, bit for bit: `Double` (the
/// reference), `SIMD8<Double>` (the Swift interpreter) and `Traced` (recorded as instructions,
/// then run by the reference).
@Suite struct LaneTests {
    static let values: [Double] = [0, -0.0, 1.5, -2.25, .infinity, -.infinity, Double.leastNonzeroMagnitude * 7, -3e300]

    /// Runs `f` on every lane and expects the same bits (NaN matching NaN).
    static func agree(_ what: String, _ f: (Traced, Traced) -> Traced, _ d: (Double, Double) -> Double,
                      _ v: (SIMD8<Double>, SIMD8<Double>) -> SIMD8<Double>) throws {
        for a in values {
            let bs = SIMD8<Double>(values)
            let simd = v(SIMD8(repeating: a), bs)
            let tape = try Tape.trace("a", "b") { x, y in f(x, y) }
            for (i, b) in values.enumerated() {
                let want = d(a, b)
                let traced = ReferenceInterpreter(tape).evaluate(inputs: [a, b])[0]
                for got in [simd[i], traced] {
                    #expect(got.bitPattern == want.bitPattern || (got.isNaN && want.isNaN), "\(what)(\(a), \(b)): \(got) vs \(want)")
                }
            }
        }
    }

    @Test func copysignNegationAndAbs() throws {
        try Self.agree("copysign", { .copysign($0, $1) }, { .copysign($0, $1) }, { .copysign($0, $1) })
        try Self.agree("neg", { a, _ in -a }, { a, _ in -a }, { a, _ in -a })
        try Self.agree("abs", { a, _ in .abs(a) }, { a, _ in .abs(a) }, { a, _ in .abs(a) })
        try Self.agree("sqrt", { a, _ in .sqrt(a) }, { a, _ in .sqrt(a) }, { a, _ in .sqrt(a) })
        try Self.agree("floor", { a, _ in .floor(a) }, { a, _ in .floor(a) }, { a, _ in .floor(a) })
    }
}
