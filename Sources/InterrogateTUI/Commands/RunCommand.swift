import Annotate
import ArgumentParser
import Foundation
import Sessions

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Interrogate a model live and tag each reply as it arrives.",
        discussion: """
        Without --scenario, a start screen lists the scenarios with their briefs and lets you \
        pick the model, the condition and your annotator id. Then the interrogation screen opens: the scenario's brief and secret, the conversation, and a \
        question box. Each reply streams in; when it ends, tag it (c r d t f, l for leak, n for a \
        note, Enter to save). Every question, reply and tag is appended to \
        <transcripts>/<session>/session.jsonl and fsync'd before the screen says saved. \
        F1 lists every key. --resume continues a session after a quit or a crash.
        """
    )

    @OptionGroup var location: LocationOptions
    @OptionGroup var team: TeamStoreOption
    @Option(help: "The scenario id (see `interrogate scenarios list`).") var scenario: String?
    @Option(help: "The model name (see `interrogate models list`) or scripted:PATH.") var model: String?
    @Option(help: "Who is interrogating and tagging (letters, digits, . _ -). Remembered for next time.") var annotator: String?
    @Flag(help: "Use the scenario's control prompt, without the instruction to hide the secret.") var control = false
    @Option(help: "Continue a session: its id or the path of its session.jsonl.") var resume: String?
    @OptionGroup var signals: SignalFlags

    func validate() throws {
        if let annotator, !TranscriptStore.isValidRaterId(annotator) {
            throw ValidationError("--annotator may use letters, digits, '.', '_' and '-' only")
        }
        if let annotator, RaterId.isPlaceholder(annotator) {
            throw ValidationError("--annotator '\(annotator)' is a placeholder, not a person: give your own id, so that your labels can be told from others'")
        }
        if resume != nil && signals.logprobs {
            throw ValidationError("--logprobs changes the model's parameters: a session goes on with those it was started with (its own model entry may ask for logprobs)")
        }
    }

    mutating func run() async throws {
        // Nothing is typed before the store has answered: a store that is away refuses the run.
        let work = try await team.begin(folders: [location.transcripts, TeamStoreOption.pathLike(resume)], writes: true)
        if let work { location.transcripts = work.transcriptsRoot }
        let live = work.map { LiveStoreLink(work: $0) }
        try await TeamStoreWork.around(work) { [self] in
            do { try await perform(live: live) } catch {
                await live?.finish()
                throw error
            }
            await live?.finish()
        }
    }

    func perform(live: LiveStoreLink?) async throws {
        // A session that may not be resumed is refused before anything else, terminal or not.
        var resumable: Resumable?
        if let resume {
            do { resumable = try Self.resumable(resume, annotator: annotator, store: location.store) } catch let e as CommandFailure {
                printError(e.message)
                throw invalidInputExit
            }
            // In a team store, one connection holds a live session: a second resume is refused here.
            if let live, let resumable {
                do { try await live.hold(resumable.session.sessionFile) } catch {
                    printError(error.description)
                    throw invalidInputExit
                }
            }
        }
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            printError("run needs a terminal (stdin and stdout must be a TTY)")
            throw invalidInputExit
        }
        let store = location.store
        let probeSet: ProbeSet?
        do { probeSet = try signals.loadProbeSet() } catch {
            printError("\(error)")
            throw invalidInputExit
        }
        var starter = SessionStarter(store: store, signals: signals.options, probeSet: probeSet)
        if let live { starter.created = { path in await live.follow(path) } }
        // What can fail before the screen opens is reported plainly.
        var prepared: Prepared?
        var start: StartState?
        do {
            if let resumable {
                prepared = try await Self.resumeSession(resumable, model: model, probeSet: probeSet)
            } else if let scenario, let id = annotatorId() {
                prepared = try await starter.start(.init(scenario: Self.findScenario(scenario, in: location.scenarioDirectory), model: model ?? "local",
                                                         condition: control ? .control : .instructed, annotator: id))
            } else {
                // No scenario, or nobody to save labels under yet (a first run): the start screen,
                // with the id field open in the second case.
                let scenarios = ScenarioLoader.loadDirectory(location.scenarioDirectory).scenarios
                guard !scenarios.isEmpty else { throw CommandFailure(message: "no scenarios in \(location.scenarioDirectory)") }
                var models = ((try? ModelCatalog.load()) ?? ModelCatalog(entries: [])).sorted.map(\.name)
                if let model, !models.contains(model) { models.insert(model, at: 0) }
                if let scenario { _ = try Self.findScenario(scenario, in: location.scenarioDirectory) }
                var picker = StartState(scenarios: scenarios, models: models.isEmpty ? ["local"] : models, model: model ?? "local",
                                        annotator: annotatorId(), width: 80, height: 24, scenario: scenario)
                picker.control = control && (picker.current?.hasControl ?? false)
                start = picker
            }
        } catch let e as CommandFailure {
            printError(e.message)
            throw invalidInputExit
        }
        try await Self.show(prepared: prepared, start: start, starter: starter)
    }

    /// The start screen (when there is no session yet) and the interrogation; then what was saved.
    @discardableResult
    static func show(prepared: Prepared?, start: StartState?, starter: SessionStarter) async throws -> AppState? {
        let stop = StopFlag()
        let stopper = SignalStopper(exit: false) { stop.set() }
        defer { stopper.cancel() }
        let (ready, picker) = (prepared, start)
        let outcome = await onCursesThread { Self.runScreens(prepared: ready, start: picker, starter: starter, stop: stop) }
        switch outcome {
        case .cancelled:
            return nil
        case .failed(let message):
            printError(message)
            throw invalidInputExit
        case let .finished(final, path, model):
            await model.shutdown()
            print("Session \(final.info.sessionId): \(final.questionsAsked) question(s), \(final.untaggedReplies.count) untagged repl\(final.untaggedReplies.count == 1 ? "y" : "ies").")
            print("Saved in \(path)")
            if let error = final.saveError {
                printError("some events were NOT saved: \(error)")
                throw ExitCode.failure
            }
            return final
        }
    }

    enum Outcome: Sendable {
        case cancelled
        case failed(String)
        case finished(AppState, path: String, model: any ChatModel)
    }

    /// The start screen (when no scenario was named), then the interrogation, on one thread
    /// and one curses session.
    private static func runScreens(prepared: Prepared?, start: StartState?, starter: SessionStarter, stop: StopFlag) -> Outcome {
        let terminal = CursesTerminal()
        defer { terminal.close() }
        var session = prepared
        if session == nil, let start {
            let picker = ScreenRuntime<StartProgram>(state: start, stop: stop)
            var chosen = picker.run(on: terminal)
            guard case .start(let choice)? = chosen.outcome else { return .cancelled }
            AnnotatorMemory.save(choice.annotator)
            chosen.status = "Starting \(choice.model)…"
            terminal.draw(StartView.view(chosen))
            switch starter.blockingStart(choice) {
            case .success(let p): session = p
            case .failure(let e): return .failed(e.message)
            }
        }
        guard let session else { return .cancelled }
        let final = Self.interrogate(session, on: terminal, stop: stop)
        return .finished(final, path: session.file.path, model: session.model!)
    }

    /// A live session or a blind review, in the one runtime: model streams and appends are
    /// the effects; every append is on disk before the screen says saved.
    static func interrogate(_ session: Prepared, on terminal: CursesTerminal, stop: StopFlag) -> AppState {
        let effects = SessionEffects(model: session.model, transcript: session.file, systemPrompt: session.systemPrompt, blind: session.blind,
                                     signals: session.signals)
        let runtime = ScreenRuntime<InterrogationProgram>(state: session.state, stop: stop) { effect, runtime in
            effects.perform(effect, in: runtime, isCurrentStream: { runtime.state.streaming?.id == $0 })
        }
        defer { effects.stopAll() }
        var final = runtime.run(on: terminal, initial: session.effects)
        if effects.isProbing, !stop.isSet {
            final.status = .init(kind: .info, text: "Finishing the probes after the last reply before closing… (Esc or Ctrl-C: close now; that reply keeps no probes)")
            terminal.draw(InterrogationView.view(final))
            effects.finishProbes {
                if stop.isSet { return true }
                guard case .key(let k)? = terminal.readPending() else { return false }
                return k == .escape || k == .ctrl("c") || k == .ctrl("q")
            }
        }
        return final
    }

    static func findScenario(_ id: String, in dir: String) throws -> Scenario {
        let loaded = ScenarioLoader.loadDirectory(dir)
        guard let scenario = loaded.scenarios.first(where: { $0.id == id }) else {
            let known = loaded.scenarios.map(\.id).joined(separator: ", ")
            throw CommandFailure(message: "no scenario '\(id)' in \(dir)" + (known.isEmpty ? "" : "; known: \(known)"))
        }
        return scenario
    }

    struct CommandFailure: Error, Sendable { var message: String }

    /// The id given, else the one remembered; nil on a first run (never a placeholder, never
    /// the login name guessed: the person says who they are once).
    private func annotatorId() -> String? {
        if let annotator {
            AnnotatorMemory.save(annotator)
            return annotator
        }
        return AnnotatorMemory.load()
    }

    /// A session this process may resume, and its writer's lock, held from here on.
    struct Resumable: @unchecked Sendable {
        // @unchecked: handed from the command to the curses thread once.
        var session: Session
        var hold: SessionLock
    }

    /// The session named by `idOrPath`, if `annotator` may resume it. One person's live labels
    /// stay theirs: another annotator resuming would see them on every reply (and their tags
    /// would no longer be independent), so only the session's own annotator resumes it; anyone
    /// else reviews it blind. One writer at a time: a session open in another `interrogate`
    /// is refused. Both before any screen opens, terminal or not.
    static func resumable(_ idOrPath: String, annotator: String?, store: TranscriptStore) throws -> Resumable {
        let session: Session
        do { session = try Session.load(folder: store.folder(forSession: idOrPath)) } catch { throw CommandFailure(message: error.description) }
        let owner = session.header.annotator
        if session.header.isBlindCopy {
            throw CommandFailure(message: "session \(session.sessionId) is a blind copy of \(owner)'s session: only \(owner) resumes it, with the model it was started with. To label it yourself, review it: interrogate review \(session.sessionId) --rater YOU")
        }
        if let annotator, annotator != owner {
            throw CommandFailure(message: "session \(session.sessionId) is \(owner)'s: only they can resume it, since the screen shows their labels. To label it yourself, review it blind: interrogate review \(idOrPath) --rater \(annotator)")
        }
        let hold: SessionLock
        do { hold = try SessionLock.acquire(for: session.sessionFile) } catch { throw CommandFailure(message: error.description) }
        return Resumable(session: session, hold: hold)
    }

    static func resumeSession(_ checked: Resumable, model modelName: String?, probeSet: ProbeSet? = nil) async throws -> Prepared {
        // Read again under the lock, as the last writer left it.
        let path = checked.session.sessionFile
        let hold = checked.hold
        let snapshot: Session
        do { snapshot = try Session.load(folder: checked.session.folder) } catch { throw CommandFailure(message: error.description) }
        let h = snapshot.header
        let annotator = h.annotator
        let scenario: Scenario
        do { scenario = try ScenarioLoader.parse(h.scenario.content, path: h.scenario.path) } catch {
            throw CommandFailure(message: "the scenario recorded in \(path) no longer reads: \(error)")
        }
        // The user's configuration, never the transcript, decides where requests and keys go.
        let model: any ChatModel
        let recorder: SignalRecorder
        do {
            var entry = try ModelCatalog.load().resumeEntry(for: h.model, named: modelName)
            // A session goes on as it was asked: as a chat, or as a written transcript.
            if modelName == nil, entry.provider == .local { entry.prompt = h.model.promptFormat == nil ? .chat : .dialogue }
            let server = SessionStarter.sharedServer(entry, probes: probeSet != nil)
            model = try await ModelFactory.make(entry, scenario: scenario.id, speakers: scenario.speakers, localServer: server)
            let probes = try await SessionStarter.probeRunner(entry: entry, probeSet: probeSet, systemPrompt: h.scenario.systemPrompt,
                                                              scenario: scenario, server: server, study: h.study != nil)
            recorder = SignalRecorder(folder: checked.session.folder, suspect: model.description, probes: probes)
        } catch {
            let message = (error as? LocatedErrors)?.description ?? "\(error)"
            // In a study the message names the model: the person resuming sees a summary.
            guard let study = h.study else { throw CommandFailure(message: message) }
            SessionEffects.log(message, to: StudyLog.path)
            throw CommandFailure(message: "\(study.alias) could not be started; the details (which name the model) are in \(StudyLog.path). Tell the study's organiser.")
        }
        let opened: (file: TranscriptFile, recovered: RecoveryEvent?)
        do { opened = try TranscriptFile.openForAppend(path: path, holding: hold) } catch { throw CommandFailure(message: error.description) }
        let live = snapshot.annotations(by: annotator, from: .live)
        let untagged = snapshot.untagged(by: annotator, from: .live).count
        let info = Prepared.info(h, scenario: scenario, annotator: annotator, model: model.description)
        var state = AppState(info: info, width: 80, height: 24)
        state.info.probesPerReply = recorder.probes?.requestsPerReply ?? 0
        state.turns = snapshot.messages.map { AppState.Turn(message: $0, annotation: live[$0.index]?.annotation) }
        if let r = opened.recovered {
            state.status = .init(kind: .warning, text: "Line \(r.tornLine) of the transcript was torn by a crash; it is kept as it was and recorded. Everything saved before it is here.")
        } else {
            state.status = .init(kind: .info, text: "Resumed: \(snapshot.questions) question(s), \(untagged) untagged repl\(untagged == 1 ? "y" : "ies").")
        }
        state.pendingSaves = 1
        state.resendUnanswered = state.turns.last?.message.role == .interrogator
        return Prepared(state: state, file: opened.file, model: model, effects: [.append(.resumed(.init(annotator: annotator))), .prepareModel],
                        systemPrompt: h.scenario.systemPrompt, blind: Prepared.blind(h), signals: recorder)
    }
}

