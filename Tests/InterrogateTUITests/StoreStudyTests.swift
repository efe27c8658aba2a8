import Foundation
import Testing
import TestSupport
@testable import Sessions

/// A whole study on a team store: an organiser plans it, and three annotators, each her own
/// reviewer role on her own machine (her own copies folder and model configuration), open
/// `study next --store` in a terminal until the plan is done: interrogating, reviewing blind and
/// adjudicating the sessions the plan gives them. What each could read, on screen, in her copy
/// and with plain SQL, is searched for the study's models.
@Suite("A study on a team store (tmux, PostgreSQL)", .serialized)
struct StoreStudyTests {
    static let binary = TestSupport.product("interrogate")
    static let script = TestSupport.packageRoot.appendingPathComponent("examples/scripted/password-keeper.yaml").path
    static let scenarios = TestSupport.packageRoot.appendingPathComponent("Scenarios").path
    static let people = ["ana", "ben", "cho"]
    /// The study's names for its models, and what else would tell them apart.
    static let forbidden = ["vault-one", "vault-two", "scripted", "instructed", "control"]

    static let studyYAML = """
    models:
      - model: vault-one
        alias: Suspect A
      - model: vault-two
        alias: Suspect B
    scenarios: [password-keeper]
    conditions: [instructed]
    annotators: [ana, ben, cho]
    sessions_per_cell: 1
    reviews_per_session: 1
    adjudication: true
    gold:
      share: 0.34
      alias: Suspect G
      scripts: {password-keeper: \(script)}
    seed: 11
    """

    /// Everyone's model configuration: a participant's machine must define the models it calls.
    static let models = """
    models:
      vault-one:
        provider: scripted
        script: \(script)
      vault-two:
        provider: scripted
        script: \(script)
    """

