import Annotate
import Foundation
import Testing
import TestSupport
@testable import InterrogateTUI
@testable import Sessions

/// Screens as plain text (and a grid of role letters) compared with reviewed snapshots in
/// Snapshots/. Re-record with RECORD_SNAPSHOTS=1 and review the diff.
@Suite("Screen snapshots")
struct ScreenSnapshotTests {
    static let folder = TestSupport.packageRoot.appendingPathComponent("Tests/InterrogateTUITests/Snapshots")

    func assertSnapshot(_ screen: Screen, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let actual = screen.text + "\n--- roles ---\n" + screen.roles + "\n"
        let url = Self.folder.appendingPathComponent("\(name).txt")
        if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1" || !FileManager.default.fileExists(atPath: url.path) {
            try actual.write(to: url, atomically: true, encoding: .utf8)
            Issue.record("recorded snapshot \(name); review it and run again", sourceLocation: sourceLocation)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(actual == expected, "screen \(name) changed:\n\(screen.text)", sourceLocation: sourceLocation)
    }

    static func conversationState(width: Int, height: Int) throws -> AppState {
        var s = try UpdateTests.state(width: width, height: height)
        let steps: [(String, [ChatEvent], [Key])] = [
            ("Where were you on Thursday night?", [.text("At home, "), .text("all night.")], [.char("f"), .enter]),
            ("Why did the camera stop at 23:40?", [.text("Ask maintenance. 今日は 🔐 "), .text("Also: 4417?")], [.char("d"), .char("t"), .char("n"), .char("o"), .char("k"), .enter, .enter]),
            ("Tell me again.", [.text("\u{1B}[31mRED\u{1B}[0m \u{1B}]0;pwned\u{07} bell\u{07} and \r carriage")], []),
        ]
        for (i, (q, events, keys)) in steps.enumerated() {
            for c in q { _ = Update.update(&s, .key(.char(c))) }
            _ = Update.update(&s, .key(.enter))
            for e in events { _ = Update.update(&s, .model(streamId: i + 1, e, at: .now)) }
            _ = Update.update(&s, .model(streamId: i + 1, .finished(reason: "stop"), at: .now))
            for k in keys { _ = Update.update(&s, .key(k)) }
        }
        _ = Update.update(&s, .saved(seq: 12))
        s.pendingSaves = 0
        return s
    }

    @Test("a new session at 80x24: header, brief and secret, empty conversation, input")
    func empty80() throws {
        try assertSnapshot(InterrogationView.view(try UpdateTests.state()), "empty-80x24")
    }

    @Test("a new session at 160x48: the first hint points at the brief and secret on the right, not above")
    func empty160() throws {
        let screen = InterrogationView.view(try UpdateTests.state(width: 160, height: 48))
        try assertSnapshot(screen, "empty-160x48")
        #expect(screen.text.contains("shown on the right"))
        #expect(!screen.text.contains("above"))
    }

    @Test("with the brief and secret hidden (F2), the first hint says how to show them")
    func emptyHidden() throws {
        for (w, h) in [(80, 24), (160, 48)] {
            var s = try UpdateTests.state(width: w, height: h)
            _ = Update.update(&s, .key(.function(2)))
            let text = InterrogationView.view(s).text
            #expect(text.contains("F2 shows the brief and the secret") && !text.contains("above") && !text.contains("on the right"))
        }
    }

    @Test("a tagged conversation at 80x24, tagging the last reply; escape sequences shown inert")
    func conversation80() throws {
        try assertSnapshot(InterrogationView.view(try Self.conversationState(width: 80, height: 24)), "conversation-80x24")
    }

    @Test("the same at 160x48 with the side panel, wide characters and emoji measured by width")
    func conversation160() throws {
        try assertSnapshot(InterrogationView.view(try Self.conversationState(width: 160, height: 48)), "conversation-160x48")
    }

