import CTapeKernels

/// One instruction kind of the tape: what it computes and how its gradient flows.
///
/// The whole instruction set is the table ``Opcode/info``: each row gives the mnemonic, the
/// number of register operands, what the immediate field means, a one-line statement of the
/// forward rule and the local derivatives, and the two rules themselves as code. The parser,
/// printer, validator and the scalar reference interpreter read this table; the SIMD kernels in
/// `CTapeKernels` implement the same rules with the same arithmetic, operation for operation, and
/// the differential tests hold them to it bit for bit.
///
/// The raw values are the C kernels' opcode numbers (`tv_opcode` in `tapevm_kernels.h`).
///
/// ## Conventions
/// - IEEE 754 throughout: division by zero gives ±∞ or NaN, `log(0) = -∞`, `log(-1) = NaN`,
///   `sqrt'(0) = +∞`. NaN propagates through every value and every gradient it reaches.
/// - Subgradients at kinks follow JAX and PyTorch: `d|x|/dx = 0` at `x = 0`, `relu'(0) = 0`, and
///   `max`/`min` split the gradient `0.5`/`0.5` between tied operands.
/// - Routing instructions (`abs`, `relu`, `max`, `min`, `select`) pass the incoming adjoint
///   through or pass exactly zero; they never multiply it by a 0 or 1 local derivative, so an
///   infinite adjoint on one branch does not leak a NaN into the branch not taken.
/// - Comparisons produce `1` or `0` (`0` when an operand is NaN, except `ne`) and have no gradient.
public enum Opcode: UInt8, CaseIterable, Sendable, Hashable, Codable {
    case input, param, const
    case neg, recip, square, sqrt, exp, log, sigmoid, tanh, sin, cos, abs, relu, softplus, log1p, expm1, powi
    case add, sub, mul, div, pow, max, min, logaddexp, lt, le, gt, ge, eq, ne
    case select, muladd
    // Fused forms with a constant operand in the immediate (made by the optimizer; also valid in tapes).
    case addk, mulk, rsubk, divk, rdivk
    // Fused pairs (made by the optimizer where the inner result has no other use).
    case sqdiff, mulkadd, sqdiffk
}

/// What an instruction's immediate field holds.
public enum ImmediateKind: Sendable, Hashable {
    /// The immediate is unused (always 0).
    case none
    /// The index of an input or parameter slot.
    case slot
    /// A constant value.
    case value
    /// An integer exponent.
    case exponent
}

/// One row of the instruction-set table.
public struct OpcodeInfo: Sendable {
    /// The name used in tape text and error messages.
    public let mnemonic: String
    /// How many register operands the instruction reads (0 to 3).
    public let arity: Int
    /// What the immediate field holds.
    public let immediate: ImmediateKind
    /// The forward rule and local derivatives in one line, for documentation and `--help`.
    public let summary: String
    /// Whether any local derivative can be non-zero. Instructions without one (comparisons,
    /// leaves) are skipped by the reverse sweep.
    public let isDifferentiable: Bool

    /// Forward rule: `(a, b, c, immediate) -> y`, on one point.
    let forward: @Sendable (Double, Double, Double, Double) -> Double
    /// Reverse rule: `(g, a, b, c, immediate, y) -> (Δa, Δb, Δc)`, the contributions added to the
    /// operands' adjoints given the adjoint `g` of the result `y`.
    let backward: @Sendable (Double, Double, Double, Double, Double, Double) -> (Double, Double, Double)
}

