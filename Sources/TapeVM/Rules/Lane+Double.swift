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
    package static func exp(_ x: Double) -> Double { tv_scalar_exp(x) }
    package static func expm1(_ x: Double) -> Double { tv_scalar_expm1(x) }
    package static func log(_ x: Double) -> Double { tv_scalar_log(x) }
    package static func log1p(_ x: Double) -> Double { tv_scalar_log1p(x) }
    package static func pow(_ x: Double, _ y: Double) -> Double { tv_scalar_pow(x, y) }
    package static func sin(_ x: Double) -> Double { tv_scalar_sin(x) }
    package static func cos(_ x: Double) -> Double { tv_scalar_cos(x) }
}
