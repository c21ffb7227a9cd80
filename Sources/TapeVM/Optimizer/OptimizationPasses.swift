/// The tape optimizer's passes, each switchable on its own.
///
/// Passes rewrite a ``Tape`` into an equivalent, usually shorter one. Values are always
/// bit-identical to the unoptimized tape's. Gradients are bit-identical too after the
/// ``exact`` passes. The passes that merge, bypass or fuse registers (``commonSubexpressions``,
/// ``identities``, ``multiplyAdd``, ``squaredDifference``) change the order in which adjoint contributions are summed
/// (`a·c + b·c` becomes `(a + b)·c`): usually the last bits of a gradient, but where the sums
/// cancel the difference can be larger, and at singular points a different IEEE outcome: for
/// `2·√x − √x` at `x = 0` the unmerged sweep gives `∞ − ∞ = NaN`, the merged one `1·∞ = ∞`
/// (the derivative of `√x` there). Use ``exact`` (or ``none``) where gradients must match the
/// reference interpreter bit for bit.
public struct OptimizationPasses: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Evaluates instructions whose operands are all constants. Exact.
    public static let constantFolding = OptimizationPasses(rawValue: 1 << 0)
    /// Merges identical instructions (same opcode, operands and immediate; `add` and `mul`
    /// operands in either order). Values exact; gradients reassociated.
    public static let commonSubexpressions = OptimizationPasses(rawValue: 1 << 1)
    /// Replaces `x·1`, `x/1`, `x + (-0)`, `x - 0` and `-(-x)` by `x`, `-(x·k)` by `x·(-k)`, and
    /// `(x·2ⁿ)·b` (n ≥ 0, `1 ≤ |b| < ∞`) by `x·(2ⁿ·b)`: the identities that hold bit for bit in
    /// IEEE arithmetic, signed zeros included. Values exact; gradients up to reassociation (see
    /// above), and where an adjoint times `b` is subnormal, `(g·b)·2ⁿ` and `g·(2ⁿ·b)` can round
    /// differently.
    public static let identities = OptimizationPasses(rawValue: 1 << 2)
    /// Folds a constant operand into the instruction: `x + k → addk`, `x·k → mulk`,
    /// `k - x → rsubk`, `x/k → divk`, `k/x → rdivk`; and `powi(x, 2) → square(x)`. Exact.
    public static let constantOperands = OptimizationPasses(rawValue: 1 << 3)
    /// Removes instructions no output depends on. Exact.
    public static let deadCode = OptimizationPasses(rawValue: 1 << 4)
    /// Fuses `a·b + c` into `muladd` and `a·k + c` into `mulkadd` where the product has no other
    /// use (the most frequent pair in the benchmark suite's tapes: affine layers, neurons). Values exact; gradients
    /// reassociated (the product's contributions move to the `add`'s place in the sweep).
    public static let multiplyAdd = OptimizationPasses(rawValue: 1 << 5)
    /// Fuses `square(a - b)` into `sqdiff` and `square(k - a)` into `sqdiffk` where the
    /// difference has no other use (squared
    /// residuals: least squares, Rosenbrock). Values exact; gradients reassociated.
    public static let squaredDifference = OptimizationPasses(rawValue: 1 << 6)

    /// Every pass.
    public static let all: OptimizationPasses = [.constantFolding, .commonSubexpressions, .identities, .constantOperands,
                                                 .multiplyAdd, .squaredDifference, .deadCode]
    /// The passes that keep gradients bit-identical as well as values.
    public static let exact: OptimizationPasses = [.constantFolding, .constantOperands, .deadCode]
    /// No pass.
    public static let none: OptimizationPasses = []
}
