import Foundation
import Testing
import TestSupport

@Suite("interrogate models", .serialized)
struct ModelsCommandTests {
    static let binary = TestSupport.product("interrogate")

    func interrogate(_ args: [String], env extra: [String: String] = [:], in dir: URL? = nil) throws -> TestSupport.Result {
        var env = ProcessInfo.processInfo.environment
        for k in env.keys where k.hasPrefix("OPENAI_") || k.hasPrefix("ANTHROPIC_") { env[k] = nil }
        env["XDG_CONFIG_HOME"] = "/nonexistent"
        env["INTERROGATE_HOME"] = TestSupport.packageRoot.path
        env.merge(extra) { $1 }
        return try TestSupport.run(Self.binary, args, environment: env, currentDirectory: dir)
    }

    @Test("models list shows the built-in local model, and an OpenAI server named by OPENAI_BASE_URL alone")
    func list() throws {
        let plain = try interrogate(["models", "list"])
        #expect(plain.status == 0)
        #expect(plain.stdout.contains("local"))
        #expect(!plain.stdout.contains("openai "))
        let withServer = try interrogate(["models", "list"], env: ["OPENAI_BASE_URL": "http://127.0.0.1:9999/v1"])
        #expect(withServer.stdout.contains("http://127.0.0.1:9999/v1"))
        #expect(withServer.stdout.contains("OPENAI_API_KEY (unset)"))
    }

