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

    /// Returns when a limit is passed (having recorded why) or when cancelled.
    func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
            let expired = state.withLock { s -> Bool in
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
            if expired { return }
        }
    }
}
