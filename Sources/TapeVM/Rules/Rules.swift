// The instruction set: one rule per opcode, forward and reverse side by side, generic over the
// lane that runs them (see Lane.swift). Every path derives from these: the reference interpreter
// and constant folding (Double), the Swift interpreter (SIMD8<Double>), the gradient tape
// (Traced), the planner's facts (RuleFacts.swift) and the generated C kernels
// (Sources/CTapeKernels/generated; regenerate with `scripts/generate-kernels`).
//
// In each rule `x.a`, `x.b`, `x.c` are the operands, `x.k` the immediate, `y` the result and `g`
// its adjoint; `reverse` returns what is added to each operand's adjoint. Operations are written
// in the order they are computed: each path performs exactly these, so they agree bit for bit.
//
// Every rule is `@inline(__always)`: the Swift interpreter's tile loops are specialized per rule
// (and per first-contribution flags), and a rule left out of line would cost a call per block.
//
// Adding an opcode: a case at the end of `Opcode` (raw values are serialized), a rule here, its
// line in `Opcode.visitRule` at the bottom, and `scripts/generate-kernels`.

// swiftlint:disable type_name
package enum Rules {
    package typealias R = OpcodeRow

    // MARK: Leaves (never run by a sweep: the executor loads them)
    package enum Input: OpcodeRule {
        package static let row = R(0, .slot, "y = inputs[k] (per point)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L(0) }
    }
    package enum Param: OpcodeRule {
        package static let row = R(0, .slot, "y = params[k] (shared by all points)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L(0) }
    }
    package enum Const: OpcodeRule {
        package static let row = R(0, .value, "y = k")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.splat(x.k) }
    }

    // MARK: One operand
    package enum Neg: OpcodeRule {
        package static let row = R(1, .none, "y = -a; ∂a = -1")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { -x.a }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(-g) }
    }
    package enum Recip: OpcodeRule {
        package static let row = R(1, .none, "y = 1/a; ∂a = -y²")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L(1) / x.a }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(-(g * y * y)) }
    }
    package enum Square: OpcodeRule {
        package static let row = R(1, .none, "y = a²; ∂a = 2a")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { x.a * x.a }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g * (L(2) * x.a)) }
    }
    package enum Sqrt: OpcodeRule {
        package static let row = R(1, .none, "y = √a; ∂a = 1/(2y)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.sqrt(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g / (L(2) * y)) }
    }
    package enum Exp: OpcodeRule {
        package static let row = R(1, .none, "y = eᵃ; ∂a = y")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.exp(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g * y) }
    }
    package enum Log: OpcodeRule {
        package static let row = R(1, .none, "y = ln a; ∂a = 1/a")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.log(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g / x.a) }
    }
    package enum Sigmoid: OpcodeRule {
        package static let row = R(1, .none, "y = 1/(1+e⁻ᵃ); ∂a = y(1-y)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.sigmoid(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g * (y * (L(1) - y))) }
    }
    package enum Tanh: OpcodeRule {
        package static let row = R(1, .none, "y = tanh a (|a| < 0.5625: odd minimax polynomial, else 1 - 2/(e²ᵃ+1) compensated; ≤ 0.83 ULP measured); ∂a = 1-y²")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.tanh(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g * (L(1) - y * y)) }
    }
    package enum Sin: OpcodeRule {
        package static let row = R(1, .none, "y = sin a; ∂a = cos a")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.sin(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g * L.cos(x.a)) }
    }
    package enum Cos: OpcodeRule {
        package static let row = R(1, .none, "y = cos a; ∂a = -sin a")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.cos(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(-(g * L.sin(x.a))) }
    }
    package enum Abs: OpcodeRule {
        package static let row = R(1, .none, "y = |a|; ∂a = sign a, 0 at a = 0 (routes)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.abs(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            let a = x.a
            return .init(L.select(a .> L(0), g, L.select(a .< L(0), -g, L.select(a .== L(0), L(0), a))))
        }
    }
    package enum Relu: OpcodeRule {
        package static let row = R(1, .none, "y = max(a, 0); ∂a = 1 if a > 0 else 0 (routes; relu'(0) = 0)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L {
            L.select(x.a .> L(0), x.a, L.select(x.a .== x.a, L(0), x.a))
        }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            .init(L.select(x.a .> L(0), g, L.select(x.a .== x.a, L(0), x.a)))
        }
    }
    package enum Softplus: OpcodeRule {
        package static let row = R(1, .none, "y = ln(1+eᵃ), computed stably; ∂a = sigmoid a")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L {
            L.select(x.a .> L(0), x.a, L(0)) + L.log1p(L.exp(-L.abs(x.a)))
        }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g * L.sigmoid(x.a)) }
    }
    package enum Log1p: OpcodeRule {
        package static let row = R(1, .none, "y = ln(1+a); ∂a = 1/(1+a)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.log1p(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g / (L(1) + x.a)) }
    }
    package enum Expm1: OpcodeRule {
        package static let row = R(1, .none, "y = eᵃ-1; ∂a = y+1")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.expm1(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g * (y + L(1))) }
    }
    package enum Powi: OpcodeRule {
        package static let row = R(1, .exponent, "y = aᵏ, k an integer; ∂a = k·aᵏ⁻¹ (0 when k = 0)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.powi(x.a, x.k, plus: 0) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            let k = L.splat(x.k)
            return .init(L.select(k .== L(0), L(0), g * (k * L.powi(x.a, x.k, plus: -1))))
        }
    }

    // MARK: Two operands
    package enum Add: OpcodeRule {
        package static let row = R(2, .none, "y = a + b; ∂a = 1, ∂b = 1")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { x.a + x.b }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g, g) }
    }
    package enum Sub: OpcodeRule {
        package static let row = R(2, .none, "y = a - b; ∂a = 1, ∂b = -1")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { x.a - x.b }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g, -g) }
    }
    package enum Mul: OpcodeRule {
        package static let row = R(2, .none, "y = a·b; ∂a = b, ∂b = a")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { x.a * x.b }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g * x.b, g * x.a) }
    }
    package enum Div: OpcodeRule {
        package static let row = R(2, .none, "y = a/b; ∂a = 1/b, ∂b = -y/b")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { x.a / x.b }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g / x.b, -(g * y / x.b)) }
    }
    package enum Pow: OpcodeRule {
        package static let row = R(2, .none, "y = aᵇ; ∂a = b·aᵇ⁻¹ (0 where b = 0), ∂b = y·ln a (0 where a = 0), as in JAX")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.pow(x.a, x.b) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            let (a, b) = (x.a, x.b)
            return .init(L.select(b .== L(0), L(0), g * (b * L.pow(a, b - L(1)))),
                         L.select(a .== L(0), L(0), g * (L.log(a) * y)))
        }
    }
    package enum Max: OpcodeRule {
        package static let row = R(2, .none, "y = larger of a, b (NaN if either is); ∂ to the larger, ½ each on a tie (routes)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { larger(x.a, x.b) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            let (a, b) = (x.a, x.b)
            let tie = L.select(a .== b, L(0.5) * g, a + b)
            return .init(L.select(a .> b, g, L.select(a .< b, L(0), tie)),
                         L.select(b .> a, g, L.select(b .< a, L(0), tie)))
        }
        /// `a` if it is larger or NaN, else `b`.
        @inline(__always) static func larger<L: Lane>(_ a: L, _ b: L) -> L { L.select(L.or(a .> b, a .!= a), a, b) }
    }
    package enum Min: OpcodeRule {
        package static let row = R(2, .none, "y = smaller of a, b (NaN if either is); ∂ to the smaller, ½ each on a tie (routes)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.select(L.or(x.a .< x.b, x.a .!= x.a), x.a, x.b) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            let (a, b) = (x.a, x.b)
            let tie = L.select(a .== b, L(0.5) * g, a + b)
            return .init(L.select(a .< b, g, L.select(a .> b, L(0), tie)),
                         L.select(b .< a, g, L.select(b .> a, L(0), tie)))
        }
    }
    package enum Logaddexp: OpcodeRule {
        package static let row = R(2, .none, "y = ln(eᵃ + eᵇ), computed stably; ∂a = sigmoid(a-b), ∂b = sigmoid(b-a)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L {
            let (a, b) = (x.a, x.b)
            return L.select(a .== b, a + L(0.6931471805599453), Max.larger(a, b) + L.log1p(L.exp(-L.abs(a - b))))
        }
        /// Both sigmoids from one `e = e^(-|a-b|)`: the larger operand's is `1/(1+e)`, the
        /// smaller's `e/(1+e)` (one exp for the pair, not one each); ties split `g` in halves.
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            let (a, b) = (x.a, x.b)
            let tie = a .== b, aLarger = a .> b
            let e = L.exp(-L.abs(a - b))
            let s = L(1) / (L(1) + e)
            let (larger, smaller) = (g * s, g * (e * s))
            return .init(L.select(tie, L(0.5) * g, L.select(aLarger, larger, smaller)),
                         L.select(tie, L(0.5) * g, L.select(aLarger, smaller, larger)))
        }
    }

    // MARK: Comparisons: 1 or 0, no gradient
    package enum Lt: OpcodeRule {
        package static let row = R(2, .none, "y = 1 if a < b else 0; no gradient")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.select(x.a .< x.b, L(1), L(0)) }
    }
    package enum Le: OpcodeRule {
        package static let row = R(2, .none, "y = 1 if a ≤ b else 0; no gradient")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.select(x.a .<= x.b, L(1), L(0)) }
    }
    package enum Gt: OpcodeRule {
        package static let row = R(2, .none, "y = 1 if a > b else 0; no gradient")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.select(x.a .> x.b, L(1), L(0)) }
    }
    package enum Ge: OpcodeRule {
        package static let row = R(2, .none, "y = 1 if a ≥ b else 0; no gradient")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.select(x.a .>= x.b, L(1), L(0)) }
    }
    package enum Eq: OpcodeRule {
        package static let row = R(2, .none, "y = 1 if a = b else 0; no gradient")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.select(x.a .== x.b, L(1), L(0)) }
    }
    package enum Ne: OpcodeRule {
        package static let row = R(2, .none, "y = 1 if a ≠ b else 0 (1 if either is NaN); no gradient")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.select(x.a .!= x.b, L(1), L(0)) }
    }

    // MARK: Three operands
    package enum Select: OpcodeRule {
        package static let row = R(3, .none, "y = b if a ≠ 0 else c (NaN if a is); ∂b, ∂c route to the chosen side, ∂a = 0")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L {
            L.select(x.a .!= x.a, x.a, L.select(x.a .!= L(0), x.b, x.c))
        }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            .init(L(0), L.select(L.and(x.a .!= L(0), x.a .== x.a), g, L(0)), L.select(x.a .== L(0), g, L(0)))
        }
    }
    package enum Muladd: OpcodeRule {
        package static let row = R(3, .none, "y = a·b + c, rounded twice (not fused: every path agrees); ∂a = b, ∂b = a, ∂c = 1")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { x.a * x.b + x.c }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g * x.b, g * x.a, g) }
    }

    // MARK: A constant operand in the immediate (made by the optimizer; valid in any tape)
    package enum Addk: OpcodeRule {
        package static let row = R(1, .value, "y = a + k; ∂a = 1")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { x.a + L.splat(x.k) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g) }
    }
    package enum Mulk: OpcodeRule {
        package static let row = R(1, .value, "y = a·k; ∂a = k")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { x.a * L.splat(x.k) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g * L.splat(x.k)) }
    }
    package enum Rsubk: OpcodeRule {
        package static let row = R(1, .value, "y = k - a; ∂a = -1")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.splat(x.k) - x.a }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(-g) }
    }
    package enum Divk: OpcodeRule {
        package static let row = R(1, .value, "y = a/k; ∂a = 1/k")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { x.a / L.splat(x.k) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g / L.splat(x.k)) }
    }
    package enum Rdivk: OpcodeRule {
        package static let row = R(1, .value, "y = k/a; ∂a = -y/a")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.splat(x.k) / x.a }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(-(g * y / x.a)) }
    }

    // MARK: Fused pairs (made by the optimizer): exactly what the pair computed, value and contributions
    package enum Sqdiff: OpcodeRule {
        package static let row = R(2, .none, "y = (a - b)², the fused square(a - b); ∂a = 2(a - b), ∂b = -2(a - b)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { let d = x.a - x.b; return d * d }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            let c = g * (L(2) * (x.a - x.b))
            return .init(c, -c)
        }
    }
    package enum Mulkadd: OpcodeRule {
        package static let row = R(2, .value, "y = a·k + b, the fused mulk then add; ∂a = k, ∂b = 1")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { x.a * L.splat(x.k) + x.b }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g * L.splat(x.k), g) }
    }
    package enum Sqdiffk: OpcodeRule {
        package static let row = R(1, .value, "y = (k - a)², the fused square(rsubk); ∂a = -2(k - a)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { let d = L.splat(x.k) - x.a; return d * d }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            .init(-(g * (L(2) * (L.splat(x.k) - x.a))))
        }
    }
    // MARK: The functions users of JAX, PyTorch and CasADi expect
    package enum Tan: OpcodeRule {
        package static let row = R(1, .none, "y = tan a; ∂a = 1 + y²")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.tan(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g * (L(1) + y * y)) }
    }
    package enum Atan: OpcodeRule {
        package static let row = R(1, .none, "y = atan a; ∂a = 1/(1 + a²)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.atan(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g / (L(1) + x.a * x.a)) }
    }
    package enum Atan2: OpcodeRule {
        package static let row = R(2, .none, "y = atan2(a, b), the angle of the point (x = b, y = a); ∂a = b/(a²+b²), ∂b = -a/(a²+b²) (NaN at (0, 0), as in JAX)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.atan2(x.a, x.b) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            let r2 = x.a * x.a + x.b * x.b
            return .init(g * x.b / r2, -(g * x.a / r2))
        }
    }
    package enum Asin: OpcodeRule {
        package static let row = R(1, .none, "y = asin a; ∂a = 1/√((1-a)(1+a)) (±∞ at ±1)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.asin(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            .init(g / L.sqrt((L(1) - x.a) * (L(1) + x.a)))
        }
    }
    package enum Acos: OpcodeRule {
        package static let row = R(1, .none, "y = acos a; ∂a = -1/√((1-a)(1+a)) (∓∞ at ±1)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.acos(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            .init(-(g / L.sqrt((L(1) - x.a) * (L(1) + x.a))))
        }
    }
    package enum Sinh: OpcodeRule {
        package static let row = R(1, .none, "y = sinh a; ∂a = cosh a")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.sinh(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g * L.cosh(x.a)) }
    }
    package enum Cosh: OpcodeRule {
        package static let row = R(1, .none, "y = cosh a; ∂a = sinh a")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.cosh(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g * L.sinh(x.a)) }
    }
    package enum Asinh: OpcodeRule {
        package static let row = R(1, .none, "y = asinh a; ∂a = 1/√(a²+1), as 1/hypot(a, 1) (no overflow)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.asinh(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g / L.hypot(x.a, L(1))) }
    }
    package enum Acosh: OpcodeRule {
        package static let row = R(1, .none, "y = acosh a; ∂a = 1/(√(a-1)·√(a+1)) (+∞ at 1, NaN below)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.acosh(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            .init(g / (L.sqrt(x.a - L(1)) * L.sqrt(x.a + L(1))))
        }
    }
    package enum Atanh: OpcodeRule {
        package static let row = R(1, .none, "y = atanh a; ∂a = 1/((1-a)(1+a)) (+∞ at ±1)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.atanh(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            .init(g / ((L(1) - x.a) * (L(1) + x.a)))
        }
    }
    package enum Erf: OpcodeRule {
        package static let row = R(1, .none, "y = erf a; ∂a = (2/√π)·e^(-a²)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.erf(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            .init(g * (L(1.1283791670955126) * L.exp(-(x.a * x.a))))
        }
    }
    package enum Erfc: OpcodeRule {
        package static let row = R(1, .none, "y = erfc a = 1 - erf a, without cancellation; ∂a = -(2/√π)·e^(-a²)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.erfc(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            .init(-(g * (L(1.1283791670955126) * L.exp(-(x.a * x.a)))))
        }
    }
    package enum Cbrt: OpcodeRule {
        package static let row = R(1, .none, "y = ∛a (real, odd); ∂a = 1/(3y²) (+∞ at 0, as in JAX)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.cbrt(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { .init(g / (L(3) * (y * y))) }
    }
    package enum Hypot: OpcodeRule {
        package static let row = R(2, .none, "y = √(a²+b²) without overflow; ∂a = a/y, ∂b = b/y (0 at (0, 0), as in JAX)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.hypot(x.a, x.b) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            let origin = y .== L(0)
            return .init(L.select(origin, L(0), g * (x.a / y)), L.select(origin, L(0), g * (x.b / y)))
        }
    }
    package enum Exp2: OpcodeRule {
        package static let row = R(1, .none, "y = 2ᵃ; ∂a = y·ln 2")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.exp2(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            .init(g * (y * L(0.6931471805599453)))
        }
    }
    package enum Log2: OpcodeRule {
        package static let row = R(1, .none, "y = log₂ a; ∂a = 1/(a·ln 2)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.log2(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            .init(g / (x.a * L(0.6931471805599453)))
        }
    }
    package enum Log10: OpcodeRule {
        package static let row = R(1, .none, "y = log₁₀ a; ∂a = 1/(a·ln 10)")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.log10(x.a) }
        @inline(__always) package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
            .init(g / (x.a * L(2.302585092994046)))
        }
    }

    // MARK: Piecewise constant: no gradient (zero almost everywhere, as in JAX)
    package enum Sign: OpcodeRule {
        package static let row = R(1, .none, "y = 1 if a > 0, -1 if a < 0, else a (±0, NaN); no gradient")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L {
            L.select(x.a .> L(0), L(1), L.select(x.a .< L(0), L(-1), x.a))
        }
    }
    package enum Floor: OpcodeRule {
        package static let row = R(1, .none, "y = ⌊a⌋ (round toward -∞); no gradient")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.floor(x.a) }
    }
    package enum Ceil: OpcodeRule {
        package static let row = R(1, .none, "y = ⌈a⌉ (round toward +∞); no gradient")
        @inline(__always) package static func forward<L: Lane>(_ x: Operands<L>) -> L { L.ceil(x.a) }
    }
}

