import Foundation

/// Builds the record of one model reply from its stream of events: the text as it grew,
/// reasoning kept apart, timing, usage, and how it ended. A reply that was cancelled or
/// failed keeps the text that had arrived.
public struct ReplyRecorder: Sendable, Equatable {
    public private(set) var text = ""
    public private(set) var reasoning = ""
    public private(set) var modelReported: String?
    public private(set) var usage: MessageEvent.Usage?
    public private(set) var logprobs: [TokenLogprob] = []
    public private(set) var finishReason: String?
    /// How many pieces the text arrived in; more than one means it really streamed.
    public private(set) var textDeltas = 0
    public private(set) var retries = 0
    public private(set) var status: MessageEvent.Status?
    public private(set) var error: ModelError?
    public private(set) var firstTokenMs: Double?
    public private(set) var totalMs: Double?
    private let started: ContinuousClock.Instant

    public init(startedAt: ContinuousClock.Instant = .now) { started = startedAt }

    public var isFinished: Bool { status != nil }

    public mutating func apply(_ event: ChatEvent, at now: ContinuousClock.Instant = .now) {
        guard status == nil else { return }
        switch event {
        case .model(let m): modelReported = m
        case .text(let t):
            if firstTokenMs == nil { firstTokenMs = Self.ms(now - started) }
            text += t
            textDeltas += 1
        case .reasoning(let r):
            if firstTokenMs == nil { firstTokenMs = Self.ms(now - started) }
            reasoning += r
        case .logprobs(let l): logprobs += l
        case let .usage(p, c): usage = .init(promptTokens: p, completionTokens: c)
        case .retrying: retries += 1
        case .finished(let reason):
            finishReason = reason
            end(.complete, at: now)
        case .failed(let e):
            error = e
            end(.error, at: now)
        }
    }

    /// The interrogator stopped the reply (Esc).
    public mutating func cancel(at now: ContinuousClock.Instant = .now) {
        guard status == nil else { return }
        end(.cancelled, at: now)
    }

    private mutating func end(_ s: MessageEvent.Status, at now: ContinuousClock.Instant) {
        status = s
        totalMs = Self.ms(now - started)
    }

    /// The transcript event for this reply. A stream that ended without a final event
    /// counts as incomplete.
    public func message(index: Int) -> MessageEvent {
        MessageEvent(index: index, role: .model, text: text, status: status ?? .error,
                     reasoning: reasoning.isEmpty ? nil : reasoning, finishReason: finishReason,
                     error: status == nil ? ModelError.incomplete.description : error?.description,
                     modelReported: modelReported, firstTokenMs: firstTokenMs, totalMs: totalMs, usage: usage)
    }

    /// Reads a whole stream (for commands and tests; the TUI feeds events one by one).
    public static func collect(_ stream: AsyncStream<ChatEvent>, onEvent: (ChatEvent) -> Void = { _ in }) async -> ReplyRecorder {
        var recorder = ReplyRecorder()
        for await event in stream {
            onEvent(event)
            recorder.apply(event)
        }
        if !recorder.isFinished { recorder.cancel() }
        return recorder
    }

    private static func ms(_ d: Duration) -> Double {
        let (s, atto) = d.components
        return (Double(s) * 1000 + Double(atto) / 1e15).rounded(toPlaces: 1)
    }
}

extension Double {
    func rounded(toPlaces n: Int) -> Double {
        let f = Foundation.pow(10, Double(n))
        return (self * f).rounded() / f
    }
}
