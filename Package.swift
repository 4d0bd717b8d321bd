// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "NylasSimulator",
    platforms: [.macOS(.v14)],
    products: [
        // The facade re-exports the layers; listing them here too makes a client's build depend on
        // each of them directly, so that it recompiles when one of them changes.
        .library(name: "NylasSimulator", targets: ["NylasSimulator", "NylasSimCore", "NylasSimAPI", "NylasSimControl",
                                                    "NylasSimulatorTesting", "NylasSimFixtures"]),
        .library(name: "NylasSimulatorTesting", targets: ["NylasSimulatorTesting"]),
        .executable(name: "nylas-sim", targets: ["nylas-sim"]),
    ],
    // `TLS` (on by default): HTTPS for the listeners (`--tls`, a local CA), for webhook receivers,
    // notification endpoints and proxy upstreams. A test suite that talks plain HTTP to the simulator
    // can leave it off (`.package(path: …, traits: [])`) and build no TLS or certificate package.
    traits: [
        .trait(name: "TLS", description: "HTTPS listeners with a local CA, HTTPS outbound calls (swift-nio-ssl, swift-certificates, swift-crypto)"),
        .default(enabledTraits: ["TLS"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CLibUUID",
            pkgConfig: "uuid",
            providers: [.apt(["uuid-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(name: "CConcurrencyHook"),
        // The domain: clock and scheduler, state and storage, provider world and sync, accounts,
        // mail, calendar, contacts, webhooks (and their HTTP client), faults. No route knows it.
        .target(
            name: "NylasSimCore",
            dependencies: [
                "CSQLite",
                "CLibUUID",
                "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl", condition: .when(traits: ["TLS"])),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP surface: listener, router, request pipeline, auth, the v3 and v2 route files.
        .target(
            name: "NylasSimAPI",
            dependencies: [
                "NylasSimCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl", condition: .when(traits: ["TLS"])),
                .product(name: "Crypto", package: "swift-crypto", condition: .when(traits: ["TLS"])),
                .product(name: "X509", package: "swift-certificates", condition: .when(traits: ["TLS"])),
                .product(name: "SwiftASN1", package: "swift-asn1", condition: .when(traits: ["TLS"])),
            ],
            swiftSettings: swiftSettings
        ),
        // The webhook receiver and helpers for users' test suites.
        .target(
            name: "NylasSimulatorTesting",
            dependencies: [
                "NylasSimCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The simulator's own control surface: /__sim routes, dashboard, scenarios, migration report.
        .target(
            name: "NylasSimControl",
            dependencies: [
                "NylasSimCore",
                "NylasSimAPI",
                "NylasSimulatorTesting",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Dashboard/Templates")],
            swiftSettings: swiftSettings
        ),
        // The mailbox and calendar fixtures of `fixtures/`, as resources any package can load.
        .target(
            name: "NylasSimFixtures",
            path: "fixtures",
            exclude: ["generate_mailbox.py", "drift"],
            sources: ["BundledFixtures.swift"],
            resources: [.copy("mailbox.json"), .copy("calendar.json")],
            swiftSettings: swiftSettings
        ),
        // The facade a test suite imports.
        .target(
            name: "NylasSimulator",
            dependencies: [
                "NylasSimFixtures",
                "NylasSimCore",
                "NylasSimAPI",
                "NylasSimControl",
                "NylasSimulatorTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl", condition: .when(traits: ["TLS"])),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "nylas-sim",
            dependencies: [
                // Every layer named, not only the facade: a target is rebuilt when a module it
                // depends on directly changes, and the CLI uses the layers' types through it.
                "NylasSimulator", "NylasSimCore", "NylasSimAPI", "NylasSimControl", "NylasSimulatorTesting",
                "CConcurrencyHook",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "nylas-sim-bench",
            dependencies: ["NylasSimulator", "NylasSimCore", "NylasSimAPI", "NylasSimControl", "NylasSimulatorTesting"],
            path: "Benchmarks/Sources",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NylasSimulatorTests",
            dependencies: ["NylasSimulator", "NylasSimCore", "NylasSimAPI", "NylasSimControl", "NylasSimulatorTesting"],
            swiftSettings: swiftSettings
        ),
    ]
)
