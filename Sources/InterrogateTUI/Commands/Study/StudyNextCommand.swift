import Annotate
import ArgumentParser
import Foundation
import Sessions

struct StudyNextCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "Open your next task of the study: a live session, a blind review or an adjudication.",
        discussion: """
        A task you have started comes first; otherwise your first task, in the planned order, that \
        can start (a review waits for its session to be finished, an adjudication for its reviews). \
        A live session is done when you quit it (Ctrl-Q) with every reply tagged; quit earlier and \
        `next` reopens it. The model is shown only by its alias; its name, provider, parameters and \
        the condition are recorded in the transcript, never drawn.
        """
    )

    @OptionGroup var options: StudyOptions
    @Option(help: "Your annotator id, as study.yaml lists it.") var annotator: String

    func validate() throws {
        guard TranscriptStore.isValidRaterId(annotator) else { throw ValidationError("--annotator may use letters, digits, '.', '_' and '-' only") }
    }

    mutating func run() async throws {
        let work = try await options.team.begin(folders: [options.studies], writes: true, study: options.name)
        if let work { options.studies = work.studiesRoot }
        try await TeamStoreWork.around(work) { [self] in try await perform() }
    }

    func perform() async throws {
        let (design, plan) = try options.plannedStudy(participant: true)
        if let owner = plan.participant, owner != annotator {
            // Everyone else's tasks in this copy are withheld: they cannot be done from it.
            printError("this copy of study \(design.name) is \(owner)'s (a team store gives each person their own tasks): --annotator must be \(owner)")
            throw invalidInputExit
        }
        guard design.annotators.contains(annotator) else {
            printError("\(annotator) is not an annotator of study \(design.name) (annotators: \(design.annotators.joined(separator: ", ")))")
            throw invalidInputExit
        }
        let status = StudyOptions.status(design, plan)
        guard let next = status.next(for: annotator) else {
            let mine = status.tasks(of: annotator)
            let done = mine.count { $0.state == .done }
            if let waiting = mine.first(where: { if case .waiting = $0.state { return true } else { return false } }), case .waiting(let what) = waiting.state {
                print("Nothing for \(annotator) to do yet in \(design.name): your next task, \(waiting.task.kind.rawValue) \(waiting.task.id), waits for \(what). \(done) of \(mine.count) of your tasks done.")
            } else {
                print("\(annotator) has no tasks left in study \(design.name): all \(mine.count) done. Thank you.")
            }
            return
        }
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            printError("study next needs a terminal (stdin and stdout must be a TTY)")
            throw invalidInputExit
        }
        let task = next.task
        let mine = status.tasks(of: annotator)
        let place = "task \(task.id), \(mine.firstIndex { $0.task.id == task.id }! + 1) of \(mine.count) for \(annotator)"
        let store = TranscriptStore(root: design.transcripts)
        switch task.kind {
        case .session:
            print("Interrogating \(task.alias ?? "the suspect") on \(task.scenario ?? "?") (\(place))\(next.state == .inProgress ? ", continued" : "")")
            let prepared: Prepared
            do { prepared = try await session(task, facts: next.session, design: design, store: store) } catch let e as RunCommand.CommandFailure {
                printError(e.message)
                throw invalidInputExit
            }
            try await RunCommand.show(prepared: prepared, start: nil, starter: SessionStarter(store: store))
        case .review:
            print("Blind review (\(place))")
            do {
                let checked = try ReviewCommand.check(folder: next.session!.folder, rater: annotator, force: false)
                try await ReviewCommand.review(try ReviewCommand.open(checked, rater: annotator), rater: annotator)
            } catch let e as RunCommand.CommandFailure {
                printError(e.message)
                throw invalidInputExit
            }
        case .adjudication:
            print("Adjudication (\(place))")
            try await AdjudicateCommand.adjudicate(folder: next.session!.folder, rater: annotator)
        }
        let after = StudyStatus.read(design, plan: plan).tasks(of: annotator)
        let state = after.first { $0.task.id == task.id }?.state ?? .due
        let done = after.count { $0.state == .done }
        print("Task \(task.id) is \(state.word); \(done) of \(after.count) of your tasks done."
              + (done < after.count ? " `interrogate study next \(design.name) --annotator \(annotator)` opens the next." : ""))
    }

    /// The task's session: continued if it was started, else created with the study record
    /// (and for gold, the script's labels) in its header.
    private func session(_ task: StudyPlan.Task, facts: StudyStatus.SessionFacts?, design: StudyDesign, store: TranscriptStore) async throws -> Prepared {
        let alias = task.alias ?? "the suspect"
        // Refusals that name no model (the session is open elsewhere, a scenario is missing) are told as they are.
        let checked = try facts.map { try RunCommand.resumable($0.folder, annotator: annotator, store: store) }
        let scenario = try RunCommand.findScenario(task.scenario ?? "", in: ScenarioLocation.resolve(option: options.scenarios))
        do {
            // Continued through the model of your configuration that matches the transcript's
            // provider and address, as `run --resume` does; a new session through the study's name
            // for it, which your configuration must define.
            if let checked { return try await RunCommand.resumeSession(checked, model: nil) }
            var modelName = task.model ?? ""
            var gold: [SessionHeader.StudyRecord.GoldReply]?
            if task.isGold {
                // study.yaml's script, else the one the plan recorded (all a participant's copy has).
                guard let path = design.gold?.scripts[scenario.id] ?? task.script else {
                    throw RunCommand.CommandFailure(message: "neither study.yaml nor the plan names a gold script for scenario \(scenario.id)")
                }
                let script = try ScriptedModel.load(path: path)
                gold = script.replies.map { .init(text: $0.text, labels: $0.goldLabels ?? LabelSet(), leak: $0.goldLeak ?? false) }
                modelName = "scripted:\(path)"
            }
            let record = SessionHeader.StudyRecord(name: design.name, task: task.id, alias: alias, model: task.isGold ? nil : task.model, gold: gold)
            let choice = StartState.Choice(scenario: scenario, model: modelName, condition: task.condition ?? .instructed, annotator: annotator)
            return try await SessionStarter(store: store).start(choice, study: record)
        } catch let e as RunCommand.CommandFailure {
            // The message may name the model or its address: the interrogator sees a summary.
            SessionEffects.log(e.message, to: StudyLog.path)
            throw RunCommand.CommandFailure(message: "\(alias) could not be started; the details (which name the model) are in \(StudyLog.path). Tell the study's organiser.")
        } catch {
            SessionEffects.log(String(describing: error), to: StudyLog.path)
            throw RunCommand.CommandFailure(message: "\(alias) could not be started; the details are in \(StudyLog.path). Tell the study's organiser.")
        }
    }
}
