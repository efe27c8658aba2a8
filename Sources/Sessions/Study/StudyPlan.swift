import Foundation

/// A study's assignment: who does which task in which order. Kept append-only in
/// `studies/NAME/plan.jsonl`, one planning round at a time: a `round` line with its seed, the
/// round's tasks, and a `round_end` line that says how many there were. A round without its
/// end (a crash while planning) is not used, and the lines stay where they are.
public struct StudyPlan: Sendable, Equatable {
    public static let fileName = "plan.jsonl"

    public struct Task: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable { case session, review, adjudication }
        public var id: String
        public var round: Int
        public var kind: Kind
        public var annotator: String
        /// The task's place in its annotator's order, from 1 (randomised when planned).
        public var order: Int
        // A session task: what is interrogated.
        public var model: String?
        public var alias: String?
        public var scenario: String?
        public var condition: Scenario.Condition?
        public var gold: Bool?
        /// A gold session task: the script its scripted suspect plays (a path on the
        /// participant's machine, as study.yaml names it when planned).
        public var script: String?
        /// A review or adjudication task: the session task it is about.
        public var sessionTask: String?
        /// Another person's task in a participant's copy of the plan from a team store: who does
        /// what about which session, without its model, alias, condition or gold.
        public var withheld: Bool?

        public var isGold: Bool { gold ?? false }
        public var isWithheld: Bool { withheld ?? false }
        /// The cell a session task fills: model (or gold), scenario, condition.
        public var cell: Cell? {
            guard kind == .session, !isWithheld, let scenario, let condition else { return nil }
            return Cell(model: isGold ? nil : model, scenario: scenario, condition: condition)
        }
    }

    /// A model (nil: gold) × scenario × condition.
    public struct Cell: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var model: String?
        public var scenario: String
        public var condition: Scenario.Condition
        public static func < (a: Cell, b: Cell) -> Bool {
            (a.model ?? "~gold", a.scenario, a.condition.rawValue) < (b.model ?? "~gold", b.scenario, b.condition.rawValue)
        }
        public var description: String { "\(model ?? "gold") · \(scenario) · \(condition.rawValue)" }
    }

    public struct Round: Sendable, Equatable, Codable {
        public var round: Int
        /// The round's seed and the digest of the study.yaml it was drawn from; nil only in a
        /// participant's copy, which a team store gives without them (with them, the planner
        /// could be run again to tell every session's model).
        public var seed: UInt64?
        public var studySha256: String?
        public var planned: String
        public var tasks: Int
    }

    public var rounds: [Round]
    public var tasks: [Task]
    /// Lines that were not used, with why (a torn or unfinished round): told, never dropped silently.
    public var notUsed: [String]
    /// Whose copy of the plan this is, when it is a participant's from a team store (its first
    /// line says so): their own tasks whole, everyone else's withheld. Never pushed.
    public var participant: String?

    public static let empty = StudyPlan(rounds: [], tasks: [], notUsed: [])
    init(rounds: [Round], tasks: [Task], notUsed: [String], participant: String? = nil) {
        self.rounds = rounds
        self.tasks = tasks
        self.notUsed = notUsed
        self.participant = participant
    }

    /// The first line of a participant's copy of a plan.
    public static let participantEditionType = "participant_edition"
    public static func participantEditionLine(annotator: String) -> String {
        let json = (try? JSONSerialization.data(withJSONObject: ["type": participantEditionType, "annotator": annotator], options: [.sortedKeys])) ?? Data()
        return String(decoding: json, as: UTF8.self)
    }

    /// The participant whose copy the plan at `path` is, or nil (an organiser's plan, or no file).
    public static func participantEdition(path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 4096)) ?? Data()
        let first = head.prefix { $0 != UInt8(ascii: "\n") }
        struct Edition: Decodable { var type: String; var annotator: String }
        guard let e = try? JSONDecoder().decode(Edition.self, from: first), e.type == participantEditionType else { return nil }
        return e.annotator
    }

    public func task(_ id: String) -> Task? { tasks.first { $0.id == id } }
    public var sessionTasks: [Task] { tasks.filter { $0.kind == .session } }
    public func tasks(of annotator: String) -> [Task] { tasks.filter { $0.annotator == annotator }.sorted { $0.order < $1.order } }

    // MARK: Reading

    /// Reads the plan. A missing file is an empty plan; a round whose lines do not read is
    /// an error naming the line, since the tasks people were given cannot be known.
    public static func read(path: String) throws(StudyError) -> StudyPlan {
        guard FileManager.default.fileExists(atPath: path) else { return .empty }
        guard let data = FileManager.default.contents(atPath: path) else { throw StudyError("cannot read \(path)") }
        var plan = StudyPlan.empty
        var pending: (round: Round, line: Int, tasks: [Task])?
        // After a round is given up, its remaining lines are passed over until the next round.
        var skipping = false
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        func unfinished(_ p: (round: Round, line: Int, tasks: [Task]), _ why: String) {
            plan.notUsed.append("\(path):\(p.line): round \(p.round.round) (\(p.tasks.count) task(s)) \(why); its lines are kept and not used")
        }
        func giveUp(_ why: String, line number: Int) {
            if let p = pending { unfinished(p, why) } else if !skipping { plan.notUsed.append("\(path):\(number): \(why), kept and not used") }
            pending = nil
            skipping = true
        }
        for (i, raw) in lines.enumerated() {
            let number = i + 1
            if raw.isEmpty { continue }
            struct Line: Decodable { var type: String }
            guard let kind = try? decoder.decode(Line.self, from: Data(raw)).type else {
                let isLast = lines[(i + 1)...].allSatisfy(\.isEmpty)
                // A crash while a round was being written leaves its last line torn.
                giveUp(isLast ? "was cut off by a torn line \(number)" : "has a line that does not read (line \(number))", line: number)
                continue
            }
            switch kind {
            case participantEditionType:
                struct Edition: Decodable { var annotator: String }
                guard number == 1, let e = try? decoder.decode(Edition.self, from: Data(raw)) else {
                    plan.notUsed.append("\(path):\(number): a participant_edition line that is not the plan's first, kept and not used")
                    continue
                }
                plan.participant = e.annotator
            case "round":
                if let p = pending { unfinished(p, "has no round_end") }
                skipping = false
                pending = nil
                guard let round = try? decoder.decode(Round.self, from: Data(raw)),
                      plan.participant != nil || (round.seed != nil && round.studySha256 != nil) else {
                    giveUp("a round line that does not read", line: number)
                    continue
                }
                pending = (round, number, [])
            case "task":
                if skipping { continue }
                guard pending != nil else { plan.notUsed.append("\(path):\(number): a task outside a round, kept and not used"); continue }
                // Withheld tasks belong only in a participant's copy (as the team store reads plans too).
                guard let t = try? decoder.decode(Task.self, from: Data(raw)), t.condition != .withheld, t.withheld == nil || plan.participant != nil else { giveUp("has a task this version cannot read (line \(number))", line: number); continue }
                pending!.tasks.append(t)
            case "round_end":
                if skipping { skipping = false; continue }
                struct End: Decodable { var round: Int; var tasks: Int }
                guard let p = pending else { plan.notUsed.append("\(path):\(number): a round_end outside a round, kept and not used"); continue }
                guard let end = try? decoder.decode(End.self, from: Data(raw)) else { giveUp("has a round_end that does not read (line \(number))", line: number); continue }
                // A finished round that does not add up was changed by hand: the tasks people
                // were given cannot be known, so the plan is refused rather than guessed.
                guard p.round.round == end.round, p.tasks.count == end.tasks, p.round.tasks == end.tasks else {
                    throw StudyError("\(path):\(number): round_end does not match the round it ends (\(p.tasks.count) task line(s) for \(end.tasks)); the plan was changed by hand")
                }
                try plan.accept(p.round, p.tasks, path: path, line: p.line)
                pending = nil
            default:
                plan.notUsed.append("\(path):\(number): a line of type '\(kind)' this version does not know, kept and not used")
            }
        }
        if let p = pending { unfinished(p, "has no round_end (planning was interrupted)") }
        return plan
    }

    private mutating func accept(_ round: Round, _ tasks: [Task], path: String, line: Int) throws(StudyError) {
        guard round.round == (rounds.last?.round ?? 0) + 1 else { throw StudyError("\(path):\(line): round \(round.round) follows round \(rounds.last?.round ?? 0)") }
        var ids = Set(self.tasks.map(\.id))
        for t in tasks {
            guard ids.insert(t.id).inserted else { throw StudyError("\(path):\(line): task \(t.id) is planned twice") }
            guard t.round == round.round else { throw StudyError("\(path):\(line): task \(t.id) says round \(t.round) inside round \(round.round)") }
            switch t.kind {
            case .session:
                guard t.isWithheld || (t.scenario != nil && t.condition != nil && t.alias != nil && (t.isGold || t.model != nil)) else {
                    throw StudyError("\(path):\(line): session task \(t.id) lacks its model, alias, scenario or condition")
                }
            case .review, .adjudication:
                guard let s = t.sessionTask, ids.contains(s) else { throw StudyError("\(path):\(line): task \(t.id) is about a session task that is not planned") }
            }
        }
        rounds.append(round)
        self.tasks += tasks
    }

    // MARK: Writing

    /// Runs `body` holding an exclusive lock on the plan (a `.lock` file beside it), so that two
    /// `study plan` at once cannot both append the same round.
    public static func locked<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StudyError("cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw StudyError("cannot lock \(lockPath): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// Appends a round (its tasks and its end) in one write, fsync'd with its folder. A plan
    /// whose last line was torn gets a line break first, so the torn bytes stay a line of
    /// their own.
    public static func append(_ round: Round, tasks: [Task], to path: String) throws(StudyError) {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func line(_ type: String, _ value: some Encodable) throws -> Data {
            var object = try JSONSerialization.jsonObject(with: encoder.encode(value)) as! [String: Any]
            object["type"] = type
            var d = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            d.append(UInt8(ascii: "\n"))
            return d
        }
        var bytes = Data()
        do {
            bytes.append(try line("round", round))
            for t in tasks { bytes.append(try line("task", t)) }
            struct End: Encodable { var round: Int; var tasks: Int }
            bytes.append(try line("round_end", End(round: round.round, tasks: tasks.count)))
        } catch {
            throw StudyError("cannot encode the plan: \(error)")
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StudyError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, st.st_size > 0 {
            let r = open(path, O_RDONLY | O_CLOEXEC)
            var last: UInt8 = 0
            if r >= 0 { _ = pread(r, &last, 1, st.st_size - 1); close(r) }
            if last != UInt8(ascii: "\n") { bytes.insert(UInt8(ascii: "\n"), at: 0) }
        }
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        guard ok, fsync(fd) == 0 else { throw StudyError("cannot write \(path): \(String(cString: strerror(errno)))") }
        let dir = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_CLOEXEC)
        if dir >= 0 { _ = fsync(dir); close(dir) }
    }
}

/// A study that cannot be used as it is, with what to do about it.
public struct StudyError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
