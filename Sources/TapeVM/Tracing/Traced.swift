/// A number seen by traced Swift code: either a register being recorded on a ``TapeBuilder``
/// or a plain constant.
///
/// `Traced` lets ordinary Swift arithmetic write a tape. Inside ``Tape/trace(inputs:parameters:_:)``
/// (and its shorter forms) the inputs and parameters arrive as `Traced` values; every operator
/// and math function applied to them appends one instruction to the trace's builder and returns
/// the register it defines:
///
/// ```swift
/// let tape = try Tape.trace("x", "y") { x, y in
///     let s = sigmoid(x * y + 1)
///     return s * s - 2 * log(x)
/// }
/// ```
///
/// ## Constants
/// Literals (`2`, `0.5`) and `Double` values are constants. They become a `const` instruction
/// only when combined with a recorded value (one register per distinct value, reused). Arithmetic
/// on constants alone is folded in `Double` right away, with the same rule the tape would use, and
/// records nothing.
///
/// ## One path
/// A trace records the single path the Swift code takes while tracing. Because a `Traced` value
/// is not known until the tape runs, there is no `Bool` to branch on: `Traced` is deliberately
/// neither `Comparable` nor `Equatable`, so `if x < y` does not compile. Compare with the free
/// functions `lt`, `le`, `gt`, `ge`, `eq` and `ne`, which record `1`/`0` values, and choose
/// with `select(condition, ifNonzero, ifZero)`:
///
/// ```swift
/// let y = select(gt(x, 0), x, 0.01 * x)   // leaky relu, both sides evaluated
/// ```
///
/// Swift control flow that does not depend on traced values (loops over a fixed count,
/// branches on `Double` or `Int` settings) is fine: it is simply unrolled into the tape.
///
/// ## Builders
/// Every recorded value belongs to one builder. Combining values from two different builders
/// (say, a value kept from one trace and used in another) is a programmer error and stops the
/// program with a precondition failure.
public struct Traced {
    enum Storage {
        case constant(Double)
        case recorded(TapeBuilder, Register)
    }

    let storage: Storage

    /// A constant. It is recorded as a `const` instruction when combined with a recorded value.
    public init(_ value: Double) { storage = .constant(value) }

    /// A value already recorded on `builder`, for mixing tracing with ``TapeBuilder`` calls.
    public init(_ register: Register, on builder: TapeBuilder) {
        storage = .recorded(builder, register)
    }

    /// The constant's value, or `nil` if this value is recorded on a builder.
    public var constantValue: Double? {
        if case .constant(let v) = storage { return v }
        return nil
    }

    /// The register holding this value, or `nil` for a constant that has not been recorded.
    public var register: Register? {
        if case .recorded(_, let r) = storage { return r }
        return nil
    }

    /// The builder this value is recorded on, or `nil` for a constant.
    public var builder: TapeBuilder? {
        if case .recorded(let b, _) = storage { return b }
        return nil
    }

    /// This value's register on `builder`: its own register, or a `const` for a constant.
    ///
    /// - Precondition: a recorded value must belong to `builder`.
    public func register(on builder: TapeBuilder) -> Register {
        switch storage {
        case .constant(let v):
            return builder.constant(v)
        case .recorded(let b, let r):
            precondition(b === builder,
                "Traced: this value was recorded on a different TapeBuilder (another trace); values from two traces cannot be combined")
            return r
        }
    }

    /// Applies `opcode` to `operands`: folds constants in `Double` with the opcode's own forward
    /// rule, or records one instruction on the operands' common builder.
    static func apply(_ opcode: Opcode, _ operands: [Traced], immediate: Double = 0) -> Traced {
        var builder: TapeBuilder?
        for operand in operands {
            guard case .recorded(let b, _) = operand.storage else { continue }
            if let builder {
                precondition(builder === b,
                    "Traced: cannot combine values recorded on two different TapeBuilders (\(opcode.mnemonic)); values from two traces cannot be mixed")
            } else {
                builder = b
            }
        }
        guard let builder else {
            func c(_ i: Int) -> Double { i < operands.count ? operands[i].constantValue ?? 0 : 0 }
            return Traced(opcode.evaluate(c(0), c(1), c(2), immediate: immediate))
        }
        let registers = operands.map { $0.register(on: builder) }
        return Traced(builder.emit(opcode, registers, immediate: immediate), on: builder)
    }
}

extension Traced: ExpressibleByFloatLiteral {
    /// A constant from a floating-point literal.
    public init(floatLiteral value: Double) { self.init(value) }
}