/// The math functions the table's rules call. They are SLEEF's, evaluated through the C
/// kernels' portable path, so the reference interpreter and every SIMD path use one
/// implementation of each function and agree bit for bit where the CPU has FMA; `tanh` is
/// built here from `exp` with the same operations as the kernels.
enum ScalarMath {
    static func exp(_ x: Double) -> Double { tv_scalar_exp(x) }
    static func log(_ x: Double) -> Double { tv_scalar_log(x) }
    /// tanh from ``exp`` with plain multiplies and adds: the same operations in the same order as
    /// `VTANH_EXP` in kernels.c, so it agrees with every SIMD path bit for bit. With `a = |x|`:
    /// - `a < 0.5625`: `a + a³·P(a²)`, `P` an 11-term minimax fit of `(tanh a - a)/a³`;
    /// - `0.5625 ≤ a ≤ 19.1`: `1 - 2/(e+1)`, `e = exp(2a)`, with the rounding errors of `e+1`,
    ///   of the division (its residual from Dekker's exact product) and of `1 - q` carried as a
    ///   correction, so what remains is exp's error (scaled by at most 1/2) and the final rounding;
    /// - `a > 19.1`: 1 (tanh rounds to 1 from 19.06);
    /// then the sign bit of `x` is set on the result: `tanh(±0) = ±0`, `tanh(±∞) = ±1`, NaN stays NaN.
    ///
    /// Measured against `long double` `tanhl` on 4·10⁶ points (uniform in [-1, 1] and [-20, 20],
    /// log-uniform magnitudes 1e-300…20, around the switch point): max 0.826 ULP, mean 0.194 ULP.
    /// SLEEF's `tanh` u10, which this replaced, measured max 1.0005 (near 18.7, where it returns 1
    /// early, and near 1e-16), mean 0.191, but only 0.503 within [-1, 1], where this is 0.81.
    static func tanh(_ x: Double) -> Double {
        let a = Swift.abs(x)
        let t: Double
        if a < 0.5625 {
            let s = a * a
            var p = -2.002720499945591e-05
            p = p * s + 8.426595878475474e-05
            p = p * s + -0.0002341060656593313
            p = p * s + 0.0005887538963165787
            p = p * s + -0.0014556240191643602
            p = p * s + 0.0035921055379605073
            p = p * s + -0.008863234022025001
            p = p * s + 0.021869488476986772
            p = p * s + -0.053968253967059995
            p = p * s + 0.13333333333332392
            p = p * s + -0.3333333333333333
            t = a + (a * s) * p
        } else if a > 19.1 {
            t = 1
        } else {
            let e = exp(a + a), d = e + 1
            let dErr = 1 - (d - e)                     // d + dErr = e + 1 exactly (Fast2Sum, e ≥ 1)
            let q = 2 / d
            let split = 134217729.0                    // Dekker: q·d = pr + pe exactly
            let cq = split * q, qh = cq - (cq - q), ql = q - qh
            let cd = split * d, dh = cd - (cd - d), dl = d - dh
            let pr = q * d
            let pe = ((qh * dh - pr) + qh * dl + ql * dh) + ql * dl
            let r = (2 - pr) - pe                      // 2 - q·d
            let qLo = (r - q * dErr) * (0.5 * q)       // 2/(e+1) ≈ q + qLo
            let s1 = 1 - q, sLo = (1 - s1) - q         // s1 + sLo = 1 - q exactly
            t = s1 + (sLo - qLo)
        }
        return Double(bitPattern: t.bitPattern | (x.bitPattern & (1 << 63)))
    }
    static func sin(_ x: Double) -> Double { tv_scalar_sin(x) }
    static func cos(_ x: Double) -> Double { tv_scalar_cos(x) }
    static func log1p(_ x: Double) -> Double { tv_scalar_log1p(x) }
    static func expm1(_ x: Double) -> Double { tv_scalar_expm1(x) }
    static func pow(_ x: Double, _ y: Double) -> Double { tv_scalar_pow(x, y) }
    static func sqrt(_ x: Double) -> Double { x.squareRoot() }
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// `x` to an integer power by binary exponentiation; the C kernels use the same sequence of
    /// multiplications. Negative exponents take the reciprocal at the end.
    static func powi(_ x: Double, _ n: Int) -> Double {
        var m = n.magnitude
        var result = 1.0
        var base = x
        while m > 0 {
            if m & 1 == 1 { result = result * base }
            base = base * base
            m >>= 1
        }
        return n < 0 ? 1 / result : result
    }

