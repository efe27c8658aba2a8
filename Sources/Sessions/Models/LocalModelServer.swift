import AsyncHTTPClient
import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded default model: llama.cpp's own server (`llama-server`, which set-up built from
/// the llama.cpp sources pinned in `scripts/setup.sh` into `.venv/bin`) with the small GGUF
/// model that set-up assembled, on a free loopback port. Its log goes to a file, never to the
/// terminal. It is stopped on exit, and it stops itself within seconds if the app dies
/// without stopping it: a small Python watchdog between the app and the server ends the
/// server when the app is gone, and the kernel ends the server if the watchdog is killed.
/// Both run in a process group of their own, so Ctrl-C in the terminal reaches only the app.
public final class LocalModelServer: @unchecked Sendable {
    // @unchecked: `process` and `baseURL` are only touched under `lock`.

    public struct Installation: Sendable, Equatable {
        public var root: String
        public var python: String
        public var serverPath: String
        public var modelPath: String

        public static let modelFileName = "gemma-3-270m-q4_k_m.gguf"

        public init(root: String) {
            self.root = root
            python = (root as NSString).appendingPathComponent(".venv/bin/python")
            serverPath = (root as NSString).appendingPathComponent(".venv/bin/llama-server")
            modelPath = (root as NSString).appendingPathComponent("models/\(Self.modelFileName)")
        }

        var isComplete: Bool {
            FileManager.default.isExecutableFile(atPath: python) && FileManager.default.isExecutableFile(atPath: serverPath)
                && FileManager.default.fileExists(atPath: modelPath)
        }