/// A session ready to run: its state, its transcript, its model, and the first effects.
struct Prepared: @unchecked Sendable {
    // @unchecked: handed once from the command to the curses thread, then used there alone.
    var state: AppState
    var file: TranscriptFile
    /// None in a review.
    var model: (any ChatModel)?
    var effects: [Effect]
    /// As recorded in the header: sent in front of every request, never held by the screen.
    var systemPrompt: String = ""
    var blind: SessionEffects.Blind?
    /// Writes the session's logprobs.jsonl and probes.jsonl as replies come in.
    var signals: SignalRecorder?

    /// What the screen may know of a session: in a study the alias only.
    static func info(_ h: SessionHeader, scenario: Scenario, annotator: String, model: ModelDescription) -> AppState.Info {
        // A blind copy from a team store: the server withheld the model and the condition.
        if h.isBlindCopy { return AppState.Info(sessionId: h.sessionId, scenario: scenario, annotator: annotator, alias: "model withheld") }
        if let study = h.study {
            return AppState.Info(sessionId: h.sessionId, scenario: scenario, annotator: annotator, alias: study.alias)
        }
        return AppState.Info(sessionId: h.sessionId, scenario: scenario, condition: h.scenario.condition, annotator: annotator, model: model)
    }

    static func blind(_ h: SessionHeader) -> SessionEffects.Blind? {
        h.study.map { .init(alias: $0.alias, log: StudyLog.path) }
    }
}

