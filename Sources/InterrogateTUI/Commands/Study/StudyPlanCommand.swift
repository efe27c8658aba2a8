import ArgumentParser
import Foundation
import Sessions

struct StudyPlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Draw the study's assignment from its seed and append it to studies/NAME/plan.jsonl.",
        discussion: """
        Every annotator gets every model and condition (and the gold sessions) as evenly as the \
        numbers allow, in a random order; nobody reviews or adjudicates their own session. \
        Planning again plans only what study.yaml asks for beyond the plan so far (more sessions \
        per cell, a new model or scenario), as a new round with its own seed; nothing planned is \
        rewritten. --dry-run prints the round without writing it.
        """
    )

    @OptionGroup var options: StudyOptions
    @Flag(help: "Print what would be planned, write nothing.") var dryRun = false

    mutating func run() async throws {
        let work = try await options.team.begin(folders: [options.studies], writes: true, study: options.name)
        if let work { options.studies = work.studiesRoot }
        try await TeamStoreWork.around(work) { [self] in try await perform() }
    }

    func perform() async throws {
        let design = try options.design(checkModels: true)
        do {
            try StudyPlan.locked(design.planFile) { try plan(design) }
        } catch let e as StudyError {
            printError(e.description)
            throw ExitCode.failure
        }
    }

    /// Reads the plan and appends the next round, under the plan's lock.
    private func plan(_ design: StudyDesign) throws {
        let plan = try options.plan(design)
        let planned = TranscriptCoding.formatTimestamp(Date())
        guard let (round, tasks) = StudyPlanner.nextRound(design, existing: plan, planned: planned) else {
            print("The plan of \(design.name) already covers study.yaml: \(plan.tasks.count) task(s) in \(plan.rounds.count) round(s); nothing added.")
            return
        }
        if let last = plan.rounds.last, last.studySha256 != design.sha256 {
            print("study.yaml changed since round \(last.round); round \(round.round) plans what it now asks for beyond the plan so far.")
        }
        if !dryRun {
            do { try StudyPlan.append(round, tasks: tasks, to: design.planFile) } catch {
                printError(error.description)
                throw ExitCode.failure
            }
        }
        let sessions = tasks.filter { $0.kind == .session }
        let gold = sessions.filter(\.isGold).count
        print("\(dryRun ? "Would plan" : "Planned") round \(round.round) of \(design.name) (seed \(round.seed.map(String.init) ?? "withheld")): \(sessions.count) session(s)"
              + (gold > 0 ? " (\(gold) gold)" : "") + ", \(tasks.count { $0.kind == .review }) blind review(s), "
              + "\(tasks.count { $0.kind == .adjudication }) adjudication(s) for \(design.annotators.count) annotator(s)"
              + (design.interrogators.isEmpty ? "." : " and \(design.interrogators.count) model interrogator(s) (their sessions: `interrogate auto --study \(design.name)`)."))
        // Who got what: the balance, as the organiser sees it (models by name).
        let groups = design.models.flatMap { m in design.conditions.map { "\(m.model) \($0.rawValue)" } } + (gold > 0 ? ["gold"] : [])
        let all = plan.tasks + tasks
        let rows = (design.annotators + design.interrogatorIds).map { a -> [String] in
            let mine = all.filter { $0.annotator == a }
            let counts = groups.map { g in
                String(mine.count { $0.kind == .session && ($0.isGold ? "gold" : "\($0.model ?? "") \($0.condition?.rawValue ?? "")") == g })
            }
            return [a] + counts + [String(mine.count { $0.kind == .review }), String(mine.count { $0.kind == .adjudication })]
        }
        print(Table(header: ["ANNOTATOR"] + groups.map { $0.uppercased() } + ["REVIEWS", "ADJUDICATIONS"], rows: rows).render())
        if !dryRun { print("Written to \(design.planFile)") }
    }
}
