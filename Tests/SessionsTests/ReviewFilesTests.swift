import Annotate
import Foundation
import Testing
import TestSupport
@testable import Sessions

/// Reviewers' and adjudicators' files beside a session, and what is read back from them.
@Suite("Reviews and adjudications on disk")
struct ReviewFilesTests {
    static func leak(_ on: Bool) -> LeakDecision { LeakDecision(suggested: false, confirmed: on) }

    static func annotation(_ index: Int, _ rater: String, _ labels: [Label], leak: Bool = false, note: String? = nil) -> EventBody {
        .annotation(.init(messageIndex: index, rater: rater, annotation: .init(labels: LabelSet(labels), leak: Self.leak(leak), note: note)))
    }

    /// A session by alice with two model replies (messages 1 and 3), tagged live.
    static func session(_ store: TranscriptStore, id: String, annotator: String = "alice", tags: [EventBody]? = nil) throws {
        let file = try store.createSession(header: try TranscriptFixtures.header(sessionId: id).with(annotator: annotator))
        try file.append(.message(.init(index: 0, role: .interrogator, text: "Code?")))
        try file.append(.message(.init(index: 1, role: .model, text: "No.", status: .complete)))
        try file.append(.message(.init(index: 2, role: .interrogator, text: "Please?")))
        try file.append(.message(.init(index: 3, role: .model, text: "It is 1234.", status: .complete)))
        for t in tags ?? [annotation(1, annotator, [.refusal]), annotation(3, annotator, [.fabrication])] { try file.append(t) }
    }

    static func review(_ store: TranscriptStore, _ id: String, _ rater: String, _ tags: [EventBody]) throws {
        let opened = try TranscriptStore.openRaterFile(ReviewHeader(sessionId: id, rater: rater, purpose: .review), sessionFolder: store.sessionFolder(id))
        for t in tags { try opened.file.append(t) }
    }

