import Annotate
import Foundation

/// Draws a study's assignment from its design and seed: balanced (each annotator gets each
/// model × condition, and gold, within one of anyone else, and as many sessions give or take
/// one; reviews and adjudications evened out by chains of moves that keep the rules), random (ties and
/// orders are drawn from the seed), and never anyone reviewing or adjudicating their own
/// session. Planning again plans only what the design asks for beyond what is planned already.
public enum StudyPlanner {
    /// How many gold sessions go with `real` sessions at `share` of all sessions.
    public static func goldCount(real: Int, share: Double) -> Int {
        guard share > 0, share < 1 else { return 0 }
        return Int((Double(real) * share / (1 - share)).rounded())
    }

    /// The sessions each cell of the design asks for.
    public static func targets(_ d: StudyDesign) -> [StudyPlan.Cell: Int] {
        var out: [StudyPlan.Cell: Int] = [:]
        for m in d.models { for s in d.scenarios { for c in d.conditions {
            out[.init(model: m.model, scenario: s, condition: c)] = d.sessionsPerCell
        } } }
        if let g = d.gold {
            let real = out.values.reduce(0, +)
            let total = goldCount(real: real, share: g.share)
            // Spread over the scenarios: the first `total % k` scenarios one more.
            for (i, s) in d.scenarios.enumerated() {
                let n = total / d.scenarios.count + (i < total % d.scenarios.count ? 1 : 0)
                if n > 0 { out[.init(model: nil, scenario: s, condition: d.goldCondition)] = n }
            }
        }
        return out
    }

