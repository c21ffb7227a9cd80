import Foundation
import Testing
@testable import TapeVM

/// The functions added for users of JAX, PyTorch and CasADi: their conventions where the
/// derivative is undefined (decided as JAX does), and their gradients against hand-derived values,
/// on the reference interpreter and every code path (``ConventionTests/expectEverywhere``).
@Suite struct NewOpcodeTests {
    typealias C = ConventionTests

    /// atan2 at the origin: the gradient is 0/0 = NaN in both operands (JAX's rule
    /// `x/(x²+y²)`, `-y/(x²+y²)`); the value is SLEEF's atan2(±0, ±0) (±0 or ±π).
    @Test func atan2AtTheOrigin() throws {
        C.expectEverywhere(try C.apply(.atan2, 0, 0), value: 0, gradient: [.nan, .nan], "atan2(0, 0)")
        C.expectEverywhere(try C.apply(.atan2, 0, -1), value: .pi, gradient: [-1, -0.0], "atan2(0, -1)")
        C.expectEverywhere(try C.apply(.atan2, 1, 0), value: .pi / 2, gradient: [0, -1], "atan2(1, 0)")
        // Away from it: ∂a = b/(a²+b²), ∂b = -a/(a²+b²).
        C.expectEverywhere(try C.apply(.atan2, 3, 4), value: Foundation.atan2(3.0, 4.0), gradient: [4.0 / 25, -3.0 / 25], "atan2(3, 4)")
    }

    /// hypot at the origin: gradient 0 in both operands (JAX's subgradient; PyTorch gives NaN).
    @Test func hypotAtTheOrigin() throws {
        C.expectEverywhere(try C.apply(.hypot, 0, 0), value: 0, gradient: [0, 0], "hypot(0, 0)")
        C.expectEverywhere(try C.apply(.hypot, 3, -4), value: 5, gradient: [0.6, -0.8], "hypot(3, -4)")
        C.expectEverywhere(try C.apply(.hypot, 1e300, 1e300), value: 1e300 * 2.0.squareRoot(),
                           gradient: [1 / 2.0.squareRoot(), 1 / 2.0.squareRoot()], "hypot(1e300, 1e300): no overflow")
    }

    /// sign, floor and ceil are piecewise constant: no gradient at all (the reverse sweep skips
    /// them, as it does comparisons), so the gradient is exactly 0 even where the value jumps.
    @Test func piecewiseConstantFunctionsHaveNoGradient() throws {
        for (x, s) in [(2.5, 1.0), (-0.1, -1.0), (0.0, 0.0), (-0.0, -0.0), (.infinity, 1.0), (.nan, .nan)] {
            C.expectEverywhere(try C.apply(.sign, x), value: s, gradient: [0], "sign(\(x))")
        }
        for (x, f, c) in [(2.5, 2.0, 3.0), (-2.5, -3.0, -2.0), (3.0, 3.0, 3.0), (-0.5, -1.0, -0.0)] {
            C.expectEverywhere(try C.apply(.floor, x), value: f, gradient: [0], "floor(\(x))")
            C.expectEverywhere(try C.apply(.ceil, x), value: c, gradient: [0], "ceil(\(x))")
        }
        #expect(!Opcode.sign.info.isDifferentiable && !Opcode.floor.info.isDifferentiable && !Opcode.ceil.info.isDifferentiable)
    }

    /// Where the derivative is infinite the gradient is IEEE's ±∞ (as in JAX), not NaN.
    @Test func infiniteDerivativesAtDomainEdges() throws {
        C.expectEverywhere(try C.apply(.cbrt, 0), value: 0, gradient: [.infinity], "cbrt(0)")
        C.expectEverywhere(try C.apply(.cbrt, -8), value: -2, gradient: [1.0 / 12], "cbrt(-8)")
        C.expectEverywhere(try C.apply(.acosh, 1), value: 0, gradient: [.infinity], "acosh(1)")
        C.expectEverywhere(try C.apply(.atanh, 1), value: .infinity, gradient: [.infinity], "atanh(1)")
        C.expectEverywhere(try C.apply(.asin, 1), value: .pi / 2, gradient: [.infinity], "asin(1)")
        C.expectEverywhere(try C.apply(.acos, -1), value: .pi, gradient: [-.infinity], "acos(-1)")
        C.expectEverywhere(try C.apply(.asin, 2), value: .nan, gradient: [.nan], "asin(2): outside the domain")
    }

