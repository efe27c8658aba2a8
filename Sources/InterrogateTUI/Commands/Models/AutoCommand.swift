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
    @Option(name: .long, help: ArgumentHelp("A scenario id; repeat for several.", valueName: "id")) var scenario: [String]
    @Option(name: .long, help: ArgumentHelp("The suspect: a name from `interrogate models list`.", valueName: "model")) var model: String
    @Option(name: .long, help: ArgumentHelp("The interrogator: a name from `interrogate models list`.", valueName: "model")) var interrogator: String
    @Option(help: "How many sessions each scenario should have.") var sessions: Int
    @Option(help: "instructed (told to keep the secret) or control.") var condition: String = Scenario.Condition.instructed.rawValue
    @Option(help: ArgumentHelp("The interrogator's prompt template (default: \(InterrogatorTemplate.defaultPath), from here or the interrogate folder).", valueName: "file")) var template: String?
    @Option(help: "Sessions run at once (each waits on its own replies).") var concurrency: Int = 1
    @Flag(help: "Do not end a session when a reply matches the secret's patterns.") var keepGoingAfterLeak = false

    func validate() throws {
        guard !scenario.isEmpty else { throw ValidationError("name at least one --scenario") }
        guard (1...100_000).contains(sessions) else { throw ValidationError("--sessions must be 1 to 100000") }
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 256") }
        guard Scenario.Condition(rawValue: condition) != nil else { throw ValidationError("--condition must be instructed or control") }
    }

    /// One session to run: a new one for a scenario, or an open one to continue.
    enum Job: Sendable {
        case start(Int)
        case resume(Int, folder: String)
    }

    func run() async throws {
        let condition = Scenario.Condition(rawValue: self.condition)!
        let template: InterrogatorTemplate
        do { template = try InterrogatorTemplate.load(path: self.template ?? PromptTemplate.shipped(InterrogatorTemplate.defaultPath)) } catch {
            printError(error.description)
            throw invalidInputExit
        }
        let catalog = try ModelCatalog.load()
        let suspectEntry = try catalog.entry(named: model), interrogatorEntry = try catalog.entry(named: interrogator)
        guard TranscriptStore.isValidRaterId(AutoInterrogation.annotator(for: interrogatorEntry.name)) else {
            throw ValidationError("the interrogator's name '\(interrogatorEntry.name)' cannot be recorded as an id; define it under a plain name in interrogate.yaml")
        }
        var scenarios: [Scenario] = []
        for id in scenario where !scenarios.contains(where: { $0.id == id }) {
            let s: Scenario
            do { s = try RunCommand.findScenario(id, in: location.scenarioDirectory) } catch let e as RunCommand.CommandFailure {
                throw ValidationError(e.message)
            }
            guard s.systemPrompt(for: condition) != nil else { throw ValidationError("scenario '\(id)' has no \(condition.rawValue) condition") }
            scenarios.append(s)
        }
        // One embedded model in memory, whatever roles it plays.
        let server = [suspectEntry, interrogatorEntry].contains(where: { $0.provider == .local })
            ? LocalModelServer.Installation.locate().map { LocalModelServer(installation: $0) } : nil
        var runs: [AutoInterrogation] = []
        for s in scenarios {
            let suspect = try await ModelFactory.make(suspectEntry, scenario: s.id, speakers: s.speakers, localServer: server)
            // The interrogator continues the same written transcript from the other side.
            let asker = try await ModelFactory.make(interrogatorEntry, scenario: s.id,
                                                    speakers: .init(interrogator: s.speakers.suspect, suspect: s.speakers.interrogator), localServer: server)
            runs.append(AutoInterrogation(scenario: s, condition: condition, suspect: suspect, interrogator: asker,
                                          interrogatorName: interrogatorEntry.name, template: template, stopOnLeak: !keepGoingAfterLeak))
        }
        let models = runs.flatMap { [$0.suspect, $0.interrogator] }
        do { for m in models { try await m.prepare() } } catch {
            for m in models { await m.shutdown() }
            throw ValidationError("a model could not be started: \(error)")
        }

        // What is there already: finished sessions count, open ones are continued.
        let store = location.store
        var jobs: [Job] = []
        var finishedBefore = 0
        for (i, r) in runs.enumerated() {
            var done = 0, open: [String] = []
            for id in store.sessionIds() {
                guard let s = try? Session.load(folder: store.sessionFolder(id)), r.matches(s.header) else { continue }
                if s.ended { done += 1 } else { open.append(s.folder) }
            }
            finishedBefore += min(done, sessions)
            jobs += open.prefix(max(0, sessions - done)).map { .resume(i, folder: $0) }
            jobs += Array(repeating: .start(i), count: max(0, sessions - done - open.count))
        }
        let total = runs.count * sessions
        if jobs.isEmpty {
            print("All \(total) session(s) are there already (\(sessions) per scenario); nothing to do.")
            return
        }
        let secretNote = template.revealsSecret ? " (the template gives the interrogator the secret)" : ""
        print("Running \(jobs.count) session(s) with \(interrogatorEntry.name) interrogating \(suspectEntry.name), \(concurrency) at once\(secretNote); \(finishedBefore) of \(total) finished before.")
        let progress = ProgressLine.onTerminal("sessions", verb: "run")
        progress?.start(total: jobs.count)
        let prepared = runs
        let task = Task { () -> [AutoInterrogation.Outcome] in
            var outcomes: [AutoInterrogation.Outcome] = []
            await forEach(jobs, limit: concurrency, { job in
                switch job {
                case .start(let i): await prepared[i].start(in: store)
                case let .resume(i, folder): await prepared[i].resume(folder: folder)
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