        /// `$INTERROGATE_HOME`, else the first folder holding `.venv` and `models/` above the
        /// executable or the current directory.
        public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment,
                                  executable: String = CommandLine.arguments[0],
                                  currentDirectory: String = FileManager.default.currentDirectoryPath) -> Installation? {
            if let home = environment["INTERROGATE_HOME"] { return Installation(root: home) }
            let exe = URL(fileURLWithPath: executable, relativeTo: URL(fileURLWithPath: currentDirectory)).resolvingSymlinksInPath()
            for start in [exe.deletingLastPathComponent(), URL(fileURLWithPath: currentDirectory)] {
                var dir = start.standardizedFileURL
                while true {
                    let candidate = Installation(root: dir.path)
                    if candidate.isComplete { return candidate }
                    let parent = dir.deletingLastPathComponent()
                    if parent.path == dir.path { break }
                    dir = parent
                }
            }
            return nil
        }
    }

    public struct Options: Sendable {
        /// Tokens the conversation may fill: a 25-question session of the small model's long
        /// replies passed 2,048. Gemma 3 270M was trained for 32,768.
        public var contextSize = 8192
        public var threads: Int?
        public var startupTimeout: Double = 90
        /// The Gemma GGUF carries no chat template of its own: llama.cpp's built-in one.
        public var chatTemplate = "gemma"
        public var logPath: String?
        public init() {}
    }

    public let installation: Installation
    public let options: Options
    /// A key made for this run: the server answers only requests that carry it, so another
    /// local program, or a web page in the user's browser (llama-server allows any origin),
    /// cannot use the model or read what it was told. It reaches the server through its
    /// environment, not its command line, which other users can read.
    public let accessKey: String = (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: .min ... .max)) }.joined()
    /// The server has one slot (`-np 1`: the whole context for one conversation), so the roles
    /// sharing it take turns here, first come first served, rather than in its queue.
    let gate = RequestGate()
    private let lock = NSLock()
    private var process: ChildProcess?
    private var baseURL: String?

    public init(installation: Installation, options: Options = .init()) {
        self.installation = installation
        self.options = options
    }

    public var logPath: String {
        options.logPath ?? (installation.root as NSString).appendingPathComponent(".interrogate/local-model.log")
    }

    public var processIdentifier: Int32? { lock.withLock { process?.isRunning == true ? process?.pid : nil } }

    /// The Python watchdog that runs the server as its child (`python -c launcher APP_PID
    /// SERVER ARGS…`): it ends the server as soon as the app is no longer its parent, however
    /// the app ended, and on SIGTERM; on Linux the kernel kills the server if the watchdog
    /// itself is killed (PR_SET_PDEATHSIG). The app's pid comes in argv, so an app that died
    /// before the watchdog started is noticed too. It first closes every descriptor it
    /// inherited but stdin, stdout and stderr: it lives as long as the server, and must not
    /// keep the app's files or pipes open after the app has closed them.
    static let launcher = """
    import os, signal, subprocess, sys, time
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    app, watchdog, stopping = int(sys.argv[1]), os.getpid(), False
    if sys.platform.startswith("linux"):
        import ctypes
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    def bound_to_watchdog():
        if sys.platform.startswith("linux"):
            prctl(1, signal.SIGKILL)
            if os.getppid() != watchdog:
                os._exit(1)
    def on_term(*_):
        global stopping
        stopping = True
    signal.signal(signal.SIGTERM, on_term)
    if os.getppid() != app:
        sys.exit(0)
    server = subprocess.Popen(sys.argv[2:], preexec_fn=bound_to_watchdog)
    while server.poll() is None:
        if stopping or os.getppid() != app:
            server.terminate()
            try:
                server.wait(4)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            sys.exit(0)
        time.sleep(0.25)
    code = server.returncode
    sys.exit(code if code >= 0 else 128 - code)
    """

    /// What the server's environment keeps of the app's: nothing that configures llama.cpp
    /// (`LLAMA_ARG_*` and the like would override the arguments; without HOME and
    /// XDG_CONFIG_HOME it finds no user config.ini) and no credentials. A system-wide
    /// /etc/llama.cpp/config.ini, which only an administrator can write, still applies.
    static func serverEnvironment(_ app: [String: String], accessKey: String) -> [String: String] {
        var env = app.filter { ["PATH", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE"].contains($0.key) }
        env["LLAMA_API_KEY"] = accessKey
        return env
    }

    /// Starts the server and waits until it answers; returns its base URL (`…/v1`).
    public func start() async throws(ModelError) -> String {
        if let url = lock.withLock({ process?.isRunning == true ? baseURL : nil }) { return url }
        guard installation.isComplete else {
            throw .localServer("the local model is not installed in \(installation.root) (missing .venv/bin/python, .venv/bin/llama-server or models/\(Installation.modelFileName)): run `make setup`")
        }
        let port = try Self.freeLoopbackPort()
        let log = try openLog()
        let name = (Installation.modelFileName as NSString).deletingPathExtension
        // --no-jinja: llama.cpp's built-in Gemma template (with Jinja on, "gemma" would be the
        // template's whole text). --cache-ram bounds the prompts it keeps between requests.
        // --log-verbosity 2: warnings and errors only (at its default it logs every request,
        // tens of MB an hour). --offline: it never reaches for the network.
        var args = ["-c", Self.launcher, String(getpid()), installation.serverPath, "--model", installation.modelPath, "--alias", name,
                    "--host", "127.0.0.1", "--port", String(port), "--ctx-size", String(options.contextSize), "--parallel", "1",
                    "--no-jinja", "--chat-template", options.chatTemplate, "--cache-ram", "256", "--no-webui", "--no-slots",
                    "--log-verbosity", "2", "--offline"]
        if let t = options.threads { args += ["--threads", String(t)] }
        let env = Self.serverEnvironment(ProcessInfo.processInfo.environment, accessKey: accessKey)
        let p = try ChildProcess(path: installation.python, arguments: args, environment: env, stdout: log.fileDescriptor, stderr: log.fileDescriptor,
                                 ownProcessGroup: true)
        try? log.close()
        let url = "http://127.0.0.1:\(port)/v1"
        lock.withLock { process = p; baseURL = url }
        do {
            try await waitUntilReady(url: url, process: p)
        } catch {
            stop()
            throw error
        }
        return url
    }

    private func waitUntilReady(url: String, process p: ChildProcess) async throws(ModelError) {
        let deadline = ContinuousClock.now + .milliseconds(EndpointOptions.milliseconds(options.startupTimeout))
        var probe = EndpointOptions()
        (probe.connectTimeout, probe.firstByteTimeout, probe.idleTimeout) = (1, 2, 2)
        while ContinuousClock.now < deadline {
            if !p.isRunning {
                throw .localServer("the local model server exited (status \(p.status ?? -1)) before it was ready. Last lines of \(logPath):\n\(logTail())")
            }
            let request = HTTPClientRequestBuilder.get(url + "/models", bearer: accessKey)
            if let reply = try? await HTTPClients.fetch(request, url: url + "/models", options: probe, limit: 1 << 20), reply.status == 200 {
                return
            }
            do { try await Task.sleep(for: .milliseconds(200)) } catch { throw .localServer("start of the local model was cancelled") }
        }
        throw .localServer("the local model server did not answer within \(ModelError.format(options.startupTimeout)) s. Last lines of \(logPath):\n\(logTail())")
    }

    /// Stops the server: SIGTERM, then SIGKILL if it has not gone within 5 s.
    public func stop() {
        guard let p = lock.withLock({ () -> ChildProcess? in defer { process = nil; baseURL = nil }; return process }) else { return }
        p.stop()
    }

    deinit { stop() }

    /// The last lines of the server's log, for error messages.
    public func logTail(lines: Int = 15) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "(no log)" }
        return String(decoding: data.suffix(16_384), as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    private func openLog() throws(ModelError) -> FileHandle {
        let dir = (logPath as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: logPath) { FileManager.default.createFile(atPath: logPath, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: logPath) else { throw .localServer("cannot write the local model's log \(logPath)") }
        h.seekToEndOfFile()
        h.write(Data("\n--- interrogate starting the local model at \(Date()) ---\n".utf8))
        return h
    }

    /// A port that was free a moment ago on 127.0.0.1 (the kernel picks it).
    static func freeLoopbackPort() throws(ModelError) -> Int {
        let fd = socket(AF_INET, Platform.streamSocket, 0)
        guard fd >= 0 else { throw .localServer("cannot open a socket to find a free port") }
        defer { close(fd) }
        var addr = Platform.loopbackAddress()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else { throw .localServer("cannot find a free loopback port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// The `local` model: starts its server in `prepare`, then talks to it as an
/// OpenAI-compatible server.
public final class LocalModel: ChatModel, @unchecked Sendable {
    public let server: LocalModelServer
    public let parameters: ModelParameters
    private let endpoint: EndpointOptions
    private let lock = NSLock()
    private var client: OpenAICompatibleModel?
    /// Set: the embedded base model continues a written transcript with these speakers.
    public let dialogue: Scenario.Speakers?

    public init(server: LocalModelServer, parameters: ModelParameters, options: EndpointOptions = .init(), dialogue: Scenario.Speakers? = nil) {
        self.server = server
        self.parameters = parameters
        endpoint = options
        self.dialogue = dialogue
    }

    public var description: ModelDescription {
        let name = (LocalModelServer.Installation.modelFileName as NSString).deletingPathExtension
        return ModelDescription(provider: "local", name: name, baseURL: lock.withLock { client?.description.baseURL }, parameters: parameters,
                                promptFormat: dialogue.map(DialoguePrompt.format))
    }

    public func prepare() async throws(ModelError) {
        let url = try await server.start()
        let c = OpenAICompatibleModel(baseURL: url, model: description.name, apiKey: server.accessKey, parameters: parameters,
                                      options: endpoint, provider: "local", dialogue: dialogue)
        lock.withLock { client = c }
    }

    public func shutdown() async {
        server.stop()
        lock.withLock { client = nil }
    }

    public func stream(_ request: ChatRequest) -> AsyncStream<ChatEvent> {
        guard let c = lock.withLock({ client }) else {
            return AsyncStream { $0.yield(.failed(.localServer("the local model is not running (it was not started, or it was stopped)"))); $0.finish() }
        }
        let gate = server.gate
        let trims = dialogue != nil && request.prompt == nil
        return AsyncStream<ChatEvent> { continuation in
            let task = Task {
                guard await gate.enter() else {
                    continuation.yield(.failed(.connectionLost("stopped while waiting for the local model")))
                    continuation.finish()
                    return
                }
                var started = !trims
                // The continuation of "Name:" starts with a space (or a line break): not part of the reply.
                for await event in c.stream(request) {
                    if !started, case .text(let t) = event {
                        let trimmed = String(t.drop(while: \.isWhitespace))
                        if trimmed.isEmpty { continue }
                        started = true
                        continuation.yield(.text(trimmed))
                    } else {
                        continuation.yield(event)
                    }
                }
                await gate.leave()
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// One request at a time, first come first served; a waiter that is cancelled leaves the line.
actor RequestGate {
    private var busy = false
    private var waiting: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextId = 0

    /// Waits for the turn; false when the task was cancelled while waiting.
    func enter() async -> Bool {
        if !busy {
            busy = true
            return true
        }
        nextId += 1
        let id = nextId
        return await withTaskCancellationHandler {
            await withCheckedContinuation { c in
                if Task.isCancelled { c.resume(returning: false) } else { waiting.append((id, c)) }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    private func cancel(_ id: Int) {
        guard let i = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: i).continuation.resume(returning: false)
    }

    func leave() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().continuation.resume(returning: true) }
    }
}
