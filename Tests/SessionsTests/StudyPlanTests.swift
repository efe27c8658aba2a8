import Annotate
import Foundation
import Testing
import TestSupport
@testable import Sessions

@Suite("Study designs and plans")
struct StudyPlanTests {
    static func design(models: Int, scenarios: Int, conditions: Int, annotators: Int, perCell: Int, reviews: Int = 1,
                       adjudication: Bool = true, gold: Double = 0, seed: UInt64 = 1) -> StudyDesign {
        StudyDesign(name: "s", folder: "/nonexistent", path: "/nonexistent/study.yaml", sha256: "x", title: nil,
                    models: (0..<models).map { .init(model: "m\($0)", alias: "Suspect \($0)") },
                    scenarios: (0..<scenarios).map { "sc\($0)" }, conditions: Array([Scenario.Condition.instructed, .control].prefix(conditions)),
                    annotators: (0..<annotators).map { "p\($0)" }, sessionsPerCell: perCell, reviewsPerSession: reviews,
                    adjudication: adjudication, gold: gold > 0 ? .init(share: gold, alias: "Suspect G", scripts: [:]) : nil,
                    calibration: .defaults, seed: seed)
    }

    static func group(_ t: StudyPlan.Task) -> String { t.isGold ? "gold" : "\(t.model!)|\(t.condition!.rawValue)" }

