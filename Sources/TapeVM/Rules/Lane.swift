/// What an opcode's rules may compute with: the arithmetic, comparisons, selection and math
/// functions that every lane type provides.
///
/// The instruction set's forward and reverse rules (``OpcodeRule``) are written once, generic over
/// a lane, and every part of TapeVM that needs an opcode's math runs those same rules on its own
/// lane type:
///
/// | lane | what runs the rules |
/// |---|---|
/// | `Double` | the reference interpreter, constant folding, trace-time folding |
/// | `SIMD8<Double>` | the Swift interpreter's sweeps (the `swift` code path) |
/// | ``Traced`` | tape transforms: `Tape.gradientTape()` records each reverse rule as instructions |
/// | a probe lane | the planner's facts: which values a reverse rule reads, which contributions pass the adjoint through |
/// | a printing lane | the C source of the AVX2 and AVX-512 kernels (generated, committed, checked by a test) |
///
/// Because one rule serves them all, every path computes the same operations in the same order,
/// which is why they agree bit for bit.
///
/// Math functions that correspond to an opcode of their own but are defined through other
/// operations (``tanh(_:)``, ``sigmoid(_:)``, ``powi(_:_:plus:)``) have default implementations
/// here; a lane that records instructions overrides them to record the one opcode instead.
package protocol Lane {
    /// The result of a comparison, lane by lane: `Bool` for `Double`, a `SIMDMask` for SIMD lanes.
    associatedtype Mask
    /// What a rule sees of its instruction's immediate: the value itself, or (for the printing
    /// lane) the expression that loads it.
    associatedtype Immediate

    /// `value` in every lane.
    init(_ value: Double)
    /// The instruction's immediate in every lane.
    static func splat(_ k: Immediate) -> Self

    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static func / (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self

    static func .< (a: Self, b: Self) -> Mask
    static func .<= (a: Self, b: Self) -> Mask
    static func .> (a: Self, b: Self) -> Mask
    static func .>= (a: Self, b: Self) -> Mask
    static func .== (a: Self, b: Self) -> Mask
    static func .!= (a: Self, b: Self) -> Mask
    /// Lanes where both masks hold.
    static func and(_ m: Mask, _ n: Mask) -> Mask
    /// Lanes where either mask holds.
    static func or(_ m: Mask, _ n: Mask) -> Mask
    /// `a` where `m` holds, else `b`; both are computed.
    static func select(_ m: Mask, _ a: Self, _ b: Self) -> Self
    /// `a()` where `m` holds, else `b()`, computing a side only when some lane takes it.
    /// The results equal `select(m, a(), b())`; only the work differs.
    static func choose(_ m: Mask, _ a: () -> Self, _ b: () -> Self) -> Self

    /// `|x|`: the sign bit cleared (`|-0| = +0`, NaN stays NaN).
    static func abs(_ x: Self) -> Self
    /// `magnitude` with the sign bit of `sign` (C's `copysign`).
    static func copysign(_ magnitude: Self, _ sign: Self) -> Self
    /// Correctly rounded square root.
    static func sqrt(_ x: Self) -> Self
    // The math functions SLEEF provides (1.0 ULP forms unless noted), one per lane type.
    static func exp(_ x: Self) -> Self
    static func expm1(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func log1p(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
    static func exp2(_ x: Self) -> Self
    static func log2(_ x: Self) -> Self
    static func log10(_ x: Self) -> Self
    static func cbrt(_ x: Self) -> Self
    /// √(x² + y²) without overflow (SLEEF's 0.5 ULP form).
    static func hypot(_ x: Self, _ y: Self) -> Self
    static func sin(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
    static func tan(_ x: Self) -> Self
    static func asin(_ x: Self) -> Self
    static func acos(_ x: Self) -> Self
    static func atan(_ x: Self) -> Self
    /// The angle of the point (x, y): `atan2(y, x)`, in C's argument order.
    static func atan2(_ y: Self, _ x: Self) -> Self
    static func sinh(_ x: Self) -> Self
    static func cosh(_ x: Self) -> Self
    static func asinh(_ x: Self) -> Self
    static func acosh(_ x: Self) -> Self
    static func atanh(_ x: Self) -> Self
    static func erf(_ x: Self) -> Self
    /// `1 - erf(x)` without cancellation (SLEEF's 1.5 ULP form).
    static func erfc(_ x: Self) -> Self
    /// Rounding toward -∞ and +∞ (exact; not SLEEF).
    static func floor(_ x: Self) -> Self
    static func ceil(_ x: Self) -> Self

    /// tanh, built from ``exp(_:)`` (see the default implementation).
    static func tanh(_ x: Self) -> Self
    /// `1/(1+e⁻ˣ)`.
    static func sigmoid(_ x: Self) -> Self
    /// `x` to the integer power `k + offset` by binary exponentiation (`k` an exponent immediate).
    static func powi(_ x: Self, _ k: Immediate, plus offset: Int) -> Self
}

extension Lane {
    @inline(__always) package static func choose(_ m: Mask, _ a: () -> Self, _ b: () -> Self) -> Self { select(m, a(), b()) }

    @inline(__always) package static func sigmoid(_ x: Self) -> Self { sigmoidDefinition(x) }
    @inline(__always) package static func tanh(_ x: Self) -> Self { tanhDefinition(x) }

    /// `1/(1+e⁻ˣ)`: what ``sigmoid(_:)`` computes on every lane (the default; lanes that
    /// override `sigmoid` record or call this same definition).
    @inline(__always) package static func sigmoidDefinition(_ x: Self) -> Self { Self(1) / (Self(1) + exp(-x)) }

    /// What ``tanh(_:)`` computes on every lane: tanh from ``exp(_:)`` with plain multiplies and
    /// adds. With `a = |x|`:
    /// - `a < 0.5625`: `a + a³·P(a²)`, `P` an 11-term minimax fit of `(tanh a - a)/a³`;
    /// - `0.5625 ≤ a ≤ 19.1`: `1 - 2/(e+1)`, `e = exp(2a)`, with the rounding errors of `e+1`,
    ///   of the division (its residual from Dekker's exact product) and of `1 - q` carried as a
    ///   correction, so what remains is exp's error (scaled by at most 1/2) and the final rounding;
    /// - `a > 19.1`: 1 (tanh rounds to 1 from 19.06);
    /// then the sign of `x` is given back: odd bit for bit, `tanh(±0) = ±0`, `tanh(±∞) = ±1`, NaN stays NaN.
    /// A block of lanes all on one side of 0.5625 computes only that side (``choose(_:_:_:)``).
    ///
    /// Measured against `long double` `tanhl` on 4·10⁶ points (uniform in [-1, 1] and [-20, 20],
    /// log-uniform magnitudes 1e-300…20, around the switch point): max 0.826 ULP, mean 0.194 ULP.
    /// SLEEF's `tanh` u10 measured max 1.0005 (near 18.7, where it returns 1 early, and near
    /// 1e-16), mean 0.191, but only 0.503 within [-1, 1], where this is 0.81.
    @inline(__always) package static func tanhDefinition(_ x: Self) -> Self {
        let a = abs(x)
        let t = choose(a .< Self(0.5625), {
            let s = a * a
            var p = Self(-2.002720499945591e-05)
            p = p * s + Self(8.426595878475474e-05)
            p = p * s + Self(-0.0002341060656593313)
            p = p * s + Self(0.0005887538963165787)
            p = p * s + Self(-0.0014556240191643602)
            p = p * s + Self(0.0035921055379605073)
            p = p * s + Self(-0.008863234022025001)
            p = p * s + Self(0.021869488476986772)
            p = p * s + Self(-0.053968253967059995)
            p = p * s + Self(0.13333333333332392)
            p = p * s + Self(-0.3333333333333333)
            return a + (a * s) * p
        }, {
            let e = exp(a + a), d = e + Self(1)
            let dErr = Self(1) - (d - e)                  // d + dErr = e + 1 exactly (Fast2Sum, e ≥ 1)
            let q = Self(2) / d
            let split = Self(134217729)                   // Dekker: q·d = pr + pe exactly
            let cq = split * q, qh = cq - (cq - q), ql = q - qh
            let cd = split * d, dh = cd - (cd - d), dl = d - dh
            let pr = q * d
            let pe = ((qh * dh - pr) + qh * dl + ql * dh) + ql * dl
            let r = (Self(2) - pr) - pe                   // 2 - q·d
            let qLo = (r - q * dErr) * (Self(0.5) * q)    // 2/(e+1) ≈ q + qLo
            let s1 = Self(1) - q, sLo = (Self(1) - s1) - q // s1 + sLo = 1 - q exactly
            return select(a .> Self(19.1), Self(1), s1 + (sLo - qLo))
        })
        return copysign(t, x)
    }
}

extension Lane where Immediate == Double {
    @inline(__always) package static func splat(_ k: Double) -> Self { Self(k) }

    /// Binary exponentiation, the same multiplications on every lane; a negative exponent takes
    /// the reciprocal at the end. Exponents are clamped to ±2⁴⁰ (tapes hold |k| ≤ 10⁶; folding
    /// and tracing may meet any double first).
    @inline(__always) package static func powi(_ x: Self, _ k: Double, plus offset: Int) -> Self {
        let n = (Int(exactly: k) ?? (k.isNaN ? 0 : k > 0 ? 1 << 40 : -(1 << 40))) + offset
        var m = n.magnitude
        var result = Self(1)
        var base = x
        while m > 0 {
            if m & 1 == 1 { result = result * base }
            base = base * base
            m >>= 1
        }
        return n < 0 ? Self(1) / result : result
    }
}
