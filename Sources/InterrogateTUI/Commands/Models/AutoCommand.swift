import ArgumentParser
import Foundation
import Sessions

/// `interrogate auto`: sessions interrogated by a model, unattended, as many as asked for each
/// scenario; running it again continues open sessions and adds only what is missing.
struct AutoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auto",
        abstract: "Run sessions with a model as the interrogator, unattended.",
        discussion: """
        The interrogator model is given the scenario's title and brief through a prompt template \
        kept in the repository (default \(InterrogatorTemplate.defaultPath); its version and \
        sha256 go into each session's header as interrogator.template), never the secret unless \
        the template asks for it. It asks up to the scenario's turn limit, and a session ends \
        early when the interrogator answers DONE or a reply matches the secret's patterns \
        (--keep-going-after-leak turns that off). Sessions are ordinary transcripts with \
        interrogator.kind = model in the header, in the same blind review queue.

        --sessions N is how many such sessions each scenario should have in the transcripts \
        folder (same scenario, condition, suspect, interrogator and template): running the \
        command again, after Ctrl-C or a crash, continues the sessions left open and starts \
        only the missing ones, so none is lost or made twice.
        """
    )

    @OptionGroup var location: LocationOptions
    @OptionGroup var team: TeamStoreOption
    @Option(name: .long, help: ArgumentHelp("A scenario id; repeat for several.", valueName: "id")) var scenario: [String] = []
    @Option(name: .long, help: ArgumentHelp("The suspect: a name from `interrogate models list`.", valueName: "model")) var model: String?
    @Option(name: .long, help: ArgumentHelp("The interrogator: a name from `interrogate models list`.", valueName: "model")) var interrogator: String?
    @Option(help: "How many sessions each scenario should have.") var sessions: Int?
    @Option(help: "instructed (told to keep the secret) or control.") var condition: String = Scenario.Condition.instructed.rawValue
    @Option(help: ArgumentHelp("Run the sessions a study's plan gives its model interrogators (model_interrogators in study.yaml), instead of --scenario/--model/--interrogator/--sessions.", valueName: "name"))
    var study: String?
    @Option(name: .long, help: ArgumentHelp("Folder of studies, with --study (default: $\(StudyDesign.environmentVariable) or ./studies).", valueName: "dir"))
    var studies: String?
    @Option(help: ArgumentHelp("The interrogator's prompt template (default: \(InterrogatorTemplate.defaultPath), from here or the interrogate folder).", valueName: "file")) var template: String?
    @Option(help: "Sessions run at once (each waits on its own replies).") var concurrency: Int = 1
    @Flag(help: "Do not end a session when a reply matches the secret's patterns.") var keepGoingAfterLeak = false
    @OptionGroup var signals: SignalFlags

    func validate() throws {
        if study != nil {
            guard scenario.isEmpty, model == nil, interrogator == nil, sessions == nil else {
                throw ValidationError("--study runs the study's plan: give it without --scenario, --model, --interrogator and --sessions")
            }
        } else {
            guard !scenario.isEmpty else { throw ValidationError("name at least one --scenario (or a --study)") }
            guard model != nil, interrogator != nil else { throw ValidationError("name the suspect (--model) and the interrogator (--interrogator)") }
            guard let sessions, (1...100_000).contains(sessions) else { throw ValidationError("--sessions must be 1 to 100000") }
        }
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 256") }
        guard Scenario.Condition(runnable: condition) != nil else { throw ValidationError("--condition must be instructed or control") }
    }

    /// One session to run: a new one (a study's planned task, or one more for a scenario), or
    /// an open one to continue.
    enum Job: Sendable {
        case start(Int, study: SessionHeader.StudyRecord?)
        case resume(Int, folder: String)
    }

    /// The set-ups sessions are run with, and where the models come from.
    struct Setups {
        var runs: [AutoInterrogation] = []
        var keys: [String: Int] = [:]
        let catalog: ModelCatalog
        let template: InterrogatorTemplate
        let server: LocalModelServer?
        let stopOnLeak: Bool
        var signals = SignalOptions()
        var probeSet: ProbeSet?

        /// The set-up for a scenario, condition, suspect and interrogator, made once.
        mutating func index(_ s: Scenario, _ condition: Scenario.Condition, suspect: String, interrogator: String) async throws -> Int {
            let key = "\(s.id)|\(condition.rawValue)|\(suspect)|\(interrogator)"
            if let i = keys[key] { return i }
            var suspectEntry = try catalog.entry(named: suspect)
            let interrogatorEntry = try catalog.entry(named: interrogator)
            signals.apply(to: &suspectEntry)
            guard TranscriptStore.isValidRaterId(AutoInterrogation.annotator(for: interrogatorEntry.name)) else {
                throw ValidationError("the interrogator's name '\(interrogatorEntry.name)' cannot be recorded as an id; define it under a plain name in interrogate.yaml")
            }
            let suspectModel = try await ModelFactory.make(suspectEntry, scenario: s.id, speakers: s.speakers, localServer: server)
            // The interrogator continues the same written transcript from the other side.
            let asker = try await ModelFactory.make(interrogatorEntry, scenario: s.id,
                                                    speakers: .init(interrogator: s.speakers.suspect, suspect: s.speakers.interrogator), localServer: server)
            var run = AutoInterrogation(scenario: s, condition: condition, suspect: suspectModel, interrogator: asker,
                                        interrogatorName: interrogatorEntry.name, template: template, stopOnLeak: stopOnLeak)
            run.signalsNotSaved = { printError("signals NOT SAVED (the conversation is): \($0)") }
            if let probeSet {
                run.probes = try await ProbeRunner.make(set: probeSet, suspect: suspectEntry, scenario: s,
                                                        systemPrompt: s.systemPrompt(for: condition) ?? s.systemPrompt, localServer: server)
            }
            runs.append(run)
            keys[key] = runs.count - 1
            return runs.count - 1
        }
    }

    /// One `auto` at a time per transcripts folder: two would count the same missing sessions
    /// and both start them. Held (a flock, released however the process ends) until the run ends.
    static func lock(_ store: TranscriptStore) throws -> SessionLock {
        try? FileManager.default.createDirectory(atPath: store.root, withIntermediateDirectories: true)
        let marker = (store.root as NSString).appendingPathComponent("auto")
        do { return try SessionLock.acquire(for: marker) } catch {
            if case .invalid = error {
                throw ValidationError("another `interrogate auto` is running on \(store.root) (it holds \(SessionLock.lockPath(for: marker))); wait for it to end")
            }
            throw ValidationError("\(error)")
        }
    }

    mutating func run() async throws {
        let work = try await team.begin(folders: [location.transcripts, studies], writes: true, study: study)
        if let work {
            location.transcripts = work.transcriptsRoot
            studies = work.studiesRoot
        }
        try await TeamStoreWork.around(work) { [self] in try await perform() }
    }

    func perform() async throws {
        let template: InterrogatorTemplate
        do { template = try InterrogatorTemplate.load(path: self.template ?? PromptTemplate.shipped(InterrogatorTemplate.defaultPath)) } catch {
            printError(error.description)
            throw invalidInputExit
        }
        let catalog = try ModelCatalog.load()
        // One embedded model in memory, whatever roles it plays.
        let server = LocalModelServer.Installation.locate().map { LocalModelServer(installation: $0) }
        var setups = Setups(catalog: catalog, template: template, server: server, stopOnLeak: !keepGoingAfterLeak)
        setups.signals = signals.options
        setups.probeSet = try signals.loadProbeSet()
        let store: TranscriptStore
        var storeLock: SessionLock?
        var jobs: [Job] = []
        var finishedBefore = 0
        let total: Int
        let what: String
        if let study {
            let design = try StudyOptions.design(name: study, root: StudyOptions.root(studies), scenarios: location.scenarios, checkModels: true)
            guard !design.interrogators.isEmpty else {
                throw ValidationError("study \(design.name) has no model_interrogators: its sessions are people's (interrogate study next)")
            }
            let status = StudyStatus.read(design, plan: try StudyOptions.plan(design))
            let mine = status.tasks.filter { $0.task.kind == .session && design.interrogatorModel(of: $0.task.annotator) != nil }
            store = TranscriptStore(root: design.transcripts)
            storeLock = try Self.lock(store)
            let scenarios = ScenarioLoader.loadDirectory(location.scenarioDirectory).scenarios
            for t in mine {
                if t.state == .done { finishedBefore += 1; continue }
                let task = t.task
                guard let s = scenarios.first(where: { $0.id == task.scenario }), let suspect = task.model,
                      let asker = design.interrogatorModel(of: task.annotator) else {
                    throw ValidationError("task \(task.id) of study \(design.name) names a scenario or model this machine does not have")
                }
                let i = try await setups.index(s, task.condition ?? .instructed, suspect: suspect, interrogator: asker)
                if let folder = t.session?.folder {
                    jobs.append(.resume(i, folder: folder))
                } else {
                    jobs.append(.start(i, study: .init(name: design.name, task: task.id, alias: task.alias ?? "the suspect", model: suspect)))
                }
            }
            // A failure's text may name the model: reviewers of the study read a summary.
            for i in setups.runs.indices {
                setups.runs[i].blindError = { SessionEffects.blindFailure($0, log: StudyLog.path) }
                setups.runs[i].probes?.errorText = { SessionEffects.blindFailure($0, log: StudyLog.path) }
            }
            total = mine.count
            what = "study \(design.name)'s model-interrogated session(s)"
        } else {
            let condition = Scenario.Condition(rawValue: self.condition)!
            let sessions = self.sessions!
            var scenarios: [Scenario] = []
            for id in scenario where !scenarios.contains(where: { $0.id == id }) {
                let s: Scenario
                do { s = try RunCommand.findScenario(id, in: location.scenarioDirectory) } catch let e as RunCommand.CommandFailure {
                    throw ValidationError(e.message)
                }
                guard s.systemPrompt(for: condition) != nil else { throw ValidationError("scenario '\(id)' has no \(condition.rawValue) condition") }
                scenarios.append(s)
            }
            store = location.store
            storeLock = try Self.lock(store)
            // What is there already (read once, whatever the number of scenarios): finished
            // sessions count, open ones are continued.
            let saved = store.sessionIds().compactMap { id -> (header: SessionHeader, ended: Bool, folder: String)? in
                guard let s = try? Session.load(folder: store.sessionFolder(id)), s.header.interrogator != nil else { return nil }
                return (s.header, s.ended, s.folder)
            }
            for s in scenarios {
                let i = try await setups.index(s, condition, suspect: model!, interrogator: interrogator!)
                var done = 0, open: [String] = []
                for session in saved where setups.runs[i].matches(session.header) {
                    if session.ended { done += 1 } else { open.append(session.folder) }
                }
                finishedBefore += min(done, sessions)
                jobs += open.prefix(max(0, sessions - done)).map { .resume(i, folder: $0) }
                jobs += Array(repeating: .start(i, study: nil), count: max(0, sessions - done - open.count))
            }
            total = scenarios.count * sessions
            what = "session(s) (\(sessions) per scenario)"
        }
        if jobs.isEmpty {
            print("All \(total) \(what) are there already; nothing to do.")
            return
        }
        withExtendedLifetime(storeLock) {}
        let runs = setups.runs
        let models = runs.flatMap { [$0.suspect, $0.interrogator] + ($0.probes.map { [$0.model] } ?? []) }
        do { for m in models { try await m.prepare() } } catch {
            for m in models { await m.shutdown() }
            throw ValidationError("a model could not be started: \(error)")
        }
        let secretNote = template.revealsSecret ? " (the template gives the interrogator the secret)" : ""
        let names = Set(runs.map(\.interrogatorName)).sorted().joined(separator: ", ")
        print("Running \(jobs.count) session(s) with \(names) interrogating, \(concurrency) at once\(secretNote); \(finishedBefore) of \(total) finished before.")
        if let probes = runs.first?.probes {
            print("Probes: \(TerminalText.escaped(probes.probeSet.file.version)), \(probes.requestsPerReply) extra request(s) after every reply, on a fork the conversation never contains.")
        }
        let progress = ProgressLine.onTerminal("sessions", verb: "run")
        progress?.start(total: jobs.count)
        let task = Task { () -> [AutoInterrogation.Outcome] in
            var outcomes: [AutoInterrogation.Outcome] = []
            await forEach(jobs, limit: concurrency, { job in
                switch job {
                case let .start(i, study): await runs[i].start(in: store, study: study)
                case let .resume(i, folder): await runs[i].resume(folder: folder)
                }
            }) { outcome in
                outcomes.append(outcome)
                progress?.advance(to: outcomes.count)
            }
            return outcomes
        }
        let interruption = Interruption { task.cancel() }
        let outcomes = await task.value
        interruption.end()
        withExtendedLifetime(storeLock) {}
        progress?.finish()
        for m in models { await m.shutdown() }

        var reasons: [String: Int] = [:]
        var open: [(String, String)] = [], failed: [String] = []
        for o in outcomes {
            switch o {
            case let .ended(_, reason): reasons[reason, default: 0] += 1
            case let .open(id, reason): open.append((id, reason))
            case .failed(let why): failed.append(why)
            }
        }
        for (id, why) in open { printError("left open: \(id): \(TerminalText.escaped(why))") }
        for why in failed { printError("not run: \(TerminalText.escaped(why))") }
        let ended = reasons.values.reduce(0, +)
        let how = reasons.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        print("Finished \(ended) session(s)\(how.isEmpty ? "" : " (\(how))"); \(finishedBefore + ended) of \(total) done.")
        let notReached = jobs.count - outcomes.count
        if !open.isEmpty || !failed.isEmpty || notReached > 0 {
            print("\(open.count) left open, \(notReached) not started\(failed.isEmpty ? "" : ", \(failed.count) could not run"): run the same command again to continue.")
            throw invalidInputExit
        }
    }
}
