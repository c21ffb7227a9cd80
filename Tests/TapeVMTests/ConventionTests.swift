import Foundation
import Testing
@testable import TapeVM

/// The conventions documented on ``Opcode`` (IEEE special values, subgradients at kinks,
/// routing, comparisons, stable softplus/logaddexp, unfused muladd), checked exactly on the
/// reference interpreter and on every supported SIMD path, in every lane of a tile.
@Suite struct ConventionTests {
    /// One engine's value and gradient at one point.
    struct Outcome {
        var engine: String
        var values: [Double]
        var gradient: [Double]
        var value: Double { values[0] }
    }

    /// Lanes per SIMD run: one full 8-lane block and a tail, so both code paths are covered.
    static let lanes = 9

    /// Runs `tape` at `point` (one value per input) on the reference interpreter and on every
    /// supported instruction set (the point repeated in every lane); one outcome per engine and lane.
    static func outcomes(_ tape: Tape, _ point: [Double], seeds: [Double]? = nil) throws -> [Outcome] {
        let ref = ReferenceInterpreter(tape).gradient(inputs: point, seeds: seeds)
        var all = [Outcome(engine: "reference", values: ref.values, gradient: ref.inputs)]
        let columns = point.map { [Double](repeating: $0, count: lanes) }
        for isa in InstructionSet.supported {
            let program = Program(tape, options: ExecutionOptions(threads: 1, tileSize: 16, instructionSet: isa))
            let r = try program.valueAndGradient(inputs: columns, seeds: seeds ?? tape.outputs.indices.map { $0 == 0 ? 1 : 0 })
            for lane in 0..<lanes {
                all.append(Outcome(engine: "\(isa) lane \(lane)",
                                   values: r.values.map { $0[lane] },
                                   gradient: r.inputGradients.map { $0[lane] }))
            }
        }
        return all
    }

    /// A tape applying `op` to its inputs x0, x1, ... directly.
    static func single(_ op: Opcode, immediate: Double = 0) throws -> Tape {
        let b = TapeBuilder()
        let xs = (0..<op.arity).map { b.input("x\($0)") }
        b.output("y", b.emit(op, xs, immediate: immediate))
        return try b.build()
    }

    /// Outcomes of `op` alone at `point`.
    static func apply(_ op: Opcode, _ point: Double..., immediate: Double = 0) throws -> [Outcome] {
        try outcomes(single(op, immediate: immediate), point)
    }

