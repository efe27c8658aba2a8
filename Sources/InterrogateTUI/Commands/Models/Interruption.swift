import Dispatch
import Foundation

/// Ctrl-C (SIGINT) or SIGTERM during unattended model work cancels it: the work in flight
/// stops, every event already written stays, and the command says what is left. A second
/// Ctrl-C ends the process at once (what was written is whole: each event is one write).
final class Interruption: @unchecked Sendable {
    // @unchecked: `sources` is set once in init; `interrupted` only under the lock.
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var count = 0

    init(cancel: @escaping @Sendable () -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let n = self.lock.withLock { self.count += 1; return self.count }
                if n > 1 { Foundation.exit(130) }
                FileHandle.standardError.write(Data("\rstopping: the replies in flight are dropped, everything saved stays (Ctrl-C again to quit at once)\u{1B}[K\n".utf8))
                cancel()
            }
            source.resume()
            sources.append(source)
        }
    }

    var wasInterrupted: Bool { lock.withLock { count > 0 } }

    /// Gives the signals back to their default action.
    func end() {
        for s in sources { s.cancel() }
        for sig in [SIGINT, SIGTERM] { signal(sig, SIG_DFL) }
    }
}

/// Runs `work` on each item with at most `limit` at once, handing each result to `done` in
/// the caller's task (so progress lines and tallies are touched from one place only).
func forEach<Item: Sendable, Result: Sendable>(_ items: [Item], limit: Int, _ work: @escaping @Sendable (Item) async -> Result,
                                               done: (Result) -> Void) async {
    await withTaskGroup(of: Result.self) { group in
        var next = 0
        for _ in 0..<min(max(1, limit), items.count) {
            let item = items[next]
            next += 1
            group.addTask { await work(item) }
        }
        while let result = await group.next() {
            done(result)
            if next < items.count, !Task.isCancelled {
                let item = items[next]
                next += 1
                group.addTask { await work(item) }
            }
        }
    }
}
