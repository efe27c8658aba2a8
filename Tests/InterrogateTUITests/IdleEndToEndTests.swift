import Foundation
import Testing
import TestSupport
@testable import Sessions

/// The real app on a long session in a real terminal: while nothing happens it sleeps (a loop
/// that never sleeps is a fan and a flat battery), and what is typed shows at once. Speed is
/// measured in the benchmarks; here the figures are only printed.
@Suite("A long session in a terminal (tmux)", .serialized)
struct IdleEndToEndTests {
    /// CPU seconds (user + system) the process has used, from /proc.
    static func cpuSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name (which may hold spaces) in parentheses: state is the first.
        let fields = stat[stat.range(of: ")", options: .backwards)!.upperBound...].split(separator: " ")
        let ticks = Double(Int(fields[11])! + Int(fields[12])!)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test("a resumed 1,000-question session at 200x60 uses no CPU while idle, and typed text shows at once")
    func idleAndTyping() async throws {
        try await TestSupport.offPool { try Self.idleAndTypingBody() }
    }

    static func idleAndTypingBody() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let words = ["the", "vault", "code", "camera", "night", "guard", "nobody", "asked", "upstairs", "honestly", "今日は", "maybe"]
        let replies = (0..<1000).map { i in
            StudyFixture.Reply("Question \(i): " + (0..<12).map { words[($0 * 7 + i) % words.count] }.joined(separator: " ") + "?",
                               (0..<(20 + i % 60)).map { words[($0 * 5 + i) % words.count] }.joined(separator: " ") + ".",
                               ["alice": (labels: [.deflection], leak: false)])
        }
        try StudyFixture.session(in: dir, id: "long", replies: replies)
        let t = try Tmux(EndToEndTests.command("--resume long --model 'scripted:\(EndToEndTests.script)'", transcripts: dir, exec: true),
                         width: 200, height: 60)
        try t.waitFor("Resumed: 1000 question(s)", timeout: 60)
        try t.waitFor("the model is ready", timeout: 30) { !$0.contains("starting…") && $0.contains("saved ✓") }
        let pid = try t.panePID()

        // Idle: no key, no reply streaming.
        usleep(500_000)
        let before = try Self.cpuSeconds(pid)
        let start = Date()
        sleep(3)
        let used = try Self.cpuSeconds(pid) - before
        let wall = Date().timeIntervalSince(start)
        print("idle at 200x60 with 2,000 messages: \(String(format: "%.2f", used)) s of CPU in \(String(format: "%.1f", wall)) s (\(String(format: "%.1f", 100 * used / wall))% of a core)")
        #expect(used < 0.3, "the idle app used \(used) s of CPU in \(wall) s: it is not sleeping")

        // Typing: each key shows (the time from sending it to seeing it is printed, not judged;
        // it includes tmux's own round trips).
        var delays: [Double] = []
        var typed = ""
        // No spaces: tmux trims them from the end of a line.
        for c in "WhereWereYouOnThursday" {
            typed.append(c)
            let sent = Date()
            try t.type(String(c))
            var screen = try t.screen()
            while !screen.contains("› " + typed) && Date().timeIntervalSince(sent) < 10 { screen = try t.screen() }
            #expect(screen.contains("› " + typed))
            delays.append(Date().timeIntervalSince(sent) * 1000)
        }
        let sorted = delays.sorted()
        // What tmux alone takes to send a key and read the screen back, for comparison.
        var roundTrips: [Double] = []
        for _ in 0..<10 {
            let sent = Date()
            try t.tmux(["send-keys", "-t", t.session, ""])
            _ = try t.screen()
            roundTrips.append(Date().timeIntervalSince(sent) * 1000)
        }
        roundTrips.sort()
        print("key to screen under tmux: median \(String(format: "%.1f", sorted[sorted.count / 2])) ms, max \(String(format: "%.1f", sorted.last!)) ms; "
              + "tmux's own send-and-capture round trip: median \(String(format: "%.1f", roundTrips[roundTrips.count / 2])) ms")
        try t.press("C-q")
        try t.waitFor("Saved in")
    }
}