    @Test("models check streams a scripted reply to stdout and reports how it went")
    func checkScripted() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("s.yaml").path
        try "pace_ms: 1\nreplies:\n  - text: \"Nothing to see \\u001b[31mhere\"\n".write(toFile: script, atomically: true, encoding: .utf8)
        let r = try interrogate(["models", "check", "scripted:\(script)"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Nothing to see ␛[31mhere"), "escape sequences must be shown inert: \(r.stdout)")
        #expect(!r.stdout.contains("\u{1B}"))
        #expect(r.stdout.contains("streaming:    yes"))
        #expect(r.stdout.contains("finish:       stop"))
    }

    @Test("models check of an unreachable server prints the reason on stderr and exits 1")
    func checkFailure() throws {
        let r = try interrogate(["models", "check", "openai"], env: ["OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_MODEL": "m"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot connect to http://127.0.0.1:9/v1"), "\(r.stderr)")
    }

    @Test("models check with a port above 65535 in OPENAI_BASE_URL or interrogate.yaml says what is wrong instead of crashing")
    func portOutOfRange() throws {
        let env = try interrogate(["models", "check", "openai"], env: ["OPENAI_BASE_URL": "http://127.0.0.1:65536/v1", "OPENAI_MODEL": "m"])
        #expect(env.status == 1, "\(env.stderr)")
        #expect(env.stderr.contains("OPENAI_BASE_URL") && env.stderr.contains("65536"), "\(env.stderr)")
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "models:\n  far:\n    provider: openai\n    base_url: http://127.0.0.1:70000/v1\n    model: m\n"
            .write(to: dir.appendingPathComponent("interrogate.yaml"), atomically: true, encoding: .utf8)
        let yaml = try interrogate(["models", "check", "far"], in: dir)
        #expect(yaml.status == 1, "\(yaml.stderr)")
        #expect(yaml.stderr.contains("interrogate.yaml:4:15") && yaml.stderr.contains("70000"), "\(yaml.stderr)")
    }

    @Test("a password or key in a base URL is refused by models check and never printed by models list or check, from the environment or interrogate.yaml")
    func secretInBaseURL() throws {
        for url in ["http://user:hunter2@127.0.0.1:9/v1", "http://127.0.0.1:9/v1?key=hunter2"] {
            let check = try interrogate(["models", "check", "openai"], env: ["OPENAI_BASE_URL": url, "OPENAI_MODEL": "m"])
            #expect(check.status == 1, "\(check.stderr)")
            #expect(check.stderr.contains("OPENAI_BASE_URL") && check.stderr.contains("api_key_env"), "\(check.stderr)")
            #expect(!check.stderr.contains("hunter2") && !check.stdout.contains("hunter2"), "\(check.stderr)")
            for format in ["text", "json"] {
                let list = try interrogate(["models", "list", "--format", format], env: ["OPENAI_BASE_URL": url])
                #expect(list.stdout.contains("127.0.0.1:9"), "\(list.stdout)")
                #expect(!list.stdout.contains("hunter2") && !list.stderr.contains("hunter2"), "\(list.stdout)")
            }
        }
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "models:\n  mine:\n    provider: openai\n    base_url: http://user:hunter2@127.0.0.1:9/v1\n    model: m\n"
            .write(to: dir.appendingPathComponent("interrogate.yaml"), atomically: true, encoding: .utf8)
        let yaml = try interrogate(["models", "check", "mine"], in: dir)
        #expect(yaml.status == 1)
        #expect(yaml.stderr.contains("interrogate.yaml:4:15") && yaml.stderr.contains("api_key_env"), "\(yaml.stderr)")
        #expect(!yaml.stderr.contains("hunter2"), "\(yaml.stderr)")
    }

    @Test("a port with more digits than any integer holds is refused before connecting, like 65536")
    func portOverflow() throws {
        let r = try interrogate(["models", "check", "openai"], env: ["OPENAI_BASE_URL": "http://127.0.0.1:99999999999999999999/v1", "OPENAI_MODEL": "m"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("OPENAI_BASE_URL") && r.stderr.contains("outside 1...65535"), "\(r.stderr)")
        #expect(!r.stderr.contains("cannot connect"), "\(r.stderr)")
    }

    @Test("a line break in OPENAI_BASE_URL is refused and shown escaped, never echoed raw")
    func controlCharactersInBaseURL() throws {
        let url = "http://127.0.0.1:9/v1\r\nX-Injected: 1"
        let check = try interrogate(["models", "check", "openai"], env: ["OPENAI_BASE_URL": url, "OPENAI_MODEL": "m"])
        #expect(check.status == 1)
        #expect(check.stderr.contains(#"v1\r\nX-Injected"#), "\(check.stderr)")
        #expect(!check.stderr.contains("\r"))
        let list = try interrogate(["models", "list"], env: ["OPENAI_BASE_URL": url])
        #expect(!list.stdout.contains("\r") && !list.stdout.contains("\nX-Injected"), "\(list.stdout)")
    }

    @Test("models check against a server that accepts the connection and never answers ends at the first-byte timeout")
    func checkSilentServer() throws {
        // A listening socket nobody accepts from: the kernel completes the connection, and nothing ever answers.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        try #require(bound && listen(fd, 8) == 0)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "models:\n  silent:\n    provider: openai\n    base_url: http://127.0.0.1:\(port)/v1\n    model: m\n    timeouts: {connect: 1, first_byte: 1}\n"
            .write(to: dir.appendingPathComponent("interrogate.yaml"), atomically: true, encoding: .utf8)
        let r = try interrogate(["models", "check", "silent"], in: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("sent no reply for 1 s"), "\(r.stderr)")
    }

    @Test("models check local starts the real server, streams, reports logprobs, and leaves no server behind")
    func checkLocal() async throws {
        let r = try await TestSupport.offPool { try Self().interrogate(["models", "check", "local", "--prompt", "Say hello."]) }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("streaming:    yes"))
        #expect(r.stdout.contains("logprobs:     yes"))
        // A server is an orphan when its watchdog is gone, or when no interrogate process (this
        // test process, or an app other tests are running at the same time) is the watchdog's
        // parent: its app died without stopping it.
        let orphans = servers(of: nil).filter { pid in
            guard !isZombie(pid) else { return false }
            guard let watchdog = ppid(pid), comm(watchdog).hasPrefix("python"), let app = ppid(watchdog) else { return true }
            return app != getpid() && !comm(app).hasPrefix("interrogate")
        }
        #expect(orphans.isEmpty, "servers whose app is gone: \(orphans)")
    }

    @Test("killing the app with SIGKILL mid-reply leaves no orphan model server")
    func noOrphanAfterCrash() async throws {
        var env = ProcessInfo.processInfo.environment
        env["INTERROGATE_HOME"] = TestSupport.packageRoot.path
        let app = try TestSupport.spawn(Self.binary.path, ["models", "check", "local", "--prompt", "Tell me a long story about a lighthouse."],
                                        environment: env)
        // Wait until the app has started its server.
        var server: Int32?
        for _ in 0..<600 where server == nil {
            try await Task.sleep(for: .milliseconds(100))
            server = servers(of: app.pid).first
        }
        let pid = try #require(server, "the local model server never started")
        try await Task.sleep(for: .seconds(2))
        kill(app.pid, SIGKILL)
        _ = try await TestSupport.offPool { app.waitUntilExit() }
        var gone = false
        for _ in 0..<100 where !gone {
            try await Task.sleep(for: .milliseconds(100))
            gone = kill(pid, 0) != 0 || isZombie(pid)
        }
        #expect(gone, "the model server \(pid) outlived the app")
    }

    /// This installation's llama.cpp servers (`.venv/bin/llama-server`), started by the local
    /// model of `app` through its watchdog; all of them if nil.
    func servers(of app: Int32?) -> [Int32] {
        let ours = TestSupport.packageRoot.appendingPathComponent(".venv/bin/llama-server").resolvingSymlinksInPath().path
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap(Int32.init) ?? []
        return pids.filter { pid in
            guard comm(pid) == "llama-server",
                  (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) == ours else { return false }
            guard let app else { return true }
            return ppid(pid).flatMap(ppid) == app
        }
    }

    func comm(_ pid: Int32) -> String {
        ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func ppid(_ pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }
}
