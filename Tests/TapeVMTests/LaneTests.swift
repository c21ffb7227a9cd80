import Testing
import CTapeKernels
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

    /// The C lane functions compiled from Lane's one definition of tanh and sigmoid
    /// (generated/lane_functions.h, at the widest vector width; `SIMD8<Double>.tanh` runs the first)
    /// give the same bits as that definition on `Double`, lane by lane, for blocks whose lanes all
    /// take one branch of tanh and for mixed ones.
    @Test func generatedLaneFunctionsMatchTheDefinition() {
        var values: [Double] = [0, -0.0, .nan, .infinity, -.infinity, 0.5625, 0.5625.nextDown, 19.1, 19.1.nextUp,
                                1e-300, -1e-300, 710, -745, 1e308, Double.leastNonzeroMagnitude]
        var state: UInt64 = 0x9E3779B97F4A7C15
        for k in 0..<4000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u = Double(state >> 11) / Double(1 << 53)
            values.append(k % 2 == 0 ? (u - 0.5) * 1.2 : (u - 0.5) * 50)   // blocks within |x| < 0.6, and mixed
        }
        while values.count % 8 != 0 { values.append(1) }
        for start in stride(from: 0, to: values.count, by: 8) {
            let x = SIMD8<Double>(values[start..<start + 8])
            var (input, s) = (x, SIMD8<Double>())
            withUnsafePointer(to: &input) { px in withUnsafeMutablePointer(to: &s) { tv_lane_sigmoid(px, $0) } }
            let t = SIMD8<Double>.tanh(x)
            for i in 0..<8 {
                let (wantT, wantS) = (Double.tanh(x[i]), Double.sigmoid(x[i]))
                #expect(t[i].bitPattern == wantT.bitPattern || (t[i].isNaN && wantT.isNaN), "tanh(\(x[i])): \(t[i]) vs \(wantT)")
                #expect(s[i].bitPattern == wantS.bitPattern || (s[i].isNaN && wantS.isNaN), "sigmoid(\(x[i])): \(s[i]) vs \(wantS)")
            }
        }
    }
}
