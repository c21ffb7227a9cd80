import CTapeKernels

/// A SIMD code path of the sweep kernels.
///
/// The kernels are compiled for each path with per-function target attributes and chosen at
/// run time, so one binary runs everywhere: AVX-512 where the CPU has it, AVX2 + FMA on older
/// x86-64, and the portable path (SSE2 on x86-64, NEON on arm64) elsewhere. All paths give
/// bit-identical results on a CPU with FMA (SLEEF's FMA variants agree, and the arithmetic is
/// IEEE with no contraction).
public enum InstructionSet: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case portable
    case avx2
    case avx512

    /// Whether this CPU can run the path.
    public var isSupported: Bool { tv_isa_supported(cValue) != 0 }

    /// The paths this CPU can run, slowest first.
    public static var supported: [InstructionSet] { allCases.filter(\.isSupported) }

    /// The fastest path this CPU supports, unless the environment variable `TAPEVM_ISA`
    /// names a supported path (`portable`, `avx2`, `avx512`), which then wins.
    public static var preferred: InstructionSet {
        if let name = getenvString("TAPEVM_ISA"), let isa = InstructionSet(rawValue: name), isa.isSupported {
            return isa
        }
        return best
    }

    /// The fastest path this CPU supports.
    public static var best: InstructionSet {
        InstructionSet(cValue: tv_isa_best())
    }

    public var description: String { rawValue }

    var cValue: Int32 {
        switch self {
        case .portable: Int32(TV_ISA_PORTABLE.rawValue)
        case .avx2: Int32(TV_ISA_AVX2.rawValue)
        case .avx512: Int32(TV_ISA_AVX512.rawValue)
        }
    }

    init(cValue: Int32) {
        self = InstructionSet.allCases.first { $0.cValue == cValue } ?? .portable
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