    /// A `powi` exponent as an integer. Tapes hold |k| ≤ 10⁶ (validated), but constant folding
    /// and tracing may meet any double first: clamp instead of trapping.
    static func exponent(_ k: Double) -> Int {
        Int(exactly: k) ?? (k.isNaN ? 0 : k > 0 ? 1 << 40 : -(1 << 40))
    }

    static let ln2 = 0.6931471805599453
}

/// Which values an opcode's reverse rule reads: its operands `a`, `b` and its own result `y`.
/// The executor keeps exactly these values alive until the reverse sweep (register allocation).
struct ReverseReads: OptionSet, Sendable {
    let rawValue: UInt8
    static let a = ReverseReads(rawValue: 1), b = ReverseReads(rawValue: 2), y = ReverseReads(rawValue: 4)
}

extension Opcode {
    /// The values this opcode's reverse rule reads (the `backward` closure of its table row,
    /// and the `TV_REVERSE` case in sweep_template.h).
    var reverseReads: ReverseReads {
        switch self {
        case .input, .param, .const, .neg, .add, .sub, .lt, .le, .gt, .ge, .eq, .ne, .addk, .mulk, .rsubk, .divk, .mulkadd:
            return []
        case .recip, .sqrt, .exp, .sigmoid, .tanh, .expm1: return [.y]
        case .square, .log, .sin, .cos, .abs, .relu, .softplus, .log1p, .powi, .select, .sqdiffk: return [.a]
        case .mul, .max, .min, .logaddexp, .muladd, .sqdiff: return [.a, .b]
        case .div: return [.b, .y]
        case .pow: return [.a, .b, .y]
        case .rdivk: return [.a, .y]
        }
    }

    /// Whether the reverse rule's contribution to operand `k` is the incoming adjoint itself,
    /// unchanged (`add`'s operands, `sub`'s first, `addk`'s, `muladd`'s addend, `mulkadd`'s):
    /// the executor then lets that operand share the adjoint's plane instead of copying it.
    func passesAdjointThrough(operand k: Int) -> Bool {
        switch self {
        case .add: return true
        case .sub, .addk: return k == 0
        case .muladd: return k == 2
        case .mulkadd: return k == 1
        default: return false
        }
    }

    /// A cheaper opcode whose reverse rule makes the same contributions to the operands kept,
    /// when the contributions to `skipped` operands go nowhere (constants, or passed through):
    /// `muladd` without its addend is `mul`; `mulkadd` without `b` is `mulk`; `add` with one
    /// operand is `addk`; `sub` without `a` is `rsubk` (−g), without `b` it is `addk` (g).
    /// Returns the opcode and which original operands it takes, in order.
    func reverseWithout(_ skipped: Set<Int>) -> (opcode: Opcode, operands: [Int])? {
        switch (self, skipped) {
        case (.muladd, [2]): return (.mul, [0, 1])
        case (.mulkadd, [1]): return (.mulk, [0])
        case (.add, [0]): return (.addk, [1])
        case (.add, [1]): return (.addk, [0])
        case (.sub, [0]): return (.rsubk, [1])
        case (.sub, [1]): return (.addk, [0])
        default: return nil
        }
    }

    /// This opcode's row of the instruction-set table.
    public var info: OpcodeInfo { Opcode.table[Int(rawValue)] }

    /// The mnemonic used in tape text.
    public var mnemonic: String { info.mnemonic }

    /// The number of register operands.
    public var arity: Int { info.arity }

    /// Looks an opcode up by its mnemonic.
    public init?(mnemonic: String) {
        guard let op = Opcode.byMnemonic[mnemonic] else { return nil }
        self = op
    }

    private static let byMnemonic: [String: Opcode] = Dictionary(
        uniqueKeysWithValues: Opcode.allCases.map { ($0.info.mnemonic, $0) })

