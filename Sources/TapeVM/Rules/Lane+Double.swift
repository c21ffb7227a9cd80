import CTapeKernels

/// One point at a time: the lane of the reference interpreter, constant folding and trace-time
/// folding. Its math functions are SLEEF's, through the same 2-lane routines the portable C
/// code uses, so the reference agrees bit for bit with every SIMD path where the CPU has FMA.
extension Double: Lane {
    package typealias Mask = Bool
    package typealias Immediate = Double

    package static func .< (a: Double, b: Double) -> Bool { a < b }
    package static func .<= (a: Double, b: Double) -> Bool { a <= b }
    package static func .> (a: Double, b: Double) -> Bool { a > b }
    package static func .>= (a: Double, b: Double) -> Bool { a >= b }
    package static func .== (a: Double, b: Double) -> Bool { a == b }
    package static func .!= (a: Double, b: Double) -> Bool { a != b }
    package static func and(_ m: Bool, _ n: Bool) -> Bool { m && n }
    package static func or(_ m: Bool, _ n: Bool) -> Bool { m || n }
    package static func select(_ m: Bool, _ a: Double, _ b: Double) -> Double { m ? a : b }
    package static func choose(_ m: Bool, _ a: () -> Double, _ b: () -> Double) -> Double { m ? a() : b() }

    package static func abs(_ x: Double) -> Double { Double(bitPattern: x.bitPattern & ~(1 << 63)) }
    package static func sqrt(_ x: Double) -> Double { x.squareRoot() }
    package static func copysign(_ magnitude: Double, _ sign: Double) -> Double { Double(signOf: sign, magnitudeOf: magnitude) }
    package static func exp(_ x: Double) -> Double { tv_scalar_exp(x) }
    package static func expm1(_ x: Double) -> Double { tv_scalar_expm1(x) }
    package static func log(_ x: Double) -> Double { tv_scalar_log(x) }
    package static func log1p(_ x: Double) -> Double { tv_scalar_log1p(x) }
    package static func pow(_ x: Double, _ y: Double) -> Double { tv_scalar_pow(x, y) }
    package static func sin(_ x: Double) -> Double { tv_scalar_sin(x) }
    package static func cos(_ x: Double) -> Double { tv_scalar_cos(x) }
    package static func exp2(_ x: Double) -> Double { tv_scalar_exp2(x) }
    package static func log2(_ x: Double) -> Double { tv_scalar_log2(x) }
    package static func log10(_ x: Double) -> Double { tv_scalar_log10(x) }
    package static func cbrt(_ x: Double) -> Double { tv_scalar_cbrt(x) }
    package static func tan(_ x: Double) -> Double { tv_scalar_tan(x) }
    package static func asin(_ x: Double) -> Double { tv_scalar_asin(x) }
    package static func acos(_ x: Double) -> Double { tv_scalar_acos(x) }
    package static func atan(_ x: Double) -> Double { tv_scalar_atan(x) }
    package static func sinh(_ x: Double) -> Double { tv_scalar_sinh(x) }
    package static func cosh(_ x: Double) -> Double { tv_scalar_cosh(x) }
    package static func asinh(_ x: Double) -> Double { tv_scalar_asinh(x) }
    package static func acosh(_ x: Double) -> Double { tv_scalar_acosh(x) }
    package static func atanh(_ x: Double) -> Double { tv_scalar_atanh(x) }
    package static func erf(_ x: Double) -> Double { tv_scalar_erf(x) }
    package static func erfc(_ x: Double) -> Double { tv_scalar_erfc(x) }
    package static func atan2(_ x: Double, _ y: Double) -> Double { tv_scalar_atan2(x, y) }
    package static func hypot(_ x: Double, _ y: Double) -> Double { tv_scalar_hypot(x, y) }
    package static func floor(_ x: Double) -> Double { x.rounded(.down) }
    package static func ceil(_ x: Double) -> Double { x.rounded(.up) }
}
