import Dispatch
import Foundation
import Synchronization

/// Watches a streaming request and cancels it when the reply makes no progress for too long.
/// It knows which wait it is in, so the error says whether the reply never began or stalled
/// half-way. Callers decide what progress is: `SSEStreamer` touches it only for reply text,
/// so keep-alive comments do not keep a dead reply open.
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
            // Connecting and sending the request come before the response headers: the HTTP
            // client bounds the connection by the connect timeout, so once connect plus
            // first-byte time has passed the request has waited at least the first-byte
            // timeout for an answer. A server that accepts and never answers ends here.
            let limit: Double? = switch s.phase {
            case .connecting: options.connectTimeout + options.firstByteTimeout
            case .waitingFirstByte: options.firstByteTimeout
            case .streaming: options.idleTimeout
            case .idle: nil
            }
            guard let limit, waited > .milliseconds(EndpointOptions.milliseconds(limit)) else { return false }
            s.fired = s.phase == .streaming ? .idleTimeout(seconds: options.idleTimeout) : .firstByteTimeout(seconds: options.firstByteTimeout)
            return true
        }
    }
}
