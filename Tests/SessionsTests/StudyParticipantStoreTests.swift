import Foundation
import Testing
import TestSupport
@testable import Sessions

/// What a study's participants read of its plan on the team store, and which sessions its
/// adjudication tasks open to them, checked with plain SQL against a real server: only rounds
/// closed by their round_end count, and only the session its planned annotator ran answers a task.
@Suite("A study's participants on the team store (plain SQL)", .serialized)
struct StudyParticipantStoreTests {
    @Test("a participant reads her own tasks whole and everyone else's without model, alias, condition, gold, script or seed; a plan's adjudication opens only the session its planned annotator ran, in a closed round; a study she is not in shows nothing")
    func planAndAdjudicationRights() async throws {
        // People are roles of the whole server: this test's own server.
        let own = try PostgresServer.start()
        defer { own.stop() }
        let (server, db, admin) = try await TeamStoreTests.freshStore(on: own)
        let organiser = try await TeamStore.connect(admin)
        for name in ["bob", "carol", "dave", "erin", "frank"] {
            #expect(try await organiser.addRater(name, role: .reviewer, password: "pw-\(name)"))
        }
        await organiser.close()
        func sql(_ q: String, as user: String? = nil) throws -> String {
            let r = try server.psql(q, user: user, password: user.map { "pw-\($0)" }, database: db)
            #expect(r.status == 0, "\(q): \(r.output)")
            return r.output
        }
        func file(_ path: String, kind: String, session: String? = nil, rater: String? = nil) throws {
            _ = try sql("INSERT INTO interrogate_files (collection, path, kind, session_id, rater) VALUES ('studies/s', '\(path)', '\(kind)', \(session.map { "'\($0)'" } ?? "NULL"), \(rater.map { "'\($0)'" } ?? "NULL"))")
        }
        func lines(_ path: String, _ bodies: [String]) throws {
            for (i, b) in bodies.enumerated() {
                _ = try sql("INSERT INTO interrogate_lines (file, line_no, body) SELECT id, \(i + 1), convert_to('\(b)', 'UTF8') FROM interrogate_files WHERE path = '\(path)'")
            }
        }
        func task(_ id: String, _ kind: String, _ who: String, round: Int = 1, about: String? = nil, model: String? = nil) -> String {
            var t = #"{"type":"task","id":"\#(id)","round":\#(round),"kind":"\#(kind)","annotator":"\#(who)","order":1"#
            if let about { t += #","session_task":"\#(about)""# }
            if let model { t += #","model":"\#(model)","alias":"Suspect A","condition":"control","gold":false,"script":"gold.yaml","scenario":"vault""# }
            return t + "}"
        }
        // Round 1, closed: bob interrogates (t1), carol reviews and adjudicates it. Round 2, cut
        // short by a crash: carol would interrogate t4, adjudicate dave's t6.
        try file("plan.jsonl", kind: "plan")
        try lines("plan.jsonl", [
            #"{"type":"round","round":1,"seed":987654321,"study_sha256":"abc","planned":"2026-12-01T00:00:00Z","tasks":3}"#,
            task("t1", "session", "bob", model: "secret-model"), task("t2", "review", "carol", about: "t1"),
            task("t3", "adjudication", "carol", about: "t1"),
            #"{"type":"round_end","round":1,"tasks":3}"#,
            #"{"type":"round","round":2,"seed":5,"study_sha256":"abc","planned":"2026-12-01T01:00:00Z","tasks":3}"#,
            task("t4", "session", "carol", round: 2, model: "torn-model"), task("t5", "adjudication", "carol", round: 2, about: "t6"),
            task("t6", "session", "dave", round: 2, model: "other-model"), #"{"type":"ta"#,
        ])
        func header(_ session: String, _ who: String, _ t: String) -> String {
            #"{"v":1,"seq":1,"ts":"2026-12-01T00:00:00Z","type":"header","session_id":"\#(session)","annotator":"\#(who)","model":{"provider":"x","name":"secret-model"},"scenario":{"id":"vault"},"study":{"name":"s","task":"\#(t)","alias":"Suspect A"}}"#
        }
        let message = #"{"v":1,"seq":2,"ts":"2026-12-01T00:00:05Z","type":"message","index":1,"role":"model","text":"No."}"#
        let label = #"{"v":1,"seq":3,"type":"annotation","message_index":1,"rater":"x","labels":["refusal"]}"#
        let end = #"{"v":1,"seq":4,"ts":"2026-12-01T00:00:09Z","type":"session_end","reason":"quit"}"#
        // Bob's session answers t1; dave's answers t6 (of the torn round); erin's claims t1, and
        // is still running (no end yet).
        for (session, who, t) in [("s-bob", "bob", "t1"), ("s-dave", "dave", "t6"), ("s-erin", "erin", "t1")] {
            try file("transcripts/\(session)/session.jsonl", kind: "session", session: session, rater: who)
            try lines("transcripts/\(session)/session.jsonl", [header(session, who, t), message, label] + (who == "erin" ? [] : [end]))
            try file("transcripts/\(session)/reviews/\(who).jsonl", kind: "review", session: session, rater: who)
            try lines("transcripts/\(session)/reviews/\(who).jsonl", [#"{"type":"review_header"}"#, label])
        }

        // Her copy of the plan: her closed-round tasks whole, nothing else of a model.
        let plan = try sql("SELECT line FROM interrogate_participant_plans WHERE collection = 'studies/s' ORDER BY line_no", as: "carol")
            .split(separator: "\n").map(String.init)
        #expect(plan.count == 10, "\(plan)")
        for line in plan {
            for hidden in ["secret-model", "torn-model", "other-model", "Suspect A", "control", "gold", "script", "987654321", "seed", "study_sha256"] {
                #expect(!line.contains(hidden), "carol reads \(hidden) in \(line)")
            }
        }
        let objects = plan.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == 9 && plan.last == "withheld: a line that does not read", "\(plan)")
        let allowed: Set<String> = ["type", "id", "round", "kind", "annotator", "order", "session_task", "scenario", "withheld"]
        for o in objects where o["type"] as? String == "task" {
            let mine = o["annotator"] as? String == "carol" && (o["round"] as? Int) == 1
            #expect(mine == (o["withheld"] == nil), "\(o)")
            if !mine { #expect(Set(o.keys).isSubset(of: allowed), "\(o)") }
        }
        #expect(try sql("SELECT count(*) FROM interrogate_participant_plans", as: "frank") == "0")

        // The plan's adjudication opens bob's session to carol: not erin's claim on the same
        // task, nor dave's session of the torn round.
        #expect(try sql("SELECT string_agg(session_id, ',' ORDER BY session_id) FROM interrogate_plan_adjudications", as: "carol") == "s-bob")
        #expect(try sql("SELECT string_agg(DISTINCT f.session_id, ',') FROM interrogate_lines l JOIN interrogate_files f ON f.id = l.file", as: "carol") == "s-bob")
        #expect(try sql("SELECT count(*) FROM interrogate_lines l JOIN interrogate_files f ON f.id = l.file WHERE f.kind = 'review'", as: "carol") == "2")
        #expect(try sql("SELECT count(*) FROM interrogate_plan_adjudications", as: "frank") == "0")
        #expect(try sql("SELECT count(*) FROM interrogate_lines", as: "frank") == "0")
        // She writes her adjudication of bob's session, and of no other.
        _ = try sql("INSERT INTO interrogate_files (collection, path, kind, session_id, rater) VALUES ('studies/s', 'transcripts/s-bob/adjudications/carol.jsonl', 'adjudication', 's-bob', 'carol')", as: "carol")
        _ = try sql("INSERT INTO interrogate_lines (file, line_no, body) SELECT id, 1, convert_to('{}', 'UTF8') FROM interrogate_files WHERE path = 'transcripts/s-bob/adjudications/carol.jsonl'", as: "carol")
        for session in ["s-dave", "s-erin"] {
            let r = try server.psql("INSERT INTO interrogate_files (collection, path, kind, session_id, rater) VALUES ('studies/s', 'transcripts/\(session)/adjudications/carol.jsonl', 'adjudication', '\(session)', 'carol')",
                                    user: "carol", password: "pw-carol", database: db)
            #expect(r.status != 0 && r.output.contains("row-level security"), "\(session): \(r.output)")
        }

        // The blind view: lines numbered without the gap where the tag was, in line_no and seq; no
        // time but the header's; a session still running shows nothing yet.
        let blind = try sql("SELECT line_no || ' ' || blind FROM interrogate_blind_sessions WHERE session_id = 's-dave' ORDER BY line_no", as: "frank")
            .split(separator: "\n").map(String.init)
        #expect(blind.count == 3 && blind[0].hasPrefix("1 ") && blind[1].hasPrefix("2 ") && blind[2].hasPrefix("3 "), "\(blind)")
        #expect(!blind[1].contains("\"ts\"") && !blind[2].contains("\"ts\"") && blind[2].replacingOccurrences(of: " ", with: "").contains("\"seq\":3"), "\(blind)")
        #expect(try sql("SELECT count(*) FROM interrogate_blind_sessions WHERE session_id = 's-erin'", as: "frank") == "0")

        // A plan the reader refuses (a round that does not follow the one before) counts nothing
        // from then on: carol's tasks are withheld like anyone's, and bob's session closes to her.
        _ = try sql(#"INSERT INTO interrogate_lines (file, line_no, body) SELECT id, 11, convert_to('{"type":"round","round":5,"seed":1,"study_sha256":"abc","planned":"x","tasks":0}', 'UTF8') FROM interrogate_files WHERE path = 'plan.jsonl'"#)
        _ = try sql(#"INSERT INTO interrogate_lines (file, line_no, body) SELECT id, 12, convert_to('{"type":"round_end","round":5,"tasks":0}', 'UTF8') FROM interrogate_files WHERE path = 'plan.jsonl'"#)
        #expect(try sql("SELECT count(*) FROM interrogate_plan_adjudications", as: "carol") == "0")
        #expect(try sql("SELECT count(*) FROM interrogate_participant_plans", as: "carol") == "0")
    }
}
