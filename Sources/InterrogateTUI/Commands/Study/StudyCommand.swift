import ArgumentParser
import Foundation
import Sessions

/// `interrogate study`: a named design, its plan, each person's next task, where it stands,
/// and how good the annotators are on gold sessions.
struct StudyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "Plan and run a blinded study: models shown by alias, balanced assignment, gold calibration.",
        discussion: """
        A study is a folder studies/NAME with a study.yaml (see docs/studies.md). `plan` draws a \
        balanced, random assignment from its seed into studies/NAME/plan.jsonl (append-only); \
        `next` opens a person's next task (a live session, a blind review or an adjudication) \
        showing the model only by its alias; `status` says what is done, in progress and due; \
        `calibration` measures each annotator against the gold sessions' labels. The sessions \
        are written to studies/NAME/transcripts; `interrogate report --study NAME` reports them.
        """,
        subcommands: [StudyPlanCommand.self, StudyNextCommand.self, StudyStatusCommand.self, StudyCalibrationCommand.self]
    )
}

/// Where studies, scenarios and models are found.
struct StudyOptions: ParsableArguments {
    @Argument(help: "The study's name: its folder under the studies folder.") var name: String
    @Option(name: .long, help: ArgumentHelp("Folder of studies (default: $\(StudyDesign.environmentVariable) or ./studies).", valueName: "dir"))
    var studies: String?
    @OptionGroup var team: TeamStoreOption
    @Option(name: .long, help: ArgumentHelp("Folder of scenario YAML files (default: $\(ScenarioLocation.environmentVariable) or ./Scenarios).", valueName: "dir"))
    var scenarios: String?

    var studiesRoot: String { Self.root(studies) }

    /// The study's design, checked against this machine's scenarios and models; its errors
    /// are printed with their places.
    func design(checkModels: Bool = false, participant: Bool = false) throws -> StudyDesign {
        try Self.design(name: name, root: studiesRoot, scenarios: scenarios, checkModels: checkModels, participant: participant)
    }

    static func root(_ option: String?) -> String {
        option ?? ProcessInfo.processInfo.environment[StudyDesign.environmentVariable] ?? "studies"
    }

    /// The models are checked against this machine's configuration only when planning (the
    /// organiser's machine); a participant's problems with the study are logged, since they may
    /// name its models, and told as a summary.
    static func design(name: String, root studiesRoot: String, scenarios: String?, checkModels: Bool = false,
                       participant: Bool = false) throws -> StudyDesign {
        // A participant's copy of a study on a team store has their copy of the plan and no
        // study.yaml (it names the models).
        if let folder = try? StudyDesign.folder(named: name, root: studiesRoot),
           !FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(StudyDesign.fileName)),
           let who = StudyPlan.participantEdition(path: (folder as NSString).appendingPathComponent(StudyPlan.fileName)) {
            guard participant else {
                printError("this copy of study \(name) holds \(who)'s own tasks only: the team store gives the study's design, which names its models, to its organisers. `interrogate study next \(name) --annotator \(who) --store …` opens \(who)'s next task.")
                throw invalidInputExit
            }
            // Its problems are told when the plan is read for the command.
            let plan = (try? StudyPlan.read(path: (folder as NSString).appendingPathComponent(StudyPlan.fileName))) ?? .empty
            return StudyDesign.participantEdition(name: name, folder: folder, plan: plan)
        }
        let loaded = ScenarioLoader.loadDirectory(ScenarioLocation.resolve(option: scenarios))
        var catalog: ModelCatalog?
        if checkModels {
            do { catalog = try ModelCatalog.load() } catch {
                printError("the model configuration does not read: \(error)")
                throw invalidInputExit
            }
        }
        do {
            return try StudyDesign.load(name: name, root: studiesRoot, context: .init(catalog: catalog, scenarios: loaded.scenarios))
        } catch {
            if participant {
                SessionEffects.log(error.description, to: StudyLog.path)
                printError("study \(name) cannot be used on this machine; the details (which may name its models) are in \(StudyLog.path). Tell the study's organiser.")
            } else {
                printError(error.description, prefix: false)
            }
            throw invalidInputExit
        }
    }

    /// The plan so far; lines not used (an interrupted round) are told on stderr.
    func plan(_ design: StudyDesign) throws -> StudyPlan { try Self.plan(design) }

    static func plan(_ design: StudyDesign) throws -> StudyPlan {
        do {
            let plan = try StudyPlan.read(path: design.planFile)
            for n in plan.notUsed { printError("note: \(n)") }
            return plan
        } catch {
            printError("\(error.description); the plan is left as it is")
            throw invalidInputExit
        }
    }

    /// The plan, which must have tasks.
    func plannedStudy(participant: Bool = false) throws -> (StudyDesign, StudyPlan) {
        let d = try design(participant: participant)
        let p = try plan(d)
        guard !p.tasks.isEmpty else {
            printError("study \(d.name) has no plan yet: run `interrogate study plan \(d.name)` first")
            throw invalidInputExit
        }
        return (d, p)
    }

    static func status(_ design: StudyDesign, _ plan: StudyPlan) -> StudyStatus {
        let status = StudyStatus.read(design, plan: plan)
        for l in status.leftOut { printError("not counted: \(l)") }
        return status
    }
}