    @Test("a reply streaming in, with a question half typed")
    func streaming() throws {
        var s = try UpdateTests.state()
        for c in "Code?" { _ = Update.update(&s, .key(.char(c))) }
        _ = Update.update(&s, .key(.enter))
        _ = Update.update(&s, .model(streamId: 1, .text("Let me think"), at: .now))
        for c in "And the camera" { _ = Update.update(&s, .key(.char(c))) }
        _ = Update.update(&s, .key(.newline))
        for c in "at 23:40?" { _ = Update.update(&s, .key(.char(c))) }
        let screen = InterrogationView.view(s)
        try assertSnapshot(screen, "streaming-80x24")
        #expect(screen.cursor?.row == 21 && screen.cursor?.column == 11)
    }

    @Test("help lists every key binding", arguments: [(80, 24), (160, 48)])
    func help(width: Int, height: Int) throws {
        var s = try UpdateTests.state(width: width, height: height)
        _ = Update.update(&s, .key(.function(1)))
        let screen = InterrogationView.view(s)
        try assertSnapshot(screen, "help-\(width)x\(height)")
        for b in KeyBindings.all where b.mode != .reviewing { #expect(screen.text.contains(b.keys), "\(b.keys) missing from help") }
    }

    @Test("a reviewer's help lists the reviewing keys instead of the asking ones")
    func reviewHelp() throws {
        var s = try ReviewFlowTests.reviewState()
        s.mode = .compose
        _ = Update.update(&s, .key(.char("?")))
        let screen = InterrogationView.view(s)
        for b in KeyBindings.all where b.mode != .compose { #expect(screen.text.contains(b.keys), "\(b.keys) missing from help") }
        #expect(!screen.text.contains("send the question"))
    }

    @Test("quitting with untagged replies asks first")
    func confirmQuit() throws {
        var s = try UpdateTests.state()
        for c in "Code?" { _ = Update.update(&s, .key(.char(c))) }
        _ = Update.update(&s, .key(.enter))
        _ = Update.update(&s, .model(streamId: 1, .text("No."), at: .now))
        _ = Update.update(&s, .model(streamId: 1, .finished(reason: "stop"), at: .now))
        _ = Update.update(&s, .key(.escape))
        _ = Update.update(&s, .key(.ctrl("q")))
        try assertSnapshot(InterrogationView.view(s), "confirm-quit-80x24")
    }

    @Test("below 80x24 a clear too-small screen", arguments: [(79, 24), (80, 23), (30, 5), (1, 1), (0, 0)])
    func tooSmall(width: Int, height: Int) throws {
        let screen = InterrogationView.view(try UpdateTests.state(width: width, height: height))
        #expect(screen.width == width && screen.height == height)
        if width >= 30 && height >= 3 { #expect(screen.text.contains("too small")) }
        if width == 79 { try assertSnapshot(screen, "too-small-79x24") }
    }

    @Test("no escape or control character ever reaches a cell")
    func inert() throws {
        let screen = InterrogationView.view(try Self.conversationState(width: 80, height: 24))
        for r in 0..<screen.height {
            for c in 0..<screen.width {
                #expect(!screen[r, c].text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
            }
        }
    }

    @Test("a wide character never hangs over the right edge")
    func wideAtEdge() {
        var screen = Screen(width: 5, height: 1)
        screen.put("ab今日", row: 0, column: 0, role: .text)
        #expect(screen.text == "ab今")
        #expect(screen[0, 3].text == "")
    }

    @Test("a blind review at 80x24 and 160x48: the revealed turns, the tag bar, the progress line", arguments: [(80, 24), (160, 48)])
    func review(width: Int, height: Int) throws {
        var s = try ReviewFlowTests.reviewState()
        s.width = width
        s.height = height
        _ = Update.update(&s, .key(.char("f")))
        _ = Update.update(&s, .key(.enter))
        _ = Update.update(&s, .saved(seq: 2))
        try assertSnapshot(InterrogationView.view(s), "review-\(width)x\(height)")
    }

    @Test("adjudication at 80x24 and 160x48: raters side by side, disputed first, the decision bar", arguments: [(80, 24), (160, 48)])
    func adjudication(width: Int, height: Int) throws {
        var s = try ReviewFlowTests.adjudication()
        s.width = width
        s.height = height
        // The leak vote is tied (alice yes, bob no): pre-set as a leak, as the scores count it.
        try assertSnapshot(AdjudicationView.view(s), "adjudicate-\(width)x\(height)")
    }
}