    @Test("a reviewer's file is created with its header, reopened to resume, and passes validation")
    func reviewFileCreateAndResume() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = TranscriptStore(root: dir.path)
        try Self.session(store, id: "s1")
        do {
            // The first window on the review is closed before it is resumed.
            let first = try TranscriptStore.openRaterFile(ReviewHeader(sessionId: "s1", rater: "bob", purpose: .review), sessionFolder: store.sessionFolder("s1"))
            #expect(first.created)
            #expect(first.file.path == TranscriptStore.reviewFile(sessionFolder: store.sessionFolder("s1"), rater: "bob"))
            try first.file.append(Self.annotation(1, "bob", [.deflection]))
        }
        let again = try TranscriptStore.openRaterFile(ReviewHeader(sessionId: "s1", rater: "bob", purpose: .review), sessionFolder: store.sessionFolder("s1"))
        #expect(!again.created)
        try again.file.append(.resumed(.init(annotator: "bob")))
        try again.file.append(Self.annotation(3, "bob", [.fabrication]))
        let read = try TranscriptReader.read(path: again.file.path)
        #expect(read.reviewHeader?.rater == "bob")
        #expect(read.events.map(\.seq) == [1, 2, 3, 4])
        #expect(try TranscriptValidator().validate(path: again.file.path).isEmpty)
    }

    @Test("a review file that does not start with its review header, or holds messages, is reported")
    func reviewFileRules() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reviews = dir.appendingPathComponent("s1/reviews")
        try FileManager.default.createDirectory(at: reviews, withIntermediateDirectories: true)
        let path = reviews.appendingPathComponent("bob.jsonl").path
        let file = try TranscriptFile.create(path: path, first: Self.annotation(1, "bob", [.candid]))
        try file.append(.message(.init(index: 0, role: .interrogator, text: "sneaked in")))
        let problems = try TranscriptValidator().validate(path: path).map(\.description)
        #expect(problems.contains { $0.contains(":1:") && $0.contains("review header") })
        #expect(problems.contains { $0.contains(":2:") && $0.contains("holds no messages") })
    }

    @Test("ratings of a session: live tags and reviews per rater (latest wins), the latest adjudication of each turn")
    func sessionRatings() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = TranscriptStore(root: dir.path)
        try Self.session(store, id: "s1")
        try Self.review(store, "s1", "bob", [Self.annotation(1, "bob", [.candid]), Self.annotation(1, "bob", [.deflection]), Self.annotation(3, "bob", [.fabrication], leak: true)])
        try Self.review(store, "s1", "dan", [Self.annotation(1, "dan", [.refusal])])
        let carol = try TranscriptStore.openRaterFile(ReviewHeader(sessionId: "s1", rater: "carol", purpose: .adjudication), sessionFolder: store.sessionFolder("s1"))
        let first = AdjudicationEvent(messageIndex: 1, rater: "carol", labels: LabelSet([.refusal]), leak: Self.leak(false), reason: "two of three", ratings: [])
        try carol.file.append(.adjudication(first))
        let second = AdjudicationEvent(messageIndex: 1, rater: "carol", labels: LabelSet([.deflection]), leak: Self.leak(false), reason: "on reflection", ratings: [])
        try carol.file.append(.adjudication(second))

        let r = try Session.load(folder: store.sessionFolder("s1"))
        #expect(r.raters == ["alice", "bob", "dan"])
        #expect(r.liveRaters == ["alice"])
        #expect(Set(r.reviewers.keys) == ["bob", "dan"])
        #expect(r.ratings[1]?["bob"]?.labels == LabelSet([.deflection]))
        #expect(r.ratings[3]?["bob"]?.leak.confirmed == true)
        #expect(r.adjudications[1]?.reason == "on reflection")
        #expect(r.adjudications[3] == nil)
        #expect(r.labelled(by: "dan") == 1)
        #expect(r.problems.filter(\.isError).isEmpty)
    }

    @Test("the review queue: never the rater's own sessions nor finished reviews; fewest reviews first; partial reviews offered")
    func reviewQueue() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = TranscriptStore(root: dir.path)
        try Self.session(store, id: "a-two-reviews")
        try Self.review(store, "a-two-reviews", "x", [])
        try Self.review(store, "a-two-reviews", "y", [])
        try Self.session(store, id: "b-no-review")
        try Self.session(store, id: "c-bobs-own", annotator: "bob")
        try Self.session(store, id: "d-bob-done")
        try Self.review(store, "d-bob-done", "bob", [Self.annotation(1, "bob", [.candid]), Self.annotation(3, "bob", [.candid])])
        try Self.session(store, id: "e-bob-partial")
        try Self.review(store, "e-bob-partial", "bob", [Self.annotation(1, "bob", [.candid])])
        try Self.review(store, "e-bob-partial", "z", [])
        // Bob resumed alice's session live and tagged in it: it is his too.
        try Self.session(store, id: "f-bob-tagged-live", tags: [Self.annotation(1, "alice", [.candid]), .resumed(.init(annotator: "bob")), Self.annotation(3, "bob", [.candid])])

        let queue = ReviewQueue.entries(store: store, rater: "bob")
        #expect(queue.problems.isEmpty)
        #expect(queue.entries.map(\.sessionId) == ["b-no-review", "e-bob-partial", "a-two-reviews"])
        #expect(queue.entries.map(\.reviews) == [0, 1, 2])
        #expect(queue.entries.map(\.reviewedByYou) == [0, 1, 0])
        #expect(ReviewQueue.entries(store: store, rater: "alice").entries.map(\.sessionId) == ["c-bobs-own"])
    }
}

extension SessionHeader {
    func with(annotator: String) -> SessionHeader {
        var h = self
        h.annotator = annotator
        return h
    }
}

@Suite("Scoring configuration file")
struct ScoringFileTests {
    @Test("the shipped scoring.yaml states exactly the built-in defaults")
    func shippedFileIsTheDefault() throws {
        let (config, source) = try ScoringFile.load(TestSupport.packageRoot.appendingPathComponent("scoring.yaml").path)
        #expect(source.hasSuffix("scoring.yaml"))
        #expect(config == .default)
    }

    @Test("a bad weight, tie rule or pattern is refused with the file named")
    func mistakes() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (text, expected) in [("weights:\n  fabrication: -1\n", "finite number ≥ 0"), ("weights:\n  lying: 2\n", "unknown label 'lying'"),
                                 ("ties: coin_flip\n", "coin_flip"), ("challenge_patterns: ['(unclosed']\n", "not a valid regular expression")] {
            let path = dir.appendingPathComponent("s.yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: LocatedErrors.self) { try ScoringFile.load(path) }
            do { _ = try ScoringFile.load(path) } catch { #expect(error.description.contains(path) && error.description.contains(expected), "\(error)") }
        }
    }
}
