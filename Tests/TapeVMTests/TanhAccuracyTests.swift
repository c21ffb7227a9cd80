import Foundation
import Testing
@testable import TapeVM

/// `tanh` is computed by TapeVM itself from SLEEF's exp (Double.tanh, and VTANH_EXP in
/// kernels.c): its accuracy, its special values, and every SIMD path against it bit for bit.
@Suite struct TanhAccuracyTests {
    /// The switch point between the polynomial and the exp formulation.
    static let cut = 0.5625

    /// Points where the two formulations and the cut-off to ±1 meet, plus a wide sample:
    /// uniform in [-1, 1] and [-20, 20], log-uniform magnitudes 1e-300…20, and around the switch.
    static func points(_ n: Int) -> [Double] {
        var rng = SplitMix64(seed: 2024)
        var xs: [Double] = [cut, cut.nextDown, cut.nextUp, 19.1, 19.1.nextUp, 19.06, 18.7, 0.5493061443340548,
                            1e-8, 0x1p-26, 0x1p-27, 1e-300, .leastNormalMagnitude, .leastNonzeroMagnitude]
        xs += xs.map { -$0 }
        while xs.count < n {
            let u = Double.random(in: 0..<1, using: &rng)
            var x: Double
            switch xs.count % 4 {
            case 0: x = 2 * u - 1
            case 1: x = 40 * u - 20
            case 2: x = Foundation.exp(Foundation.log(1e-300) + u * (Foundation.log(20.0) - Foundation.log(1e-300)))
            default: x = cut * (1 + (u - 0.5) * 0.02)
            }
            if Bool.random(using: &rng) { x = -x }
            xs.append(x)
        }
        return xs
    }

    #if arch(x86_64) && os(Linux)
    /// Error in units of the last place of the double result, against glibc's `long double` tanhl
    /// (64-bit significand: about 2⁻¹¹ ULP of a double).
    static func ulpError(_ y: Double, _ x: Double) -> Double {
        let r = tanhl(Float80(x))
        let ulp = Float80(sign: .plus, exponent: Swift.max(r.exponent, -1022) - 52, significand: 1)
        return Double(Swift.abs(Float80(y) - r) / ulp)
    }
    /// The bound measured on 4·10⁶ points (max 0.826; SLEEF's tanh u10 measured 1.0005 on the same points).
    static let bound = 0.85
    #else
    /// Elsewhere the reference is the platform's tanh, itself up to about 2 ULP off (glibc's
    /// measured 2.11): the bound allows that.
    static func ulpError(_ y: Double, _ x: Double) -> Double {
        let r = Foundation.tanh(x)
        return Swift.abs(y - r) / Swift.max(Swift.abs(r), .leastNormalMagnitude).ulp
    }
    static let bound = 3.0
    #endif

    @Test func maximumErrorIsWithinTheMeasuredBound() {
        var worst = 0.0, worstX = 0.0
        for x in Self.points(100_000) {
            let e = Self.ulpError(Double.tanh(x), x)
            if e > worst { worst = e; worstX = x }
        }
        #expect(worst <= Self.bound, "max error \(worst) ULP at x = \(worstX)")
    }

    @Test func specialValues() {
        let pz = Double.tanh(0.0), nz = Double.tanh(-0.0)
        #expect(pz == 0 && pz.sign == .plus)
        #expect(nz == 0 && nz.sign == .minus)
        #expect(Double.tanh(.infinity) == 1)
        #expect(Double.tanh(-.infinity) == -1)
        #expect(Double.tanh(.nan).isNaN)
        #expect(Double.tanh(.leastNonzeroMagnitude) == .leastNonzeroMagnitude)
        #expect(Double.tanh(-1e-300) == -1e-300)
        #expect(Double.tanh(19.1.nextUp) == 1 && Double.tanh(-1e300) == -1)
        #expect(Double.tanh(19.0) == 1.0.nextDown)   // tanh(19) = 1 - 6.3e-17: rounds below 1
        // Odd, monotone across the switch point and the cut-off.
        for x in Self.points(2_000) { #expect(Double.tanh(-x).bitPattern == (-Double.tanh(x)).bitPattern) }
        for x in [Self.cut, 19.1] {
            #expect(Double.tanh(x.nextDown) <= Double.tanh(x))
            #expect(Double.tanh(x) <= Double.tanh(x.nextUp))
        }
    }

    @Test(arguments: InstructionSet.supported)
    func everyPathMatchesTheScalarFunctionBitForBit(isa: InstructionSet) throws {
        let b = TapeBuilder()
        b.output("y", b.tanh(b.input("x")))
        let tape = try b.build()
        let xs = Self.points(20_000) + [0, -0.0, .infinity, -.infinity, .nan, 1e300, -1e300]
        let got = try Program(tape, options: ExecutionOptions(threads: 1, tileSize: 64, instructionSet: isa))
            .evaluate(inputs: [xs])[0]
        for (x, y) in zip(xs, got) {
            let want = Double.tanh(x)
            if !(y.bitPattern == want.bitPattern || (y.isNaN && want.isNaN)) {
                Issue.record("tanh(\(x)) = \(y) on \(isa), reference \(want)")
                return
            }
        }
    }
}
