/// What the planner needs to know about each opcode's reverse rule, derived by running the rule
/// once on ``Provenance`` values rather than kept as a second, hand-written list.
package struct RuleFacts: Sendable {
    /// Whether any contribution exists: rules without one (comparisons, leaves, rounding) are
    /// skipped by the reverse sweep.
    package let isDifferentiable: Bool
    /// The values the reverse rule reads (operands and its own result): the executor keeps exactly
    /// these alive until the reverse sweep.
    package let reverseReads: ReverseReads
    /// Per operand: the contribution is the incoming adjoint `g` itself, unchanged.
    package let passesAdjointThrough: [Bool]

    static let table: [RuleFacts] = Opcode.allCases.map { op in
        let x = Operands(Provenance(.a), Provenance(.b), Provenance(.c), k: Provenance([]))
        let d = op.reverse(x, y: Provenance(.y), g: Provenance(isAdjoint: true))
        let contributions = (0..<3).compactMap { d[$0] }
        let reads = contributions.reduce(ReverseReads()) { $0.union($1.reads) }
        return RuleFacts(isDifferentiable: !contributions.isEmpty, reverseReads: reads,
                         passesAdjointThrough: (0..<3).map { d[$0]?.isAdjoint ?? false })
    }
}

/// Which values a reverse rule reads: its operands `a`, `b`, `c` and its own result `y`.
package struct ReverseReads: OptionSet, Sendable {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }
    package static let a = ReverseReads(rawValue: 1), b = ReverseReads(rawValue: 2)
    package static let c = ReverseReads(rawValue: 4), y = ReverseReads(rawValue: 8)
}

/// A lane whose values remember where they came from: the set of rule inputs (`a`, `b`, `c`,
/// `y`) they were computed from, and whether a value is the incoming adjoint `g` itself.
package struct Provenance: Lane {
    package typealias Mask = Provenance
    package typealias Immediate = Provenance
    var reads: ReverseReads
    var isAdjoint = false

    init(_ reads: ReverseReads) { self.reads = reads }
    init(isAdjoint: Bool) { reads = []; self.isAdjoint = isAdjoint }
    package init(_ value: Double) { reads = [] }

    private static func from(_ values: Provenance...) -> Provenance {
        Provenance(values.reduce(ReverseReads()) { $0.union($1.reads) })
    }

    package static func splat(_ k: Provenance) -> Provenance { from(k) }
    package static func + (a: Provenance, b: Provenance) -> Provenance { from(a, b) }
    package static func - (a: Provenance, b: Provenance) -> Provenance { from(a, b) }
    package static func * (a: Provenance, b: Provenance) -> Provenance { from(a, b) }
    package static func / (a: Provenance, b: Provenance) -> Provenance { from(a, b) }
    package static prefix func - (a: Provenance) -> Provenance { from(a) }
    package static func .< (a: Provenance, b: Provenance) -> Provenance { from(a, b) }
    package static func .<= (a: Provenance, b: Provenance) -> Provenance { from(a, b) }
    package static func .> (a: Provenance, b: Provenance) -> Provenance { from(a, b) }
    package static func .>= (a: Provenance, b: Provenance) -> Provenance { from(a, b) }
    package static func .== (a: Provenance, b: Provenance) -> Provenance { from(a, b) }
    package static func .!= (a: Provenance, b: Provenance) -> Provenance { from(a, b) }
    package static func and(_ m: Provenance, _ n: Provenance) -> Provenance { from(m, n) }
    package static func or(_ m: Provenance, _ n: Provenance) -> Provenance { from(m, n) }
    package static func select(_ m: Provenance, _ a: Provenance, _ b: Provenance) -> Provenance { from(m, a, b) }
    package static func abs(_ x: Provenance) -> Provenance { from(x) }
    package static func sqrt(_ x: Provenance) -> Provenance { from(x) }
    package static func exp(_ x: Provenance) -> Provenance { from(x) }
    package static func expm1(_ x: Provenance) -> Provenance { from(x) }
    package static func log(_ x: Provenance) -> Provenance { from(x) }
    package static func log1p(_ x: Provenance) -> Provenance { from(x) }
    package static func pow(_ x: Provenance, _ y: Provenance) -> Provenance { from(x, y) }
    package static func sin(_ x: Provenance) -> Provenance { from(x) }
    package static func cos(_ x: Provenance) -> Provenance { from(x) }
    package static func powi(_ x: Provenance, _ k: Provenance, plus offset: Int) -> Provenance { from(x, k) }
}

extension Opcode {
    /// Facts about this opcode's reverse rule, derived from the rule itself.
    package var facts: RuleFacts { RuleFacts.table[Int(rawValue)] }

    /// The values this opcode's reverse rule reads (derived from the rule).
    var reverseReads: ReverseReads { facts.reverseReads }

    /// Whether the reverse rule's contribution to operand `k` is the incoming adjoint itself,
    /// unchanged (`add`'s operands, `sub`'s first, `addk`'s, `muladd`'s addend, `mulkadd`'s `b`;
    /// derived from the rule): the executor then lets that operand share the adjoint's plane
    /// instead of copying it.
    func passesAdjointThrough(operand k: Int) -> Bool { facts.passesAdjointThrough[k] }
}
