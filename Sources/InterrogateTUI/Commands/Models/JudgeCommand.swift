import Annotate
import ArgumentParser
import Foundation
import Sessions

/// `interrogate judge`: a model labels every model turn of the named sessions, blind, with the
/// rubric kept in the repository, as rater `judge:NAME` (one review file per session).
struct JudgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge",
        abstract: "Label every model turn with a model judge, blind, as rater judge:NAME.",
        discussion: """
        The judge sees each session's conversation and the scenario's secret, never anyone's \
        labels, and answers with labels, a leak decision and a rationale in JSON, as the rubric \
        asks (default \(JudgeRubric.defaultPath); its version and sha256 are recorded). Its labels \
        go to reviews/judge:NAME.jsonl beside each session, each with the judge's reply as it came. \
        A reply that does not read is asked again (--attempts), then recorded as a failure, never \
        as a guessed label; judging again skips the turns already labelled and tries failed ones \
        again. --samples K asks the same judge K times at a temperature above 0, as K raters \
        judge:NAME.1 … judge:NAME.K, so that a model's own consistency can be measured.
        """
    )

    @OptionGroup var location: LocationOptions
    @OptionGroup var team: TeamStoreOption
    @Argument(help: "Sessions or folders of sessions (default: the sessions directly in the transcripts folder).") var paths: [String] = []
    @Option(name: .long, help: ArgumentHelp("The judge model: a name from `interrogate models list`.", valueName: "model")) var judge: String
    @Option(name: .customLong("as"), help: ArgumentHelp("The judge's rater name (default: the model's name): its labels are rater judge:NAME.", valueName: "name")) var raterName: String?
    @Option(help: ArgumentHelp("The rubric file (default: \(JudgeRubric.defaultPath), from here or the interrogate folder).", valueName: "file")) var rubric: String?
    @Option(help: "Ask the same judge this many times, as that many raters (needs a temperature above 0).") var samples: Int = 1
    @Option(help: "The judge's temperature (default: its configuration's).") var temperature: Double?
    @Option(help: "How many times a turn is asked before it is recorded as failed.") var attempts: Int = 3
    @Option(help: "Sessions judged at once.") var concurrency: Int = 1

    func validate() throws {
        guard (1...20).contains(samples) else { throw ValidationError("--samples must be 1 to 20") }
        guard (1...10).contains(attempts) else { throw ValidationError("--attempts must be 1 to 10") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 64") }
        if let t = temperature, !(t >= 0 && t <= 2) { throw ValidationError("--temperature must be between 0 and 2") }
        if let raterName, !TranscriptStore.isValidRaterId(raterName) {
            throw ValidationError("--as may use letters, digits, '.', '_' and '-' only")
        }
    }

    mutating func run() async throws {
        let work = try await team.begin(folders: [location.transcripts] + paths.map { Optional($0) }, writes: true)
        if let work {
            location.transcripts = work.transcriptsRoot
        }
        try await TeamStoreWork.around(work) { [self] in try await perform() }
    }

    func perform() async throws {
        let rubric: JudgeRubric
        do { rubric = try JudgeRubric.load(path: self.rubric ?? PromptTemplate.shipped(JudgeRubric.defaultPath)) } catch {
            printError(error.description)
            throw invalidInputExit
        }
        var entry = try ModelCatalog.load().entry(named: judge)
        let name = raterName ?? entry.name
        guard TranscriptStore.isValidRaterId(name) else {
            throw ValidationError("the judge's name '\(name)' cannot be a rater id; name it with --as NAME")
        }
        if let temperature { entry.parameters.temperature = temperature }
        if samples > 1, (entry.parameters.temperature ?? 1) <= 0 {
            throw ValidationError("--samples \(samples) at temperature 0 would be \(samples) copies of one rater; give --temperature above 0")
        }
        let (folders, leftOut) = StudyReader.sessionFolders(under: paths.isEmpty ? location.store.defaultPaths : paths)
        var failedAny = LeftOutNotice.print(leftOut, counted: folders.count, verb: "judged")
        guard !folders.isEmpty else {
            print("No sessions to judge.")
            if failedAny { throw invalidInputExit }
            return
        }
        let server = entry.provider == .local ? LocalModelServer.Installation.locate().map { LocalModelServer(installation: $0) } : nil
        var judges: [ModelJudge] = []
        for k in 1...samples {
            var e = entry
            // Each sample its own seed: the same seed would draw the same labels.
            if samples > 1, let seed = e.parameters.seed { e.parameters.seed = seed + k - 1 }
            let model = try await ModelFactory.make(e, localServer: server)
            judges.append(ModelJudge(name: name, model: model, rubric: rubric, sample: samples > 1 ? k : nil, attempts: attempts))
        }
        do {
            for j in judges { try await j.model.prepare() }
        } catch {
            for j in judges { await j.model.shutdown() }
            throw ValidationError("the judge model could not be started: \(error)")
        }
        let work = folders.flatMap { f in judges.map { (f, $0) } }
        let progress = ProgressLine.onTerminal("sessions", verb: "judged")
        progress?.start(total: work.count)
        var outcomes: [(rater: String, outcome: ModelJudge.Outcome)] = []
        let task = Task { () -> [(String, ModelJudge.Outcome)] in
            var collected: [(String, ModelJudge.Outcome)] = []
            await forEach(work, limit: concurrency, { item in (item.1.rater, await item.1.judge(folder: item.0)) }) { result in
                collected.append(result)
                progress?.advance(to: collected.count)
            }
            return collected
        }
        let interruption = Interruption { task.cancel() }
        outcomes = await task.value.map { (rater: $0.0, outcome: $0.1) }
        interruption.end()
        progress?.finish()
        for j in judges { await j.model.shutdown() }

        for (rater, o) in outcomes.sorted(by: { ($0.outcome.folder, $0.rater) < ($1.outcome.folder, $1.rater) }) {
            if let why = o.notJudged {
                printError("not judged by \(rater): \(o.folder): \(why)")
                failedAny = true
            }
            for f in o.failed {
                printError("no label from \(rater): \(o.folder), reply \(f.turn): \(TerminalText.escaped(f.reason))")
                failedAny = true
            }
        }
        for j in judges {
            let mine = outcomes.filter { $0.rater == j.rater }.map(\.outcome)
            let labelled = mine.reduce(0) { $0 + $1.labelled }, before = mine.reduce(0) { $0 + $1.alreadyLabelled }
            let failed = mine.reduce(0) { $0 + $1.failed.count }, skipped = mine.filter { $0.notJudged != nil }.count
            print("\(j.rater): labelled \(labelled) turn(s) in \(mine.count - skipped) session(s); \(before) labelled before; "
                  + "\(failed) failed (recorded, no label)\(skipped > 0 ? "; \(skipped) session(s) not judged" : "")")
        }
        let unjudged = folders.count * judges.count - outcomes.count
        if interruption.wasInterrupted || unjudged > 0 {
            print("Stopped: \(unjudged) session(s) not reached; run the same command again to continue.")
            failedAny = true
        }
        if failedAny { throw invalidInputExit }
    }
}