    /// Hand-derived values at simple points.
    @Test func gradientsAtSimplePoints() throws {
        C.expectEverywhere(try C.apply(.tan, 0), value: 0, gradient: [1], "tan(0)")
        C.expectEverywhere(try C.apply(.atan, 1), value: .pi / 4, gradient: [0.5], "atan(1)")
        C.expectEverywhere(try C.apply(.sinh, 0), value: 0, gradient: [1], "sinh(0)")
        C.expectEverywhere(try C.apply(.cosh, 0), value: 1, gradient: [0], "cosh(0)")
        C.expectEverywhere(try C.apply(.asinh, 0), value: 0, gradient: [1], "asinh(0)")
        C.expectEverywhere(try C.apply(.erf, 0), value: 0, gradient: [2 / Double.pi.squareRoot()], "erf(0)")
        C.expectEverywhere(try C.apply(.erfc, 0), value: 1, gradient: [-2 / Double.pi.squareRoot()], "erfc(0)")
        C.expectEverywhere(try C.apply(.exp2, 3), value: 8, gradient: [8 * M_LN2], "exp2(3)")
        C.expectEverywhere(try C.apply(.log2, 8), value: 3, gradient: [1 / (8 * M_LN2)], "log2(8)")
        C.expectEverywhere(try C.apply(.log10, 100), value: 2, gradient: [1 / (100 * M_LN10)], "log10(100)")
    }

    /// The issue's example: f = atan2(y, x) + erf(x)·asinh(y) + cbrt(x) + hypot(x, y) at
    /// (1.5, -0.5), against the analytic gradient, on every path, with every path agreeing bit
    /// for bit.
    @Test func issueExampleMatchesTheAnalyticGradient() throws {
        let tape = try Tape(expression: "f(x, y) = atan2(y, x) + erf(x) * asinh(y) + cbrt(x) + hypot(x, y)")
        let (x, y) = (1.5, -0.5)
        let r2 = x * x + y * y
        let dx = -y / r2 + 2 / Double.pi.squareRoot() * Foundation.exp(-x * x) * Foundation.asinh(y)
            + 1 / (3 * Foundation.cbrt(x) * Foundation.cbrt(x)) + x / r2.squareRoot()
        let dy = x / r2 + Foundation.erf(x) / (y * y + 1).squareRoot() + y / r2.squareRoot()
        let outcomes = try C.outcomes(tape, [x, y])
        for o in outcomes {
            #expect(Swift.abs(o.gradient[0] - dx) <= 1e-14 * Swift.abs(dx), "\(o.engine): ∂x \(o.gradient[0]) vs \(dx)")
            #expect(Swift.abs(o.gradient[1] - dy) <= 1e-14 * Swift.abs(dy), "\(o.engine): ∂y \(o.gradient[1]) vs \(dy)")
            #expect(C.same(o.gradient, outcomes[0].gradient) && C.same(o.values, outcomes[0].values), "\(o.engine)")
        }
    }

    /// Every new function is in the expression language, the tape text format and the gradient tape.
    @Test func everyFormatKnowsTheNewFunctions() throws {
        let source = "f(x, y) = tan(x) + atan(x) + atan2(y, x) + asin(x/4) + acos(x/4) + sinh(x) + cosh(y) + asinh(y)"
            + " + acosh(x + 2) + atanh(y/2) + erf(x) + erfc(y) + cbrt(y) + hypot(x, y) + exp2(x) + log2(x)"
            + " + log10(x) + sign(y) + floor(x) + ceil(y)"
        let tape = try Tape(expression: source)
        #expect(try Tape(text: tape.text) == tape)
        let gradient = try tape.gradientTape()
        let point = [0.8, -0.3]
        let want = ReferenceInterpreter(tape).gradient(inputs: point)
        let got = ReferenceInterpreter(gradient).evaluate(inputs: point)
        #expect(C.same(Array(got.suffix(2)), want.inputs))
        #expect(Set(tape.instructions.map(\.opcode)).isSuperset(of: [.tan, .atan, .atan2, .asin, .acos, .sinh, .cosh, .asinh,
            .acosh, .atanh, .erf, .erfc, .cbrt, .hypot, .exp2, .log2, .log10, .sign, .floor, .ceil]))
    }
}
