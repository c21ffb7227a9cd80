import CTapeKernels

/// Eight points at a time: the lane of the Swift interpreter (``InstructionSet/swift``).
///
/// Arithmetic, comparisons and selection are Swift's own `SIMD8<Double>` operations (SSE2 on
/// x86-64, NEON on arm64, whatever the whole build targets); the math functions are SLEEF's,
/// called through the C lane table (`tv_lane8_*`) at the widest vector width the CPU has, chosen
/// once, at the first call.
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
        if !anyLane(m) { return b() }
        if allLanes(m) { return a() }
        return b().replacing(with: a(), where: m)
    }

    /// Whether some lane of `m` holds: an OR across halves in vector registers. The standard
    /// library's `any(_:)` is an unspecialized call to `SIMD.min()` per use on this toolchain.
    @inline(__always) static func anyLane(_ m: Mask) -> Bool {
        let v = unsafeBitCast(m, to: SIMD8<Int64>.self)
        let h = v.lowHalf | v.highHalf, q = h.lowHalf | h.highHalf
        return q[0] | q[1] != 0
    }

    /// Whether every lane of `m` holds (mask lanes are all ones or all zeros).
    @inline(__always) static func allLanes(_ m: Mask) -> Bool {
        let v = unsafeBitCast(m, to: SIMD8<Int64>.self)
        let h = v.lowHalf & v.highHalf, q = h.lowHalf & h.highHalf
        return q[0] & q[1] != 0
    }

    @inline(__always) package static func abs(_ x: Self) -> Self {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt64>.self) & SIMD8<UInt64>(repeating: ~(1 << 63)), to: Self.self)
    }
    @inline(__always) package static func copysign(_ magnitude: Self, _ sign: Self) -> Self {
        let m = unsafeBitCast(magnitude, to: SIMD8<UInt64>.self) & SIMD8<UInt64>(repeating: ~(1 << 63))
        let s = unsafeBitCast(sign, to: SIMD8<UInt64>.self) & SIMD8<UInt64>(repeating: 1 << 63)
        return unsafeBitCast(m | s, to: Self.self)
    }
    /// Two lanes at a time through `tv_sqrt2` (`sqrtpd`, inline): `SIMD8.squareRoot()` becomes
    /// eight libm calls on this toolchain, and `Double.squareRoot()` per lane a scalar `sqrtsd`
    /// with a test and a libm call for negative lanes (C's `errno` semantics).
    @inline(__always) package static func sqrt(_ x: Self) -> Self {
        let (l, h) = (x.lowHalf, x.highHalf)
        return Self(lowHalf: SIMD4(lowHalf: tv_sqrt2(l.lowHalf), highHalf: tv_sqrt2(l.highHalf)),
                    highHalf: SIMD4(lowHalf: tv_sqrt2(h.lowHalf), highHalf: tv_sqrt2(h.highHalf)))
    }
    @inline(__always) package static func exp(_ x: Self) -> Self { lane(x, tv_lane8_exp) }
    @inline(__always) package static func expm1(_ x: Self) -> Self { lane(x, tv_lane8_expm1) }
    @inline(__always) package static func log(_ x: Self) -> Self { lane(x, tv_lane8_log) }
    @inline(__always) package static func log1p(_ x: Self) -> Self { lane(x, tv_lane8_log1p) }
    @inline(__always) package static func pow(_ x: Self, _ y: Self) -> Self { lane(x, y, tv_lane8_pow) }
    @inline(__always) package static func sin(_ x: Self) -> Self { lane(x, tv_lane8_sin) }
    @inline(__always) package static func cos(_ x: Self) -> Self { lane(x, tv_lane8_cos) }
    @inline(__always) package static func exp2(_ x: Self) -> Self { lane(x, tv_lane8_exp2) }
    @inline(__always) package static func log2(_ x: Self) -> Self { lane(x, tv_lane8_log2) }
    @inline(__always) package static func log10(_ x: Self) -> Self { lane(x, tv_lane8_log10) }
    @inline(__always) package static func cbrt(_ x: Self) -> Self { lane(x, tv_lane8_cbrt) }
    @inline(__always) package static func tan(_ x: Self) -> Self { lane(x, tv_lane8_tan) }
    @inline(__always) package static func asin(_ x: Self) -> Self { lane(x, tv_lane8_asin) }
    @inline(__always) package static func acos(_ x: Self) -> Self { lane(x, tv_lane8_acos) }
    @inline(__always) package static func atan(_ x: Self) -> Self { lane(x, tv_lane8_atan) }
    @inline(__always) package static func sinh(_ x: Self) -> Self { lane(x, tv_lane8_sinh) }
    @inline(__always) package static func cosh(_ x: Self) -> Self { lane(x, tv_lane8_cosh) }
    @inline(__always) package static func asinh(_ x: Self) -> Self { lane(x, tv_lane8_asinh) }
    @inline(__always) package static func acosh(_ x: Self) -> Self { lane(x, tv_lane8_acosh) }
    @inline(__always) package static func atanh(_ x: Self) -> Self { lane(x, tv_lane8_atanh) }
    @inline(__always) package static func erf(_ x: Self) -> Self { lane(x, tv_lane8_erf) }
    @inline(__always) package static func erfc(_ x: Self) -> Self { lane(x, tv_lane8_erfc) }
    @inline(__always) package static func atan2(_ x: Self, _ y: Self) -> Self { lane(x, y, tv_lane8_atan2) }
    @inline(__always) package static func hypot(_ x: Self, _ y: Self) -> Self { lane(x, y, tv_lane8_hypot) }
    /// Lane's own definition of tanh (its default implementation, the same for every lane),
    /// compiled to C by tapevm-kernelgen and run at the widest vector width the CPU has, like the
    /// SLEEF functions: the same bits as the definition, at twice the width of the baseline SIMD
    /// this Swift code is built for on x86-64. Sigmoid keeps the default: its three operations
    /// around `exp` cost less inline than a second call (measured: +10% instructions on the neuron).
    @inline(__always) package static func tanh(_ x: Self) -> Self { lane(x, tv_lane8_tanh) }
    @inline(__always) package static func floor(_ x: Self) -> Self { x.rounded(.down) }
    @inline(__always) package static func ceil(_ x: Self) -> Self { x.rounded(.up) }

    /// One call of a C lane function on 8 lanes (a direct call through `tv_lanes` once inlined):
    /// the lanes in four registers, the result through memory.
    @inline(__always)
    private static func lane(_ x: Self, _ f: (SIMD2<Double>, SIMD2<Double>, SIMD2<Double>, SIMD2<Double>,
                                              UnsafeMutablePointer<Double>?) -> Void) -> Self {
        withUnsafeTemporaryAllocation(of: Self.self, capacity: 1) { y in
            let (l, h) = (x.lowHalf, x.highHalf)
            f(l.lowHalf, l.highHalf, h.lowHalf, h.highHalf, UnsafeMutableRawPointer(y.baseAddress!).assumingMemoryBound(to: Double.self))
            return y[0]
        }
    }

    @inline(__always)
    private static func lane(_ x: Self, _ y: Self,
                             _ f: (SIMD2<Double>, SIMD2<Double>, SIMD2<Double>, SIMD2<Double>, SIMD2<Double>, SIMD2<Double>,
                                   SIMD2<Double>, SIMD2<Double>, UnsafeMutablePointer<Double>?) -> Void) -> Self {
        withUnsafeTemporaryAllocation(of: Self.self, capacity: 1) { z in
            let (xl, xh, yl, yh) = (x.lowHalf, x.highHalf, y.lowHalf, y.highHalf)
            f(xl.lowHalf, xl.highHalf, xh.lowHalf, xh.highHalf, yl.lowHalf, yl.highHalf, yh.lowHalf, yh.highHalf,
              UnsafeMutableRawPointer(z.baseAddress!).assumingMemoryBound(to: Double.self))
            return z[0]
        }
    }
}
