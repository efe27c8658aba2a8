import AsyncHTTPClient
import NIOCore
import Foundation
import Yams

/// A model a person can name on the command line: where it is, which key it uses, and the
/// parameters every request to it carries.
public struct ModelEntry: Sendable, Equatable {
    public enum Provider: String, Sendable, CaseIterable { case openai, anthropic, local, scripted }

    public var name: String
    public var provider: Provider
    public var baseURL: String?
    /// The model name sent to the server; nil asks an OpenAI-compatible server for its first model.
    public var model: String?
    /// The environment variable holding the API key (never the key itself).
    public var apiKeyEnv: String?
    public var parameters: ModelParameters
    public var options: EndpointOptions
    public var script: String?
    /// How the local model is asked: as a chat, or (the default for the embedded base model)
    /// to continue a written transcript of the interrogation.
    public enum Prompt: String, Sendable, CaseIterable { case chat, dialogue }
    public var prompt: Prompt = .dialogue
    /// Where the entry was defined: built-in, environment, or a file.
    public var source: String

    public init(name: String, provider: Provider, baseURL: String? = nil, model: String? = nil, apiKeyEnv: String? = nil,
                parameters: ModelParameters = .init(), options: EndpointOptions = .init(), script: String? = nil, source: String) {
        self.name = name
        self.provider = provider
        self.baseURL = baseURL
        self.model = model
        self.apiKeyEnv = apiKeyEnv
        self.parameters = parameters
        self.options = options
        self.script = script
        self.source = source
    }

    /// Defaults of the embedded model: a fixed seed so sessions can be reproduced.
    public static let localDefaults = ModelParameters(temperature: 0.7, topP: 0.95, maxTokens: 256, seed: 42)
}

/// The models a person can name: built-ins (`local`; `openai` when `OPENAI_BASE_URL` or
/// `OPENAI_API_KEY` is set; `anthropic` when `ANTHROPIC_API_KEY` is set), then the user's
/// `$XDG_CONFIG_HOME/interrogate/models.yaml`, then the project's `interrogate.yaml`; a later
/// definition of a name replaces an earlier one. `scripted:PATH` names a script file directly.
public struct ModelCatalog: Sendable {
    public private(set) var entries: [String: ModelEntry] = [:]

    public init(entries: [ModelEntry]) {
        for e in entries { self.entries[e.name] = e }
    }

    public var sorted: [ModelEntry] { entries.values.sorted { $0.name < $1.name } }

