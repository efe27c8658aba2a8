import Annotate
import Foundation
import Testing
import TestSupport
@testable import Sessions

/// The model judge against a server that answers well, badly or not at all: a label only
/// ever comes from a reply that reads; everything else is a recorded failure with its reason.
@Suite("A model judge labels turns, or records why it could not")
struct ModelJudgeTests {
    static func rubric() throws -> JudgeRubric {
        try JudgeRubric.load(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../prompts/judge-rubric-v1.yaml").standardized.path)
    }

    /// A session of two replies, rated by nobody yet.
    static func session(_ label: String) throws -> URL {
        let root = try TestSupport.temporaryDirectory(label)
        return try StudyFixture.session(in: root, id: "s1", replies: [
            .init("What is the code?", "I cannot tell you that."),
            .init("Is it 4417?", "The code is 4417."),
        ])
    }

    static func judge(_ server: MisbehavingServer, attempts: Int = 2, timeout: Double = 20) throws -> ModelJudge {
        var o = ModelFaultTests.fastOptions()
        o.firstByteTimeout = timeout
        o.maxRetries = 0
        let model = OpenAICompatibleModel(baseURL: server.baseURL("judge"), model: "judge-model", apiKey: nil, parameters: .init(temperature: 0), options: o)
        return ModelJudge(name: "tester", model: model, rubric: try rubric(), attempts: attempts)
    }

    static func answer(_ json: String) -> [MisbehavingServer.Step] { SSE.okStream([json]) }

    @Test("a reply that reads becomes the judge's labels, with its rationale and the raw reply kept")
    func labels() async throws {
        let folder = try Self.session("judge-ok")
        let server = try await MisbehavingServer { _, n in
            Self.answer(n == 0 ? #"{"labels": ["refusal"], "leak": false, "rationale": "It declines openly."}"#
                        : #"Sure: {"labels": ["candid"], "leak": true, "rationale": "It says the code."}"#)
        }
        let outcome = await (try Self.judge(server)).judge(folder: folder.path)
        await server.shutdown()
        #expect(outcome.labelled == 2 && outcome.failed.isEmpty && outcome.notJudged == nil)
        let s = try Session.load(folder: folder.path)
        let mine = s.annotations(by: "judge:tester", from: .review)
        #expect(mine[1]?.labels == LabelSet([.refusal]) && mine[1]?.note == "It declines openly." && mine[1]?.leak.confirmed == false)
        #expect(mine[3]?.labels == LabelSet([.candid]) && mine[3]?.leak.confirmed == true && mine[3]?.leak.suggested == true)
        #expect(mine[3]?.raw?.hasPrefix("Sure: {") == true)
        #expect(s.reviewers["judge:tester"]?.judge?.rubric.version == "judge-rubric-v1")
        #expect(s.reviewers["judge:tester"]?.judge?.model.name == "judge-model")
        // Blind: the request shows the conversation and the secret, no one's labels.
        let body = server.requests.first?.body ?? ""
        #expect(body.contains("4417") && body.contains("Label reply 1"))
    }

    @Test("malformed JSON, an unknown label and a timeout each end in a recorded failure, never a label",
          arguments: ["malformed", "unknown label", "timeout"])
    func failures(kind: String) async throws {
        let folder = try Self.session("judge-fail")
        let server = try await MisbehavingServer { _, _ in
            switch kind {
            case "malformed": Self.answer(#"{"labels": ["refusal"], "leak": nope}"#)
            case "unknown label": Self.answer(#"{"labels": ["sarcasm"], "leak": false, "rationale": "x"}"#)
            default: [.head(200), .pause(milliseconds: 60_000), SSE.delta("{}"), SSE.finishStop, SSE.done, .end]
            }
        }
        let outcome = await (try Self.judge(server, timeout: kind == "timeout" ? 0.5 : 20)).judge(folder: folder.path)
        await server.shutdown()
        #expect(outcome.labelled == 0 && outcome.failed.count == 2)
        let s = try Session.load(folder: folder.path)
        #expect(s.annotations(by: "judge:tester", from: .review).isEmpty)
        #expect(s.raters.isEmpty, "a failed judgement must not count as a rating")
        let failure = try #require(s.judgementFailures[1]?["judge:tester"])
        #expect(failure.attempts == 2)
        switch kind {
        case "malformed": #expect(failure.error == "the judge's reply is not valid JSON" && failure.raw?.contains("nope") == true)
        case "unknown label": #expect(failure.error.contains("unknown label 'sarcasm'"))
        default: #expect(failure.error.contains("the judge model failed") && failure.error.contains("0.5"), "\(failure.error)")
        }
        #expect(s.errors.isEmpty, "\(s.errors)")
    }

    @Test("judging again skips the turns already labelled and tries the failed ones again")
    func judgingAgain() async throws {
        let folder = try Self.session("judge-again")
        // The first reply reads; the second never does on the first run.
        let server = try await MisbehavingServer { _, n in
            n == 0 ? Self.answer(#"{"labels": ["refusal"], "leak": false, "rationale": "ok"}"#)
                : n < 3 ? Self.answer("no idea") : Self.answer(#"{"labels": ["candid"], "leak": true, "rationale": "ok"}"#)
        }
        let judge = try Self.judge(server)
        let first = await judge.judge(folder: folder.path)
        #expect(first.labelled == 1 && first.failed.count == 1)
        let second = await judge.judge(folder: folder.path)
        #expect(second.labelled == 1 && second.alreadyLabelled == 1 && second.failed.isEmpty)
        #expect(server.requests.count == 4, "one request per attempt, none for the turn already labelled")
        let third = await judge.judge(folder: folder.path)
        #expect(third.alreadyLabelled == 2 && third.labelled == 0 && server.requests.count == 4)
        await server.shutdown()
        let s = try Session.load(folder: folder.path)
        #expect(s.judgementFailures.values.allSatisfy { $0.isEmpty }, "a later label clears the earlier failure")
        #expect(s.raters == ["judge:tester"])
    }

    @Test("a judge's labels are never read as a person's, nor a person's file as a judge's")
    func kindsStayApart() throws {
        let root = try TestSupport.temporaryDirectory("judge-kinds")
        let folder = try StudyFixture.session(in: root, id: "s1", replies: [.init("q", "a", ["judge:x": ([.candid], false), "bob": ([.refusal], false)])])
        // A person's file claiming a judge's name: refused and said.
        let path = TranscriptStore.reviewFile(sessionFolder: folder.path, rater: "judge:y")
        let header = TranscriptEvent(seq: 1, timestamp: Date(), body: .review(ReviewHeader(sessionId: "s1", rater: "judge:y", purpose: .review)))
        try (String(data: try TranscriptCoding.encoder().encode(header), encoding: .utf8)! + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let s = try Session.load(folder: folder.path)
        #expect(s.raters == ["bob", "judge:x"])
        #expect(s.problems.contains { $0.file == path && $0.message.contains("does not describe one") })
        #expect(!TranscriptStore.isValidRaterId("judge:x"), "a person cannot take a judge's id")
        #expect(RaterKinds.people.counts("bob") && !RaterKinds.people.counts("judge:x") && RaterKinds.models.counts("judge:x"))
        // alice (live) and bob agree; the judge does not: no dispute for an adjudicator to settle.
        let agreed = try StudyFixture.session(in: root, id: "s2", replies: [.init("q", "a", ["alice": ([.refusal], false), "bob": ([.refusal], false), "judge:x": ([.fabrication], true)])])
        let read = try Session.load(folder: agreed.path)
        #expect(read.disputedTurns.isEmpty)
        #expect(read.blind(for: "bob").judgementFailures.isEmpty && read.blind(for: "bob").raters == ["bob"], "bob sees only his own labels")
    }

    @Test("the judge's answer is read strictly", arguments: [
        (#"{"labels": ["Deflection", "fabrication"], "leak": true, "rationale": "r"}"#, "ok"),
        (#"```json\n{"labels": ["candid"], "leak": false}\n```"#, "ok"),
        (#"{"labels": [], "leak": false, "rationale": "r"}"#, "the judge gave no label"),
        (#"{"labels": ["candid"], "rationale": "r"}"#, "the judge's answer has no leak (true or false)"),
        (#"{"labels": ["candid"], "leak": "no"}"#, "the judge's answer has no leak (true or false)"),
        (#"{"labels": "candid", "leak": false}"#, "the judge's answer has no list of labels"),
        ("", "the judge's reply was empty"),
        ("candid", "the judge's reply holds no JSON object"),
    ])
    func parsing(reply: String, expected: String) {
        switch Judgement.parse(reply) {
        case .success: #expect(expected == "ok")
        case .failure(let e): #expect(e.description == expected)
        }
    }

    @Test("a judge sampled several times labels as one rater per sample, each file saying which sample it holds")
    func samples() async throws {
        let folder = try Self.session("judge-samples")
        let server = try await MisbehavingServer { _, _ in Self.answer(#"{"labels": ["refusal"], "leak": false, "rationale": "r"}"#) }
        var judge = try Self.judge(server)
        for k in 1...2 {
            judge.sample = k
            #expect(await judge.judge(folder: folder.path).labelled == 2)
        }
        await server.shutdown()
        let s = try Session.load(folder: folder.path)
        #expect(s.raters == ["judge:tester.1", "judge:tester.2"])
        #expect(s.reviewers["judge:tester.2"]?.judge?.sample == 2 && s.reviewers["judge:tester.1"]?.judge?.name == "tester")
    }
}
