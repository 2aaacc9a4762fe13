// swift-tools-version:6.1
// Coverage-guided fuzz targets (libFuzzer) for Keysmith's parsers of untrusted bytes. A package of its own so the
// main package never needs libFuzzer; build and run them with `scripts/fuzz-libfuzzer` (Linux).
import PackageDescription

var core: Target.Dependency { .product(name: "KeysmithCore", package: "keysmith") }
var client: Target.Dependency { .product(name: "KeysmithClient", package: "keysmith") }
var app: Target.Dependency { .product(name: "KeysmithApp", package: "keysmith") }
var server: Target.Dependency { .product(name: "KeysmithServer", package: "keysmith") }
var crypto: Target.Dependency { .product(name: "Crypto", package: "swift-crypto") }
var nioCore: Target.Dependency { .product(name: "NIOCore", package: "swift-nio") }

/// Fuzz targets and the Keysmith modules each one needs (only those are built with instrumentation).
let targets: [(name: String, uses: [Target.Dependency])] = [
    ("FuzzTimestamp", [core]),
    ("FuzzSignature", [core, crypto]),
    ("FuzzIPAllowlist", [core]),
    ("FuzzPermissions", [core]),
    ("FuzzAmount", [core]),
    ("FuzzEd25519KeyText", [core, crypto]),
    ("FuzzScannableSecret", [core]),
    ("FuzzVault", [core, client, crypto]),
    ("FuzzClientResponse", [core, client]),
    ("FuzzRequestBody", [core, app, server, nioCore]),
    ("FuzzAuditArchive", [core, app, crypto]),
]

let package = Package(
    name: "keysmith-fuzz",
    platforms: [.macOS(.v15)],
    products: targets.map { .executable(name: $0.name, targets: [$0.name]) },
    dependencies: [
        .package(name: "keysmith", path: ".."),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(name: "CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"]),
    ]
        + targets.map { .executableTarget(name: $0.name, dependencies: ["FuzzSupport"] + $0.uses) },
    swiftLanguageModes: [.v6]
)
