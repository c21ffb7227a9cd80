import CTapeKernels

/// Eight points at a time: the lane of the Swift interpreter (``InstructionSet/swift``).
///
/// Arithmetic, comparisons and selection are Swift's own `SIMD8<Double>` operations (SSE2 on
/// x86-64, NEON on arm64, whatever the whole build targets); the math functions are SLEEF's,
/// called through `tv_lane_*` at the widest vector width the CPU has, chosen at run time.
extension SIMD8: Lane where Scalar == Double {
    package typealias Mask = SIMDMask<SIMD8<Int64>>
    package typealias Immediate = Double

    @inline(__always) package init(_ value: Double) { self.init(repeating: value) }

    /// Negation flips the sign bit (`-(+0) = -0`), as in C and for `Double`; the standard
    /// library's SIMD negation computes `0 - x`, which gives `+0` for `+0`.
    @inline(__always) package static prefix func - (x: Self) -> Self {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt64>.self) ^ SIMD8<UInt64>(repeating: 1 << 63), to: Self.self)
    }

    @inline(__always) package static func and(_ m: Mask, _ n: Mask) -> Mask { m .& n }
    @inline(__always) package static func or(_ m: Mask, _ n: Mask) -> Mask { m .| n }
    @inline(__always) package static func select(_ m: Mask, _ a: Self, _ b: Self) -> Self { b.replacing(with: a, where: m) }
    /// Computes a side only when some lane takes it: a block whose lanes all agree runs one side.
    @inline(__always) package static func choose(_ m: Mask, _ a: () -> Self, _ b: () -> Self) -> Self {
        if !any(m) { return b() }
        if all(m) { return a() }
        return b().replacing(with: a(), where: m)
    }

    @inline(__always) package static func abs(_ x: Self) -> Self {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt64>.self) & SIMD8<UInt64>(repeating: ~(1 << 63)), to: Self.self)
    }
    @inline(__always) package static func sqrt(_ x: Self) -> Self { x.squareRoot() }
    @inline(__always) package static func exp(_ x: Self) -> Self { lane(x, tv_lane_exp) }
    @inline(__always) package static func expm1(_ x: Self) -> Self { lane(x, tv_lane_expm1) }
    @inline(__always) package static func log(_ x: Self) -> Self { lane(x, tv_lane_log) }
    @inline(__always) package static func log1p(_ x: Self) -> Self { lane(x, tv_lane_log1p) }
    @inline(__always) package static func pow(_ x: Self, _ y: Self) -> Self { lane(x, y, tv_lane_pow) }
    @inline(__always) package static func sin(_ x: Self) -> Self { lane(x, tv_lane_sin) }
    @inline(__always) package static func cos(_ x: Self) -> Self { lane(x, tv_lane_cos) }

    /// One SLEEF call on 8 lanes, through memory (a direct call once inlined).
    @inline(__always)
    private static func lane(_ x: Self, _ f: @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?) -> Void) -> Self {
        var x = x, y = Self()
        f(&x, &y)
        return y
    }

    @inline(__always)
    private static func lane(_ x: Self, _ y: Self,
                             _ f: @convention(c) (UnsafeRawPointer?, UnsafeRawPointer?, UnsafeMutableRawPointer?) -> Void) -> Self {
        var x = x, y = y, z = Self()
        f(&x, &y, &z)
        return z
    }
}