extension Opcode {
    /// Calls `visitor` with this opcode's rule type: the one dispatch from opcode to rule that
    /// every path uses, so each path's code is specialized per rule.
    @inline(__always)
    package func visitRule<V: RuleVisitor>(_ visitor: V) -> V.Result {
        switch self {
        case .input: visitor.visit(Rules.Input.self)
        case .param: visitor.visit(Rules.Param.self)
        case .const: visitor.visit(Rules.Const.self)
        case .neg: visitor.visit(Rules.Neg.self)
        case .recip: visitor.visit(Rules.Recip.self)
        case .square: visitor.visit(Rules.Square.self)
        case .sqrt: visitor.visit(Rules.Sqrt.self)
        case .exp: visitor.visit(Rules.Exp.self)
        case .log: visitor.visit(Rules.Log.self)
        case .sigmoid: visitor.visit(Rules.Sigmoid.self)
        case .tanh: visitor.visit(Rules.Tanh.self)
        case .sin: visitor.visit(Rules.Sin.self)
        case .cos: visitor.visit(Rules.Cos.self)
        case .abs: visitor.visit(Rules.Abs.self)
        case .relu: visitor.visit(Rules.Relu.self)
        case .softplus: visitor.visit(Rules.Softplus.self)
        case .log1p: visitor.visit(Rules.Log1p.self)
        case .expm1: visitor.visit(Rules.Expm1.self)
        case .powi: visitor.visit(Rules.Powi.self)
        case .add: visitor.visit(Rules.Add.self)
        case .sub: visitor.visit(Rules.Sub.self)
        case .mul: visitor.visit(Rules.Mul.self)
        case .div: visitor.visit(Rules.Div.self)
        case .pow: visitor.visit(Rules.Pow.self)
        case .max: visitor.visit(Rules.Max.self)
        case .min: visitor.visit(Rules.Min.self)
        case .logaddexp: visitor.visit(Rules.Logaddexp.self)
        case .lt: visitor.visit(Rules.Lt.self)
        case .le: visitor.visit(Rules.Le.self)
        case .gt: visitor.visit(Rules.Gt.self)
        case .ge: visitor.visit(Rules.Ge.self)
        case .eq: visitor.visit(Rules.Eq.self)
        case .ne: visitor.visit(Rules.Ne.self)
        case .select: visitor.visit(Rules.Select.self)
        case .muladd: visitor.visit(Rules.Muladd.self)
        case .addk: visitor.visit(Rules.Addk.self)
        case .mulk: visitor.visit(Rules.Mulk.self)
        case .rsubk: visitor.visit(Rules.Rsubk.self)
        case .divk: visitor.visit(Rules.Divk.self)
        case .rdivk: visitor.visit(Rules.Rdivk.self)
        case .sqdiff: visitor.visit(Rules.Sqdiff.self)
        case .mulkadd: visitor.visit(Rules.Mulkadd.self)
        case .sqdiffk: visitor.visit(Rules.Sqdiffk.self)
        case .tan: visitor.visit(Rules.Tan.self)
        case .atan: visitor.visit(Rules.Atan.self)
        case .atan2: visitor.visit(Rules.Atan2.self)
        case .asin: visitor.visit(Rules.Asin.self)
        case .acos: visitor.visit(Rules.Acos.self)
        case .sinh: visitor.visit(Rules.Sinh.self)
        case .cosh: visitor.visit(Rules.Cosh.self)
        case .asinh: visitor.visit(Rules.Asinh.self)
        case .acosh: visitor.visit(Rules.Acosh.self)
        case .atanh: visitor.visit(Rules.Atanh.self)
        case .erf: visitor.visit(Rules.Erf.self)
        case .erfc: visitor.visit(Rules.Erfc.self)
        case .cbrt: visitor.visit(Rules.Cbrt.self)
        case .hypot: visitor.visit(Rules.Hypot.self)
        case .exp2: visitor.visit(Rules.Exp2.self)
        case .log2: visitor.visit(Rules.Log2.self)
        case .log10: visitor.visit(Rules.Log10.self)
        case .sign: visitor.visit(Rules.Sign.self)
        case .floor: visitor.visit(Rules.Floor.self)
        case .ceil: visitor.visit(Rules.Ceil.self)
        }
    }
}