    // swiftlint:disable comma
    // The instruction set. Columns: opcode, arity, immediate, summary; forward rule; reverse rule.
    // `g` is the adjoint of the result `y`; each reverse rule returns what is added to the
    // adjoints of a, b, c. The C kernels spell each rule with the same operations in the same order.
    static let table: [OpcodeInfo] = Opcode.allCases.map { op in
        typealias M = ScalarMath
        func row(_ arity: Int, _ imm: ImmediateKind, _ summary: String, differentiable: Bool = true,
                 _ f: @escaping @Sendable (Double, Double, Double, Double) -> Double,
                 _ b: @escaping @Sendable (Double, Double, Double, Double, Double, Double) -> (Double, Double, Double)
        ) -> OpcodeInfo {
            OpcodeInfo(mnemonic: "\(op)", arity: arity, immediate: imm, summary: summary,
                       isDifferentiable: differentiable, forward: f, backward: b)
        }
        let none: @Sendable (Double, Double, Double, Double, Double, Double) -> (Double, Double, Double) = { _, _, _, _, _, _ in (0, 0, 0) }
        switch op {
        case .input:  return row(0, .slot, "y = inputs[k] (per point)", differentiable: false, { _, _, _, _ in 0 }, none)
        case .param:  return row(0, .slot, "y = params[k] (shared by all points)", differentiable: false, { _, _, _, _ in 0 }, none)
        case .const:  return row(0, .value, "y = k", differentiable: false, { _, _, _, k in k }, none)
        case .neg:    return row(1, .none, "y = -a; ∂a = -1",
                                 { a, _, _, _ in -a }, { g, _, _, _, _, _ in (-g, 0, 0) })
        case .recip:  return row(1, .none, "y = 1/a; ∂a = -y²",
                                 { a, _, _, _ in 1 / a }, { g, _, _, _, _, y in (-(g * y * y), 0, 0) })
        case .square: return row(1, .none, "y = a²; ∂a = 2a",
                                 { a, _, _, _ in a * a }, { g, a, _, _, _, _ in (g * (2 * a), 0, 0) })
        case .sqrt:   return row(1, .none, "y = √a; ∂a = 1/(2y)",
                                 { a, _, _, _ in M.sqrt(a) }, { g, _, _, _, _, y in (g / (2 * y), 0, 0) })
        case .exp:    return row(1, .none, "y = eᵃ; ∂a = y",
                                 { a, _, _, _ in M.exp(a) }, { g, _, _, _, _, y in (g * y, 0, 0) })
        case .log:    return row(1, .none, "y = ln a; ∂a = 1/a",
                                 { a, _, _, _ in M.log(a) }, { g, a, _, _, _, _ in (g / a, 0, 0) })
        case .sigmoid: return row(1, .none, "y = 1/(1+e⁻ᵃ); ∂a = y(1-y)",
                                 { a, _, _, _ in M.sigmoid(a) }, { g, _, _, _, _, y in (g * (y * (1 - y)), 0, 0) })
        case .tanh:   return row(1, .none, "y = tanh a (|a| < 0.5625: odd minimax polynomial, else 1 - 2/(e²ᵃ+1) compensated; ≤ 0.83 ULP measured); ∂a = 1-y²",
                                 { a, _, _, _ in M.tanh(a) }, { g, _, _, _, _, y in (g * (1 - y * y), 0, 0) })
        case .sin:    return row(1, .none, "y = sin a; ∂a = cos a",
                                 { a, _, _, _ in M.sin(a) }, { g, a, _, _, _, _ in (g * M.cos(a), 0, 0) })
        case .cos:    return row(1, .none, "y = cos a; ∂a = -sin a",
                                 { a, _, _, _ in M.cos(a) }, { g, a, _, _, _, _ in (-(g * M.sin(a)), 0, 0) })
        case .abs:    return row(1, .none, "y = |a|; ∂a = sign a, 0 at a = 0 (routes)",
                                 { a, _, _, _ in Swift.abs(a) },
                                 { g, a, _, _, _, _ in (a > 0 ? g : a < 0 ? -g : a == 0 ? 0 : a, 0, 0) })
        case .relu:   return row(1, .none, "y = max(a, 0); ∂a = 1 if a > 0 else 0 (routes; relu'(0) = 0)",
                                 { a, _, _, _ in a > 0 ? a : a == a ? 0 : a },
                                 { g, a, _, _, _, _ in (a > 0 ? g : a == a ? 0 : a, 0, 0) })
        case .softplus: return row(1, .none, "y = ln(1+eᵃ), computed stably; ∂a = sigmoid a",
                                 { a, _, _, _ in (a > 0 ? a : 0) + M.log1p(M.exp(-Swift.abs(a))) },
                                 { g, a, _, _, _, _ in (g * M.sigmoid(a), 0, 0) })
        case .log1p:  return row(1, .none, "y = ln(1+a); ∂a = 1/(1+a)",
                                 { a, _, _, _ in M.log1p(a) }, { g, a, _, _, _, _ in (g / (1 + a), 0, 0) })
        case .expm1:  return row(1, .none, "y = eᵃ-1; ∂a = y+1",
                                 { a, _, _, _ in M.expm1(a) }, { g, _, _, _, _, y in (g * (y + 1), 0, 0) })
        case .powi:   return row(1, .exponent, "y = aᵏ, k an integer; ∂a = k·aᵏ⁻¹ (0 when k = 0)",
                                 { a, _, _, k in M.powi(a, M.exponent(k)) },
                                 { g, a, _, _, k, _ in (k == 0 ? 0 : g * (k * M.powi(a, M.exponent(k) - 1)), 0, 0) })
        case .add:    return row(2, .none, "y = a + b; ∂a = 1, ∂b = 1",
                                 { a, b, _, _ in a + b }, { g, _, _, _, _, _ in (g, g, 0) })
        case .sub:    return row(2, .none, "y = a - b; ∂a = 1, ∂b = -1",
                                 { a, b, _, _ in a - b }, { g, _, _, _, _, _ in (g, -g, 0) })
        case .mul:    return row(2, .none, "y = a·b; ∂a = b, ∂b = a",
                                 { a, b, _, _ in a * b }, { g, a, b, _, _, _ in (g * b, g * a, 0) })
        case .div:    return row(2, .none, "y = a/b; ∂a = 1/b, ∂b = -y/b",
                                 { a, b, _, _ in a / b }, { g, _, b, _, _, y in (g / b, -(g * y / b), 0) })
        case .pow:    return row(2, .none, "y = aᵇ; ∂a = b·aᵇ⁻¹ (0 where b = 0), ∂b = y·ln a (0 where a = 0), as in JAX",
                                 { a, b, _, _ in M.pow(a, b) },
                                 { g, a, b, _, _, y in (b == 0 ? 0 : g * (b * M.pow(a, b - 1)), a == 0 ? 0 : g * (M.log(a) * y), 0) })
        case .max:    return row(2, .none, "y = larger of a, b (NaN if either is); ∂ to the larger, ½ each on a tie (routes)",
                                 { a, b, _, _ in a > b || a != a ? a : b },
                                 { g, a, b, _, _, _ in
                                     (a > b ? g : a < b ? 0 : a == b ? 0.5 * g : a + b,
                                      b > a ? g : b < a ? 0 : a == b ? 0.5 * g : a + b, 0) })
        case .min:    return row(2, .none, "y = smaller of a, b (NaN if either is); ∂ to the smaller, ½ each on a tie (routes)",
                                 { a, b, _, _ in a < b || a != a ? a : b },
                                 { g, a, b, _, _, _ in
                                     (a < b ? g : a > b ? 0 : a == b ? 0.5 * g : a + b,
                                      b < a ? g : b > a ? 0 : a == b ? 0.5 * g : a + b, 0) })
        case .logaddexp: return row(2, .none, "y = ln(eᵃ + eᵇ), computed stably; ∂a = sigmoid(a-b), ∂b = sigmoid(b-a)",
                                 { a, b, _, _ in
                                     a == b ? a + M.ln2 : (a > b || a != a ? a : b) + M.log1p(M.exp(-Swift.abs(a - b))) },
                                 { g, a, b, _, _, _ in
                                     (a == b ? 0.5 * g : g / (1 + M.exp(b - a)),
                                      a == b ? 0.5 * g : g / (1 + M.exp(a - b)), 0) })
        case .lt:     return row(2, .none, "y = 1 if a < b else 0; no gradient", differentiable: false,
                                 { a, b, _, _ in a < b ? 1 : 0 }, none)
        case .le:     return row(2, .none, "y = 1 if a ≤ b else 0; no gradient", differentiable: false,
                                 { a, b, _, _ in a <= b ? 1 : 0 }, none)
        case .gt:     return row(2, .none, "y = 1 if a > b else 0; no gradient", differentiable: false,
                                 { a, b, _, _ in a > b ? 1 : 0 }, none)
        case .ge:     return row(2, .none, "y = 1 if a ≥ b else 0; no gradient", differentiable: false,
                                 { a, b, _, _ in a >= b ? 1 : 0 }, none)
        case .eq:     return row(2, .none, "y = 1 if a = b else 0; no gradient", differentiable: false,
                                 { a, b, _, _ in a == b ? 1 : 0 }, none)
        case .ne:     return row(2, .none, "y = 1 if a ≠ b else 0 (1 if either is NaN); no gradient", differentiable: false,
                                 { a, b, _, _ in a != b ? 1 : 0 }, none)
        case .select: return row(3, .none, "y = b if a ≠ 0 else c (NaN if a is); ∂b, ∂c route to the chosen side, ∂a = 0",
                                 { a, b, c, _ in a != a ? a : a != 0 ? b : c },
                                 { g, a, _, _, _, _ in (0, a != 0 && a == a ? g : 0, a == 0 ? g : 0) })
        case .muladd: return row(3, .none, "y = a·b + c, rounded twice (not fused: every ISA agrees); ∂a = b, ∂b = a, ∂c = 1",
                                 { a, b, c, _ in a * b + c }, { g, a, b, _, _, _ in (g * b, g * a, g) })
        case .addk:   return row(1, .value, "y = a + k; ∂a = 1",
                                 { a, _, _, k in a + k }, { g, _, _, _, _, _ in (g, 0, 0) })
        case .mulk:   return row(1, .value, "y = a·k; ∂a = k",
                                 { a, _, _, k in a * k }, { g, _, _, _, k, _ in (g * k, 0, 0) })
        case .rsubk:  return row(1, .value, "y = k - a; ∂a = -1",
                                 { a, _, _, k in k - a }, { g, _, _, _, _, _ in (-g, 0, 0) })
        case .divk:   return row(1, .value, "y = a/k; ∂a = 1/k",
                                 { a, _, _, k in a / k }, { g, _, _, _, k, _ in (g / k, 0, 0) })
        case .rdivk:  return row(1, .value, "y = k/a; ∂a = -y/a",
                                 { a, _, _, k in k / a }, { g, a, _, _, _, y in (-(g * y / a), 0, 0) })
        // The fused pairs compute exactly what the pair did, so values and each operand's
        // contribution are unchanged.
        case .sqdiff: return row(2, .none, "y = (a - b)², the fused square(a - b); ∂a = 2(a - b), ∂b = -2(a - b)",
                                 { a, b, _, _ in let d = a - b; return d * d },
                                 { g, a, b, _, _, _ in let c = g * (2 * (a - b)); return (c, -c, 0) })
        case .mulkadd: return row(2, .value, "y = a·k + b, the fused mulk then add; ∂a = k, ∂b = 1",
                                 { a, b, _, k in a * k + b }, { g, _, _, _, k, _ in (g * k, g, 0) })
        case .sqdiffk: return row(1, .value, "y = (k - a)², the fused square(rsubk); ∂a = -2(k - a)",
                                 { a, _, _, k in let d = k - a; return d * d },
                                 { g, a, _, _, k, _ in (-(g * (2 * (k - a))), 0, 0) })
        }
    }
}
