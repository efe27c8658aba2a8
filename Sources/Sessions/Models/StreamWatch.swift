import Foundation
import Dispatch
import Foundation
import Synchronization

/// Watches a streaming request and cancels it when the server is silent for too long. It
/// knows which wait it is in, so the error says whether the first byte never came or the
/// reply stalled half-way.
final class StreamWatch: Sendable {
    enum Phase: Sendable { case connecting, waitingFirstByte, streaming, idle }

    private struct State {
        var phase: Phase = .idle
        var since = ContinuousClock.now
        var fired: ModelError?
    }
    private let state = Mutex(State())
    private let options: EndpointOptions

    init(options: EndpointOptions) { self.options = options }

    func enter(_ phase: Phase) { state.withLock { $0.phase = phase; $0.since = .now } }
    func touch() { state.withLock { $0.since = .now } }
    var fired: ModelError? { state.withLock { $0.fired } }

    // The timer is created, resumed and cancelled under `timerLock`.
    private let timerLock = NSLock()
    nonisolated(unsafe) private var timer: DispatchSourceTimer?

    /// Checks the limits every 50 ms on a Dispatch timer and calls `onExpiry` once when one
    /// is passed, having recorded which.
    func start(onExpiry: @escaping @Sendable () -> Void) {
        let t = DispatchSource.makeTimerSource(queue: .global())
        t.schedule(deadline: .now() + .milliseconds(50), repeating: .milliseconds(50))
        t.setEventHandler { [weak self] in
            guard let self, self.checkExpired() else { return }
            self.stop()
            onExpiry()
        }
        timerLock.withLock { timer = t }
        t.resume()
    }

    func stop() {
        timerLock.withLock { timer?.cancel(); timer = nil }
    }

    private func checkExpired() -> Bool {
        state.withLock { s -> Bool in
            guard s.fired == nil else { return false }
            let waited = ContinuousClock.now - s.since
            let limit: Double? = switch s.phase {
            case .waitingFirstByte: options.firstByteTimeout
            case .streaming: options.idleTimeout
            case .connecting, .idle: nil // connect has its own timeout in the HTTP client
            }
            guard let limit, waited > .milliseconds(Int64(limit * 1000)) else { return false }
            s.fired = s.phase == .waitingFirstByte ? .firstByteTimeout(seconds: limit) : .idleTimeout(seconds: limit)
            return true
        }
    }
}
