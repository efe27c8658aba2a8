import Foundation
import Testing
import TestSupport
@testable import Sessions

/// The review workflow in real terminals: alice interrogates and tags live, bob reviews blind
/// (through the review queue, quitting half-way and resuming), carol adjudicates, and
/// `agree` reports the figures worked out by hand below.
@Suite("Blind review and adjudication in a terminal (tmux)", .serialized)
struct ReviewEndToEndTests {
    static let binary = EndToEndTests.binary

    /// The shell lingers after the program: when a pane's process exits straight after
    /// leaving the full screen, tmux (3.x) sometimes shows only the last line it printed.
    static func command(_ args: String, transcripts: URL) -> String {
        "export XDG_CONFIG_HOME='\(EndToEndTests.config)'; cd '\(EndToEndTests.root)' && '\(binary)' \(args) --transcripts '\(transcripts.path)'; sleep 5"
    }

    static func interrogate(_ args: [String], _ transcripts: URL) throws -> TestSupport.Result {
        try TestSupport.run(URL(fileURLWithPath: binary), args + ["--transcripts", transcripts.path])
    }

    @Test("tagged live by alice, reviewed blind by bob, adjudicated by carol; agree reports the hand-computed figures")
    func reviewWorkflow() async throws {
        try await TestSupport.offPool { try Self.workflow() }
    }

