import Foundation
import Sessions
import Synchronization

/// The work of the screens that write a transcript (interrogation, blind review,
/// adjudication): append events (written and fsync'd before the screen may say saved), stream
/// model replies as tasks, start the model. Results come back as actions.
final class SessionEffects: @unchecked Sendable {
    // @unchecked: `streams` is touched on the loop thread only.
    private var streams: [Int: Task<Void, Never>] = [:]
    /// None in a review or an adjudication, which replay a recorded session.
    private let model: (any ChatModel)?
    private let transcript: TranscriptFile
    /// Sent in front of every request; the screen's state never holds it (it differs by condition).
    private let systemPrompt: String
    private let blind: Blind?
    private let signals: SignalRecorder?
    /// The probes after the last reply: the next reply's request waits for them, so that the
    /// two never share the server and the reply's times count from its own request.
    private var probing: Task<Void, Never>?
    /// Probe sets asked and not yet done (the task stays set after it ends).
    private let probesRunning = Atomic<Int>(0)
    /// An append failed: from then on nothing more is written for this session, signals included.
    private var appendFailed = false

    /// A study session: the screen learns only the alias. A model's failure text names the
    /// model, its address or its provider, so the full text goes to the study's log and the
    /// screen (and transcript) get a summary.
    struct Blind: Sendable {
        var alias: String
        var log: String
    }

    init(model: (any ChatModel)?, transcript: TranscriptFile, systemPrompt: String = "", blind: Blind? = nil, signals: SignalRecorder? = nil) {
        self.signals = signals
        self.model = model
        self.transcript = transcript
        self.systemPrompt = systemPrompt
        self.blind = blind
    }

    /// Does one effect for a screen whose messages are `Action`s; `isCurrentStream` tells
    /// whether update still waits for a stream (it gives one up when a save failed meanwhile).
    func perform<P: Program>(_ effect: Effect, in runtime: ScreenRuntime<P>, isCurrentStream: (Int) -> Bool) where P.Message == Action {
        switch effect {
        case .append(let body):
            do {
                let event = try transcript.append(body)
                runtime.dispatch(.saved(seq: event.seq))
            } catch {
                appendFailed = true
                runtime.dispatch(.saveFailed(error.description))
            }
        case let .startStream(id, request):
            guard let model, isCurrentStream(id) else { return }
            let full = Prompting.withSystemPrompt(systemPrompt, request)
            let blind = blind
            let before = probing
            // The clock is read here, as the request goes out, and each event's as it
            // arrives; update only subtracts them.
            if before == nil { runtime.dispatch(.streamStarted(streamId: id, at: .now)) }
            streams[id] = Task { [weak runtime] in
                if let before {
                    await before.value
                    runtime?.post(.streamStarted(streamId: id, at: .now))
                }
                for await event in model.stream(full) {
                    runtime?.post(.model(streamId: id, blind.map { Self.blinded(event, $0) } ?? event, at: .now))
                }
            }
        case .cancelStream(let id):
            streams.removeValue(forKey: id)?.cancel()
            runtime.dispatch(.streamStopped(streamId: id, at: .now))
        case .prepareModel:
            guard let model else { return }
            let probeModel = signals?.probes?.model
            Task { [weak runtime] in
                do {
                    try await model.prepare()
                    try await probeModel?.prepare()
                    runtime?.post(.modelReady(blind?.alias ?? AppState.Info.shown(model.description)))
                } catch {
                    if let blind {
                        Self.log(String(describing: error), to: blind.log)
                        runtime?.post(.modelFailed("\(blind.alias) could not be started; the details (which name the model) are in \(blind.log)"))
                    } else {
                        runtime?.post(.modelFailed(String(describing: error)))
                    }
                }
            }
        case let .recordSignals(messages, logprobs):
            // Never for a reply the session file may not hold.
            guard let signals, let reply = messages.last, !appendFailed else { return }
            // The log-probabilities are saved now, on this thread, as the reply itself was: a quit
            // right after the reply keeps them. The probes take seconds and run apart.
            do { try signals.recordLogprobs(logprobs, reply: reply) } catch {
                runtime.dispatch(.signalsNotSaved("\(SignalSidecar.logprobsFileName): \(error.description)"))
            }
            guard signals.probes != nil, !reply.saidNothing else { return }
            let previous = probing
            probesRunning.add(1, ordering: .relaxed)
            probing = Task { [weak runtime, self] in
                defer { probesRunning.subtract(1, ordering: .relaxed) }
                await previous?.value
                do throws(TranscriptError) {
                    let record = try await signals.recordProbes(after: messages)
                    runtime?.post(.probed(messageIndex: reply.index, saved: record != nil))
                } catch {
                    runtime?.post(.signalsNotSaved("\(SignalSidecar.probesFileName): \(error.description)"))
                }
            }
        case .quit:
            break // the state says it is done
        }
    }

    /// What a blind screen may see of a model event: failures and retry reasons are logged in
    /// full and replaced by a summary that names neither the model nor its address.
    static func blinded(_ event: ChatEvent, _ blind: Blind) -> ChatEvent {
        switch event {
        case .failed(let e):
            // Recorded in the transcript too, where a blind reviewer reads it: no alias either.
            return .failed(.server(message: blindFailure(e, log: blind.log)))
        case let .retrying(attempt, after, _):
            return .retrying(attempt: attempt, afterSeconds: after, reason: "the server was busy or failing")
        default:
            return event
        }
    }

    /// A model failure as a study may record it: the full text (which may name the model or
    /// its address) logged, a summary returned for the screen and the transcript.
    static func blindFailure(_ e: ModelError, log path: String) -> String {
        log(e.description, to: path)
        return "the suspect failed (\(e.blindSummary)); the details are in \(path)"
    }

    static func log(_ text: String, to path: String) {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // O_APPEND: several people's processes may log to the same file at once.
        let bytes = Array("\(TranscriptCoding.formatTimestamp(Date())) \(text)\n".utf8)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// Whether probes are still being asked after a reply.
    var isProbing: Bool { probesRunning.load(ordering: .relaxed) > 0 }

    /// Waits for the probes after the last reply (the session is closing): stopped, they would
    /// leave the last replies, where secrets tend to come out, without probes. `giveUp` is asked
    /// every fifth of a second (a key, a signal); when it says so, the probes are stopped and
    /// that reply is left without them. Blocks the calling thread, which the probes never need.
    func finishProbes(giveUp: () -> Bool) {
        guard let probing else { return }
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await probing.value
            done.signal()
        }
        while done.wait(timeout: .now() + .milliseconds(200)) == .timedOut {
            if giveUp() {
                probing.cancel()
                done.wait()
                return
            }
        }
    }

    /// Stops every stream still running (the screen is closed).
    func stopAll() {
        probing?.cancel()
        for task in streams.values { task.cancel() }
        streams.removeAll()
    }
}

/// Set from a signal handler (SIGTERM, SIGHUP) to ask the loop to close the session.
/// Setting it wakes the screen loop that sleeps waiting for keys.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    private let wakeup = Mutex<Wakeup?>(nil)
    func set() {
        flag.store(true, ordering: .relaxed)
        wakeup.withLock { $0?.signal() }
    }
    var isSet: Bool { flag.load(ordering: .relaxed) }
    /// The loop to wake when set (nil: none).
    func wakes(_ w: Wakeup?) { wakeup.withLock { $0 = w } }
}
