import Foundation
import Testing
import TestSupport
@testable import Sessions

/// Which model continues a transcript. A transcript may come from someone else: it must
/// never choose where an API key goes, nor make the app read an arbitrary file.
@Suite("Resuming a transcript: which model answers")
struct ResumeModelTests {
    static let environment = ["OPENAI_API_KEY": "sk-user-secret", "ANTHROPIC_API_KEY": "sk-ant-user-secret",
                              "XDG_CONFIG_HOME": "/nonexistent"]

    static func catalog(yaml: String? = nil, environment: [String: String] = environment) throws -> ModelCatalog {
        var entries = ModelCatalog.builtIns(environment: environment)
        if let yaml { entries += try ModelCatalog.parse(yaml, path: "interrogate.yaml") }
        return ModelCatalog(entries: entries)
    }

    /// Resolves the model as `run --resume` does and, when one is chosen, asks it one question.
    func resume(_ record: SessionHeader.ModelRecord, named: String? = nil, catalog: ModelCatalog) async -> (ModelEntry?, ModelError?) {
        do {
            let entry = try catalog.resumeEntry(for: record, named: named)
            let model = try await ModelFactory.make(entry, environment: Self.environment, installation: nil)
            _ = await ReplyRecorder.collect(model.stream(ModelFaultTests.question))
            return (entry, nil)
        } catch {
            return (nil, error)
        }
    }

    @Test("a transcript naming a server the user never configured gets no API key: resume refuses and says to pass --model",
          arguments: ["openai", "anthropic"])
    func keyNeverGoesWhereTheTranscriptSays(provider: String) async throws {
        let server = try await MisbehavingServer { _, _ in SSE.okStream(["hi"]) }
        let base = provider == "openai" ? server.baseURL("t") : "http://127.0.0.1:\(server.port)"
        let record = SessionHeader.ModelRecord(provider: provider, name: "m", baseUrl: base)
        let (_, error) = await resume(record, catalog: try Self.catalog())
        let keyHeaders = server.requests.flatMap(\.headers).filter { ["authorization", "x-api-key"].contains($0.0.lowercased()) }
        #expect(keyHeaders.isEmpty, "the key was sent to the transcript's server: \(keyHeaders)")
        #expect(server.requests.isEmpty)
        let message = try #require(error).description
        #expect(message.contains("--model"), "\(message)")
        #expect(message.contains(base), "\(message)")
        await server.shutdown()
    }

    @Test("a transcript naming a configured server resumes through the user's entry: its key variable, timeouts, retries and size cap")
    func configuredEntryIsUsed() async throws {
        let server = try await MisbehavingServer { _, _ in SSE.okStream(["hi"]) }
        let yaml = """
        models:
          mine:
            provider: openai
            base_url: \(server.baseURL("t"))/
            api_key_env: OPENAI_API_KEY
            timeouts: {connect: 3, first_byte: 7, idle: 9}
            max_retries: 1
            max_reply_bytes: 5000
        """
        let record = SessionHeader.ModelRecord(provider: "openai", name: "m-recorded", baseUrl: server.baseURL("t"),
                                               parameters: .init(temperature: 0.3, seed: 5))
        let (entry, error) = await resume(record, catalog: try Self.catalog(yaml: yaml))
        #expect(error == nil)
        let e = try #require(entry)
        #expect(e.name == "mine")
        #expect(e.options.firstByteTimeout == 7 && e.options.idleTimeout == 9 && e.options.connectTimeout == 3)
        #expect(e.options.maxRetries == 1 && e.options.maxReplyBytes == 5000)
        // The session goes on with the model and parameters it was recorded with.
        #expect(e.model == "m-recorded")
        #expect(e.parameters == record.parameters)
        let auth = server.requests.first?.headers.first { $0.0.lowercased() == "authorization" }?.1
        #expect(auth == "Bearer sk-user-secret")
        await server.shutdown()
    }

    @Test("--model names the model that continues, whatever the transcript recorded")
    func namedModelWins() async throws {
        let yaml = """
        models:
          mine: {provider: openai, base_url: "http://127.0.0.1:9/v1", model: x, api_key_env: OPENAI_API_KEY}
        """
        let record = SessionHeader.ModelRecord(provider: "openai", name: "m", baseUrl: "http://203.0.113.9/v1")
        let e = try Self.catalog(yaml: yaml).resumeEntry(for: record, named: "mine")
        #expect(e.name == "mine" && e.baseURL == "http://127.0.0.1:9/v1")
    }

