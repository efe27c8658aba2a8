import Foundation
import Testing
import TestSupport
@testable import Sessions

/// A base URL is written into every transcript and printed by `models list` and `models
/// check`, so it must carry no secret; its port is read from the text itself so no number
/// can slip past the range check.
@Suite("Base URLs: no secrets, ports read from the text")
struct BaseURLTests {
    static let secretURLs: [(url: String, secret: String)] = [
        ("http://user:hunter2@127.0.0.1:8123/v1", "hunter2"),
        ("http://hunter2@127.0.0.1:8123/v1", "hunter2"),
        ("http://127.0.0.1:8123/v1?key=sk-abc123secret", "sk-abc123secret"),
        ("http://127.0.0.1:8123/v1#sk-abc123secret", "sk-abc123secret"),
        ("https://api.example.com/v1?api-key=sk-abc123secret&x=1", "sk-abc123secret"),
    ]

    func makeError(_ entry: ModelEntry) async -> String {
        do { _ = try await ModelFactory.make(entry, environment: ["OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k"], installation: nil) } catch {
            return error.description
        }
        return ""
    }

    @Test("a base URL with a password or a query string from the environment is refused, naming the variable, never echoing the secret",
          arguments: secretURLs)
    func secretInEnvironment(url: String, secret: String) async throws {
        let catalog = ModelCatalog(entries: ModelCatalog.builtIns(environment: ["OPENAI_BASE_URL": url, "OPENAI_MODEL": "m",
                                                                                "ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": url, "ANTHROPIC_MODEL": "m"]))
        for (name, variable) in [("openai", "OPENAI_BASE_URL"), ("anthropic", "ANTHROPIC_BASE_URL")] {
            let message = await makeError(try catalog.entry(named: name))
            #expect(message.contains(variable), "\(message)")
            #expect(message.contains("api_key_env"), "\(message)")
            #expect(message.contains("…"), "\(message)")
            #expect(!message.contains(secret), "the secret was echoed: \(message)")
        }
    }

    @Test("a base URL with a password or a query string in interrogate.yaml is refused at file:line:column, never echoing the secret",
          arguments: secretURLs)
    func secretInFile(url: String, secret: String) {
        let yaml = "models:\n  x:\n    provider: openai\n    base_url: \"\(url)\"\n    model: m\n"
        #expect {
            try ModelCatalog.parse(yaml, path: "interrogate.yaml")
        } throws: { error in
            guard let e = (error as? LocatedErrors)?.errors.first else { return false }
            let text = (error as? LocatedErrors)?.description ?? ""
            return "\(e.line):\(e.column)" == "4:15" && e.message.contains("api_key_env") && !text.contains(secret)
        }
    }

    @Test("what a model records and reports as its address never carries user info or a query, even when built in code")
    func recordedAddress() {
        let openai = OpenAICompatibleModel(baseURL: "http://u:hunter2@127.0.0.1:9/v1?key=sk-zzz", model: "m", apiKey: nil, parameters: .init())
        let anthropic = AnthropicModel(baseURL: "http://u:hunter2@127.0.0.1:9/v1?key=sk-zzz", model: "m", apiKey: "k", parameters: .init())
        for d in [openai.description, anthropic.description] {
            let recorded = d.baseURL ?? ""
            #expect(!recorded.contains("hunter2") && !recorded.contains("sk-zzz"), "\(recorded)")
            #expect(!(d.record.baseUrl ?? "").contains("hunter2"))
        }
    }

    @Test("resuming a transcript that recorded a secret in its address does not print the secret")
    func resumeDoesNotEchoRecordedSecret() {
        let record = SessionHeader.ModelRecord(provider: "openai", name: "m", baseUrl: "http://u:hunter2@127.0.0.1:9/v1?key=sk-zzz", parameters: .init())
        var message = ""
        do { _ = try ModelCatalog(entries: []).resumeEntry(for: record, named: nil) } catch { message = error.description }
        #expect(!message.isEmpty)
        #expect(!message.contains("hunter2") && !message.contains("sk-zzz"), "\(message)")
    }

    @Test("the port is read from the URL's text: any number of digits past 65535, empty, signed or zero-padded is refused", arguments: [
        ("http://127.0.0.1:99999999999999999999/v1", "outside 1...65535"),
        ("http://127.0.0.1:18446744073709551617/v1", "outside 1...65535"),
        ("http://127.0.0.1:4294967377/v1", "outside 1...65535"),
        ("http://127.0.0.1:65536/v1", "outside 1...65535"),
        ("http://127.0.0.1:0/v1", "outside 1...65535"),
        ("http://127.0.0.1:/v1", "empty port"),
        ("http://127.0.0.1:+80/v1", "digits"),
        ("http://127.0.0.1:-80/v1", "digits"),
        ("http://127.0.0.1:8o/v1", "digits"),
        ("http://127.0.0.1:0080/v1", "leading zero"),
        ("http://[::1]:99999999999999999999/v1", "outside 1...65535"),
        ("http://[::1]:/v1", "empty port"),
        ("http://[::1/v1", "]"),
        ("http://[::1]x/v1", "after ]"),
        ("http://:8080/v1", "host"),
    ])
    func badPort(url: String, reason: String) async {
        let problem = EndpointURL.problem(url) ?? "(accepted)"
        #expect(problem.contains(reason), "\(problem)")
        let message = await makeError(ModelEntry(name: "x", provider: .openai, baseURL: url, model: "m", source: "environment"))
        #expect(message.contains("OPENAI_BASE_URL") && message.contains(reason), "\(message)")
    }

    @Test("usual base URLs are accepted", arguments: [
        "http://127.0.0.1:8080/v1", "https://api.openai.com/v1", "http://localhost/v1/", "http://[::1]:8080/v1", "http://[::1]/v1",
        "HTTP://Example.COM:65535", "http://127.0.0.1:1/v1",
    ])
    func goodURL(url: String) {
        #expect(EndpointURL.problem(url) == nil)
    }

    @Test("an address is shown with its user info, query and fragment replaced by …")
    func shown() {
        #expect(EndpointURL.redacted("http://user:pw@h:1/v1?key=s#f") == "http://…@h:1/v1?…")
        #expect(EndpointURL.redacted("http://h:1/v1") == "http://h:1/v1")
        #expect(EndpointURL.redacted("http://h/v1#frag") == "http://h/v1#…")
        #expect(EndpointURL.redacted("not a url @ all?x") == "not a url @ all?…")
    }
}
