import Annotate
import ArgumentParser
import Foundation
import Sessions

struct StudyStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Where the study stands: each cell and each person's tasks done, in progress and due, and how wide each model's interval still is.",
        discussion: """
        Worked out from the transcripts on disk. A live session is done when it was closed with \
        every reply tagged; a review when every reply has the reviewer's labels; an adjudication \
        when every disputed turn is decided (with no dispute it is done as soon as its reviews are). \
        The interval is the 95% bootstrap interval of the deception rate over the model's finished \
        sessions (gold excluded), as `report` computes it.
        """
    )

    @OptionGroup var options: StudyOptions
    @Option(help: "Output format: text or json.") var format: OutputFormat = .text

    struct Cell: Encodable { var cell: String; var planned: Int; var wanted: Int; var done: Int; var inProgress: Int; var due: Int }
    struct Person: Encodable { var annotator: String; var done: Int; var inProgress: Int; var due: Int; var waiting: Int; var total: Int }
    struct Width: Encodable { var model: String; var sessions: Int; var deceptionRate: Double?; var low: Double?; var high: Double?; var width: Double? }
    struct Output: Encodable {
        var study: String
        var tasks: Int
        var done: Int
        var percentDone: Double
        var sessionsStillNeeded: Int
        var unplannedSessions: Int
        var cells: [Cell]
        var people: [Person]
        var intervals: [Width]
        var notCounted: [LeftOut]
    }

    mutating func run() async throws {
        let work = try await options.team.begin(folders: [options.studies], writes: false, study: options.name)
        if let work { options.studies = work.studiesRoot }
        try await TeamStoreWork.around(work) { [self] in try await perform() }
    }

    func perform() async throws {
        let (design, plan) = try options.plannedStudy()
        let status = StudyOptions.status(design, plan)
        let out = Self.output(status)
        switch format {
        case .json: printJSON(out)
        case .text:
            print("Study \(design.name): \(out.done) of \(out.tasks) tasks done (\(Int(out.percentDone.rounded(.down)))%); \(out.sessionsStillNeeded) session(s) still needed"
                  + (out.unplannedSessions > 0 ? ", of which \(out.unplannedSessions) study.yaml asks for but the plan does not have yet (run `study plan \(design.name)`)" : "") + ".")
            print("")
            print(Table(header: ["CELL", "PLANNED", "DONE", "IN PROGRESS", "DUE"],
                        rows: out.cells.map { [$0.cell, $0.planned == $0.wanted ? String($0.planned) : "\($0.planned) of \($0.wanted)", String($0.done), String($0.inProgress), String($0.due)] }).render())
            print("")
            print(Table(header: ["ANNOTATOR", "DONE", "IN PROGRESS", "DUE", "WAITING", "TASKS"],
                        rows: out.people.map { [$0.annotator, String($0.done), String($0.inProgress), String($0.due), String($0.waiting), String($0.total)] }).render())
            print("")
            if out.intervals.isEmpty {
                print("No model has a finished session yet: no deception-rate interval to show.")
                return
            }
            print(Table(header: ["MODEL", "SESSIONS", "DECEPTION RATE", "95% CI", "WIDTH"], rows: out.intervals.map { w in
                [w.model, String(w.sessions), ReportText.fmt(w.deceptionRate), w.low.map { "[\(ReportText.fmt($0)), \(ReportText.fmt(w.high))]" } ?? "—",
                 ReportText.fmt(w.width)]
            }).render())
        }
    }

    static func output(_ status: StudyStatus) -> Output {
        let design = status.design
        let targets = StudyPlanner.targets(design)
        var cells: [StudyPlan.Cell: Cell] = [:]
        func name(_ c: StudyPlan.Cell) -> String { c.model.map { "\($0) (\(design.alias(of: $0) ?? "?")) · \(c.scenario) · \(c.condition.rawValue)" } ?? "gold (\(design.gold?.alias ?? "?")) · \(c.scenario)" }
        for (c, want) in targets { cells[c] = Cell(cell: name(c), planned: 0, wanted: want, done: 0, inProgress: 0, due: 0) }
        for t in status.tasks where t.task.kind == .session {
            guard let c = t.task.cell else { continue }
            var row = cells[c] ?? Cell(cell: name(c), planned: 0, wanted: 0, done: 0, inProgress: 0, due: 0)
            row.planned += 1
            switch t.state {
            case .done: row.done += 1
            case .inProgress: row.inProgress += 1
            case .due, .waiting: row.due += 1
            }
            cells[c] = row
        }
        let people = (design.annotators + design.interrogatorIds).map { a in
            let mine = status.tasks(of: a)
            return Person(annotator: a, done: mine.count { $0.state == .done }, inProgress: mine.count { $0.state == .inProgress },
                          due: mine.count { $0.state == .due }, waiting: mine.count { if case .waiting = $0.state { true } else { false } }, total: mine.count)
        }
        // Each model's deception rate over its finished sessions, as `report` computes it.
        let finished = status.doneSessions.filter { !$0.task.isGold }
        var intervals: [Width] = []
        if !finished.isEmpty {
            let report = StudyReport.build(paths: finished.map(\.session.folder), by: [.model], configuration: (try? ScoringFile.load(nil))?.0 ?? .default,
                                           configurationSource: "", resamples: 2000, seed: 20_261_128)
            for g in report.groups {
                let f = g.scores[.deceptionRate]
                // One session has no interval to speak of (report shows none either).
                let (low, high) = (f?.n ?? 0) > 1 ? (f?.bootstrapLow, f?.bootstrapHigh) : (nil, nil)
                let width = high.flatMap { h in low.map { h - $0 } }
                intervals.append(Width(model: g.key[0], sessions: g.transcripts, deceptionRate: f?.mean, low: low, high: high, width: width))
            }
        }
        let done = status.tasks.count { $0.state == .done }
        let sessionTasks = status.tasks.filter { $0.task.kind == .session }
        let planned = targets.reduce(0) { acc, kv in acc + min(kv.value, sessionTasks.count { $0.task.cell == kv.key }) }
        let unplanned = targets.values.reduce(0, +) - planned
        return Output(study: design.name, tasks: status.tasks.count, done: done,
                      percentDone: status.tasks.isEmpty ? 0 : 100 * Double(done) / Double(status.tasks.count),
                      sessionsStillNeeded: sessionTasks.count { $0.state != .done } + unplanned, unplannedSessions: unplanned,
                      cells: cells.keys.sorted().map { cells[$0]! }, people: people, intervals: intervals, notCounted: status.leftOut)
    }
}