    /// The promises of the plan, checked on any design.
    static func checkBalance(_ d: StudyDesign, _ tasks: [StudyPlan.Task], sourceLocation: SourceLocation = #_sourceLocation) {
        let sessions = tasks.filter { $0.kind == .session }
        // Every cell gets what the design asks for.
        var perCell: [StudyPlan.Cell: Int] = [:]
        for s in sessions { perCell[s.cell!, default: 0] += 1 }
        #expect(perCell == StudyPlanner.targets(d), sourceLocation: sourceLocation)
        // Each group (model × condition, gold) spread over people as evenly as the numbers allow.
        for g in Set(sessions.map(group)) {
            let counts = d.annotators.map { a in sessions.count { $0.annotator == a && group($0) == g } }
            #expect(counts.max()! - counts.min()! <= 1, "group \(g): \(counts)", sourceLocation: sourceLocation)
        }
        let totals = d.annotators.map { a in sessions.count { $0.annotator == a } }
        #expect(totals.max()! - totals.min()! <= 1, "sessions per person \(totals)", sourceLocation: sourceLocation)
        // Reviews by others, each session its number of them; the adjudicator neither.
        for s in sessions {
            let reviewers = tasks.filter { $0.kind == .review && $0.sessionTask == s.id }.map(\.annotator)
            #expect(reviewers.count == d.reviewsPerSession && Set(reviewers).count == reviewers.count, sourceLocation: sourceLocation)
            #expect(!reviewers.contains(s.annotator), "\(s.annotator) reviews their own session", sourceLocation: sourceLocation)
            let adjudicators = tasks.filter { $0.kind == .adjudication && $0.sessionTask == s.id }.map(\.annotator)
            #expect(adjudicators.count == (d.adjudication ? 1 : 0), sourceLocation: sourceLocation)
            for a in adjudicators { #expect(a != s.annotator && !reviewers.contains(a), sourceLocation: sourceLocation) }
        }
        let reviewLoads = d.annotators.map { a in tasks.count { $0.kind == .review && $0.annotator == a } }
        let adjudicationLoads = d.annotators.map { a in tasks.count { $0.kind == .adjudication && $0.annotator == a } }
        // When every session needs everyone (its interrogator, its reviewers, its adjudicator),
        // a person's reviews and adjudications add up to the sessions of others: one more
        // session of one's own (the ±1 above) can leave one fewer review, so ±2 is what the
        // numbers allow; with anyone to spare, ±1.
        let allowed = d.annotators.count == d.reviewsPerSession + (d.adjudication ? 2 : 1) ? 2 : 1
        #expect(reviewLoads.max()! - reviewLoads.min()! <= allowed, "reviews per person \(reviewLoads)", sourceLocation: sourceLocation)
        #expect(adjudicationLoads.max()! - adjudicationLoads.min()! <= allowed, "adjudications per person \(adjudicationLoads)", sourceLocation: sourceLocation)
        let work = zip(reviewLoads, adjudicationLoads).map { $0 + $1 }
        #expect(work.max()! - work.min()! <= allowed + 1, "reviews and adjudications per person \(work)", sourceLocation: sourceLocation)
        // Each person's order is 1…n, every task once.
        for a in d.annotators {
            let orders = tasks.filter { $0.annotator == a }.map(\.order).sorted()
            #expect(orders == Array(0..<orders.count).map { $0 + 1 }, sourceLocation: sourceLocation)
        }
        #expect(Set(tasks.map(\.id)).count == tasks.count, sourceLocation: sourceLocation)
    }

    @Test("every annotator gets every model and condition as evenly as the numbers allow, for sizes that divide and that do not")
    func balance() {
        var checked = 0
        for models in 1...3 { for scenarios in 1...3 { for conditions in 1...2 { for annotators in 2...5 { for perCell in [1, 2, 3] {
            for gold in [0, 0.2] {
                let reviews = min(2, annotators - 1)
                let d = Self.design(models: models, scenarios: scenarios, conditions: conditions, annotators: annotators, perCell: perCell,
                                    reviews: reviews, adjudication: annotators >= reviews + 2, gold: gold, seed: UInt64(checked))
                let (_, tasks) = StudyPlanner.nextRound(d, existing: .empty, planned: "t")!
                Self.checkBalance(d, tasks)
                checked += 1
            }
        } } } } }
        #expect(checked == 3 * 3 * 2 * 4 * 3 * 2)
    }

    @Test("model interrogators take sessions like one more annotator, never gold, never a review or an adjudication; their sessions are reviewed by people")
    func modelInterrogators() {
        var checked = 0
        for models in 1...2 { for scenarios in 1...2 { for annotators in 2...4 { for machines in 1...2 { for perCell in [1, 2, 3] { for gold in [0, 0.25] {
            var d = Self.design(models: models, scenarios: scenarios, conditions: 1, annotators: annotators, perCell: perCell,
                                reviews: 1, adjudication: annotators >= 3, gold: gold, seed: UInt64(checked))
            d.interrogators = (0..<machines).map { "bot\($0)" }
            let (_, tasks) = StudyPlanner.nextRound(d, existing: .empty, planned: "t")!
            let sessions = tasks.filter { $0.kind == .session }
            var perCellCount: [StudyPlan.Cell: Int] = [:]
            for t in sessions { perCellCount[t.cell!, default: 0] += 1 }
            #expect(perCellCount == StudyPlanner.targets(d))
            let askers = d.annotators + d.interrogatorIds
            for g in Set(sessions.map(Self.group)) {
                let who = g == "gold" ? d.annotators : askers
                let counts = who.map { a in sessions.count { $0.annotator == a && Self.group($0) == g } }
                #expect(counts.max()! - counts.min()! <= 1, "group \(g) over \(who): \(counts)")
            }
            for id in d.interrogatorIds {
                let mine = tasks.filter { $0.annotator == id }
                #expect(mine.allSatisfy { $0.kind == .session && !$0.isGold }, "\(id) got \(mine.map(\.kind))")
                #expect(mine.map(\.order).sorted() == Array(1...max(1, mine.count)).prefix(mine.count).map { $0 })
            }
            for s in sessions {
                let reviewers = tasks.filter { $0.kind == .review && $0.sessionTask == s.id }.map(\.annotator)
                // A model's session has one review more: nobody tagged it live.
                let wanted = d.interrogatorIds.contains(s.annotator) ? 2 : 1
                #expect(reviewers.count == wanted && Set(reviewers).count == wanted && reviewers.allSatisfy { d.annotators.contains($0) && $0 != s.annotator })
                let adjudicators = tasks.filter { $0.kind == .adjudication && $0.sessionTask == s.id }.map(\.annotator)
                #expect(adjudicators.count == (d.adjudication ? 1 : 0) && adjudicators.allSatisfy { d.annotators.contains($0) && !reviewers.contains($0) && $0 != s.annotator })
            }
            let reviewLoads = d.annotators.map { a in tasks.count { $0.kind == .review && $0.annotator == a } }
            #expect(reviewLoads.max()! - reviewLoads.min()! <= 2, "reviews per person \(reviewLoads)")
            checked += 1
        } } } } } }
        #expect(checked == 2 * 2 * 3 * 2 * 3 * 2)
    }

    @Test("planning again after the design grew (a scenario, a model, more per cell, gold) keeps every group within one and the totals within one")
    func replanBalance() {
        var uneven: [String] = []
        for seed in UInt64(0)..<60 {
            for grow in 0..<4 {
                var d = Self.design(models: 3, scenarios: 1, conditions: 1, annotators: 3, perCell: 1, seed: seed)
                let first = StudyPlanner.nextRound(d, existing: .empty, planned: "t")!
                let plan = StudyPlan(rounds: [first.0], tasks: first.1, notUsed: [])
                switch grow {
                case 0: d.scenarios.append("sc1")
                case 1: d.models.append(.init(model: "m3", alias: "Suspect 3"))
                case 2: d.sessionsPerCell = 2
                default: d.gold = .init(share: 0.4, alias: "Suspect G", scripts: [:])
                }
                let (_, more) = StudyPlanner.nextRound(d, existing: plan, planned: "t")!
                let all = plan.tasks + more
                Self.checkBalance(d, all)
                let totals = d.annotators.map { a in all.count { $0.kind == .session && $0.annotator == a } }
                if totals.max()! - totals.min()! > 1 { uneven.append("seed \(seed) grow \(grow): \(totals)") }
            }
        }
        #expect(uneven.isEmpty, "\(uneven)")
    }

    @Test("the same seed draws the same plan; another seed another order")
    func reproducible() {
        let d = Self.design(models: 2, scenarios: 2, conditions: 2, annotators: 3, perCell: 2, gold: 0.2, seed: 42)
        let a = StudyPlanner.nextRound(d, existing: .empty, planned: "t")!.1
        let b = StudyPlanner.nextRound(d, existing: .empty, planned: "t")!.1
        #expect(a == b)
        var other = d
        other.seed = 43
        #expect(StudyPlanner.nextRound(other, existing: .empty, planned: "t")!.1 != a)
        // Pinned: the generator and shuffle are ours, so a seed gives this plan on any machine.
        var r = SplitMix64(seed: 42)
        #expect(r.next() == 0xBDD7_3226_2FEB_6E95)
        var x = SplitMix64(seed: 7), y = SplitMix64(seed: 7)
        #expect(x.shuffled(Array(0..<6)) == y.shuffled(Array(0..<6)))
        // The shuffle pinned too (worked out with the same steps in Python).
        var z = SplitMix64(seed: 7)
        #expect(z.shuffled(Array(0..<6)) == [5, 4, 1, 3, 0, 2])
    }

    @Test("gold sessions are the configured share of all sessions, spread over the scenarios")
    func goldShare() {
        #expect(StudyPlanner.goldCount(real: 8, share: 0.2) == 2)   // 2 of 10
        #expect(StudyPlanner.goldCount(real: 16, share: 0.2) == 4)  // 4 of 20
        #expect(StudyPlanner.goldCount(real: 9, share: 0.25) == 3)  // 3 of 12
        #expect(StudyPlanner.goldCount(real: 8, share: 0) == 0)
        let d = Self.design(models: 2, scenarios: 3, conditions: 2, annotators: 3, perCell: 1, gold: 0.2)
        let gold = StudyPlanner.targets(d).filter { $0.key.model == nil }
        #expect(gold.values.reduce(0, +) == 3 && gold.count == 3)
    }

    @Test("planning again adds only what the design now asks for beyond the plan, in a new round; nothing is rewritten")
    func replanAdds() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("plan.jsonl").path
        var d = Self.design(models: 2, scenarios: 1, conditions: 2, annotators: 3, perCell: 1)
        let (r1, t1) = StudyPlanner.nextRound(d, existing: .empty, planned: "t")!
        try StudyPlan.append(r1, tasks: t1, to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let plan1 = try StudyPlan.read(path: path)
        #expect(plan1.tasks == t1 && plan1.rounds == [r1] && plan1.notUsed.isEmpty)
        #expect(StudyPlanner.nextRound(d, existing: plan1, planned: "t") == nil)
        d.sessionsPerCell = 3
        let (r2, t2) = StudyPlanner.nextRound(d, existing: plan1, planned: "t")!
        #expect(r2.round == 2 && r2.seed != d.seed)
        #expect(t2.count { $0.kind == .session } == 8)
        try StudyPlan.append(r2, tasks: t2, to: path)
        let after = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(after.prefix(before.count) == before, "the first round was rewritten")
        let plan2 = try StudyPlan.read(path: path)
        Self.checkBalance(d, plan2.tasks)
        #expect(StudyPlanner.nextRound(d, existing: plan2, planned: "t") == nil)
    }

    /// Round 1 written to `dir/plan.jsonl`; round 2 (for two sessions per cell) written to a
    /// scratch file, for a test to add to the plan whole, torn or damaged.
    static func twoRounds(in dir: URL) throws -> (path: String, design: StudyDesign, first: [StudyPlan.Task], second: String) {
        let path = dir.appendingPathComponent("plan.jsonl").path
        var d = Self.design(models: 1, scenarios: 1, conditions: 2, annotators: 3, perCell: 1)
        let (r1, t1) = StudyPlanner.nextRound(d, existing: .empty, planned: "t")!
        try StudyPlan.append(r1, tasks: t1, to: path)
        d.sessionsPerCell = 2
        let (r2, t2) = StudyPlanner.nextRound(d, existing: try StudyPlan.read(path: path), planned: "t")!
        let scratch = dir.appendingPathComponent("round2.jsonl").path
        try StudyPlan.append(r2, tasks: t2, to: scratch)
        return (path, d, t1, scratch)
    }

    @Test("a plan torn by a crash: the unfinished round is told and not used, its bytes stay, and planning again appends a whole round")
    func tornPlan() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (path, d, t1, scratch) = try Self.twoRounds(in: dir)
        // Round 2 as a crash would leave it: cut in the middle of a task line.
        let whole = try Data(contentsOf: URL(fileURLWithPath: scratch))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(whole.prefix(whole.count / 2))
        try handle.close()
        let torn = try StudyPlan.read(path: path)
        #expect(torn.tasks == t1 && torn.rounds.count == 1)
        #expect(torn.notUsed.count == 1 && torn.notUsed[0].contains("round 2") && torn.notUsed[0].contains("not used"), "\(torn.notUsed)")
        let tornBytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let (again, tasks) = StudyPlanner.nextRound(d, existing: torn, planned: "t")!
        #expect(again.round == 2)
        try StudyPlan.append(again, tasks: tasks, to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(tornBytes.count) == tornBytes, "the torn bytes were rewritten")
        let healed = try StudyPlan.read(path: path)
        #expect(healed.rounds.count == 2 && healed.tasks == t1 + tasks)
        #expect(healed.notUsed.count == 1)
        Self.checkBalance(d, healed.tasks)
    }

