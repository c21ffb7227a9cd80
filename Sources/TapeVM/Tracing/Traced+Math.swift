// Free functions on `Traced`, named like Foundation's so traced code reads like plain Swift math.
// Each records the opcode of the same name (constants alone fold in `Double`).
//
// Overload resolution: the functions whose names Foundation also defines (exp, log, sqrt, sin,
// cos, tanh, abs, log1p, expm1, pow) are `@_disfavoredOverload`, so that plain code such as
// `sqrt(2)` or `pow(2, 10)` in a file importing both modules keeps its Foundation meaning; with a
// `Traced` argument they are the only candidates and are chosen. The `Double`-mixing forms of the
// binary functions are disfavored too, so a literal next to a `Traced` value becomes a `Traced`
// constant. All `pow` forms are disfavored alike, which keeps `pow(x, 2)` on the `Int` (`powi`)
// form and `pow(x, 0.5)` on the `Double` one. There is no `pow(Double, Traced)`: with it,
// `pow(2, x)` would be ambiguous; write `pow(Traced(d), x)` for a `Double` base `d`.

// MARK: - Unary functions

/// Records e to the power `x`.
@_disfavoredOverload
public func exp(_ x: Traced) -> Traced { Traced.apply(.exp, [x]) }

/// Records the natural logarithm of `x`.
@_disfavoredOverload
public func log(_ x: Traced) -> Traced { Traced.apply(.log, [x]) }

/// Records the square root of `x`.
@_disfavoredOverload
public func sqrt(_ x: Traced) -> Traced { Traced.apply(.sqrt, [x]) }

/// Records the sine of `x` (radians).
@_disfavoredOverload
public func sin(_ x: Traced) -> Traced { Traced.apply(.sin, [x]) }

/// Records the cosine of `x` (radians).
@_disfavoredOverload
public func cos(_ x: Traced) -> Traced { Traced.apply(.cos, [x]) }

/// Records the hyperbolic tangent of `x`.
@_disfavoredOverload
public func tanh(_ x: Traced) -> Traced { Traced.apply(.tanh, [x]) }

/// Records `|x|` (gradient 0 at 0).
@_disfavoredOverload
public func abs(_ x: Traced) -> Traced { Traced.apply(.abs, [x]) }

/// Records `1/(1+e⁻ˣ)`.
public func sigmoid(_ x: Traced) -> Traced { Traced.apply(.sigmoid, [x]) }

/// Records `max(x, 0)` (gradient 0 at 0).
public func relu(_ x: Traced) -> Traced { Traced.apply(.relu, [x]) }

/// Records `ln(1+eˣ)`, computed stably.
public func softplus(_ x: Traced) -> Traced { Traced.apply(.softplus, [x]) }

/// Records `ln(1+x)`, accurate near 0.
@_disfavoredOverload
public func log1p(_ x: Traced) -> Traced { Traced.apply(.log1p, [x]) }

/// Records `eˣ-1`, accurate near 0.
@_disfavoredOverload
public func expm1(_ x: Traced) -> Traced { Traced.apply(.expm1, [x]) }

/// Records `x²`.
public func square(_ x: Traced) -> Traced { Traced.apply(.square, [x]) }

/// Records `1/x`.
public func recip(_ x: Traced) -> Traced { Traced.apply(.recip, [x]) }

// MARK: - Binary functions and comparisons

/// Records the larger of `a` and `b` (the gradient goes to the larger; half each on a tie).
public func max(_ a: Traced, _ b: Traced) -> Traced { Traced.apply(.max, [a, b]) }
/// Records the larger of `a` and `b` (the gradient goes to the larger; half each on a tie).
@_disfavoredOverload
public func max(_ a: Traced, _ b: Double) -> Traced { Traced.apply(.max, [a, Traced(b)]) }
/// Records the larger of `a` and `b` (the gradient goes to the larger; half each on a tie).
@_disfavoredOverload
public func max(_ a: Double, _ b: Traced) -> Traced { Traced.apply(.max, [Traced(a), b]) }