/// Where a study session's model failures are written in full (they name the model, so the
/// screen shows a summary).
enum StudyLog {
    static var path: String { ".interrogate/study-errors.log" }
}

/// Creates a new session: its model, its folder and header, and its first state.
struct SessionStarter: Sendable {
    var store: TranscriptStore
    var signals = SignalOptions()
    var probeSet: ProbeSet?
    /// Told the new session file's path once its header is on disk (a team store follows it).
    var created: (@Sendable (String) async -> Void)?

    /// The embedded model's server, made here when the suspect and its probes share it.
    static func sharedServer(_ entry: ModelEntry, probes: Bool) -> LocalModelServer? {
        guard probes, entry.provider == .local else { return nil }
        return LocalModelServer.Installation.locate().map { LocalModelServer(installation: $0) }
    }

    /// The probes' model: the suspect's entry with the probe parameters, on its server.
    static func probeRunner(entry: ModelEntry, probeSet: ProbeSet?, systemPrompt: String, scenario: Scenario,
                            server: LocalModelServer?, study: Bool) async throws -> ProbeRunner? {
        guard let probeSet else { return nil }
        var runner = try await ProbeRunner.make(set: probeSet, suspect: entry, scenario: scenario, systemPrompt: systemPrompt, localServer: server)
        if study { runner.errorText = { SessionEffects.blindFailure($0, log: StudyLog.path) } }
        return runner
    }

