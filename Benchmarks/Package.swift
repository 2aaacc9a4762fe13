// swift-tools-version:6.1
// Keysmith's benchmarks: their own package, so that building and testing Keysmith never builds the benchmark
// harness. Run with `swift package benchmark` in this folder.
import PackageDescription

let package = Package(
    name: "keysmith-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "keysmith", path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "Authentication",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "KeysmithCore", package: "keysmith"),
                .product(name: "KeysmithApp", package: "keysmith"),
                .product(name: "KeysmithServer", package: "keysmith"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/Authentication",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "Ledger",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "KeysmithCore", package: "keysmith"),
                .product(name: "KeysmithApp", package: "keysmith"),
                .product(name: "KeysmithServer", package: "keysmith"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/Ledger",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "Swaps",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "KeysmithCore", package: "keysmith"),
                .product(name: "KeysmithApp", package: "keysmith"),
                .product(name: "KeysmithServer", package: "keysmith"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/Swaps",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Not a benchmark: the benchmark plugin runs every executable under Benchmarks/, so tools live in Tools/.
        .executableTarget(
            name: "seed-keys",
            dependencies: [
                .product(name: "KeysmithApp", package: "keysmith"),
                .product(name: "KeysmithCore", package: "keysmith"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tools/SeedKeys"
        ),
    ],
    swiftLanguageModes: [.v6]
)
