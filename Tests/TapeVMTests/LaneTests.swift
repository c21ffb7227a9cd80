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

    /// Every math function of the Swift interpreter's lane gives the reference's bits with the
    /// lane table filled for each code path this CPU runs, the 2-lane forms included (what CPUs
    /// without AVX2 and arm64 run; here they reach SLEEF's FMA routines, as the reference does).
    /// Blocks hold one value in every lane: SLEEF's sin and cos may round a lane differently when
    /// another lane of its block takes their slow path.
    @Test func laneTableFormsOfEveryWidthMatchTheReference() {
        typealias V = SIMD8<Double>
        let unary: [(String, (V) -> V, (Double) -> Double)] = [
            ("exp", V.exp, Double.exp), ("expm1", V.expm1, Double.expm1), ("log", V.log, Double.log),
            ("log1p", V.log1p, Double.log1p), ("sin", V.sin, Double.sin), ("cos", V.cos, Double.cos),
            ("exp2", V.exp2, Double.exp2), ("log2", V.log2, Double.log2), ("log10", V.log10, Double.log10),
            ("cbrt", V.cbrt, Double.cbrt), ("tan", V.tan, Double.tan), ("asin", V.asin, Double.asin),
            ("acos", V.acos, Double.acos), ("atan", V.atan, Double.atan), ("sinh", V.sinh, Double.sinh),
            ("cosh", V.cosh, Double.cosh), ("asinh", V.asinh, Double.asinh), ("acosh", V.acosh, Double.acosh),
            ("atanh", V.atanh, Double.atanh), ("erf", V.erf, Double.erf), ("erfc", V.erfc, Double.erfc),
            ("tanh", V.tanh, Double.tanh), ("sigmoid", V.sigmoid, Double.sigmoid), ("sqrt", V.sqrt, Double.sqrt),
        ]
        let binary: [(String, (V, V) -> V, (Double, Double) -> Double)] = [
            ("pow", V.pow, Double.pow), ("atan2", V.atan2, Double.atan2), ("hypot", V.hypot, Double.hypot),
        ]
        let xs: [Double] = [0, -0.0, 0.1, -0.7, 0.5625, 1, 1.5, -2.25, 3, 19.5, -40, 700, -745, 1e-300, 1e300,
                            .infinity, -.infinity, .nan, .leastNonzeroMagnitude]
        let paths = InstructionSet.supported.map(\.cValue)
        defer { _ = tv_lanes_select(tv_isa_best()) }
        // Eight different ordinary values in a block, so that a lane out of place shows.
        let block = V([0.1, -0.7, 0.5625, 0.9, 1.5, -2.25, 3, 0.3])
        for isa in paths {
            #expect(tv_lanes_select(isa) == 0)
            for (name, v, d) in unary {
                let got = v(block)
                for i in 0..<8 where got[i].bitPattern != d(block[i]).bitPattern && !(got[i].isNaN && d(block[i]).isNaN) {
                    Issue.record("\(name)(\(block[i])) in lane \(i), path \(isa): \(got[i]) vs \(d(block[i]))")
                }
            }
            for (name, v, d) in binary {
                let got = v(block, block.replacing(with: 2, where: block .< 0))
                for i in 0..<8 where got[i].bitPattern != d(block[i], block[i] < 0 ? 2 : block[i]).bitPattern {
                    Issue.record("\(name) in lane \(i), path \(isa): \(got[i])")
                }
            }
            for x in xs {
                for (name, v, d) in unary {
                    let (got, want) = (v(V(repeating: x))[3], d(x))
                    #expect(got.bitPattern == want.bitPattern || (got.isNaN && want.isNaN), "\(name)(\(x)) path \(isa): \(got) vs \(want)")
                }
                for (name, v, d) in binary {
                    for y in [2, -0.5, x] {
                        let (got, want) = (v(V(repeating: x), V(repeating: y))[5], d(x, y))
                        #expect(got.bitPattern == want.bitPattern || (got.isNaN && want.isNaN),
                                "\(name)(\(x), \(y)) path \(isa): \(got) vs \(want)")
                    }
                }
            }
        }
        #expect(tv_lanes_select(99) == -1)
    }
}
