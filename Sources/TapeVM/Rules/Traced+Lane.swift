/// The recording lane: running a rule on `Traced` values writes the rule out as instructions on
/// the values' builder (constants alone fold in `Double` with the same rules). This is how tape
/// transforms such as ``Tape/gradientTape(output:)`` get every opcode's reverse rule without a
/// per-opcode switch of their own. Comparisons record `1`/`0` values, so a mask is a `Traced`
/// too, and selecting by it records a `select`.
extension Traced: Lane {
    package typealias Mask = Traced
    package typealias Immediate = Double

    package static func .< (a: Traced, b: Traced) -> Traced { apply(.lt, [a, b]) }
    package static func .<= (a: Traced, b: Traced) -> Traced { apply(.le, [a, b]) }
    package static func .> (a: Traced, b: Traced) -> Traced { apply(.gt, [a, b]) }
    package static func .>= (a: Traced, b: Traced) -> Traced { apply(.ge, [a, b]) }
    package static func .== (a: Traced, b: Traced) -> Traced { apply(.eq, [a, b]) }
    package static func .!= (a: Traced, b: Traced) -> Traced { apply(.ne, [a, b]) }
    /// Both masks are 1/0 values: their product.
    package static func and(_ m: Traced, _ n: Traced) -> Traced { apply(.mul, [m, n]) }
    /// Both masks are 1/0 values: the larger.
    package static func or(_ m: Traced, _ n: Traced) -> Traced { apply(.max, [m, n]) }
    /// A `select`, or the chosen side itself when the mask is a constant (what `select` gives).
    package static func select(_ m: Traced, _ a: Traced, _ b: Traced) -> Traced {
        if let c = m.constantValue { return c.isNaN ? m : c != 0 ? a : b }
        return apply(.select, [m, a, b])
    }

    package static func abs(_ x: Traced) -> Traced { apply(.abs, [x]) }
    /// No opcode copies a sign bit: `-|m|` where `sign` is negative, -0 included (`1/-0 = -∞`),
    /// else `|m|` (exact for every sign but NaN's).
    package static func copysign(_ magnitude: Traced, _ sign: Traced) -> Traced {
        let m = abs(magnitude)
        return select(or(sign .< Traced(0), Traced(1) / sign .< Traced(0)), -m, m)
    }
    package static func sqrt(_ x: Traced) -> Traced { apply(.sqrt, [x]) }
    package static func exp(_ x: Traced) -> Traced { apply(.exp, [x]) }
    package static func expm1(_ x: Traced) -> Traced { apply(.expm1, [x]) }
    package static func log(_ x: Traced) -> Traced { apply(.log, [x]) }
    package static func log1p(_ x: Traced) -> Traced { apply(.log1p, [x]) }
    package static func pow(_ x: Traced, _ y: Traced) -> Traced { apply(.pow, [x, y]) }
    package static func sin(_ x: Traced) -> Traced { apply(.sin, [x]) }
    package static func cos(_ x: Traced) -> Traced { apply(.cos, [x]) }
    package static func exp2(_ x: Traced) -> Traced { apply(.exp2, [x]) }
    package static func log2(_ x: Traced) -> Traced { apply(.log2, [x]) }
    package static func log10(_ x: Traced) -> Traced { apply(.log10, [x]) }
    package static func cbrt(_ x: Traced) -> Traced { apply(.cbrt, [x]) }
    package static func tan(_ x: Traced) -> Traced { apply(.tan, [x]) }
    package static func asin(_ x: Traced) -> Traced { apply(.asin, [x]) }
    package static func acos(_ x: Traced) -> Traced { apply(.acos, [x]) }
    package static func atan(_ x: Traced) -> Traced { apply(.atan, [x]) }
    package static func sinh(_ x: Traced) -> Traced { apply(.sinh, [x]) }
    package static func cosh(_ x: Traced) -> Traced { apply(.cosh, [x]) }
    package static func asinh(_ x: Traced) -> Traced { apply(.asinh, [x]) }
    package static func acosh(_ x: Traced) -> Traced { apply(.acosh, [x]) }
    package static func atanh(_ x: Traced) -> Traced { apply(.atanh, [x]) }
    package static func erf(_ x: Traced) -> Traced { apply(.erf, [x]) }
    package static func erfc(_ x: Traced) -> Traced { apply(.erfc, [x]) }
    package static func floor(_ x: Traced) -> Traced { apply(.floor, [x]) }
    package static func ceil(_ x: Traced) -> Traced { apply(.ceil, [x]) }
    package static func atan2(_ x: Traced, _ y: Traced) -> Traced { apply(.atan2, [x, y]) }
    package static func hypot(_ x: Traced, _ y: Traced) -> Traced { apply(.hypot, [x, y]) }
    package static func tanh(_ x: Traced) -> Traced { apply(.tanh, [x]) }
    package static func sigmoid(_ x: Traced) -> Traced { apply(.sigmoid, [x]) }
    package static func powi(_ x: Traced, _ k: Double, plus offset: Int) -> Traced {
        apply(.powi, [x], immediate: k + Double(offset))
    }
}