    @Test("a line that does not read in the middle of a round (or a task this version cannot read) leaves that round unused, and the plan readable")
    func unreadableLineMidRound() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (path, d, t1, scratch) = try Self.twoRounds(in: dir)
        // The last: a task withheld as in a participant's copy from a team store, in a plan that is not one.
        for damage in ["{\"type\": \"task\", \"kind\": \"séance\"", "{\"type\":\"task\",\"id\":\"t0099\",\"kind\":\"séance\",\"round\":2,\"annotator\":\"p0\",\"order\":9}",
                       "{\"type\":\"task\",\"id\":\"t0099\",\"kind\":\"session\",\"round\":2,\"annotator\":\"p0\",\"order\":9,\"withheld\":true}"] {
            var lines = try String(contentsOfFile: scratch, encoding: .utf8).split(separator: "\n").map(String.init)
            lines.insert(damage, at: 2)
            let original = try String(contentsOfFile: path, encoding: .utf8)
            try (original + lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let plan = try StudyPlan.read(path: path)
            #expect(plan.rounds.count == 1 && plan.tasks == t1)
            #expect(plan.notUsed.count == 1 && plan.notUsed[0].contains("round 2"), "\(plan.notUsed)")
            #expect(StudyPlanner.nextRound(d, existing: plan, planned: "t")?.0.round == 2)
            try original.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    @Test("a plan line changed by hand inside a finished round is refused with its line, not guessed around")
    func damagedPlan() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("plan.jsonl").path
        let d = Self.design(models: 1, scenarios: 1, conditions: 1, annotators: 2, perCell: 1, adjudication: false)
        let (r1, t1) = StudyPlanner.nextRound(d, existing: .empty, planned: "t")!
        try StudyPlan.append(r1, tasks: t1, to: path)
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        lines.remove(at: 1) // a task taken out: the round's count no longer matches
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var message = ""
        do {
            _ = try StudyPlan.read(path: path)
            Issue.record("a damaged round was accepted")
        } catch {
            message = String(describing: error)
        }
        #expect(message.contains("plan.jsonl:"), "\(message)")
    }

    static let catalog = ModelCatalog(entries: [ModelEntry(name: "local", provider: .local, parameters: .init(), source: "test"),
                                                ModelEntry(name: "keeper", provider: .scripted, script: "k.yaml", source: "test")])

    static func scenarios() throws -> [Scenario] {
        let withControl = try ScenarioLoader.parse(StudyFixture.scenarioYAML, path: "vault.yaml")
        var without = withControl
        without.id = "plain"
        without.controlSystemPrompt = nil
        return [withControl, without]
    }

    static func parse(_ yaml: String) throws -> StudyDesign {
        try StudyDesign.parse(yaml, path: "studies/x/study.yaml", name: "x", context: .init(catalog: catalog, scenarios: try scenarios()))
    }

    @Test("a study naming an unknown model or scenario, or asking the impossible, is refused with file:line:column for each problem")
    func badDesigns() throws {
        let yaml = """
        models:
          - model: local
            alias: Suspect A
          - model: gpt-9
            alias: Suspect B
        scenarios: [vault, nowhere, plain]
        conditions: [instructed, control]
        annotators: [ana, annotator]
        sessions_per_cell: 1
        reviews_per_session: 2
        seed: 1
        """
        do {
            _ = try Self.parse(yaml)
            Issue.record("accepted")
        } catch let e as LocatedErrors {
            let text = e.description
            #expect(text.contains("study.yaml:4:12: no model named 'gpt-9'"), "\(text)")
            #expect(text.contains("study.yaml:6:20: no scenario 'nowhere'"), "\(text)")
            #expect(text.contains("scenario 'plain' has no control variant"), "\(text)")
            #expect(text.contains("'annotator' is a placeholder"), "\(text)")
            #expect(text.contains("at most 1 blind review"), "\(text)")
        }
        // An alias that names its model would undo the blinding.
        #expect(throws: LocatedErrors.self) {
            try Self.parse("models: [{model: keeper, alias: Keeper bot}]\nscenarios: [vault]\nannotators: [a, b, c]\nsessions_per_cell: 1\nseed: 1\n")
        }
        let ok = try Self.parse("models: [{model: keeper, alias: Suspect K}]\nscenarios: [vault]\nannotators: [a, b, c]\nsessions_per_cell: 2\nseed: 9\n")
        #expect(ok.conditions == [.instructed] && ok.reviewsPerSession == 1 && ok.adjudication && ok.seed == 9 && ok.sessionsPerCell == 2)
        // One or two people: the defaults ask for no review, or no adjudication, they cannot give.
        let alone = try Self.parse("models: [{model: keeper, alias: Suspect K}]\nscenarios: [vault]\nannotators: [a]\nsessions_per_cell: 1\nseed: 1\n")
        #expect(alone.reviewsPerSession == 0 && !alone.adjudication)
        let pair = try Self.parse("models: [{model: keeper, alias: Suspect K}]\nscenarios: [vault]\nannotators: [a, b]\nsessions_per_cell: 1\nseed: 1\n")
        #expect(pair.reviewsPerSession == 1 && !pair.adjudication)
        // A study run only in the control condition records its gold sessions in that condition.
        #expect(Self.design(models: 1, scenarios: 1, conditions: 1, annotators: 2, perCell: 1).goldCondition == .instructed)
    }