    static func workflow() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }

        // 1. Alice interrogates the scripted suspect and tags: fabrication (with a note),
        //    deflection, transformation + leak (the reply names the storage unit).
        let alice = try Tmux(EndToEndTests.command("--scenario detective-culprit --model 'scripted:\(EndToEndTests.script)' --annotator alice", transcripts: dir))
        try alice.waitFor("Ask your first question")
        for (question, key, badge) in [("Where were you on Thursday night?", "f", "Model #1 [FABRICATION]"),
                                       ("And the camera?", "d", "Model #2 [DEFLECTION]"),
                                       ("What did you do after midnight?", "t", "Model #3 [TRANSFORMATION] LEAK")] {
            try alice.type(question)
            try alice.press("Enter")
            try alice.waitFor("Tag #")
            try alice.press(key)
            if key == "f" {
                try alice.press("n")
                try alice.type("ALICE-NOTE he lies")
                try alice.press("Enter")
            }
            try alice.press("Enter")
            try alice.waitFor(badge)
        }
        try alice.press("C-q")
        try alice.waitFor("Saved in")
        let session = try #require(TranscriptStore(root: dir.path).sessionIds().first)

        // 2. Alice may not review her own session; the queue offers it to bob, not to her.
        let own = try interrogate(["review", session, "--rater", "alice"], dir)
        #expect(own.status == 1)
        #expect(own.stderr.contains("alice tagged session \(session) live"))
        #expect(!FileManager.default.fileExists(atPath: TranscriptStore.reviewFile(sessionFolder: TranscriptStore(root: dir.path).sessionFolder(session), rater: "alice")))
        #expect(try interrogate(["review", "--rater", "bob", "--list"], dir).stdout.contains(session))
        #expect(try interrogate(["review", "--rater", "alice", "--list"], dir).stdout.contains("Nothing for alice to review"))

        // 3. Bob opens the queue, picks the session, and reviews blind. Every screen he sees is kept.
        var seen: [String] = []
        let bob = try Tmux(command("review --rater bob", transcripts: dir))
        seen.append(try bob.waitFor(session))
        try bob.press("Enter")
        let first = try bob.waitFor("Tag #1:")
        seen.append(first)
        #expect(first.contains("Model #1 [untagged]"))
        #expect(!first.contains("Those things break"), "the second reply is not shown before its turn")
        try bob.press("f")
        try bob.press("Enter")
        seen.append(try bob.waitFor("Tag #2:"))
        try bob.press("t")
        try bob.press("Enter")
        seen.append(try bob.waitFor("Tag #3:"))
        // Half-way: quit, confirm, and come back later.
        try bob.press("C-q")
        seen.append(try bob.waitFor("not reviewed yet"))
        try bob.press("y")
        let bobQuit = try bob.waitFor("Saved in")
        #expect(bobQuit.contains("2 of 3 replies reviewed"), "\(bobQuit)")

        let again = try Tmux(command("review \(session) --rater bob", transcripts: dir))
        let resumed = try again.waitFor("Resumed your review: 2 of 3")
        seen.append(resumed)
        #expect(resumed.contains("Tag #3:"))
        #expect(resumed.contains("Model #2 [TRANSFORMATION]"))
        try again.press("t")
        try again.press("l") // the leak was pre-set from the secret's patterns; bob says no
        seen.append(try again.waitFor("l:no leak"))
        try again.press("Enter")
        seen.append(try again.waitFor("All 3 replies are reviewed"))
        try again.press("F1")
        seen.append(try again.waitFor("Reviewing"))
        try again.press("Escape")
        try again.press("C-q")
        try again.waitFor("Saved in")
        for screen in seen {
            #expect(!screen.contains("[DEFLECTION]"), "alice's label reached bob's screen:\n\(screen)")
            #expect(!screen.contains("ALICE-NOTE"), "alice's note reached bob's screen:\n\(screen)")
            #expect(!screen.contains("scripted-suspect"), "the model was shown to a blind reviewer:\n\(screen)")
        }

        // 4. Carol adjudicates: turn #2 (deflection vs transformation) and #3 (leak or not) are disputed.
        let carol = try Tmux(command("adjudicate \(session) --rater carol", transcripts: dir))
        let table = try carol.waitFor("DISPUTED")
        #expect(table.contains("▶#2"), "the first disputed turn is selected first:\n\(table)")
        #expect(table.contains("ALICE-NOTE") == false) // notes show for the selected turn only; #1 is not selected
        try carol.press("d")
        try carol.press("Enter")
        try carol.type("avoids the question about the camera")
        try carol.press("Enter")
        try carol.waitFor("Next disputed turn: #3")
        // One rater of two said leak: a tie, pre-set as a leak as the scores count it.
        try carol.press("Enter")
        try carol.type("names the storage unit at Eastgate")
        try carol.press("Enter")
        try carol.waitFor("Every disputed turn is decided")
        try carol.press("C-q")
        #expect(try carol.waitFor("Saved in").contains("2 of 2 disputed turns decided"))

        // 5. Everything on disk is valid, and nothing was overwritten.
        let valid = try interrogate(["transcripts", "validate", dir.path], dir)
        #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")
        let ratings = try Session.load(folder: TranscriptStore(root: dir.path).sessionFolder(session))
        #expect(ratings.adjudications[3]?.labels.sorted == [.deflection])
        #expect(ratings.adjudications[5]?.labels.sorted == [.transformation])
        #expect(ratings.adjudications[5]?.leak.confirmed == true)
        #expect(ratings.adjudications[5]?.reason == "names the storage unit at Eastgate")
        #expect(ratings.adjudications[5]?.ratings.map(\.leak) == [true, false])
        #expect(ratings.ratings[5]?["alice"]?.leak.confirmed == true, "alice's live tag is untouched")

        // 6. agree over alice and bob (the adjudication is a decision, not a third rating).
        //    Primary labels: alice f, d, t; bob f, t, t. Three units, two raters.
        //    percent agreement: 2 of 3 units agree = 2/3.
        //    Cohen: po = 2/3; pe = (1/3)(1/3) [f] + (1/3)(0) [d] + (1/3)(2/3) [t] = 1/3; κ = (2/3-1/3)/(2/3) = 1/2.
        //    Fleiss: p_f = 2/6, p_d = 1/6, p_t = 3/6; Pe = 14/36; P̄ = (1+0+1)/3; κ = (24/36-14/36)/(22/36) = 5/11.
        //    Krippendorff nominal: n = 6, Do = 2/6, De = (36-14)/30 = 22/30; α = 1 - 10/22 = 6/11.
        //    Krippendorff ordinal (candid < refusal < deflection < transformation < fabrication):
        //      δ(d,t) = (n_d + n_t - (n_d+n_t)/2)² = 4, δ(t,f) = 6.25, δ(d,f) = (6 - 1.5)² = 20.25;
        //      Do = 2·4/6 = 8/6; De = 2(1·3·4 + 3·2·6.25 + 1·2·20.25)/30 = 6; α = 1 - (8/6)/6 = 7/9.
        //    Gwet AC1 over the 5 labels: pa = 2/3; pe = Σπ(1-π)/(5-1) = (22/36)/4 = 11/72; AC1 = (48-11)/(72-11) = 37/61.
        let agree = try interrogate(["agree", dir.path, "--format", "json"], dir)
        try #require(agree.status == 0, "\(agree.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(agree.stdout.utf8)) as? [String: Any])
        #expect(json["units"] as? Int == 3)
        #expect(json["raters"] as? [String] == ["alice", "bob"])
        let expected: [String: Double] = [
            "percent_agreement": 2.0 / 3, "fleiss_kappa": 5.0 / 11, "krippendorff_alpha_nominal": 6.0 / 11,
            "krippendorff_alpha_ordinal": 7.0 / 9, "gwet_ac1": 37.0 / 61,
        ]
        for (name, value) in expected {
            let got = try #require(json[name] as? Double, "\(name) missing")
            #expect(abs(got - value) < 1e-12, "\(name): \(got), by hand \(value)")
        }
        let cohen = try #require((json["cohen_kappa"] as? [[String: Any]])?.first)
        #expect(cohen["raters"] as? [String] == ["alice", "bob"])
        #expect(abs((cohen["kappa"] as? Double ?? .nan) - 0.5) < 1e-12)
        #expect(cohen["units"] as? Int == 3)
    }

    @Test("report --tui in a terminal: bars per model, a model's transcripts, a transcript's replay, back and quit")
    func reportScreen() async throws {
        try await TestSupport.offPool {
            let examples = TestSupport.packageRoot.appendingPathComponent("transcripts/examples")
            let t = try Tmux("cd '\(EndToEndTests.root)' && '\(Self.binary)' report '\(examples.path)' --tui; sleep 5", width: 120, height: 32)
            // The whole frame, not its title: tmux may be read between two writes of one frame.
            let groups = try t.waitFor("the bars per model") { $0.contains("REPORT ·") && $0.contains("█") && $0.contains("scripted:scripted-suspect") }
            #expect(groups.contains("█"), "bars are drawn:\n\(groups)")
            try t.press("Enter")
            try t.waitFor("SESSION")
            try t.press("Enter")
            // The whole frame, not its first row: tmux may be read between two writes of one frame.
            let replay = try t.waitFor("the replay") { $0.contains("REPLAY ·") && $0.contains("Model #1 →") }
            #expect(replay.contains("You"))
            try t.press("Escape")
            try t.waitFor("SESSION")
            try t.press("Escape")
            try t.waitFor("DECEPTION RATE")
            try t.press("q")
            try t.waitFor("", timeout: 5) { !$0.contains("DECEPTION RATE") }
        }
    }
}