    @Test("the built-in openai entry matches a transcript recorded against the same OPENAI_BASE_URL")
    func builtInMatches() throws {
        var env = Self.environment
        env["OPENAI_BASE_URL"] = "http://127.0.0.1:8080/v1"
        let record = SessionHeader.ModelRecord(provider: "openai", name: "served-model", baseUrl: "http://127.0.0.1:8080/v1")
        let e = try Self.catalog(environment: env).resumeEntry(for: record, named: nil)
        #expect(e.name == "openai" && e.apiKeyEnv == "OPENAI_API_KEY" && e.model == "served-model")
    }

    @Test("a configured entry with another model name does not match: the transcript's model is not swapped silently")
    func otherModelDoesNotMatch() throws {
        let yaml = """
        models:
          mine: {provider: openai, base_url: "http://127.0.0.1:8080/v1", model: other}
        """
        let record = SessionHeader.ModelRecord(provider: "openai", name: "recorded", baseUrl: "http://127.0.0.1:8080/v1")
        #expect(throws: ModelError.self) { try Self.catalog(yaml: yaml).resumeEntry(for: record, named: nil) }
    }

    @Test("the local model resumes with the recorded parameters")
    func local() throws {
        let record = SessionHeader.ModelRecord(provider: "local", name: "gemma", baseUrl: "http://127.0.0.1:4444/v1",
                                               parameters: .init(temperature: 0.1, seed: 3))
        let e = try Self.catalog().resumeEntry(for: record, named: nil)
        #expect(e.provider == .local && e.parameters == record.parameters && e.apiKeyEnv == nil)
    }

    @Test("a scripted transcript resumes from its script file")
    func scripted() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.yaml").path
        try "replies:\n  - text: hi\n".write(toFile: path, atomically: true, encoding: .utf8)
        let e = try Self.catalog().resumeEntry(for: .init(provider: "scripted", name: "s", baseUrl: path), named: nil)
        #expect(e.provider == .scripted && e.script == path)
    }

    @Test("a scripted transcript naming a file that is not a script is refused without showing its contents")
    func scriptedArbitraryFile() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let secret = dir.appendingPathComponent("credentials").path
        try "aws_secret_access_key: hunter2-very-secret\n".write(toFile: secret, atomically: true, encoding: .utf8)
        let secretYAML = dir.appendingPathComponent("secrets.yaml").path
        try "token: hunter2-very-secret\n: : bad\n".write(toFile: secretYAML, atomically: true, encoding: .utf8)
        for path in [secret, secretYAML, "/dev/zero", dir.path, "relative/s.yaml", "/nonexistent/s.yaml"] {
            let record = SessionHeader.ModelRecord(provider: "scripted", name: "s", baseUrl: path)
            var message = ""
            do {
                let entry = try Self.catalog().resumeEntry(for: record, named: nil)
                _ = try ScriptedModel(path: entry.script ?? "")
                Issue.record("\(path) was accepted as a script")
            } catch { message = "\(error)" }
            #expect(message.contains("--model"), "\(path): \(message)")
            #expect(!message.contains("hunter2"), "\(path): \(message)")
        }
    }

    @Test("an unknown provider in a transcript is refused, not treated as OpenAI")
    func unknownProvider() throws {
        let record = SessionHeader.ModelRecord(provider: "evil", name: "m", baseUrl: "https://api.openai.com/v1")
        #expect(throws: ModelError.self) { try Self.catalog().resumeEntry(for: record, named: nil) }
    }

    @Test("control characters a transcript puts in its URL are shown escaped in the refusal")
    func escapedURL() throws {
        let record = SessionHeader.ModelRecord(provider: "openai", name: "m", baseUrl: "http://x/v1\r\n\u{1B}[2J")
        var message = ""
        do { _ = try Self.catalog().resumeEntry(for: record, named: nil) } catch { message = "\(error)" }
        #expect(!message.contains("\u{1B}") && !message.contains("\r"))
        #expect(message.contains(#"\r\n"#), "\(message)")
    }
}