/// Records the smaller of `a` and `b` (the gradient goes to the smaller; half each on a tie).
public func min(_ a: Traced, _ b: Traced) -> Traced { Traced.apply(.min, [a, b]) }
/// Records the smaller of `a` and `b` (the gradient goes to the smaller; half each on a tie).
@_disfavoredOverload
public func min(_ a: Traced, _ b: Double) -> Traced { Traced.apply(.min, [a, Traced(b)]) }
/// Records the smaller of `a` and `b` (the gradient goes to the smaller; half each on a tie).
@_disfavoredOverload
public func min(_ a: Double, _ b: Traced) -> Traced { Traced.apply(.min, [Traced(a), b]) }

/// Records `a` to the power `b` (a real exponent; `pow(x, 2)` with an `Int` records `powi`).
/// For a `Double` base `d`, write `pow(Traced(d), x)`.
@_disfavoredOverload
public func pow(_ a: Traced, _ b: Traced) -> Traced { Traced.apply(.pow, [a, b]) }
/// Records `a` to the power `b` (a real exponent; `pow(x, 2)` with an `Int` records `powi`).
/// For a `Double` base `d`, write `pow(Traced(d), x)`.
@_disfavoredOverload
public func pow(_ a: Traced, _ b: Double) -> Traced { Traced.apply(.pow, [a, Traced(b)]) }

/// Records `ln(eᵃ + eᵇ)`, computed stably.
public func logaddexp(_ a: Traced, _ b: Traced) -> Traced { Traced.apply(.logaddexp, [a, b]) }
/// Records `ln(eᵃ + eᵇ)`, computed stably.
@_disfavoredOverload
public func logaddexp(_ a: Traced, _ b: Double) -> Traced { Traced.apply(.logaddexp, [a, Traced(b)]) }
/// Records `ln(eᵃ + eᵇ)`, computed stably.
@_disfavoredOverload
public func logaddexp(_ a: Double, _ b: Traced) -> Traced { Traced.apply(.logaddexp, [Traced(a), b]) }

/// Records `1` if `a < b`, else `0` (no gradient).
public func lt(_ a: Traced, _ b: Traced) -> Traced { Traced.apply(.lt, [a, b]) }
/// Records `1` if `a < b`, else `0` (no gradient).
@_disfavoredOverload
public func lt(_ a: Traced, _ b: Double) -> Traced { Traced.apply(.lt, [a, Traced(b)]) }
/// Records `1` if `a < b`, else `0` (no gradient).
@_disfavoredOverload
public func lt(_ a: Double, _ b: Traced) -> Traced { Traced.apply(.lt, [Traced(a), b]) }

/// Records `1` if `a ≤ b`, else `0` (no gradient).
public func le(_ a: Traced, _ b: Traced) -> Traced { Traced.apply(.le, [a, b]) }
/// Records `1` if `a ≤ b`, else `0` (no gradient).
@_disfavoredOverload
public func le(_ a: Traced, _ b: Double) -> Traced { Traced.apply(.le, [a, Traced(b)]) }
/// Records `1` if `a ≤ b`, else `0` (no gradient).
@_disfavoredOverload
public func le(_ a: Double, _ b: Traced) -> Traced { Traced.apply(.le, [Traced(a), b]) }

/// Records `1` if `a > b`, else `0` (no gradient).
public func gt(_ a: Traced, _ b: Traced) -> Traced { Traced.apply(.gt, [a, b]) }
/// Records `1` if `a > b`, else `0` (no gradient).
@_disfavoredOverload
public func gt(_ a: Traced, _ b: Double) -> Traced { Traced.apply(.gt, [a, Traced(b)]) }
/// Records `1` if `a > b`, else `0` (no gradient).
@_disfavoredOverload
public func gt(_ a: Double, _ b: Traced) -> Traced { Traced.apply(.gt, [Traced(a), b]) }

