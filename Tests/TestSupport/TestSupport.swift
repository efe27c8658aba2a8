import Foundation
import Sessions

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
        let child = try spawn(executable.path, arguments, environment: environment, currentDirectory: currentDirectory?.path,
                              stdout: captureOutput ? out : "/dev/null", stderr: captureOutput ? err : "/dev/null")
        let status = child.waitUntilExit()
        return Result(status: status,
                      stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    /// Starts a program (the app's own `ChildProcess`: posix_spawn, waited on by pid), its
    /// output going to the given files.
    public static func spawn(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                             currentDirectory: String? = nil, stdout: String = "/dev/null", stderr: String = "/dev/null") throws -> ChildProcess {
        let out = open(stdout, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let err = open(stderr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer { close(out); close(err) }
        // The folder is changed by a shell that then becomes the program.
        let (program, args) = currentDirectory.map { ("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", $0, path] + arguments) } ?? (path, arguments)
        return try ChildProcess(path: program, arguments: args, environment: environment ?? ProcessInfo.processInfo.environment,
                                stdout: out, stderr: err)
    }

    /// Appends text to a file as a writer would (a line, or a torn fragment without newline).
    public static func append(_ line: String, to path: String, newline: Bool = true) throws {
        guard let h = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileNoSuchFile) }
        try h.seekToEnd()
        try h.write(contentsOf: Data((line + (newline ? "\n" : "")).utf8))
        try h.close()
    }
}
