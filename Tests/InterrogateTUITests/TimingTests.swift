import Foundation
import Testing
@testable import InterrogateTUI
@testable import Sessions

/// Reply times come from the runtime, in the actions: `update` reads no clock, so a reply's
/// first-token and total times are neither stretched by the question's fsync nor by the
/// screen's poll interval.
@Suite("Reply timing (update)")
struct TimingTests {
    func send(_ s: inout AppState, _ actions: Action...) -> [Effect] { actions.flatMap { Update.update(&s, $0) } }

    func asked(_ question: String = "Code?") throws -> AppState {
        var s = try UpdateTests.state()
        for c in question { _ = Update.update(&s, .key(.char(c))) }
        _ = Update.update(&s, .key(.enter))
        return s
    }

    @Test("first-token and total times are the differences between the instants the actions carried")
    func fromActions() throws {
        var s = try asked()
        let sent = ContinuousClock.now + .seconds(3600) // any instant: update must not compare it with its own clock
        _ = send(&s, .streamStarted(streamId: 1, at: sent))
        _ = send(&s, .model(streamId: 1, .reasoning("hm"), at: sent + .milliseconds(250)))
        _ = send(&s, .model(streamId: 1, .text("No."), at: sent + .milliseconds(400)))
        let effects = send(&s, .model(streamId: 1, .finished(reason: "stop"), at: sent + .microseconds(1_234_500)))
        guard case .append(.message(let m))? = effects.first else { Issue.record("no reply recorded: \(effects)"); return }
        #expect(m.firstTokenMs == 250)
        #expect(m.totalMs == 1234.5)
    }

    @Test("the same actions give the same record however long update takes to see them")
    func deterministic() throws {
        func run() throws -> MessageEvent? {
            var s = try asked()
            let sent = ContinuousClock.Instant.now
            _ = send(&s, .streamStarted(streamId: 1, at: sent))
            usleep(30_000) // the loop's poll interval, which must not count
            _ = send(&s, .model(streamId: 1, .text("No."), at: sent + .milliseconds(5)))
            let effects = send(&s, .model(streamId: 1, .finished(reason: "stop"), at: sent + .milliseconds(9)))
            if case .append(.message(let m))? = effects.first { return m }
            return nil
        }
        let a = try run(), b = try run()
        #expect(a != nil && a == b)
        #expect(a?.firstTokenMs == 5 && a?.totalMs == 9)
    }

    @Test("a stopped reply's total time ends when the runtime stopped it")
    func stopped() throws {
        var s = try asked()
        let sent = ContinuousClock.now
        _ = send(&s, .streamStarted(streamId: 1, at: sent), .model(streamId: 1, .text("Well, "), at: sent + .milliseconds(100)))
        #expect(send(&s, .key(.escape)) == [.cancelStream(id: 1)])
        let effects = send(&s, .streamStopped(streamId: 1, at: sent + .milliseconds(700)))
        guard case .append(.message(let m))? = effects.first else { Issue.record("no reply recorded: \(effects)"); return }
        #expect(m.status == .cancelled && m.text == "Well, " && m.firstTokenMs == 100 && m.totalMs == 700)
    }

    @Test("a start reported for a stream that is no longer current changes nothing")
    func staleStart() throws {
        var s = try asked()
        let before = s
        #expect(send(&s, .streamStarted(streamId: 7, at: .now), .streamStopped(streamId: 7, at: .now)).isEmpty)
        #expect(s == before)
    }
}
