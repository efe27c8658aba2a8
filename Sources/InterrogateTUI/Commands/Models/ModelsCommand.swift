import ArgumentParser
import Foundation
import Sessions

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the models you can name, and check that one answers.",
        discussion: """
        Models come from: the built-in 'local' (llama.cpp with the small Gemma model set-up installs); \
        'openai' when OPENAI_BASE_URL or OPENAI_API_KEY is set (OPENAI_MODEL names the model, else the \
        server's first); 'anthropic' when ANTHROPIC_API_KEY is set (with ANTHROPIC_MODEL); \
        $XDG_CONFIG_HOME/interrogate/models.yaml; and ./interrogate.yaml. 'scripted:PATH' names a script file.
        """,
        subcommands: [List.self, Check.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List named models: provider, model, base URL, key variable, where defined.")
        @Option(help: "Output format: text (a table) or json.") var format: OutputFormat = .text

        func run() throws {
            let catalog: ModelCatalog
            do { catalog = try ModelCatalog.load() } catch {
                printError(error.description)
                throw invalidInputExit
            }
            let env = ProcessInfo.processInfo.environment
            switch format {
            case .text:
                // Names and addresses come from files and the environment: shown escaped, so a
                // line break or an escape sequence in them never reaches the terminal raw.
                let rows = catalog.sorted.map { e in
                    [e.name, e.provider.rawValue, e.model ?? (e.provider == .local ? "gemma-3-270m-q4_k_m" : "(server's first)"),
                     e.baseURL.map(EndpointURL.redacted) ?? e.script ?? "-",
                     e.apiKeyEnv.map { "\($0) (\(env[$0] == nil ? "unset" : "set"))" } ?? "-", e.source].map(TerminalText.escaped)
                }
                print(Table(header: ["NAME", "PROVIDER", "MODEL", "BASE URL", "API KEY", "DEFINED IN"], rows: rows).render())
            case .json:
                printJSON(catalog.sorted.map { e in
                    ["name": e.name, "provider": e.provider.rawValue, "model": e.model, "base_url": e.baseURL.map(EndpointURL.redacted),
                     "api_key_env": e.apiKeyEnv, "source": e.source, "script": e.script]
                })
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send one prompt to a model, stream the reply to stdout, then report how it went.",
            discussion: """
            Prints latency to first token, total time, the number of streamed pieces, and whether \
            logprobs came back (asked for where the provider offers them). A failure prints its \
            message on stderr and exits 1. The local model's server is started for the check and \
            stopped after it, also on Ctrl-C.

            Timeouts (timeouts: {connect, first_byte, idle} of a model in interrogate.yaml) count \
            pieces of the reply, not bytes: first_byte runs until the first reply text, idle until \
            the next. Keep-alive comments, pings and events without text do not count, so a server \
            that only keeps the connection alive ends at the timeout; text received is kept.
            """
        )
        @Argument(help: "The model name (see `interrogate models list`) or scripted:PATH.") var name: String
        @Option(help: "The prompt to send.") var prompt = "In one sentence: what is a secret?"
        @Option(help: "A system prompt to send first.") var system: String?

        func run() async throws {
            var entry: ModelEntry
            do { entry = try ModelCatalog.load().entry(named: name) } catch let e as LocatedErrors {
                printError(e.description); throw invalidInputExit
            } catch {
                printError("\(error)"); throw invalidInputExit
            }
            if entry.provider == .openai || entry.provider == .local {
                entry.parameters.logprobs = true
                entry.parameters.topLogprobs = entry.parameters.topLogprobs ?? 3
            }
            // A check needs only a short reply; logprobs make llama.cpp's Python server several times slower.
            entry.parameters.maxTokens = min(entry.parameters.maxTokens ?? 64, 64)
            let model: any ChatModel
            do { model = try await ModelFactory.make(entry) } catch {
                printError(error.description); throw invalidInputExit
            }
            let stopper = SignalStopper { await model.shutdown() }
            defer { stopper.cancel() }
            if entry.provider == .local { printError("starting the local model…", prefix: false) }
            do { try await model.prepare() } catch {
                printError(error.description)
                await model.shutdown()
                throw invalidInputExit
            }
            var messages: [ChatMessage] = []
            if let system { messages.append(.init(.system, system)) }
            messages.append(.init(.user, prompt))
            let reply = await ReplyRecorder.collect(model.stream(ChatRequest(messages: messages))) { event in
                if case .text(let t) = event { print(TerminalText.inert(t), terminator: ""); fflush(nil) }
                if case let .retrying(attempt, after, reason) = event {
                    printError("\n(\(reason); retry \(attempt) in \(after) s)", prefix: false)
                }
            }
            let d = model.description
            await model.shutdown()
            print("")
            print("model:        \(d.provider) \(reply.modelReported ?? d.name)\(d.baseURL.map { " at \(TerminalText.escaped(EndpointURL.redacted($0)))" } ?? "")")
            print("first token:  \(reply.firstTokenMs.map { "\($0) ms" } ?? "-")")
            print("total:        \(reply.totalMs.map { "\($0) ms" } ?? "-")")
            print("streaming:    \(reply.textDeltas > 1 ? "yes" : "no") (\(reply.textDeltas) piece\(reply.textDeltas == 1 ? "" : "s"))")
            let askedLogprobs = d.parameters.logprobs == true
            print("logprobs:     \(askedLogprobs ? (reply.logprobs.isEmpty ? "asked for, none returned" : "yes (\(reply.logprobs.count) tokens)") : "not offered by this provider")")
            print("finish:       \(reply.finishReason ?? "-")")
            if let u = reply.usage { print("usage:        \(u.promptTokens.map(String.init) ?? "?") prompt + \(u.completionTokens.map(String.init) ?? "?") completion tokens") }
            if let error = reply.error {
                printError(error.description)
                throw invalidInputExit
            }
        }
    }
}

/// Stops what a command started when the user presses Ctrl-C or the process is told to end.
final class SignalStopper: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    /// With `exit`, the process ends after `stop` (commands); without, `stop` only asks the
    /// owner to wind down (the interrogation loop, which restores the terminal itself).
    init(exit shouldExit: Bool = true, _ stop: @escaping @Sendable () async -> Void) {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                Task {
                    await stop()
                    if shouldExit { exit(128 + sig) }
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        for s in sources { s.cancel() }
        for sig in [SIGINT, SIGTERM, SIGHUP] { signal(sig, SIG_DFL) }
    }
}
