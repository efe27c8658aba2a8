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

    init(model: (any ChatModel)?, transcript: TranscriptFile) {
        self.model = model
        self.transcript = transcript
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
                runtime.dispatch(.saveFailed(error.description))
            }
        case let .startStream(id, request):
            guard let model, isCurrentStream(id) else { return }
            // The clock is read here, as the request goes out, and each event's as it
            // arrives; update only subtracts them.
            runtime.dispatch(.streamStarted(streamId: id, at: .now))
            streams[id] = Task { [weak runtime] in
                for await event in model.stream(request) { runtime?.post(.model(streamId: id, event, at: .now)) }
            }
        case .cancelStream(let id):
            streams.removeValue(forKey: id)?.cancel()
            runtime.dispatch(.streamStopped(streamId: id, at: .now))
        case .prepareModel:
            guard let model else { return }
            Task { [weak runtime] in
                do {
                    try await model.prepare()
                    runtime?.post(.modelReady(model.description))
                } catch {
                    runtime?.post(.modelFailed(String(describing: error)))
                }
            }
        case .quit:
            break // the state says it is done
        }
    }

    /// Stops every stream still running (the screen is closed).
    func stopAll() {
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
