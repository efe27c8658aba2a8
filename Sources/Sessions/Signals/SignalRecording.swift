import Foundation

/// What a person asks a session to record besides its events (`run`/`auto` `--logprobs`,
/// `--probes`). A named model whose parameters ask for logprobs has them recorded too.
public struct SignalOptions: Sendable, Equatable {
    /// Ask the suspect for token log-probabilities (and this many alternatives per token).
    public var logprobs = false
    public static let defaultTopLogprobs = 5
    /// The probe set to ask after each reply; nil: no probes.
    public var probeSet: String?

    public init(logprobs: Bool = false, probeSet: String? = nil) {
        self.logprobs = logprobs
        self.probeSet = probeSet
    }

    /// The entry as the suspect is asked: with logprobs when chosen (its own top_logprobs kept,
    /// else the default). The transcript's header records the parameters as sent.
    public func apply(to entry: inout ModelEntry) {
        guard logprobs else { return }
        entry.parameters.logprobs = true
        if entry.parameters.topLogprobs == nil { entry.parameters.topLogprobs = Self.defaultTopLogprobs }
    }
}

/// Writes a session's sidecars as its replies come in: the reply's token log-probabilities
/// (when it came with them), then the probe answers on a fork, each line fsync'd.
public struct SignalRecorder: Sendable {
    public var folder: String
    public var topLogprobs: Int?
    public var probes: ProbeRunner?

    public init(folder: String, topLogprobs: Int?, probes: ProbeRunner?) {
        self.folder = folder
        self.topLogprobs = topLogprobs
        self.probes = probes
    }

    /// The recorder of a session of `suspect`: its logprobs are recorded with the number of
    /// alternatives its parameters asked for.
    public init(folder: String, suspect: ModelDescription, probes: ProbeRunner?) {
        let p = suspect.parameters
        self.init(folder: folder, topLogprobs: p.logprobs == true ? p.topLogprobs : nil, probes: probes)
    }

    /// Whether a reply would have anything recorded.
    public func records(_ logprobs: [TokenLogprob], reply: MessageEvent) -> Bool {
        !logprobs.isEmpty || (probes != nil && !reply.saidNothing)
    }

    /// Records what `reply` (the last of `messages`, already saved in the session) brought.
    /// Throws when a line could not be saved; the session file is never written here.
    @discardableResult
    public func record(_ logprobs: [TokenLogprob], messages: [MessageEvent]) async throws(TranscriptError) -> ProbeRecord? {
        guard let reply = messages.last, reply.role == .model else { return nil }
        try recordLogprobs(logprobs, reply: reply)
        return try await recordProbes(after: messages)
    }

    /// The reply's log-probabilities, when it came with any.
    public func recordLogprobs(_ logprobs: [TokenLogprob], reply: MessageEvent) throws(TranscriptError) {
        guard !logprobs.isEmpty else { return }
        try SignalSidecar.append(LogprobRecord(messageIndex: reply.index, topLogprobs: topLogprobs, logprobs: logprobs), folder: folder)
    }

    /// The probe answers after the reply `messages` ends with; nil when there are no probes, the
    /// reply said nothing, or the set was stopped midway (a part of the set is another detector).
    public func recordProbes(after messages: [MessageEvent]) async throws(TranscriptError) -> ProbeRecord? {
        guard let probes, let reply = messages.last, reply.role == .model, !reply.saidNothing else { return nil }
        guard let record = await probes.probe(after: messages), record.answers.count == probes.probeSet.probes.count else { return nil }
        try SignalSidecar.append(record, folder: folder)
        return record
    }
}
