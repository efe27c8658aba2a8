// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "interrogate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "interrogate", targets: ["InterrogateCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.30.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.90.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
    ],
    targets: [
        // ncursesw behind a module map and a shim header; only the renderer's Curses/ folder imports it.
        .systemLibrary(
            name: "CNCurses",
            pkgConfig: "ncursesw",
            providers: [.apt(["libncurses-dev"])]
        ),
        // Pure domain: labels, annotations, scoring. No I/O.
        .target(name: "Annotate"),
        // What Swift's Glibc module does not show: getdents64 (a folder listed without readdir's
        // buffer) and the file action that closes a child's inherited descriptors.
        .target(name: "CFileSystem"),
        // Scenarios, transcripts (durable event log), model clients.
        .target(
            name: "Sessions",
            dependencies: [
                "Annotate",
                "CFileSystem",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // The team store (issue 14): PostgreSQL, its TLS and the logger its client needs.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources/transcript.schema.json"), .copy("Resources/migrations")]
        ),
        // The `interrogate` app: commands, app state, update, views, renderer. A library so
        // that the executable and the benchmarks share it.
        .target(
            name: "InterrogateTUI",
            dependencies: [
                "Sessions",
                "Annotate",
                "CNCurses",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The `interrogate` executable: only the entry point.
        .executableTarget(name: "InterrogateCLI", dependencies: ["InterrogateTUI"]),
        // What a frame of each screen costs on a long session, headless; prints, never asserts:
        // swift run -c release InterrogateBenchmarks screen
        // Sessions per minute of `auto` against a fake server: swift run -c release InterrogateBenchmarks auto
        // The team store against the JSONL folder: swift run -c release InterrogateBenchmarks store
        .executableTarget(
            name: "InterrogateBenchmarks",
            dependencies: [
                "InterrogateTUI", "Sessions", "Annotate",
                // The PostgreSQL server the store benchmark starts, and the study it pushes.
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // A child process for the durability tests: appends events and reports each one saved.
        .executableTarget(name: "TranscriptProbe", dependencies: ["Sessions"]),
        .target(name: "TestSupport", dependencies: ["Sessions", "Annotate"], path: "Tests/TestSupport"),
        .testTarget(name: "AnnotateTests", dependencies: ["Annotate"]),
        .testTarget(
            name: "SessionsTests",
            dependencies: [
                "Sessions", "Annotate", "TranscriptProbe", "TestSupport",
                // The reference the fast CSV reader is checked against.
                .product(name: "CSV", package: "CSV.swift"),
                // The misbehaving HTTP server the model clients are tested against.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // Requests to the local llama.cpp server outside the model clients (its chat template).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "InterrogateTUITests", dependencies: ["InterrogateTUI", "Sessions", "Annotate", "TestSupport"]),
    ]
)
