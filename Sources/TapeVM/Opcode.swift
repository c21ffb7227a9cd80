/// One instruction kind of the tape: what it computes and how its gradient flows.
///
/// Each opcode has one rule (in `Sources/TapeVM/Rules/Rules.swift`): a forward rule and a reverse
/// rule side by side, generic over the lane type that runs them, with the mnemonic, arity,
/// immediate and a one-line summary (``Opcode/info``). Every path derives from that rule: the
/// reference interpreter and constant folding run it on `Double`, the Swift interpreter on
/// `SIMD8<Double>`, the gradient tape records it as instructions, and the C kernels of the AVX2
/// and AVX-512 paths are generated from it.
///
/// The raw values are part of the serialized formats (tape files, the C ABI, the generated
/// kernels' `tv_opcode` numbers): new opcodes are appended, never inserted.
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

/// One row of the instruction-set table, as the rest of TapeVM and its users see it: the
/// documentation of an opcode's rule in `Rules` plus the facts derived from the rule.
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
    /// leaves) are skipped by the reverse sweep. Derived from the reverse rule.
    public let isDifferentiable: Bool
}

extension Opcode {
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

    /// The rows: each rule's documentation and the facts derived from it.
    static let table: [OpcodeInfo] = Opcode.allCases.map { op in
        let row = op.visitRule(RowOf())
        return OpcodeInfo(mnemonic: "\(op)", arity: row.arity, immediate: row.immediate, summary: row.summary,
                          isDifferentiable: op.facts.isDifferentiable)
    }
}

private struct RowOf: RuleVisitor {
    func visit<R: OpcodeRule>(_: R.Type) -> OpcodeRow { R.row }
}