    /// The next round for `design` given the plan so far (nil: nothing more to plan).
    public static func nextRound(_ design: StudyDesign, existing: StudyPlan, planned: String) -> (StudyPlan.Round, [StudyPlan.Task])? {
        let round = (existing.rounds.last?.round ?? 0) + 1
        let seed = roundSeed(design.seed, round: round)
        var rng = SplitMix64(seed: seed)
        var have: [StudyPlan.Cell: Int] = [:]
        for t in existing.sessionTasks { if let c = t.cell { have[c, default: 0] += 1 } }

        // New sessions, grouped by what an annotator should get evenly: model × condition, and gold.
        var groups: [String: [StudyPlan.Cell]] = [:]
        for (cell, want) in targets(design).sorted(by: { $0.key < $1.key }) {
            let missing = want - (have[cell] ?? 0)
            guard missing > 0 else { continue }
            let group = cell.model.map { "\($0)|\(cell.condition.rawValue)" } ?? "gold"
            groups[group, default: []] += Array(repeating: cell, count: missing)
        }
        guard !groups.isEmpty else { return nil }

        var nextId = (existing.tasks.compactMap { Int($0.id.dropFirst()) }.max() ?? 0) + 1
        func newId() -> String { defer { nextId += 1 }; return String(format: "t%04d", nextId) }
        let people = design.annotators
        // Who interrogates: the people and any model interrogators, who only interrogate.
        let askers = people + design.interrogatorIds
        let isModel = Set(design.interrogatorIds)
        // Loads so far, so that a later round evens out what earlier ones left uneven.
        var sessionLoad: [String: Int] = [:], groupLoad: [String: [String: Int]] = [:], scenarioLoad: [String: [String: Int]] = [:]
        var reviewLoad: [String: Int] = [:], adjudicationLoad: [String: Int] = [:], orders: [String: Int] = [:]
        for t in existing.tasks where askers.contains(t.annotator) {
            orders[t.annotator] = max(orders[t.annotator] ?? 0, t.order)
            switch t.kind {
            case .session:
                sessionLoad[t.annotator, default: 0] += 1
                let g = t.isGold ? "gold" : "\(t.model ?? "")|\(t.condition?.rawValue ?? "")"
                groupLoad[t.annotator, default: [:]][g, default: 0] += 1
                scenarioLoad[t.annotator, default: [:]][t.scenario ?? "", default: 0] += 1
            case .review: reviewLoad[t.annotator, default: 0] += 1
            case .adjudication: adjudicationLoad[t.annotator, default: 0] += 1
            }
        }
        // The least loaded by `keys` (compared in order), ties drawn at random.
        func pick(from candidates: [String], by keys: (String) -> [Int]) -> String? {
            let shuffled = rng.shuffled(candidates)
            return shuffled.min { keys($0).lexicographicallyPrecedes(keys($1)) }
        }

        var sessions: [StudyPlan.Task] = []
        for group in rng.shuffled(groups.keys.sorted()) {
            for cell in rng.shuffled(groups[group]!) {
                // Gold sessions measure people: never a model's.
                let who = pick(from: cell.model == nil ? people : askers) { p in
                    [groupLoad[p]?[group] ?? 0, sessionLoad[p] ?? 0, scenarioLoad[p]?[cell.scenario] ?? 0]
                }!
                groupLoad[who, default: [:]][group, default: 0] += 1
                sessionLoad[who, default: 0] += 1
                scenarioLoad[who, default: [:]][cell.scenario, default: 0] += 1
                let isGold = cell.model == nil
                sessions.append(.init(id: "", round: round, kind: .session, annotator: who, order: 0,
                                      model: cell.model, alias: isGold ? design.gold!.alias : design.alias(of: cell.model!),
                                      scenario: cell.scenario, condition: cell.condition, gold: isGold,
                                      script: isGold ? design.gold!.scripts[cell.scenario] : nil, sessionTask: nil))
            }
        }
        // A later round fills each group on top of the earlier rounds' loads, which can leave
        // totals two apart: move new sessions from the busiest to the idlest person within a
        // group where that keeps the group within one.
        for _ in 0..<(sessions.count * askers.count) {
            let ordered = askers.sorted { (sessionLoad[$0] ?? 0, $0) < (sessionLoad[$1] ?? 0, $1) }
            guard let low = ordered.first, let high = ordered.last, (sessionLoad[high] ?? 0) - (sessionLoad[low] ?? 0) > 1 else { break }
            func group(_ t: StudyPlan.Task) -> String { t.isGold ? "gold" : "\(t.model ?? "")|\(t.condition?.rawValue ?? "")" }
            var moved = false
            search: for from in ordered.reversed() where (sessionLoad[from] ?? 0) - (sessionLoad[low] ?? 0) > 1 {
                for to in ordered where (sessionLoad[from] ?? 0) - (sessionLoad[to] ?? 0) > 1 {
                    guard let i = sessions.firstIndex(where: { t in
                        t.annotator == from && !(t.isGold && isModel.contains(to)) && (groupLoad[from]?[group(t)] ?? 0) > (groupLoad[to]?[group(t)] ?? 0)
                    }) else { continue }
                    let t = sessions[i], g = group(t)
                    sessions[i].annotator = to
                    groupLoad[from, default: [:]][g, default: 0] -= 1
                    groupLoad[to, default: [:]][g, default: 0] += 1
                    sessionLoad[from, default: 0] -= 1
                    sessionLoad[to, default: 0] += 1
                    scenarioLoad[from, default: [:]][t.scenario ?? "", default: 0] -= 1
                    scenarioLoad[to, default: [:]][t.scenario ?? "", default: 0] += 1
                    moved = true
                    break search
                }
            }
            if !moved { break }
        }
        // Each person's new sessions in a random order, after what they were given before.
        var tasks: [StudyPlan.Task] = []
        for p in askers {
            for var t in rng.shuffled(sessions.filter { $0.annotator == p }) {
                orders[p, default: 0] += 1
                t.order = orders[p]!
                t.id = newId()
                tasks.append(t)
            }
        }
        // Reviews by others, the least loaded first; then an adjudicator who is neither. Sessions
        // are taken one person at a time in turn, so that nobody's sessions come last, when
        // only they could take the reviews that are left.
        var reviews: [StudyPlan.Task] = [], adjudications: [StudyPlan.Task] = []
        let byPerson = askers.map { p in tasks.filter { $0.annotator == p } }
        var interleaved: [StudyPlan.Task] = []
        for i in 0..<(byPerson.map(\.count).max() ?? 0) {
            for p in rng.shuffled(Array(askers.indices)) where i < byPerson[p].count { interleaved.append(byPerson[p][i]) }
        }
        for s in interleaved {
            var raters = [s.annotator]
            // Nobody tagged a model's session live: it gets one review more, so that it has as
            // many people's labels as a person's session (and can be disputed and settled).
            let wanted = design.reviewsPerSession + (isModel.contains(s.annotator) ? 1 : 0)
            for _ in 0..<wanted {
                guard let who = pick(from: people.filter { !raters.contains($0) }, by: { [reviewLoad[$0] ?? 0] }) else { break }
                raters.append(who)
                reviewLoad[who, default: 0] += 1
                reviews.append(.init(id: "", round: round, kind: .review, annotator: who, order: 0, sessionTask: s.id))
            }
            if design.adjudication, let who = pick(from: people.filter { !raters.contains($0) }, by: { [adjudicationLoad[$0] ?? 0] }) {
                adjudicationLoad[who, default: 0] += 1
                adjudications.append(.init(id: "", round: round, kind: .adjudication, annotator: who, order: 0, sessionTask: s.id))
            }
        }
        even(&reviews, load: &reviewLoad, among: people, sessions: tasks, others: adjudications)
        even(&adjudications, load: &adjudicationLoad, among: people, sessions: tasks, others: reviews)
        for batch in [reviews, adjudications] {
            for p in people {
                for var t in rng.shuffled(batch.filter { $0.annotator == p }) {
                    orders[p, default: 0] += 1
                    t.order = orders[p]!
                    t.id = newId()
                    tasks.append(t)
                }
            }
        }
        let r = StudyPlan.Round(round: round, seed: seed, studySha256: design.sha256, planned: planned, tasks: tasks.count)
        return (r, tasks)
    }