extension Traced: ExpressibleByIntegerLiteral {
    /// A constant from an integer literal.
    public init(integerLiteral value: Int) { self.init(Double(value)) }
}

extension Traced: CustomStringConvertible {
    /// `r7` for a recorded value, `const 0.5` for a constant.
    public var description: String {
        switch storage {
        case .constant(let v): return "const \(v)"
        case .recorded(_, let r): return r.description
        }
    }
}

// MARK: - Arithmetic operators

extension Traced {
    /// Records `lhs + rhs`.
    public static func + (lhs: Traced, rhs: Traced) -> Traced { apply(.add, [lhs, rhs]) }
    /// Records `lhs + rhs`.
    @_disfavoredOverload
    public static func + (lhs: Traced, rhs: Double) -> Traced { apply(.add, [lhs, Traced(rhs)]) }
    /// Records `lhs + rhs`.
    @_disfavoredOverload
    public static func + (lhs: Double, rhs: Traced) -> Traced { apply(.add, [Traced(lhs), rhs]) }

    /// Records `lhs - rhs`.
    public static func - (lhs: Traced, rhs: Traced) -> Traced { apply(.sub, [lhs, rhs]) }
    /// Records `lhs - rhs`.
    @_disfavoredOverload
    public static func - (lhs: Traced, rhs: Double) -> Traced { apply(.sub, [lhs, Traced(rhs)]) }
    /// Records `lhs - rhs`.
    @_disfavoredOverload
    public static func - (lhs: Double, rhs: Traced) -> Traced { apply(.sub, [Traced(lhs), rhs]) }

    /// Records `lhs · rhs`.
    public static func * (lhs: Traced, rhs: Traced) -> Traced { apply(.mul, [lhs, rhs]) }
    /// Records `lhs · rhs`.
    @_disfavoredOverload
    public static func * (lhs: Traced, rhs: Double) -> Traced { apply(.mul, [lhs, Traced(rhs)]) }
    /// Records `lhs · rhs`.
    @_disfavoredOverload
    public static func * (lhs: Double, rhs: Traced) -> Traced { apply(.mul, [Traced(lhs), rhs]) }

    /// Records `lhs / rhs` (a `div`; `1 / x` is recorded as written, not as `recip`).
    public static func / (lhs: Traced, rhs: Traced) -> Traced { apply(.div, [lhs, rhs]) }
    /// Records `lhs / rhs`.
    @_disfavoredOverload
    public static func / (lhs: Traced, rhs: Double) -> Traced { apply(.div, [lhs, Traced(rhs)]) }
    /// Records `lhs / rhs`.
    @_disfavoredOverload
    public static func / (lhs: Double, rhs: Traced) -> Traced { apply(.div, [Traced(lhs), rhs]) }

    /// Records `-operand` (a `neg`).
    public static prefix func - (operand: Traced) -> Traced { apply(.neg, [operand]) }
    /// Returns `operand` unchanged.
    public static prefix func + (operand: Traced) -> Traced { operand }

    /// Records `lhs + rhs` and stores it in `lhs`.
    public static func += (lhs: inout Traced, rhs: Traced) { lhs = lhs + rhs }
    /// Records `lhs + rhs` and stores it in `lhs`.
    @_disfavoredOverload
    public static func += (lhs: inout Traced, rhs: Double) { lhs = lhs + rhs }
    /// Records `lhs - rhs` and stores it in `lhs`.
    public static func -= (lhs: inout Traced, rhs: Traced) { lhs = lhs - rhs }
    /// Records `lhs - rhs` and stores it in `lhs`.
    @_disfavoredOverload
    public static func -= (lhs: inout Traced, rhs: Double) { lhs = lhs - rhs }
    /// Records `lhs · rhs` and stores it in `lhs`.
    public static func *= (lhs: inout Traced, rhs: Traced) { lhs = lhs * rhs }
    /// Records `lhs · rhs` and stores it in `lhs`.
    @_disfavoredOverload
    public static func *= (lhs: inout Traced, rhs: Double) { lhs = lhs * rhs }
    /// Records `lhs / rhs` and stores it in `lhs`.
    public static func /= (lhs: inout Traced, rhs: Traced) { lhs = lhs / rhs }
    /// Records `lhs / rhs` and stores it in `lhs`.
    @_disfavoredOverload
    public static func /= (lhs: inout Traced, rhs: Double) { lhs = lhs / rhs }
}
