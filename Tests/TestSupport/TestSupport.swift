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

    /// Runs a program to completion and collects its output.
    /// With `captureOutput` false the program's output goes nowhere: for programs that leave
    /// a daemon behind (tmux), which would keep a pipe open forever.
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil,
                           currentDirectory: URL? = nil, captureOutput: Bool = true) throws -> Result {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        if let environment { p.environment = environment }
        if let currentDirectory { p.currentDirectoryURL = currentDirectory }
        guard captureOutput else { return try spawnAndWait(executable.path, arguments) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both pipes to the end before waiting, so a full pipe cannot block the child.
        let errData = DataBox()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errData.data = err.fileHandleForReading.readDataToEndOfFile() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.data, as: UTF8.self))
    }
}

extension TestSupport {
    /// posix_spawn and waitpid, output to /dev/null. Foundation's Process does not notice the
    /// exit of a program whose daemon child lives on (tmux), so this does it by hand.
    static func spawnAndWait(_ path: String, _ arguments: [String]) throws -> Result {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard rc == 0 else { throw NSError(domain: "spawn", code: Int(rc)) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        return Result(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), stdout: "", stderr: "")
    }
}

private final class DataBox: @unchecked Sendable {
    var data = Data()
}