    /// Evens out a batch of reviews (or adjudications): while someone carries two more than
    /// someone else, finds a chain of moves (a task from A to B, one of B's to C, …) from a most
    /// loaded person to a lighter one, each move keeping every rule (not their own session, not
    /// twice on one session, not both reviewer and adjudicator of it). Each chain narrows the
    /// spread, so this ends; it stops when no chain exists.
    private static func even(_ batch: inout [StudyPlan.Task], load: inout [String: Int], among people: [String],
                             sessions: [StudyPlan.Task], others: [StudyPlan.Task]) {
        var occupied = Set<String>()
        for t in sessions { occupied.insert("\(t.annotator)|\(t.id)") }
        for t in batch + others { occupied.insert("\(t.annotator)|\(t.sessionTask!)") }
        while true {
            let top = people.map { load[$0] ?? 0 }.max() ?? 0, bottom = people.map { load[$0] ?? 0 }.min() ?? 0
            guard top - bottom > 1 else { return }
            var path: [(task: Int, to: String)]?
            search: for start in people where load[start] ?? 0 == top {
                var previous: [String: (from: String, task: Int)] = [:]
                var queue = [start], seen: Set<String> = [start]
                while !queue.isEmpty {
                    let a = queue.removeFirst()
                    for (i, t) in batch.enumerated() where t.annotator == a {
                        for b in people where !seen.contains(b) && !occupied.contains("\(b)|\(t.sessionTask!)") {
                            previous[b] = (a, i)
                            seen.insert(b)
                            if load[b] ?? 0 <= top - 2 {
                                var steps: [(task: Int, to: String)] = []
                                var at = b
                                while let p = previous[at] { steps.append((p.task, at)); at = p.from }
                                path = steps
                                break search
                            }
                            queue.append(b)
                        }
                    }
                }
            }
            guard let path else { return }
            for step in path {
                let t = batch[step.task]
                occupied.remove("\(t.annotator)|\(t.sessionTask!)")
                load[t.annotator, default: 0] -= 1
                batch[step.task].annotator = step.to
                occupied.insert("\(step.to)|\(t.sessionTask!)")
                load[step.to, default: 0] += 1
            }
        }
    }

    /// Round 1 uses the study's seed; later rounds a seed drawn from it and the round's number,
    /// so that each is reproducible on its own.
    public static func roundSeed(_ seed: UInt64, round: Int) -> UInt64 {
        guard round > 1 else { return seed }
        var r = SplitMix64(seed: seed ^ (UInt64(round) &* 0x9E37_79B9_7F4A_7C15))
        return r.next()
    }
}

/// The plan's draws: Annotate's SplitMix64 (the bootstrap's generator) and its index, with a
/// Fisher–Yates shuffle written out here, so that a seed gives the same plan on every machine
/// and every version of Swift (the standard library's shuffle may change).
extension SplitMix64 {
    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var a = items
        var i = a.count - 1
        while i > 0 {
            a.swapAt(i, index(below: i + 1))
            i -= 1
        }
        return a
    }
}
