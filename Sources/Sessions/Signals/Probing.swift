import Foundation

/// Asks the probe set after a reply, each question on its own fork of the conversation: the
/// system prompt, the conversation up to and including the reply, then the probe as the
/// interrogator's next turn. Nothing of it reaches the session file or the screen.
public struct ProbeRunner: Sendable {
    public var probeSet: ProbeSet
    /// The suspect with the probe parameters (`parameters(from:)`).
    public var model: any ChatModel
    public var systemPrompt: String
    /// What a failure may say in the file (in a study: a summary that does not name the model).
    public var errorText: (@Sendable (ModelError) -> String)?

    public init(set: ProbeSet, model: any ChatModel, systemPrompt: String) {
        self.probeSet = set
        self.model = model
        self.systemPrompt = systemPrompt
    }

    /// The probes of a suspect made from `entry`: the same entry with the probe parameters, on
    /// the same local server when there is one (one model in memory).
    public static func make(set: ProbeSet, suspect entry: ModelEntry, scenario: Scenario, systemPrompt: String,
                            localServer: LocalModelServer?) async throws(ModelError) -> ProbeRunner {
        var probeEntry = entry
        probeEntry.parameters = parameters(from: entry.parameters)
        let model = try await ModelFactory.make(probeEntry, scenario: scenario.id, speakers: scenario.speakers, localServer: localServer)
        return ProbeRunner(set: set, model: model, systemPrompt: systemPrompt)
    }

    /// The suspect's parameters for a probe: its sampling kept (seed, top_p) but greedy, a few
    /// tokens, and the top 10 alternatives, where "yes" and "no" are looked for.
    public static func parameters(from p: ModelParameters) -> ModelParameters {
        var q = p
        q.temperature = 0
        q.maxTokens = 4
        q.logprobs = true
        q.topLogprobs = 10
        q.stop = nil
        return q
    }

    /// Requests one reply costs with probes on.
    public var requestsPerReply: Int { probeSet.probes.count }

    /// The answers after the reply that `messages` ends with; nil when stopped before every
    /// question was answered (a stopped request is not a failed answer, and a part of the set
    /// is not the set).
    public func probe(after messages: [MessageEvent]) async -> ProbeRecord? {
        var answers: [ProbeRecord.ProbeAnswer] = []
        for p in probeSet.probes {
            if Task.isCancelled { return nil }
            let fork = messages + [MessageEvent(index: messages.count, role: .interrogator, text: probeSet.question(p))]
            let reply = await ReplyRecorder.collect(model.stream(Prompting.request(systemPrompt: systemPrompt, messages: fork)))
            if Task.isCancelled { return nil }
            answers.append(Self.answer(id: p.id, reply, errorText: errorText))
        }
        return ProbeRecord(messageIndex: messages.last?.index ?? 0, probeSet: probeSet.file, answers: answers,
                           recordedAt: TranscriptCoding.formatTimestamp(Date()))
    }

    static func answer(id: String, _ reply: ReplyRecorder, errorText: (@Sendable (ModelError) -> String)? = nil) -> ProbeRecord.ProbeAnswer {
        guard reply.status == .complete || !reply.text.isEmpty else {
            return .init(id: id, answer: .failed, text: reply.text, error: reply.error.map { errorText?($0) ?? $0.description } ?? "no reply")
        }
        let (yes, no) = yesNoLogprobs(reply.logprobs)
        return .init(id: id, answer: answer(reply.text), text: reply.text, logprobYes: yes, logprobNo: no)
    }

    /// Yes or no when the reply's first word is one of them (any case, after quotes, asterisks or
    /// other punctuation); anything else is `other`.
    public static func answer(_ text: String) -> ProbeRecord.Answer {
        let word = firstWord(text)
        return word == "yes" ? .yes : word == "no" ? .no : .other
    }

    static func firstWord(_ text: String) -> String {
        let letters = text.drop { !$0.isLetter }.prefix { $0.isLetter }
        return letters.lowercased()
    }

    /// ln P("yes") and ln P("no") at the first token that has letters, summed over the listed
    /// alternatives that spell the word ("Yes", " yes", "YES"); nil for a word not listed.
    static func yesNoLogprobs(_ tokens: [TokenLogprob]) -> (Double?, Double?) {
        guard let first = tokens.first(where: { $0.token.contains { $0.isLetter } }) else { return (nil, nil) }
        let alternatives = first.top.isEmpty ? [TokenLogprob.Alternative(token: first.token, logprob: first.logprob)] : first.top
        func total(_ word: String) -> Double? {
            // A value the server did not send (NaN) is not a probability of anything.
            let ps = alternatives.filter { $0.token.filter(\.isLetter).lowercased() == word && $0.logprob.isFinite }.map(\.logprob)
            guard !ps.isEmpty else { return nil }
            let top = ps.max()!
            return top + Foundation.log(ps.reduce(0) { $0 + Foundation.exp($1 - top) })
        }
        return (total("yes"), total("no"))
    }
}
