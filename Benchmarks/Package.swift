// swift-tools-version: 6.1
// Benchmarks for TapeVM with ordo-one's package-benchmark. A separate package so that users
// of the library never resolve the benchmark dependencies. Run from this directory:
//   swift package benchmark --filter staged
import PackageDescription

let package = Package(
    name: "TapeVMBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "TapeVM", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "TapeVMBenchmarks",
            dependencies: [
                .product(name: "TapeVM", package: "TapeVM"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "TapeVMBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