    func start(_ choice: StartState.Choice, study: SessionHeader.StudyRecord? = nil) async throws -> Prepared {
        let scenario = choice.scenario
        if choice.condition == .control && !scenario.hasControl {
            throw RunCommand.CommandFailure(message: "scenario '\(scenario.id)' has no control variant")
        }
        var entry: ModelEntry
        do { entry = try ModelCatalog.load().entry(named: choice.model) } catch let e as LocatedErrors {
            throw RunCommand.CommandFailure(message: e.description)
        } catch {
            throw RunCommand.CommandFailure(message: "\(error)")
        }
        signals.apply(to: &entry)
        let server = Self.sharedServer(entry, probes: probeSet != nil)
        let model: any ChatModel
        do { model = try await ModelFactory.make(entry, scenario: scenario.id, speakers: scenario.speakers, localServer: server) } catch {
            throw RunCommand.CommandFailure(message: "\(error)")
        }
        let probes: ProbeRunner?
        do {
            probes = try await Self.probeRunner(entry: entry, probeSet: probeSet, systemPrompt: scenario.systemPrompt(for: choice.condition) ?? scenario.systemPrompt,
                                                scenario: scenario, server: server, study: study != nil)
        } catch { throw RunCommand.CommandFailure(message: "\(error)") }
        let header = SessionHeader(sessionId: TranscriptStore.newSessionId(scenarioId: scenario.id), annotator: choice.annotator,
                                   scenario: .init(scenario: scenario, condition: choice.condition), model: model.description.record,
                                   study: study)
        let file: TranscriptFile
        do { file = try store.createSession(header: header) } catch { throw RunCommand.CommandFailure(message: error.description) }
        await created?(file.path)
        let info = Prepared.info(header, scenario: scenario, annotator: choice.annotator, model: model.description)
        var state = AppState(info: info, width: 80, height: 24)
        state.info.probesPerReply = probes?.requestsPerReply ?? 0
        state.lastSavedSeq = 1
        let recorder = SignalRecorder(folder: (file.path as NSString).deletingLastPathComponent, suspect: model.description, probes: probes)
        return Prepared(state: state, file: file, model: model, effects: [.prepareModel],
                        systemPrompt: header.scenario.systemPrompt, blind: Prepared.blind(header), signals: recorder)
    }

    /// For the curses thread, which must not suspend: waits for `start` on a semaphore.
    func blockingStart(_ choice: StartState.Choice) -> Result<Prepared, RunCommand.CommandFailure> {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<Prepared, RunCommand.CommandFailure> = .failure(.init(message: "not started"))
        Task {
            do { result = .success(try await start(choice)) } catch let e as RunCommand.CommandFailure {
                result = .failure(e)
            } catch {
                result = .failure(.init(message: "\(error)"))
            }
            done.signal()
        }
        done.wait()
        return result
    }
}

/// The annotator id last given with --annotator, so that a person types it once.
enum AnnotatorMemory {
    static var path: String {
        ModelCatalog.userConfigPath(environment: ProcessInfo.processInfo.environment)
            .replacingOccurrences(of: "models.yaml", with: "annotator")
    }
    static func load() -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            .nilIfEmpty.flatMap { TranscriptStore.isValidRaterId($0) && !RaterId.isPlaceholder($0) ? $0 : nil }
    }
    static func save(_ id: String) {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? (id + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
