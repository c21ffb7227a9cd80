// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "TapeVM",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TapeVM", targets: ["TapeVM"]),
        .library(name: "TapeVMIO", targets: ["TapeVMIO"]),
        .library(name: "TapeVMC", type: .dynamic, targets: ["TapeVMC"]),
        .executable(name: "tapevm", targets: ["tapevm"]),
        .executable(name: "tapevm-bench", targets: ["tapevm-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // SLEEF (vector exp, log, tanh, ...) from the system: Debian's libsleef-dev.
        .systemLibrary(
            name: "CSleef",
            pkgConfig: "sleef",
            providers: [.apt(["libsleef-dev"])]
        ),
        // zlib (deflate, CRC-32, Adler-32) from the system: Debian's zlib1g-dev.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        // The AVX2 and AVX-512 sweep kernels (their per-opcode code generated from the Swift rules),
        // compiled with per-function target attributes and chosen at run time (no CPU build flags);
        // SLEEF's scalar and 8-lane entry points for the Swift paths.
        .target(
            name: "CTapeKernels",
            dependencies: ["CSleef"]
        ),
        // Hand-written AVX-512 kernels that tapevm-bench compares against (per-function target
        // attributes, run-time CPU check, no CPU build flags).
        .target(
            name: "CBenchKernels",
            dependencies: ["CSleef"]
        ),
        .target(
            name: "TapeVM",
            dependencies: ["CTapeKernels"]
        ),
        // The file formats (NPY, CSV, PNG, JSON): kept out of the math library.
        .target(
            name: "TapeVMIO",
            dependencies: ["CZlib"]
        ),
        // The printing lane: writes the C kernels' per-opcode code from the rules (tapevm-kernelgen).
        .target(
            name: "TapeVMKernelGen",
            dependencies: ["TapeVM"]
        ),
        .executableTarget(
            name: "tapevm-kernelgen",
            dependencies: ["TapeVMKernelGen"]
        ),
        // The C ABI (@_cdecl functions); include/tapevm.h is its header, for C and ctypes consumers.
        .target(
            name: "TapeVMC",
            dependencies: ["TapeVM"]
        ),
        // The statistics loops of `tapevm grid` (min, max, sum, NaN/infinity counts, largest
        // |∇f|), compiled for AVX2 by a function target attribute and chosen at run time.
        .target(
            name: "CGridStatistics"
        ),
        .executableTarget(
            name: "tapevm",
            dependencies: [
                "TapeVM",
                "TapeVMIO",
                "CGridStatistics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "tapevm-bench",
            dependencies: [
                "TapeVM",
                "TapeVMC",
                "CBenchKernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Reliability checks: fuzz targets' properties, the differential check and its driver
        // (tapevm-check: replay, differential, and fuzz in a -sanitize=fuzzer build; scripts/fuzz).
        .target(
            name: "TapeVMCheck",
            dependencies: ["TapeVM", "TapeVMIO", "TapeVMC"]
        ),
        .executableTarget(
            name: "tapevm-check",
            dependencies: ["TapeVMCheck"]
        ),
        // A small symbolic-regression loop on the population API (README: "Many expressions at once").
        .executableTarget(
            name: "symbolic-regression",
            dependencies: ["TapeVM"],
            path: "Examples/SymbolicRegression"
        ),
        .testTarget(
            name: "TapeVMTests",
            dependencies: ["TapeVM", "TapeVMIO", "TapeVMC", "TapeVMKernelGen", "CZlib", "TapeVMCheck"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
