import Annotate
import Foundation
import Testing
import TestSupport
@testable import Sessions

@Suite("Scripted model")
struct ScriptedModelTests {
    static let yaml = """
    pace_ms: 1
    model: demo-suspect
    replies:
      - text: "I was home all night, officer."
        labels: [fabrication]
        leak: false
      - text: "Why do you keep asking about storage?"
        labels: [deflection]
      - error: "simulated outage"
    """

    func write(_ text: String, name: String) throws -> String {
        let dir = try TestSupport.temporaryDirectory()
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func ask(_ model: ScriptedModel, afterReplies n: Int) async -> ReplyRecorder {
        var messages: [ChatMessage] = [.init(.system, "s")]
        for i in 0..<n { messages += [.init(.user, "q\(i)"), .init(.assistant, "a\(i)")] }
        messages.append(.init(.user, "next"))
        return await ReplyRecorder.collect(model.stream(ChatRequest(messages: messages)))
    }

    @Test("the n-th model turn gets the n-th reply, streamed word by word, with its gold labels on record")
    func repliesInOrder() async throws {
        let model = try ScriptedModel(path: try write(Self.yaml, name: "demo.yaml"))
        #expect(model.script.replies.map(\.goldLabels) == [LabelSet([.fabrication]), LabelSet([.deflection]), nil])
        #expect(model.script.replies[0].goldLeak == false)
        let first = await ask(model, afterReplies: 0)
        #expect(first.text == "I was home all night, officer.")
        #expect(first.textDeltas == 6)
        #expect(first.modelReported == "demo-suspect")
        #expect(first.status == .complete)
        let second = await ask(model, afterReplies: 1)
        #expect(second.text == "Why do you keep asking about storage?")
        #expect(model.description.provider == "scripted")
    }

    @Test("a scripted failure and running out of replies are errors a person can read")
    func failures() async throws {
        let model = try ScriptedModel(path: try write(Self.yaml, name: "demo.yaml"))
        #expect(await ask(model, afterReplies: 2).error == .server(message: "simulated outage"))
        let exhausted = await ask(model, afterReplies: 3)
        #expect(exhausted.error == .scriptExhausted(replies: 3))
        #expect(exhausted.error!.description.contains("3 replies"))
    }

    @Test("a JSON Lines script works too, with fixed-size chunks")
    func jsonLines() async throws {
        let model = try ScriptedModel(path: try write(#"{"text": "abcdef", "labels": ["candid"]}"# + "\n", name: "s.jsonl"))
        #expect(model.script.replies.first?.goldLabels == LabelSet([.candid]))
        var custom = model.script
        custom.chunkCharacters = 2
        custom.paceMilliseconds = 0
        let r = await ask(ScriptedModel(script: custom, path: "s.jsonl"), afterReplies: 0)
        #expect(r.text == "abcdef" && r.textDeltas == 3)
    }

    @Test("a misspelt gold label is reported with the reply it is in")
    func badLabel() throws {
        let path = try write("replies:\n  - text: hi\n    labels: [fabricaton]\n", name: "bad.yaml")
        #expect { try ScriptedModel(path: path) } throws: { error in
            "\(error)".contains("reply 1") && "\(error)".contains("fabricaton")
        }
    }
}

@Suite("Named models")
struct ModelCatalogTests {
    @Test("OPENAI_BASE_URL alone is enough to name a server")
    func environmentOnly() throws {
        let c = try ModelCatalog.load(environment: ["OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "HOME": "/nonexistent"], projectFile: "/nonexistent.yaml")
        let e = try c.entry(named: "openai")
        #expect(e.baseURL == "http://127.0.0.1:9/v1")
        #expect(e.apiKeyEnv == "OPENAI_API_KEY")
        #expect(e.model == nil)
        #expect((try? c.entry(named: "anthropic")) == nil)
        #expect(try c.entry(named: "local").provider == .local)
    }

    @Test("the project file defines models with parameters and timeouts, and overrides built-ins")
    func projectFile() throws {
        let yaml = """
        models:
          vllm-llama:
            provider: openai
            base_url: http://gpu-box:8000/v1
            model: meta-llama/Llama-3.1-8B-Instruct
            api_key_env: VLLM_KEY
            parameters: {temperature: 0.2, top_p: 0.9, max_tokens: 300, seed: 5, stop: ["###"], logprobs: true, top_logprobs: 3}
            timeouts: {connect: 3, first_byte: 30, idle: 10}
            max_retries: 1
          local:
            provider: local
            parameters: {temperature: 0}
        """
        let entries = try ModelCatalog.parse(yaml, path: "interrogate.yaml")
        let v = try #require(entries.first { $0.name == "vllm-llama" })
        #expect(v.parameters == ModelParameters(temperature: 0.2, topP: 0.9, maxTokens: 300, seed: 5, stop: ["###"], logprobs: true, topLogprobs: 3))
        #expect(v.options.connectTimeout == 3 && v.options.firstByteTimeout == 30 && v.options.idleTimeout == 10 && v.options.maxRetries == 1)
        let local = try #require(entries.first { $0.name == "local" })
        #expect(local.parameters.temperature == 0)
        #expect(local.parameters.seed == ModelEntry.localDefaults.seed) // other defaults stay
    }

    @Test("mistakes in the configuration are reported as file:line:column", arguments: [
        ("models:\n  x:\n    provider: opneai\n", "3:15", "unknown provider 'opneai'"),
        ("models:\n  x:\n    provider: openai\n    base_url: http://h/v1\n    temprature: 1\n", "5:5", "unknown key 'temprature'"),
        ("models:\n  x:\n    provider: openai\n    base_url: http://h/v1\n    parameters: {top_p: 2}\n", "5:25", "top_p must be at most 1.0"),
        ("models:\n  x:\n    provider: openai\n    base_url: http://h/v1\n    api_key_env: sk-live-123\n", "5:18", "not the key itself"),
        ("models:\n  x:\n    provider: scripted\n", "3:5", "needs script"),
    ])
    func errors(yaml: String, at: String, message: String) {
        #expect {
            try ModelCatalog.parse(yaml, path: "m.yaml")
        } throws: { error in
            guard let e = (error as? LocatedErrors)?.errors.first else { return false }
            return "\(e.line):\(e.column)" == at && e.message.contains(message) && e.file == "m.yaml"
        }
    }

    @Test("an unknown name lists the known ones")
    func unknownName() throws {
        let c = ModelCatalog(entries: [ModelEntry(name: "local", provider: .local, source: "built-in")])
        #expect(throws: ModelError.self) { try c.entry(named: "gpt-9") }
        #expect(try c.entry(named: "scripted:demo.yaml").script == "demo.yaml")
    }
}

@Suite("API keys stay out of files")
struct SecretHygieneTests {
    @Test("a session run with an API key writes the key to no transcript and no log")
    func keyNeverWritten() async throws {
        let key = "sk-test-DO-NOT-WRITE-\(UUID().uuidString)"
        let server = try await MisbehavingServer { _, _ in SSE.okStream(["No ", "comment."]) }
        let entry = ModelEntry(name: "probe", provider: .openai, baseURL: server.baseURL("t"), model: "m",
                               apiKeyEnv: "PROBE_API_KEY", parameters: .init(temperature: 0, seed: 1), source: "test")
        let model = try await ModelFactory.make(entry, environment: ["PROBE_API_KEY": key], installation: nil)

        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = TranscriptStore(root: dir.path)
        let scenario = try TranscriptFixtures.scenario()
        let file = try store.createSession(header: SessionHeader(sessionId: "s1", annotator: "alice",
            scenario: .init(scenario: scenario, condition: .instructed), model: model.description.record))
        try file.append(.message(.init(index: 0, role: .interrogator, text: "What is it?")))
        let reply = await ReplyRecorder.collect(model.stream(ChatRequest(messages: [.init(.user, "What is it?")])))
        try file.append(.message(reply.message(index: 1)))
        await server.shutdown()

        // The key was really used…
        #expect(server.requests.first?.headers.contains { $0.1 == "Bearer \(key)" } == true)
        // …and appears in no file written, nor in the local model's log.
        var files = TranscriptStore.transcriptFiles(under: [dir.path]).files
        files.append(LocalModelServer(installation: .init(root: TestSupport.packageRoot.path)).logPath)
        for path in files {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            #expect(!text.contains(key), "\(path) contains the API key")
        }
        #expect(reply.text == "No comment.")
    }
}