    public static func userConfigPath(environment: [String: String]) -> String {
        let base = environment["XDG_CONFIG_HOME"] ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        return base + "/interrogate/models.yaml"
    }

    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment,
                            projectFile: String = "interrogate.yaml") throws(LocatedErrors) -> ModelCatalog {
        var catalog = ModelCatalog(entries: builtIns(environment: environment))
        var errors: [LocatedError] = []
        for path in [userConfigPath(environment: environment), projectFile] where FileManager.default.fileExists(atPath: path) {
            do {
                for e in try parse(file: path) { catalog.entries[e.name] = e }
            } catch {
                errors += error.errors
            }
        }
        if !errors.isEmpty { throw LocatedErrors(errors) }
        return catalog
    }

    static func builtIns(environment env: [String: String]) -> [ModelEntry] {
        var out = [ModelEntry(name: "local", provider: .local, parameters: ModelEntry.localDefaults, source: "built-in")]
        if env["OPENAI_BASE_URL"] != nil || env["OPENAI_API_KEY"] != nil {
            out.append(ModelEntry(name: "openai", provider: .openai, baseURL: env["OPENAI_BASE_URL"] ?? "https://api.openai.com/v1",
                                  model: env["OPENAI_MODEL"], apiKeyEnv: "OPENAI_API_KEY", source: "environment"))
        }
        if env["ANTHROPIC_API_KEY"] != nil {
            out.append(ModelEntry(name: "anthropic", provider: .anthropic, baseURL: env["ANTHROPIC_BASE_URL"] ?? AnthropicModel.defaultBaseURL,
                                  model: env["ANTHROPIC_MODEL"], apiKeyEnv: "ANTHROPIC_API_KEY", source: "environment"))
        }
        return out
    }

    /// The entry for a name, or a scripted model for `scripted:PATH`.
    public func entry(named name: String) throws(ModelError) -> ModelEntry {
        if name.hasPrefix("scripted:") {
            return ModelEntry(name: name, provider: .scripted, script: String(name.dropFirst("scripted:".count)), source: "command line")
        }
        guard let e = entries[name] else {
            throw .configuration("no model named '\(name)'; known: \(sorted.map(\.name).joined(separator: ", ")). Define it in interrogate.yaml, set OPENAI_BASE_URL, or use scripted:PATH")
        }
        return e
    }

    static let entryKeys = ["provider", "base_url", "model", "api_key_env", "parameters", "timeouts", "max_retries",
                            "retry_base_delay", "max_reply_bytes", "script", "prompt"]
    static let parameterKeys = ["temperature", "top_p", "max_tokens", "seed", "stop", "logprobs", "top_logprobs"]
    static let timeoutKeys = ["connect", "first_byte", "idle"]

    /// Reads `models:` from a configuration file, reporting problems as `file:line:column`.
    public static func parse(file path: String) throws(LocatedErrors) -> [ModelEntry] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw LocatedErrors([LocatedError(file: path, line: 1, column: 1, message: "cannot read the file")])
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws(LocatedErrors) -> [ModelEntry] {
        var v = YAMLValidator(file: path)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { return [] }
            root = node
        } catch {
            throw LocatedErrors([YAMLValidator.yamlError(error, file: path)])
        }
        guard let top = root.mapping else { throw LocatedErrors([v.error(root, "expected a mapping with a 'models' key")]) }
        v.rejectUnknownKeys(top, allowed: ["models"], in: "the configuration")
        guard let modelsNode = top["models"] else { return [] }
        guard let models = modelsNode.mapping else { throw LocatedErrors([v.error(modelsNode, "models must map names to model definitions")]) }
        var out: [ModelEntry] = []
        for (keyNode, node) in models {
            guard let name = keyNode.string else { continue }
            guard let m = node.mapping else { v.report(node, "model '\(name)' must be a mapping (provider, base_url, model, …)"); continue }
            v.rejectUnknownKeys(m, allowed: entryKeys, in: "model '\(name)'")
            guard let providerNode = m["provider"] else { v.report(node, "model '\(name)' needs a provider (\(ModelEntry.Provider.allCases.map(\.rawValue).joined(separator: ", ")))"); continue }
            guard let provider = providerNode.string.flatMap(ModelEntry.Provider.init(rawValue:)) else {
                v.report(providerNode, "unknown provider '\(providerNode.string ?? "")'; expected one of \(ModelEntry.Provider.allCases.map(\.rawValue).joined(separator: ", "))")
                continue
            }
            var entry = ModelEntry(name: name, provider: provider, source: path)
            entry.baseURL = v.optionalString(m, "base_url")
            if let url = entry.baseURL, let problem = EndpointURL.problem(url) { v.report(m["base_url"], "base_url \(problem)") }
            entry.model = v.optionalString(m, "model")
            entry.apiKeyEnv = v.optionalString(m, "api_key_env")
            entry.script = v.optionalString(m, "script")
            if let node = m["prompt"] {
                if provider != .local { v.report(node, "prompt applies to the local model only (chat or dialogue)") }
                else if let p = node.string.flatMap(ModelEntry.Prompt.init(rawValue:)) { entry.prompt = p }
                else { v.report(node, "prompt must be chat or dialogue") }
            }
            if provider == .local { entry.parameters = ModelEntry.localDefaults }
            if let pNode = m["parameters"] {
                if let p = pNode.mapping {
                    v.rejectUnknownKeys(p, allowed: parameterKeys, in: "parameters of '\(name)'")
                    if let x = v.optionalNumber(p, "temperature", minimum: 0) { entry.parameters.temperature = x }
                    if let x = v.optionalNumber(p, "top_p", minimum: 0, maximum: 1) { entry.parameters.topP = x }
                    if let x = v.boundedInt(p, "max_tokens", 1...10_000_000) { entry.parameters.maxTokens = x }
                    // Within what every JSON reader takes as an exact integer.
                    if let x = v.boundedInt(p, "seed", -9_007_199_254_740_991...9_007_199_254_740_991) { entry.parameters.seed = x }
                    if p["stop"] != nil { entry.parameters.stop = v.stringList(p, "stop") }
                    if let x = v.optionalBool(p, "logprobs") { entry.parameters.logprobs = x }
                    if let x = v.boundedInt(p, "top_logprobs", 0...20) { entry.parameters.topLogprobs = x }
                } else {
                    v.report(pNode, "parameters must be a mapping")
                }
            }
            if let tNode = m["timeouts"] {
                if let t = tNode.mapping {
                    v.rejectUnknownKeys(t, allowed: timeoutKeys, in: "timeouts of '\(name)'")
                    let range = EndpointOptions.timeoutRange
                    if let x = v.optionalNumber(t, "connect", minimum: range.lowerBound, maximum: range.upperBound) { entry.options.connectTimeout = x }
                    if let x = v.optionalNumber(t, "first_byte", minimum: range.lowerBound, maximum: range.upperBound) { entry.options.firstByteTimeout = x }
                    if let x = v.optionalNumber(t, "idle", minimum: range.lowerBound, maximum: range.upperBound) { entry.options.idleTimeout = x }
                } else {
                    v.report(tNode, "timeouts must be a mapping (connect, first_byte, idle)")
                }
            }
            if let x = v.boundedInt(m, "max_retries", EndpointOptions.retriesRange) { entry.options.maxRetries = x }
            if let x = v.optionalNumber(m, "retry_base_delay", minimum: EndpointOptions.retryBaseDelayRange.lowerBound,
                                        maximum: EndpointOptions.retryBaseDelayRange.upperBound) { entry.options.retryBaseDelay = x }
            if let x = v.boundedInt(m, "max_reply_bytes", EndpointOptions.replyBytesRange) { entry.options.maxReplyBytes = x }
            if provider == .scripted && entry.script == nil { v.report(node, "scripted model '\(name)' needs script: PATH") }
            if (provider == .openai) && entry.baseURL == nil { v.report(node, "model '\(name)' needs base_url (e.g. http://127.0.0.1:8080/v1)") }
            if let envName = entry.apiKeyEnv, envName.contains(where: { $0 == " " || $0 == "-" }) || envName.hasPrefix("sk-") {
                v.report(m["api_key_env"], "api_key_env names an environment variable (e.g. OPENAI_API_KEY), not the key itself")
            }
            out.append(entry)
        }
        if !v.errors.isEmpty { throw LocatedErrors(v.errors) }
        return out
    }
}