/// Records `1` if `a ≥ b`, else `0` (no gradient).
public func ge(_ a: Traced, _ b: Traced) -> Traced { Traced.apply(.ge, [a, b]) }
/// Records `1` if `a ≥ b`, else `0` (no gradient).
@_disfavoredOverload
public func ge(_ a: Traced, _ b: Double) -> Traced { Traced.apply(.ge, [a, Traced(b)]) }
/// Records `1` if `a ≥ b`, else `0` (no gradient).
@_disfavoredOverload
public func ge(_ a: Double, _ b: Traced) -> Traced { Traced.apply(.ge, [Traced(a), b]) }

/// Records `1` if `a = b`, else `0` (no gradient).
public func eq(_ a: Traced, _ b: Traced) -> Traced { Traced.apply(.eq, [a, b]) }
/// Records `1` if `a = b`, else `0` (no gradient).
@_disfavoredOverload
public func eq(_ a: Traced, _ b: Double) -> Traced { Traced.apply(.eq, [a, Traced(b)]) }
/// Records `1` if `a = b`, else `0` (no gradient).
@_disfavoredOverload
public func eq(_ a: Double, _ b: Traced) -> Traced { Traced.apply(.eq, [Traced(a), b]) }

/// Records `1` if `a ≠ b` or either is NaN, else `0` (no gradient).
public func ne(_ a: Traced, _ b: Traced) -> Traced { Traced.apply(.ne, [a, b]) }
/// Records `1` if `a ≠ b` or either is NaN, else `0` (no gradient).
@_disfavoredOverload
public func ne(_ a: Traced, _ b: Double) -> Traced { Traced.apply(.ne, [a, Traced(b)]) }
/// Records `1` if `a ≠ b` or either is NaN, else `0` (no gradient).
@_disfavoredOverload
public func ne(_ a: Double, _ b: Traced) -> Traced { Traced.apply(.ne, [Traced(a), b]) }

// MARK: - Integer powers, selection, fused forms

/// Records `x` to the integer power `n` (a `powi` instruction: exact repeated multiplication,
/// defined for negative `x`). `pow(x, 2)` with an integer literal lands here.
///
/// The tape accepts `|n| ≤ 1000000`; a larger exponent makes the trace throw when it is built.
@_disfavoredOverload
public func pow(_ x: Traced, _ n: Int) -> Traced { Traced.apply(.powi, [x], immediate: Double(n)) }

/// Records `ifNonzero` where `condition` ≠ 0 and `ifZero` where it is 0 (NaN if `condition` is
/// NaN). Both sides are computed; the gradient flows only into the side chosen.
///
/// This is how traced code branches: `select(lt(x, 0), -x, x)`.
public func select(_ condition: Traced, _ ifNonzero: Traced, _ ifZero: Traced) -> Traced {
    Traced.apply(.select, [condition, ifNonzero, ifZero])
}

/// Records `a·b + c` as one `muladd` instruction (rounded twice, like `a * b + c`).
public func muladd(_ a: Traced, _ b: Traced, _ c: Traced) -> Traced { Traced.apply(.muladd, [a, b, c]) }

// MARK: - More functions (Foundation's names, so disfavored as above)

/// Records the tangent of `x` (radians).
@_disfavoredOverload
public func tan(_ x: Traced) -> Traced { Traced.apply(.tan, [x]) }

/// Records the arc tangent of `x`.
@_disfavoredOverload
public func atan(_ x: Traced) -> Traced { Traced.apply(.atan, [x]) }

/// Records the arc sine of `x`.
@_disfavoredOverload
public func asin(_ x: Traced) -> Traced { Traced.apply(.asin, [x]) }

/// Records the arc cosine of `x`.
@_disfavoredOverload
public func acos(_ x: Traced) -> Traced { Traced.apply(.acos, [x]) }

