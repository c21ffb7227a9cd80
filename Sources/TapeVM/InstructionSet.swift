import CTapeKernels

/// A code path of the sweeps.
///
/// - ``swift``: the Swift interpreter over `SIMD8<Double>` lanes (`SIMD8Interpreter`),
///   available on every platform, with SLEEF's math functions at the widest vector width the CPU
///   has. It is the path on arm64 and on any x86-64 without AVX2.
/// - ``avx2``, ``avx512``: the same rules printed as C (generated from the Swift rules) and
///   compiled per function for AVX2 + FMA and for AVX-512, chosen at run time on x86-64 (Swift
///   cannot compile one function for a wider ISA than the whole build, and the library takes no
///   CPU build flags).
///
/// Every path gives the reference interpreter's bits (the arithmetic is IEEE with no
/// contraction, and SLEEF's FMA forms agree with each other), with the exceptions stated in the
/// README: NaN payloads, and sin/cos/tan lanes next to a huge or NaN lane (none with
/// ``portableMath``).
public enum InstructionSet: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case swift
    case avx2
    case avx512

    /// Whether this CPU can run the path.
    public var isSupported: Bool { self == .swift || tv_isa_supported(cValue) != 0 }

    /// The paths this CPU can run, slowest first.
    public static var supported: [InstructionSet] { allCases.filter(\.isSupported) }

    /// A path by name: its raw value, or `portable`, the former name of the baseline path (now
    /// ``swift``).
    public init?(name: String) {
        if name == "portable" { self = .swift; return }
        self.init(rawValue: name)
    }

    /// The fastest path this CPU supports, unless the environment variable `TAPEVM_ISA`
    /// names a supported path (`swift`, `avx2`, `avx512`), which then wins.
    public static var preferred: InstructionSet {
        if let name = getenvString("TAPEVM_ISA"), let isa = InstructionSet(name: name), isa.isSupported {
            return isa
        }
        return best
    }

    /// Whether SLEEF's math functions (exp, sin, pow, ... on every path and in the reference)
    /// run SLEEF's deterministic routines, which use no FMA: set by the environment variable
    /// `TAPEVM_MATH=portable` (read once, at the first math call). Results are then the same bits
    /// on every x86-64 CPU, with or without AVX, AVX2, FMA or AVX-512. By default (`TAPEVM_MATH`
    /// unset or `native`) SLEEF picks its fastest routine for the CPU, with FMA where the CPU has
    /// it, and results may differ in the last place between CPUs with and without FMA. In both
    /// modes every path agrees with the reference on one CPU.
    public static var portableMath: Bool { tv_math_portable() != 0 }

    /// The fastest path this CPU supports (measured with tapevm-bench on AVX-512 hardware:
    /// AVX-512, then AVX2, then the Swift interpreter).
    public static var best: InstructionSet {
        InstructionSet(cValue: tv_isa_best())
    }

    public var description: String { rawValue }

    var cValue: Int32 {
        switch self {
        case .swift: Int32(TV_ISA_SWIFT.rawValue)
        case .avx2: Int32(TV_ISA_AVX2.rawValue)
        case .avx512: Int32(TV_ISA_AVX512.rawValue)
        }
    }

    init(cValue: Int32) {
        self = InstructionSet.allCases.first { $0.cValue == cValue } ?? .swift
    }

    /// The forward sweep of one tile on this path (the Swift interpreter when the C kernels
    /// cannot run here).
    @inline(__always)
    func forward(_ code: UnsafePointer<tv_instr>, _ count: Int, _ values: UnsafePointer<UnsafeMutablePointer<Double>?>,
                 _ tile: Int) {
        if self != .swift, tv_forward(cValue, code, count, values, tile) == 0 { return }
        SIMD8Interpreter.forward(code, count, values, tile)
    }

    /// The tangent sweep of one tile along `directions` directions at once on this path's C
    /// kernels (tangent plane `p·directions + d`); false when this path has none here (the Swift
    /// interpreter's ``TangentSweep`` runs it instead).
    @inline(__always)
    func tangent(_ code: UnsafePointer<tv_instr>, _ count: Int, _ values: UnsafePointer<UnsafeMutablePointer<Double>?>,
                 _ tangents: UnsafePointer<UnsafeMutablePointer<Double>?>, _ tile: Int, directions: Int) -> Bool {
        self != .swift && tv_tangent(cValue, code, count, values, tangents, tile, directions) == 0
    }

    /// The reverse sweep of one tile on this path.
    @inline(__always)
    func reverse(_ code: UnsafePointer<tv_rinstr>, _ count: Int, _ values: UnsafePointer<UnsafeMutablePointer<Double>?>,
                 _ adjoints: UnsafePointer<UnsafeMutablePointer<Double>?>, _ tile: Int) {
        if self != .swift, tv_reverse(cValue, code, count, values, adjoints, tile) == 0 { return }
        SIMD8Interpreter.reverse(code, count, values, adjoints, tile)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

func getenvString(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}
