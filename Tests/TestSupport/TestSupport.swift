import Foundation

/// Paths and child processes for tests that use the real binaries and files of the package.
public enum TestSupport {
    /// The package's root folder, found from this source file's location.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The folder holding the built products (`interrogate`, `TranscriptProbe`): beside the test
    /// binary, or `$INTERROGATE_BIN_DIR`.
    public static var productsDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["INTERROGATE_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        // On macOS the test binary sits inside a .xctest bundle.
        while url.path.contains(".xctest") { url = url.deletingLastPathComponent() }
        return url
    }

    public static func product(_ name: String) -> URL { productsDirectory.appendingPathComponent(name) }

    /// The project's Python (the `.venv` that set-up creates).
    public static var venvPython: URL { packageRoot.appendingPathComponent(".venv/bin/python") }

    /// A fresh temporary folder, removed by the caller with `cleanup`.
    public static func temporaryDirectory(_ label: String = "interrogate-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs blocking work (waiting on processes, polling a terminal) on a Dispatch thread, so
    /// that it does not hold one of the few threads the async tests of the same run need.
    public static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            DispatchQueue.global().async { c.resume(with: Swift.Result { try body() }) }
        }
    }

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs a program to completion and collects its output (through files, not pipes, so
    /// a daemon it leaves behind cannot hold the output open).
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                           currentDirectory: URL? = nil, captureOutput: Bool = true) throws -> Result {
        let dir = FileManager.default.temporaryDirectory
        let out = dir.appendingPathComponent("run-\(UUID().uuidString).out").path
        let err = dir.appendingPathComponent("run-\(UUID().uuidString).err").path
        defer { unlink(out); unlink(err) }
        let pid = try spawn(executable.path, arguments, environment: environment, currentDirectory: currentDirectory?.path,
                            stdout: captureOutput ? out : "/dev/null", stderr: captureOutput ? err : "/dev/null")
        let status = waitForExit(pid)
        return Result(status: status,
                      stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    /// Starts a program with posix_spawn, its output going to the given files. Foundation's
    /// Process is not used: on Linux its exit monitoring can miss exits when many processes
    /// run at once, and a test then hangs.
    public static func spawn(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                             currentDirectory: String? = nil, stdout: String = "/dev/null", stderr: String = "/dev/null") throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // The folder is changed by a shell that then becomes the program (no addchdir in Swift's Glibc).
        let (program, args) = currentDirectory.map { ("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", $0, path] + arguments) } ?? (path, arguments)
        let argv = ([program] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for e in env { free(e) } }
        // A thread of a concurrent runtime may block signals; the child must not inherit that,
        // or SIGTERM cannot stop it.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attr, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attr, &allSignals)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, program, &actions, &attr, argv, env)
        guard rc == 0 else { throw NSError(domain: "spawn \(path)", code: Int(rc)) }
        return pid
    }

    /// Waits for a spawned program; its exit status, or 128 + the signal that ended it.
    @discardableResult
    public static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

