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
    package static func sqrt(_ x: Traced) -> Traced { apply(.sqrt, [x]) }
    package static func exp(_ x: Traced) -> Traced { apply(.exp, [x]) }
    package static func expm1(_ x: Traced) -> Traced { apply(.expm1, [x]) }
    package static func log(_ x: Traced) -> Traced { apply(.log, [x]) }
    package static func log1p(_ x: Traced) -> Traced { apply(.log1p, [x]) }
    package static func pow(_ x: Traced, _ y: Traced) -> Traced { apply(.pow, [x, y]) }
    package static func sin(_ x: Traced) -> Traced { apply(.sin, [x]) }
    package static func cos(_ x: Traced) -> Traced { apply(.cos, [x]) }
    package static func tanh(_ x: Traced) -> Traced { apply(.tanh, [x]) }
    package static func sigmoid(_ x: Traced) -> Traced { apply(.sigmoid, [x]) }
    package static func powi(_ x: Traced, _ k: Double, plus offset: Int) -> Traced {
        apply(.powi, [x], immediate: k + Double(offset))
    }
}