    /// Bitwise equality, NaN equal to NaN (so `+0` and `-0` differ).
    static func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }
    static func same(_ a: [Double], _ b: [Double]) -> Bool { a.count == b.count && zip(a, b).allSatisfy { same($0, $1) } }

    /// Expects every engine to give exactly `value` and `gradient` (bitwise, NaN matching NaN);
    /// reports at most one failing lane per engine.
    static func expectEverywhere(_ outcomes: [Outcome], value: Double, gradient: [Double], _ what: String,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
        var reported = Set<String>()
        for o in outcomes where !reported.contains(o.engine.prefix { $0 != " " }.description) {
            guard !same(o.value, value) || !same(o.gradient, gradient) else { continue }
            Issue.record("\(what) [\(o.engine)]: value \(o.value), gradient \(o.gradient); expected value \(value), gradient \(gradient)",
                         sourceLocation: sourceLocation)
            reported.insert(o.engine.prefix { $0 != " " }.description)
        }
    }

    // MARK: - Kinks

    @Test func absHasZeroDerivativeAtPlusAndMinusZero() throws {
        Self.expectEverywhere(try Self.apply(.abs, 0), value: 0, gradient: [0], "abs(+0)")
        Self.expectEverywhere(try Self.apply(.abs, -0.0), value: 0, gradient: [0], "abs(-0)")
        Self.expectEverywhere(try Self.apply(.abs, -2.5), value: 2.5, gradient: [-1], "abs(-2.5)")
        Self.expectEverywhere(try Self.apply(.abs, 3), value: 3, gradient: [1], "abs(3)")
        Self.expectEverywhere(try Self.apply(.abs, .nan), value: .nan, gradient: [.nan], "abs(NaN)")
    }

    @Test func reluHasZeroDerivativeAtZeroAndPropagatesNaN() throws {
        Self.expectEverywhere(try Self.apply(.relu, 0), value: 0, gradient: [0], "relu(+0)")
        // relu(-0) is +0 (the forward rule returns the constant 0 for every non-positive number).
        Self.expectEverywhere(try Self.apply(.relu, -0.0), value: 0, gradient: [0], "relu(-0)")
        Self.expectEverywhere(try Self.apply(.relu, -3), value: 0, gradient: [0], "relu(-3)")
        Self.expectEverywhere(try Self.apply(.relu, 1.5), value: 1.5, gradient: [1], "relu(1.5)")
        Self.expectEverywhere(try Self.apply(.relu, .nan), value: .nan, gradient: [.nan], "relu(NaN)")
        Self.expectEverywhere(try Self.apply(.relu, -.infinity), value: 0, gradient: [0], "relu(-inf)")
    }

    @Test(arguments: [Opcode.max, .min])
    func maxAndMinSplitTiesEvenly(op: Opcode) throws {
        for v in [2.0, -7, 0, .infinity, -.infinity] {
            Self.expectEverywhere(try Self.apply(op, v, v), value: v, gradient: [0.5, 0.5], "\(op)(\(v), \(v))")
        }
        // +0 and -0 compare equal: a tie too.
        for o in try Self.apply(op, 0, -0.0) {
            #expect(o.value == 0 && Self.same(o.gradient, [0.5, 0.5]), "\(op)(+0, -0) [\(o.engine)]: \(o.value), \(o.gradient)")
        }
        let (larger, smaller) = op == .max ? ([1.0, 0.0], [0.0, 1.0]) : ([0.0, 1.0], [1.0, 0.0])
        Self.expectEverywhere(try Self.apply(op, 3, 1), value: op == .max ? 3 : 1, gradient: larger, "\(op)(3, 1)")
        Self.expectEverywhere(try Self.apply(op, 1, 3), value: op == .max ? 3 : 1, gradient: smaller, "\(op)(1, 3)")
    }

    @Test(arguments: [Opcode.max, .min])
    func maxAndMinWithANaNOperandAreNaNWithNaNGradients(op: Opcode) throws {
        for point in [[Double.nan, 1], [1, .nan], [.nan, .nan], [.nan, -.infinity], [.infinity, .nan]] {
            Self.expectEverywhere(try Self.outcomes(Self.single(op), point), value: .nan, gradient: [.nan, .nan], "\(op)\(point)")
        }
    }

    // MARK: - IEEE special values

    @Test func divisionByZeroFollowsIEEE() throws {
        Self.expectEverywhere(try Self.apply(.recip, 0), value: .infinity, gradient: [-.infinity], "1/+0")
        Self.expectEverywhere(try Self.apply(.recip, -0.0), value: -.infinity, gradient: [-.infinity], "1/-0")
        for o in try Self.apply(.div, 1, 0) {
            #expect(o.value == .infinity, "1/0 [\(o.engine)]: \(o.value)")
            #expect(o.gradient[0] == .infinity, "∂(a/b)/∂a at 1/0 [\(o.engine)]: \(o.gradient[0])")
        }
        for o in try Self.apply(.div, -1, 0) { #expect(o.value == -.infinity, "-1/0 [\(o.engine)]: \(o.value)") }
        for o in try Self.apply(.div, 1, -0.0) { #expect(o.value == -.infinity, "1/-0 [\(o.engine)]: \(o.value)") }
        Self.expectEverywhere(try Self.apply(.div, 0, 0), value: .nan, gradient: [.infinity, .nan], "0/0")
    }

    @Test func logOfZeroIsMinusInfinityAndOfNegativeIsNaN() throws {
        Self.expectEverywhere(try Self.apply(.log, 0), value: -.infinity, gradient: [.infinity], "log(+0)")
        Self.expectEverywhere(try Self.apply(.log, -0.0), value: -.infinity, gradient: [-.infinity], "log(-0)")
        for o in try Self.apply(.log, -1) {
            #expect(o.value.isNaN, "log(-1) [\(o.engine)]: \(o.value)")
        }
        Self.expectEverywhere(try Self.apply(.log, 1), value: 0, gradient: [1], "log(1)")
    }

    @Test func sqrtHasInfiniteDerivativeAtZero() throws {
        Self.expectEverywhere(try Self.apply(.sqrt, 0), value: 0, gradient: [.infinity], "sqrt(+0)")
        Self.expectEverywhere(try Self.apply(.sqrt, 4), value: 2, gradient: [0.25], "sqrt(4)")
        for o in try Self.apply(.sqrt, -1) { #expect(o.value.isNaN && o.gradient[0].isNaN, "sqrt(-1) [\(o.engine)]") }
    }

    @Test func powHasZeroExponentDerivativeAtBaseZero() throws {
        for exponent in [0.0, 0.5, 1, 2, 3.5] {
            for base in [0.0, -0.0] {
                for o in try Self.apply(.pow, base, exponent) {
                    #expect(Self.same(o.gradient[1], 0), "∂pow/∂b at (\(base), \(exponent)) [\(o.engine)]: \(o.gradient[1])")
                    #expect(o.value == (exponent == 0 ? 1 : 0), "pow(\(base), \(exponent)) [\(o.engine)]: \(o.value)")
                }
            }
        }
        // Away from 0 the exponent derivative is y·ln a: at (e, 2) it is e² (to a few ULPs).
        for o in try Self.apply(.pow, M_E, 2) {
            #expect(Swift.abs(o.gradient[1] - M_E * M_E) <= 1e-14 * M_E * M_E, "∂pow/∂b at (e, 2) [\(o.engine)]: \(o.gradient[1])")
        }
    }

    @Test func powiOfZeroWithNegativeExponentIsInfinite() throws {
        Self.expectEverywhere(try Self.apply(.powi, 0, immediate: -1), value: .infinity, gradient: [-.infinity], "powi(+0, -1)")
        Self.expectEverywhere(try Self.apply(.powi, -0.0, immediate: -1), value: -.infinity, gradient: [-.infinity], "powi(-0, -1)")
        Self.expectEverywhere(try Self.apply(.powi, 0, immediate: -2), value: .infinity, gradient: [-.infinity], "powi(+0, -2)")
        Self.expectEverywhere(try Self.apply(.powi, 2, immediate: -1), value: 0.5, gradient: [-0.25], "powi(2, -1)")
        Self.expectEverywhere(try Self.apply(.powi, 3, immediate: 0), value: 1, gradient: [0], "powi(3, 0)")
    }

    // MARK: - select

    @Test func selectWithNaNConditionIsNaNAndRoutesNothing() throws {
        Self.expectEverywhere(try Self.apply(.select, .nan, 2, 3), value: .nan, gradient: [0, 0, 0], "select(NaN, 2, 3)")
        Self.expectEverywhere(try Self.apply(.select, 1, 2, 3), value: 2, gradient: [0, 1, 0], "select(1, 2, 3)")
        Self.expectEverywhere(try Self.apply(.select, -0.5, 2, 3), value: 2, gradient: [0, 1, 0], "select(-0.5, 2, 3)")
        Self.expectEverywhere(try Self.apply(.select, 0, 2, 3), value: 3, gradient: [0, 0, 1], "select(0, 2, 3)")
        Self.expectEverywhere(try Self.apply(.select, -0.0, 2, 3), value: 3, gradient: [0, 0, 1], "select(-0, 2, 3)")
        Self.expectEverywhere(try Self.apply(.select, .infinity, 2, 3), value: 2, gradient: [0, 1, 0], "select(inf, 2, 3)")
    }

    /// `sqrt(route(...))` where the routed value is 0: the adjoint reaching the routing
    /// instruction is +∞. It must reach the taken operand as ∞ and the other as exactly 0
    /// (never ∞·0 = NaN).
    @Test func routingInstructionsDoNotLeakNaNFromAnInfiniteAdjoint() throws {
        func sqrtOf(_ op: Opcode) throws -> Tape {
            let b = TapeBuilder()
            let xs = (0..<op.arity).map { b.input("x\($0)") }
            b.output("y", b.sqrt(b.emit(op, xs)))
            return try b.build()
        }
        let cases: [(Opcode, [Double], [Double])] = [
            (.select, [1, 0, 5], [0, .infinity, 0]),
            (.select, [0, 5, 0], [0, 0, .infinity]),
            (.select, [.nan, 0, 0], [0, 0, 0]),
            (.max, [0, -1], [.infinity, 0]),
            (.max, [-1, 0], [0, .infinity]),
            (.min, [0, 1], [.infinity, 0]),
            (.min, [1, 0], [0, .infinity]),
            (.relu, [-1], [0]),
            (.relu, [0], [0]),
            (.abs, [0], [0]),
            (.abs, [-0.0], [0]),
        ]
        for (op, point, gradient) in cases {
            let value = point.first!.isNaN ? Double.nan : 0
            Self.expectEverywhere(try Self.outcomes(sqrtOf(op), point), value: value, gradient: gradient, "sqrt(\(op)\(point))")
        }
        // A tie under an infinite adjoint: ½·∞ to each side, no NaN.
        Self.expectEverywhere(try Self.outcomes(sqrtOf(.max), [0, 0]), value: 0, gradient: [.infinity, .infinity], "sqrt(max(0, 0))")
    }

    // MARK: - Comparisons

    @Test(arguments: [Opcode.lt, .le, .gt, .ge, .eq, .ne])
    func comparisonsWithNaNAreFalseExceptNotEqual(op: Opcode) throws {
        let want: Double = op == .ne ? 1 : 0
        for point in [[Double.nan, 1], [1, .nan], [.nan, .nan], [.nan, .infinity]] {
            Self.expectEverywhere(try Self.outcomes(Self.single(op), point), value: want, gradient: [0, 0], "\(op)\(point)")
        }
    }

    @Test func comparisonsOnOrdinaryValuesAndTheirZeroGradient() throws {
        let table: [(Opcode, [Double])] = [  // results at (1, 2), (2, 2), (3, 2), (-0, +0)
            (.lt, [1, 0, 0, 0]), (.le, [1, 1, 0, 1]), (.gt, [0, 0, 1, 0]),
            (.ge, [0, 1, 1, 1]), (.eq, [0, 1, 0, 1]), (.ne, [1, 0, 1, 0]),
        ]
        let points: [[Double]] = [[1, 2], [2, 2], [3, 2], [-0.0, 0]]
        for (op, results) in table {
            for (point, want) in zip(points, results) {
                Self.expectEverywhere(try Self.outcomes(Self.single(op), point), value: want, gradient: [0, 0], "\(op)\(point)")
            }
        }
    }

    // MARK: - Stable softplus and logaddexp

    @Test func softplusDoesNotOverflow() throws {
        Self.expectEverywhere(try Self.apply(.softplus, 1000), value: 1000, gradient: [1], "softplus(1000)")
        Self.expectEverywhere(try Self.apply(.softplus, -1000), value: 0, gradient: [0], "softplus(-1000)")
        Self.expectEverywhere(try Self.apply(.softplus, .infinity), value: .infinity, gradient: [1], "softplus(inf)")
        for o in try Self.apply(.softplus, 0) {
            #expect(Swift.abs(o.value - M_LN2) <= 2 * M_LN2.ulp && o.gradient == [0.5], "softplus(0) [\(o.engine)]: \(o.value), \(o.gradient)")
        }
    }

    @Test func logaddexpDoesNotOverflow() throws {
        let ln2 = Foundation.log(2.0)
        Self.expectEverywhere(try Self.apply(.logaddexp, 1000, 1000), value: 1000 + ln2, gradient: [0.5, 0.5], "logaddexp(1000, 1000)")
        Self.expectEverywhere(try Self.apply(.logaddexp, -1000, -1000), value: -1000 + ln2, gradient: [0.5, 0.5], "logaddexp(-1000, -1000)")
        Self.expectEverywhere(try Self.apply(.logaddexp, 1000, 0), value: 1000, gradient: [1, 0], "logaddexp(1000, 0)")
        Self.expectEverywhere(try Self.apply(.logaddexp, 0, 1000), value: 1000, gradient: [0, 1], "logaddexp(0, 1000)")
        Self.expectEverywhere(try Self.apply(.logaddexp, -.infinity, -.infinity), value: -.infinity, gradient: [0.5, 0.5],
                              "logaddexp(-inf, -inf)")
        Self.expectEverywhere(try Self.apply(.logaddexp, .infinity, .infinity), value: .infinity, gradient: [0.5, 0.5],
                              "logaddexp(inf, inf)")
        Self.expectEverywhere(try Self.apply(.logaddexp, 3, -.infinity), value: 3, gradient: [1, 0], "logaddexp(3, -inf)")
    }

    // MARK: - muladd is not fused

    @Test func muladdRoundsTwiceLikeMultiplyThenAdd() throws {
        // (1 + 2⁻³⁰)(1 - 2⁻³⁰) = 1 - 2⁻⁶⁰ rounds to 1, so a·b + c is 0 where the fused result is -2⁻⁶⁰.
        let a = 1 + 0x1p-30, b = 1 - 0x1p-30, c = -1.0
        #expect(c.addingProduct(a, b) == -0x1p-60)
        Self.expectEverywhere(try Self.apply(.muladd, a, b, c), value: 0, gradient: [b, a, 1], "muladd(1+2⁻³⁰, 1-2⁻³⁰, -1)")

        // And on random triples chosen where fused and unfused results differ.
        var rng = SplitMix64(seed: 2024)
        var triples: [[Double]] = []
        while triples.count < 40 {
            let t = (0..<3).map { _ in Double.random(in: -10...10, using: &rng) }
            let (x, y) = (t[0], t[1])
            let z = -(x * y) + Double.random(in: -1e-6...1e-6, using: &rng)  // cancellation exposes the product's rounding
            if z.addingProduct(x, y) != x * y + z { triples.append([x, y, z]) }
        }
        let tape = try Self.single(.muladd)
        for t in triples {
            let unfused = t[0] * t[1] + t[2]
            for o in try Self.outcomes(tape, t) {
                #expect(Self.same(o.value, unfused), "muladd\(t) [\(o.engine)]: \(o.value), unfused \(unfused), fused \(t[2].addingProduct(t[0], t[1]))")
            }
        }
    }

    // MARK: - Known bugs (failing)

    /// KNOWN BUG: `d/dx x⁰ = 0` everywhere, but the reverse rules compute `k·xᵏ⁻¹` literally, which
    /// at x = 0 is `0·∞ = NaN` (powi with k = 0, and ∂a of pow at (0, 0)). JAX and PyTorch both
    /// return 0 there; the finite difference is 0 too.
    @Test func zeroethPowerHasZeroDerivativeAtZero() throws {
        for base in [0.0, -0.0] {
            Self.expectEverywhere(try Self.apply(.powi, base, immediate: 0), value: 1, gradient: [0], "powi(\(base), 0)")
            Self.expectEverywhere(try Self.apply(.pow, base, 0), value: 1, gradient: [0, 0], "pow(\(base), 0)")
        }
    }

    /// KNOWN BUG (or documentation error): ``Opcode`` documents `∂b = y·ln a (0 where a = 0)` for
    /// pow, but with a negative exponent y = ∞ and the rule computes `ln(1)·∞ = 0·∞ = NaN`.
    @Test func powExponentDerivativeIsZeroAtBaseZeroForNegativeExponents() throws {
        for exponent in [-0.5, -1, -2] {
            // ∂a = b·0^(b-1) = -∞; ∂b documented as 0.
            Self.expectEverywhere(try Self.apply(.pow, 0, exponent), value: .infinity, gradient: [-.infinity, 0], "pow(0, \(exponent))")
        }
    }
}