/// Records the hyperbolic sine of `x`.
@_disfavoredOverload
public func sinh(_ x: Traced) -> Traced { Traced.apply(.sinh, [x]) }

/// Records the hyperbolic cosine of `x`.
@_disfavoredOverload
public func cosh(_ x: Traced) -> Traced { Traced.apply(.cosh, [x]) }

/// Records the inverse hyperbolic sine of `x`.
@_disfavoredOverload
public func asinh(_ x: Traced) -> Traced { Traced.apply(.asinh, [x]) }

/// Records the inverse hyperbolic cosine of `x`.
@_disfavoredOverload
public func acosh(_ x: Traced) -> Traced { Traced.apply(.acosh, [x]) }

/// Records the inverse hyperbolic tangent of `x`.
@_disfavoredOverload
public func atanh(_ x: Traced) -> Traced { Traced.apply(.atanh, [x]) }

/// Records the error function of `x`.
@_disfavoredOverload
public func erf(_ x: Traced) -> Traced { Traced.apply(.erf, [x]) }

/// Records `1 - erf(x)`, accurate for large `x`.
@_disfavoredOverload
public func erfc(_ x: Traced) -> Traced { Traced.apply(.erfc, [x]) }

/// Records the real cube root of `x`.
@_disfavoredOverload
public func cbrt(_ x: Traced) -> Traced { Traced.apply(.cbrt, [x]) }

/// Records 2 to the power `x`.
@_disfavoredOverload
public func exp2(_ x: Traced) -> Traced { Traced.apply(.exp2, [x]) }

/// Records the base-2 logarithm of `x`.
@_disfavoredOverload
public func log2(_ x: Traced) -> Traced { Traced.apply(.log2, [x]) }

/// Records the base-10 logarithm of `x`.
@_disfavoredOverload
public func log10(_ x: Traced) -> Traced { Traced.apply(.log10, [x]) }

/// Records `x` rounded toward -∞ (no gradient).
@_disfavoredOverload
public func floor(_ x: Traced) -> Traced { Traced.apply(.floor, [x]) }

/// Records `x` rounded toward +∞ (no gradient).
@_disfavoredOverload
public func ceil(_ x: Traced) -> Traced { Traced.apply(.ceil, [x]) }

/// Records the sign of `x`: 1, -1, or `x` itself for ±0 and NaN (no gradient).
public func sign(_ x: Traced) -> Traced { Traced.apply(.sign, [x]) }

/// Records the angle of the point (x, y), `atan2(y, x)` in C's argument order (gradient NaN at the origin).
@_disfavoredOverload
public func atan2(_ y: Traced, _ x: Traced) -> Traced { Traced.apply(.atan2, [y, x]) }
/// Records the angle of the point (x, y), `atan2(y, x)` in C's argument order (gradient NaN at the origin).
@_disfavoredOverload
public func atan2(_ y: Traced, _ x: Double) -> Traced { Traced.apply(.atan2, [y, Traced(x)]) }
/// Records the angle of the point (x, y), `atan2(y, x)` in C's argument order (gradient NaN at the origin).
@_disfavoredOverload
public func atan2(_ y: Double, _ x: Traced) -> Traced { Traced.apply(.atan2, [Traced(y), x]) }

/// Records `√(a² + b²)` without overflow (gradient 0 at the origin).
@_disfavoredOverload
public func hypot(_ a: Traced, _ b: Traced) -> Traced { Traced.apply(.hypot, [a, b]) }
/// Records `√(a² + b²)` without overflow (gradient 0 at the origin).
@_disfavoredOverload
public func hypot(_ a: Traced, _ b: Double) -> Traced { Traced.apply(.hypot, [a, Traced(b)]) }
/// Records `√(a² + b²)` without overflow (gradient 0 at the origin).
@_disfavoredOverload
public func hypot(_ a: Double, _ b: Traced) -> Traced { Traced.apply(.hypot, [Traced(a), b]) }
