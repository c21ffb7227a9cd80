/// An opcode's two rules, written once and generic over the ``Lane`` that runs them.
///
/// `forward` computes the instruction's result `y` from its operands; `reverse` returns what the
/// instruction adds to each operand's adjoint, given the adjoint `g` of `y` (the chain rule: `g`
/// times the local derivative, or the routed `g` itself). A rule without a `reverse` has no
/// gradient (comparisons, rounding, leaves): the reverse sweep skips it, so it contributes nothing,
/// not even `0·∞ = NaN`.
///
/// Everything else the executor knows about an opcode is derived from these two functions (see
/// ``RuleFacts``): which values the reverse rule reads, which contributions are `g` itself.
package protocol OpcodeRule {
    /// Arity, immediate and a one-line summary: the row of the instruction-set table.
    static var row: OpcodeRow { get }
    static func forward<L: Lane>(_ x: Operands<L>) -> L
    static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L>
}

extension OpcodeRule {
    /// No gradient: no contribution to any operand.
    package static func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> { Contributions() }
}

/// A table row's documentation: how many register operands, what the immediate holds, and a
/// one-line summary of the forward rule and the local derivatives.
package struct OpcodeRow: Sendable {
    package let arity: Int
    package let immediate: ImmediateKind
    package let summary: String

    package init(_ arity: Int, _ immediate: ImmediateKind, _ summary: String) {
        self.arity = arity
        self.immediate = immediate
        self.summary = summary
    }
}

/// An instruction's operands on some lane: registers `a`, `b`, `c` (as many as the arity; the
/// others are unspecified and must not be read) and the immediate `k`.
package struct Operands<L: Lane> {
    package var a: L
    package var b: L
    package var c: L
    package var k: L.Immediate

    @inline(__always)
    package init(_ a: L, _ b: L, _ c: L, k: L.Immediate) {
        self.a = a
        self.b = b
        self.c = c
        self.k = k
    }
}

/// What a reverse rule adds to each operand's adjoint; `nil` where it adds nothing.
package struct Contributions<L> {
    package var a: L?
    package var b: L?
    package var c: L?

    @inline(__always)
    package init(_ a: L? = nil, _ b: L? = nil, _ c: L? = nil) {
        self.a = a
        self.b = b
        self.c = c
    }

    /// The contribution to operand `k` (0, 1, 2).
    package subscript(k: Int) -> L? { k == 0 ? a : k == 1 ? b : c }
}

/// Something done with one opcode's rule, for any opcode: ``Opcode/visitRule(_:)`` calls
/// `visit` with the opcode's rule type, so the visitor's code is specialized per opcode (the
/// Swift interpreter's tile loops are compiled once per rule, with no dynamic call inside).
package protocol RuleVisitor {
    associatedtype Result
    func visit<R: OpcodeRule>(_ rule: R.Type) -> Result
}

extension Opcode {
    /// Applies the forward rule on any lane.
    @inline(__always)
    package func forward<L: Lane>(_ x: Operands<L>) -> L {
        visitRule(Forward(x: x))
    }

    /// Applies the reverse rule on any lane.
    @inline(__always)
    package func reverse<L: Lane>(_ x: Operands<L>, y: L, g: L) -> Contributions<L> {
        visitRule(Reverse(x: x, y: y, g: g))
    }

    /// The forward rule on one point, for folding constants.
    package func evaluate(_ a: Double, _ b: Double = 0, _ c: Double = 0, immediate: Double = 0) -> Double {
        forward(Operands(a, b, c, k: immediate))
    }
}

private struct Forward<L: Lane>: RuleVisitor {
    let x: Operands<L>
    @inline(__always) func visit<R: OpcodeRule>(_: R.Type) -> L { R.forward(x) }
}

private struct Reverse<L: Lane>: RuleVisitor {
    let x: Operands<L>, y: L, g: L
    @inline(__always) func visit<R: OpcodeRule>(_: R.Type) -> Contributions<L> { R.reverse(x, y: y, g: g) }
}
