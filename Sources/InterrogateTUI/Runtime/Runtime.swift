import Foundation
import Sessions
import Synchronization

/// The loop: draw the state, read a key, hand every action to `update`, run the effects it
/// returns. Curses is driven from the thread that calls `run` alone; model streams run as
/// tasks and come back as actions through a locked queue.
final class Runtime: @unchecked Sendable {
    // @unchecked: `streams` and `state` are touched only on the loop thread; `inbox` is locked.
    private let inbox = Mutex<[Action]>([])
    private var streams: [Int: Task<Void, Never>] = [:]
    private(set) var state: AppState
    /// None in a review, which replays a recorded session.
    private let model: (any ChatModel)?
    private let transcript: TranscriptFile
    private let stop: StopFlag

    init(state: AppState, model: (any ChatModel)?, transcript: TranscriptFile, stop: StopFlag) {
        self.state = state
        self.model = model
        self.transcript = transcript
        self.stop = stop
    }

    func post(_ action: Action) { inbox.withLock { $0.append(action) } }

    /// Runs until the session is quit; returns the final state.
    func run(on terminal: CursesTerminal, initialEffects: [Effect]) -> AppState {
        let (w, h) = terminal.size
        dispatch(.resize(width: w, height: h))
        perform(initialEffects)
        while !state.quitting {
            terminal.draw(InterrogationView.view(state))
            if stop.isSet {
                dispatch(.terminate)
                continue
            }
            switch terminal.read() {
            case .key(let k)?: dispatch(.key(k))
            case let .resize(w, h)?: dispatch(.resize(width: w, height: h))
            case nil: break
            }
            for action in inbox.withLock({ q -> [Action] in defer { q.removeAll() }; return q }) { dispatch(action) }
        }
        for task in streams.values { task.cancel() }
        return state
    }

    private func dispatch(_ action: Action) {
        perform(Update.update(&state, action))
    }

    private func perform(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .append(let body):
                // Written and fsync'd before the screen may say saved.
                do {
                    let event = try transcript.append(body)
                    dispatch(.saved(seq: event.seq))
                } catch {
                    dispatch(.saveFailed(error.description))
                }
            case let .startStream(id, request):
                // Not when update has given the reply up meanwhile (a save failed before it).
                guard let model, state.streaming?.id == id else { continue }
                // The clock is read here, as the request goes out, and each event's as it
                // arrives; update only subtracts them.
                dispatch(.streamStarted(streamId: id, at: .now))
                streams[id] = Task { [weak self] in
                    for await event in model.stream(request) { self?.post(.model(streamId: id, event, at: .now)) }
                }
            case .cancelStream(let id):
                streams.removeValue(forKey: id)?.cancel()
                dispatch(.streamStopped(streamId: id, at: .now))
            case .prepareModel:
                guard let model else { continue }
                Task { [weak self] in
                    do {
                        try await model.prepare()
                        self?.post(.modelReady(model.description))
                    } catch {
                        self?.post(.modelFailed(String(describing: error)))
                    }
                }
            case .quit:
                break // `state.quitting` ends the loop
            }
        }
    }
}

/// Set from a signal handler (SIGTERM, SIGHUP) to ask the loop to close the session.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}