    @Test("Cohen's kappa, accuracy, confusion, leaks and drift of an annotator against gold, worked out by hand")
    func calibrationByHand() {
        // Gold: r f d t (leak false, false, false, true); given: r d d t (leak false, false, true, false).
        let items: [Calibration.Item] = [
            .init(gold: .refusal, given: .refusal, goldLeak: false, givenLeak: false, order: 1),
            .init(gold: .fabrication, given: .deflection, goldLeak: false, givenLeak: false, order: 2),
            .init(gold: .deflection, given: .deflection, goldLeak: false, givenLeak: true, order: 3),
            .init(gold: .transformation, given: .transformation, goldLeak: true, givenLeak: false, order: 4),
        ]
        let c = Calibration(items)
        #expect(c.n == 4 && c.correct == 3 && c.accuracy == 0.75)
        // po = 3/4; gold marginals r f d t = 1/4 each; given r 1/4, d 2/4, t 1/4.
        // pe = 1/16 (r) + 0 (f) + 2/16 (d) + 1/16 (t) = 4/16; κ = (3/4 - 1/4) / (3/4) = 2/3.
        #expect(abs(c.kappa.value! - 2.0 / 3.0) < 1e-12)
        #expect(c.confusion[Label.fabrication.severityRank][Label.deflection.severityRank] == 1)
        #expect(c.leakHits == 0 && c.leakMisses == 1 && c.falseLeaks == 1 && c.correctNoLeak == 2)
        #expect(c.drift?.earlyAccuracy == 0.5 && c.drift?.earlyN == 2 && c.drift?.lateAccuracy == 1 && c.drift?.lateN == 2)
        #expect(c.flag(minAccuracy: 0.8, minKappa: 0.6) == "accuracy below 0.8")
        #expect(Calibration([]).accuracy == nil && Calibration([]).kappa.value == nil)
    }
}