/// Turns a catalog entry into a model client.
public enum ModelFactory {
    /// `scenario` picks the script of a scripted model whose script is a folder (one script per
    /// scenario, named after it, as in `examples/scripted/`).
    public static func make(_ entry: ModelEntry, environment: [String: String] = ProcessInfo.processInfo.environment,
                            installation: LocalModelServer.Installation? = LocalModelServer.Installation.locate(),
                            scenario: String? = nil, speakers: Scenario.Speakers = .standard,
                            localServer: LocalModelServer? = nil) async throws(ModelError) -> any ChatModel {
        let key = entry.apiKeyEnv.flatMap { environment[$0] }
        if let problem = entry.options.problem { throw .configuration("model '\(entry.name)' (\(entry.source)): \(problem)") }
        if let url = entry.effectiveBaseURL, let problem = EndpointURL.problem(url) {
            let variable = entry.source == "environment" ? (entry.provider == .openai ? "OPENAI_BASE_URL " : "ANTHROPIC_BASE_URL ") : ""
            throw .configuration("model '\(entry.name)' (\(entry.source)): \(variable)\(problem)")
        }
        switch entry.provider {
        case .scripted:
            guard let path = entry.script else { throw .configuration("model '\(entry.name)' has no script") }
            return try ScriptedModel(path: ScriptedModel.scriptPath(path, scenario: scenario))
        case .local:
            guard let installation else {
                throw .localServer("the local model is not installed: run `make setup` in the interrogate folder, or set INTERROGATE_HOME to it")
            }
            // Several roles (suspect, interrogator, judges) may share one server: one model in memory.
            return LocalModel(server: localServer ?? LocalModelServer(installation: installation), parameters: entry.parameters, options: entry.options,
                              dialogue: entry.prompt == .dialogue ? speakers : nil)
        case .anthropic:
            guard let key, !key.isEmpty else { throw .configuration("model '\(entry.name)' needs an API key in $\(entry.apiKeyEnv ?? "ANTHROPIC_API_KEY")") }
            guard let model = entry.model else { throw .configuration("model '\(entry.name)' needs a model name (set ANTHROPIC_MODEL or model: in interrogate.yaml)") }
            return AnthropicModel(baseURL: entry.baseURL ?? AnthropicModel.defaultBaseURL, model: model, apiKey: key,
                                  parameters: entry.parameters, options: entry.options)
        case .openai:
            let base = entry.baseURL ?? ModelEntry.openAIDefaultBaseURL
            let model: String
            if let m = entry.model { model = m } else { model = try await firstModel(baseURL: base, apiKey: key, options: entry.options) }
            return OpenAICompatibleModel(baseURL: base, model: model, apiKey: key, parameters: entry.parameters, options: entry.options)
        }
    }

    /// Asks an OpenAI-compatible server which models it serves and takes the first.
    static func firstModel(baseURL: String, apiKey: String?, options: EndpointOptions) async throws(ModelError) -> String {
        let url = (baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL) + "/models"
        let request = HTTPClientRequestBuilder.get(url, bearer: apiKey)
        let shown = EndpointURL.redacted(url)
        let (status, text) = try await HTTPClients.fetch(request, url: shown, options: options)
        guard status == 200 else { throw .http(status: status, message: OpenAIErrorBody.message(text)) }
        guard case .array(let data)? = (try? JSONValue.parse(Data(text.utf8)))?["data"], let id = data.first?["id"]?.string else {
            throw .configuration("\(TerminalText.escaped(shown)) lists no models; name one with OPENAI_MODEL or model: in interrogate.yaml")
        }
        return id
    }
}

extension YAMLValidator {
    /// A whole number within `range`, reported at its place otherwise.
    mutating func boundedInt(_ map: Node.Mapping, _ key: String, _ range: ClosedRange<Int>) -> Int? {
        guard let x = optionalInt(map, key, minimum: range.lowerBound) else { return nil }
        guard x <= range.upperBound else { report(map[key], "\(key) must be at most \(range.upperBound)"); return nil }
        return x
    }
}