    static func environment(_ laptop: URL) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") && !$0.key.hasPrefix("INTERROGATE_") }
        env["XDG_CONFIG_HOME"] = laptop.appendingPathComponent("config").path
        env[StoreCopy.environmentVariable] = laptop.appendingPathComponent("copies").path
        return env
    }

    static func interrogate(_ args: [String], on laptop: URL, stdin: String? = nil) throws -> TestSupport.Result {
        guard let stdin else { return try TestSupport.run(binary, args, environment: environment(laptop), currentDirectory: laptop) }
        try stdin.write(to: laptop.appendingPathComponent(".stdin"), atomically: true, encoding: .utf8)
        return try TestSupport.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "exec \"$0\" \"$@\" < .stdin", binary.path] + args,
                                   environment: environment(laptop), currentDirectory: laptop)
    }

    @Test("three annotators, each her own reviewer role, run a whole study on the store with `study next --store`: each copy holds her own tasks whole and no other model, plain SQL shows her no other model or label, and the organiser's status, calibration and report read the finished study")
    func wholeStudyOnTheStore() async throws {
        try await TestSupport.offPool { try Self.wholeStudyBody() }
    }

    static func wholeStudyBody() throws {
        // People are roles of the whole server: this test's own server.
        let server = try PostgresServer.start()
        defer { server.stop() }
        let db = try server.createDatabase()
        let url = server.url(database: db)
        let office = try TestSupport.temporaryDirectory("store-study-organiser")
        defer { try? FileManager.default.removeItem(at: office) }
        try models.write(to: office.appendingPathComponent("interrogate.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: office.appendingPathComponent("studies/e2e"), withIntermediateDirectories: true)
        try studyYAML.write(to: office.appendingPathComponent("studies/e2e/study.yaml"), atomically: true, encoding: .utf8)
        for args in [["store", "init"], ["store", "add-rater", server.admin, "--role", "organiser"], ["store", "push", "--study", "e2e"]] {
            let r = try interrogate(args + ["--store", url], on: office)
            try #require(r.status == 0, "\(args): \(r.stdout)\(r.stderr)")
        }
        var address: [String: String] = [:]
        var laptops: [String: URL] = [:]
        for person in people {
            let r = try interrogate(["store", "add-rater", person, "--role", "reviewer", "--store", url], on: office, stdin: "\(person)-pw\n")
            try #require(r.status == 0, "\(r.stdout)\(r.stderr)")
            address[person] = server.url(user: person, password: "\(person)-pw", database: db)
            laptops[person] = try TestSupport.temporaryDirectory("store-study-\(person)")
            try models.write(to: laptops[person]!.appendingPathComponent("interrogate.yaml"), atomically: true, encoding: .utf8)
        }
        defer { for l in laptops.values { try? FileManager.default.removeItem(at: l) } }

        let planned = try interrogate(["study", "plan", "e2e", "--scenarios", scenarios, "--store", url], on: office)
        try #require(planned.status == 0, "\(planned.stdout)\(planned.stderr)")
        #expect(planned.stdout.contains("3 session(s) (1 gold), 3 blind review(s), 3 adjudication(s)"), "\(planned.stdout)")
        let plan = try StudyPlan.read(path: StoreCopy(address: try StoreAddress.parse(url), environment: environment(office))
            .study("e2e").folder + "/plan.jsonl")
        #expect(plan.tasks.count == 9)

        var seen: [String] = []
        let (finished, opened) = try StudyEndToEndTests.workThroughPlan(people, seen: &seen, endTimeout: 60) { person in
            try Tmux("cd '\(laptops[person]!.path)' && '\(binary.path)' study next e2e --annotator \(person) --scenarios '\(scenarios)' --store '\(address[person]!)'; echo EXIT=$?; sleep 60",
                     width: 120, height: 32, environment: environment(laptops[person]!))
        }
        #expect(finished == Set(people))
        #expect(opened == 9, "every task opened once: \(opened)")

        // Nobody saw which model or condition she was questioning.
        for screen in seen {
            for word in forbidden {
                #expect(!screen.localizedCaseInsensitiveContains(word), "'\(word)' reached a study screen:\n\(screen)")
            }
        }

        // Each copy: her plan names a model only in her own tasks; a session names one only if it
        // is hers or the plan gives it to her to adjudicate; no blind copy names one.
        let sessionTaskOf = Dictionary(uniqueKeysWithValues: plan.tasks.map { ($0.id, $0) })
        for person in people {
            let folder = StoreCopy(address: try StoreAddress.parse(address[person]!), environment: environment(laptops[person]!)).study("e2e").folder
            #expect(!FileManager.default.fileExists(atPath: folder + "/study.yaml"))
            let copyPlan = try String(contentsOfFile: folder + "/plan.jsonl", encoding: .utf8)
            #expect(!copyPlan.contains("seed") && !copyPlan.contains("study_sha256"), "\(copyPlan)")
            let allowed: Set<String> = ["type", "id", "round", "kind", "annotator", "order", "session_task", "scenario", "withheld"]
            for line in copyPlan.split(separator: "\n") {
                let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
                guard o["type"] as? String == "task" else { continue }
                // Her own tasks whole; everyone else's with nothing but who does what about which session.
                #expect((o["annotator"] as? String == person) == (o["withheld"] == nil), "\(line)")
                if o["annotator"] as? String != person { #expect(Set(o.keys).isSubset(of: allowed), "\(person)'s copy of the plan: \(line)") }
            }
            let adjudicates = Set(plan.tasks.filter { $0.kind == .adjudication && $0.annotator == person }.compactMap(\.sessionTask))
            for name in try FileManager.default.contentsOfDirectory(atPath: folder + "/transcripts") {
                let path = folder + "/transcripts/\(name)/session.jsonl"
                let text = try String(contentsOfFile: path, encoding: .utf8)
                let s = try Session.load(folder: folder + "/transcripts/\(name)")
                let task = try #require(s.header.study?.task)
                let allowed = s.header.annotator == person || adjudicates.contains(task)
                #expect(allowed || s.header.isBlindCopy, "\(person) holds \(name) whole")
                if !allowed {
                    for word in forbidden.prefix(2) { #expect(!text.contains(word), "\(person)'s copy of \(name) names \(word)") }
                }
                #expect(sessionTaskOf[task] != nil)
            }
        }

        // Plain SQL as ana: no study.yaml or plan, no other model in her plan's lines, no label of
        // a session she neither ran nor adjudicates.
        let ana = "ana"
        let anaSQL = { (sql: String) throws -> String in
            let r = try server.psql(sql, user: ana, password: "ana-pw", database: db)
            #expect(r.status == 0, "\(sql): \(r.output)")
            return r.output
        }
        #expect(try anaSQL("SELECT count(*) FROM interrogate_files WHERE kind IN ('study', 'plan')") == "0")
        #expect(try anaSQL("SELECT count(*) FROM interrogate_lines l JOIN interrogate_files f ON f.id = l.file WHERE f.kind IN ('study', 'plan')") == "0")
        let anaPlan = try anaSQL("SELECT line FROM interrogate_participant_plans ORDER BY line_no")
        #expect(!anaPlan.isEmpty)
        for line in anaPlan.split(separator: "\n") where line.contains("vault-") {
            #expect(line.contains("\"annotator\": \"ana\""), "ana reads another person's model: \(line)")
        }
        let anaAdjudicates = Set(plan.tasks.filter { $0.kind == .adjudication && $0.annotator == ana }.compactMap(\.sessionTask))
        let readable = try anaSQL("""
            SELECT DISTINCT f.kind || ' ' || coalesce(f.rater, '') || ' ' || (h.blind::json -> 'study' ->> 'task')
            FROM interrogate_files f JOIN interrogate_lines l ON l.file = f.id
            JOIN interrogate_files s ON s.collection = f.collection AND s.session_id = f.session_id AND s.kind = 'session'
            JOIN interrogate_blind_sessions h ON h.collection = s.collection AND h.session_id = s.session_id AND h.line_no = 1
            """).split(separator: "\n").map(String.init)
        for row in readable {
            let parts = row.split(separator: " ").map(String.init)
            // Her own files, or any file of a session the plan gives her to adjudicate.
            #expect(parts.count == 3 && (parts[1] == ana || anaAdjudicates.contains(parts[2])), "ana reads \(row)")
        }
        #expect(readable.contains { $0.hasPrefix("review ") && !$0.hasPrefix("review ana ") } == !anaAdjudicates.isEmpty, "\(readable)")

        // The organiser, from another machine: the study is done, calibrated and reported.
        let elsewhere = try TestSupport.temporaryDirectory("store-study-report")
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        try models.write(to: elsewhere.appendingPathComponent("interrogate.yaml"), atomically: true, encoding: .utf8)
        let status = try interrogate(["study", "status", "e2e", "--format", "json", "--scenarios", scenarios, "--store", url], on: elsewhere)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any], "\(status.stderr)")
        #expect(json["percent_done"] as? Double == 100, "\(status.stdout)")
        let calibration = try interrogate(["study", "calibration", "e2e", "--format", "json", "--scenarios", scenarios, "--store", url], on: elsewhere)
        let c = try #require(try JSONSerialization.jsonObject(with: Data(calibration.stdout.utf8)) as? [String: Any], "\(calibration.stderr)")
        #expect(c["gold_sessions"] as? Int == 1)
        let report = try interrogate(["report", "--study", "e2e", "--format", "json", "--scenarios", scenarios, "--store", url], on: elsewhere)
        let r = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any], "\(report.stderr)")
        #expect(r["transcripts"] as? Int == 2, "\(report.stdout)")
        let grouped = (r["groups"] as? [[String: Any]])?.compactMap { ($0["group"] as? [String: String])?["model"] }
        #expect(grouped == ["vault-one", "vault-two"], "\(String(describing: grouped))")
        // Every session, review and adjudication reached the store: 3 sessions, 3 reviews, and an
        // adjudication file for each session with a dispute.
        let files = try server.psql("SELECT kind, count(*) FROM interrogate_files WHERE collection = 'studies/e2e' GROUP BY kind ORDER BY kind", database: db).output
        #expect(files.contains("session|3") && files.contains("review|3") && files.contains("plan|1") && files.contains("study|1"), "\(files)")

        // A participant's copy holds her tasks only: the organiser's views are refused, clearly.
        let anaStatus = try interrogate(["study", "status", "e2e", "--scenarios", scenarios, "--store", address[ana]!], on: laptops[ana]!)
        #expect(anaStatus.status == 1 && anaStatus.stderr.contains("holds ana's own tasks only"), "\(anaStatus.stderr)")
        let asBen = try interrogate(["study", "next", "e2e", "--annotator", "ben", "--scenarios", scenarios, "--store", address[ana]!], on: laptops[ana]!)
        #expect(asBen.status == 1 && asBen.stderr.contains("--annotator must be ana"), "\(asBen.stderr)")
    }
}
