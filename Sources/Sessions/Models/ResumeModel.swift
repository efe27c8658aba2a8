import Foundation

/// Which model continues a transcript on `run --resume`.
///
/// A transcript may have come from someone else, so what it records never decides where an
/// API key is sent, nor which file the app reads: an OpenAI or Anthropic session continues
/// only through a model of the user's own configuration (built-ins, models.yaml,
/// interrogate.yaml) that points at the recorded address and serves the recorded model,
/// with that entry's key variable, timeouts, retries and size cap. The recorded model name
/// and parameters are kept, so the session goes on as it was recorded. When no entry of the
/// user's matches, resume refuses and says to name one with `--model`.
extension ModelCatalog {
    public func resumeEntry(for record: SessionHeader.ModelRecord, named name: String?) throws(ModelError) -> ModelEntry {
        if let name { return try entry(named: name) }
        let shown = TerminalText.escaped(record.provider)
        guard let provider = ModelEntry.Provider(rawValue: record.provider) else {
            throw .configuration("this session was recorded with an unknown provider \"\(shown)\"; resume it with --model NAME (see `interrogate models list`)")
        }
        switch provider {
        case .local:
            // The embedded model runs on a loopback port of its own; the recorded address is not used.
            var e = ModelEntry(name: "local", provider: .local, parameters: record.parameters, source: "transcript")
            if let mine = entries["local"], mine.provider == .local { e.options = mine.options }
            return e
        case .scripted:
            let path = try Self.resumableScript(record.baseUrl)
            return ModelEntry(name: "scripted:\(path)", provider: .scripted, script: path, source: "transcript")
        case .openai, .anthropic:
            guard let recorded = record.baseUrl.map(Self.trimmedURL) else {
                throw .configuration("this session records no address for its \(provider.rawValue) model; resume it with --model NAME (see `interrogate models list`)")
            }
            let matches = sorted.filter { e in
                e.provider == provider && Self.trimmedURL(e.effectiveBaseURL ?? "") == recorded && (e.model == nil || e.model == record.name)
            }
            // An entry naming the recorded model beats one that asks the server for its first.
            guard var e = matches.first(where: { $0.model == record.name }) ?? matches.first else {
                let url = TerminalText.escaped(EndpointURL.redacted(recorded))
                throw .configuration("""
                    this session was recorded with \(provider.rawValue) model "\(TerminalText.escaped(record.name))" at \(url), and none of your \
                    models (built-in, your models.yaml, ./interrogate.yaml) \
                    points there with that model. A transcript never chooses where your API key is sent: resume with \
                    --model NAME (see `interrogate models list`), or define a model with base_url \(url) in interrogate.yaml
                    """)
            }
            e.model = record.name
            e.parameters = record.parameters
            return e
        }
    }

    static func trimmedURL(_ url: String) -> String {
        var u = Substring(url)
        while u.hasSuffix("/") { u = u.dropLast() }
        return String(u)
    }

    /// The largest script file read (scripts are short lists of replies).
    static let maxScriptBytes = ScriptedModel.maxFileBytes

    /// The recorded script, if it is safe to read: a path to a regular file with a
    /// script's extension that reads as a script. Nothing of its content is shown otherwise.
    static func resumableScript(_ recorded: String?) throws(ModelError) -> String {
        let refuse = { (why: String) -> ModelError in
            .configuration("this session was recorded with the script \(TerminalText.escaped(recorded ?? "(none)")), which \(why); resume it with --model scripted:PATH or --model NAME")
        }
        // A relative path is read from the current folder, as it was recorded.
        guard let path = recorded, !path.isEmpty else { throw refuse("is not a path") }
        guard !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { throw refuse("is not a file name") }
        guard ["yaml", "yml", "json", "jsonl"].contains((path as NSString).pathExtension.lowercased()) else {
            throw refuse("is not a script file (.yaml, .yml, .json or .jsonl)")
        }
        guard ScriptedModel.isReadableScriptFile(path) else { throw refuse("is missing, not a regular file, or too large") }
        do { _ = try ScriptedModel.load(path: path) } catch { throw refuse("does not read as a script") }
        return path
    }
}

extension ModelEntry {
    /// Where requests go: the configured base URL, or the provider's public one.
    var effectiveBaseURL: String? {
        switch provider {
        case .openai: baseURL ?? ModelEntry.openAIDefaultBaseURL
        case .anthropic: baseURL ?? AnthropicModel.defaultBaseURL
        case .local, .scripted: nil
        }
    }

    static let openAIDefaultBaseURL = "https://api.openai.com/v1"
}
