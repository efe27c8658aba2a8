import Annotate
import ArgumentParser
import Foundation
import Sessions

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Interrogate a model live and tag each reply as it arrives.",
        discussion: """
        Opens the interrogation screen: the scenario's brief and secret, the conversation, and a \
        question box. Each reply streams in; when it ends, tag it (c r d t f, l for leak, n for a \
        note, Enter to save). Every question, reply and tag is appended to \
        <transcripts>/<session>/session.jsonl and fsync'd before the screen says saved. \
        F1 lists every key. --resume continues a session after a quit or a crash.
        """
    )

    @OptionGroup var location: LocationOptions
    @Option(help: "The scenario id (see `interrogate scenarios list`).") var scenario: String?
    @Option(help: "The model name (see `interrogate models list`) or scripted:PATH.") var model: String?
    @Option(help: "Who is interrogating and tagging (letters, digits, . _ -). Remembered for next time.") var annotator: String?
    @Flag(help: "Use the scenario's control prompt, without the instruction to hide the secret.") var control = false
    @Option(help: "Continue a session: its id or the path of its session.jsonl.") var resume: String?

    func validate() throws {
        if resume == nil && scenario == nil {
            throw ValidationError("name a scenario with --scenario ID (see `interrogate scenarios list`), or --resume SESSION")
        }
        if let annotator, !TranscriptStore.isValidRaterId(annotator) {
            throw ValidationError("--annotator may use letters, digits, '.', '_' and '-' only")
        }
    }

    func run() async throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            printError("run needs a terminal (stdin and stdout must be a TTY)")
            throw invalidInputExit
        }
        let store = location.store
        let session: (state: AppState, file: TranscriptFile, model: any ChatModel, effects: [Effect])
        do {
            if let resume { session = try await resumeSession(resume, store: store) } else { session = try await startSession(store: store) }
        } catch let e as CommandFailure {
            printError(e.message)
            throw invalidInputExit
        }
        let runtime = Runtime(state: session.state, model: session.model, transcript: session.file)
        let stopper = SignalStopper(exit: false) { runtime.terminate() }
        let final = await withCheckedContinuation { (c: CheckedContinuation<AppState, Never>) in
            // Curses runs on a thread of its own, never on the cooperative pool.
            Thread { c.resume(returning: runtime.run(initialEffects: session.effects)) }.start()
        }
        stopper.cancel()
        await session.model.shutdown()
        print("Session \(final.info.sessionId): \(final.questionsAsked) question(s), \(final.untaggedReplies.count) untagged repl\(final.untaggedReplies.count == 1 ? "y" : "ies").")
        print("Saved in \(session.file.path)")
        if let error = final.saveError {
            printError("some events were NOT saved: \(error)")
            throw ExitCode.failure
        }
    }

    struct CommandFailure: Error { var message: String }

    private func annotatorId() -> String {
        let remembered = AnnotatorMemory.load()
        let id = annotator ?? remembered ?? ProcessInfo.processInfo.environment["USER"].flatMap { TranscriptStore.isValidRaterId($0) ? $0 : nil } ?? "annotator"
        if annotator != nil { AnnotatorMemory.save(id) }
        return id
    }

    private func loadModel(_ name: String) async throws -> any ChatModel {
        do {
            return try await ModelFactory.make(try ModelCatalog.load().entry(named: name))
        } catch let e as LocatedErrors {
            throw CommandFailure(message: e.description)
        } catch {
            throw CommandFailure(message: "\(error)")
        }
    }

    private func startSession(store: TranscriptStore) async throws -> (AppState, TranscriptFile, any ChatModel, [Effect]) {
        let loaded = ScenarioLoader.loadDirectory(location.scenarioDirectory)
        guard let scenario = loaded.scenarios.first(where: { $0.id == self.scenario }) else {
            let known = loaded.scenarios.map(\.id).joined(separator: ", ")
            throw CommandFailure(message: "no scenario '\(self.scenario ?? "")' in \(location.scenarioDirectory)" + (known.isEmpty ? "" : "; known: \(known)"))
        }
        let condition: Scenario.Condition = control ? .control : .instructed
        if control && !scenario.hasControl { throw CommandFailure(message: "scenario '\(scenario.id)' has no control variant") }
        let model = try await loadModel(self.model ?? "local")
        let annotator = annotatorId()
        let header = SessionHeader(sessionId: TranscriptStore.newSessionId(scenarioId: scenario.id), annotator: annotator,
                                   scenario: .init(scenario: scenario, condition: condition), model: model.description.record)
        let file: TranscriptFile
        do { file = try store.createSession(header: header) } catch { throw CommandFailure(message: error.description) }
        let info = AppState.Info(sessionId: header.sessionId, scenario: scenario, condition: condition, annotator: annotator, model: model.description)
        var state = AppState(info: info, width: 80, height: 24)
        state.lastSavedSeq = 1
        return (state, file, model, [.prepareModel])
    }

    private func resumeSession(_ idOrPath: String, store: TranscriptStore) async throws -> (AppState, TranscriptFile, any ChatModel, [Effect]) {
        let path = idOrPath.hasSuffix(".jsonl") ? idOrPath : store.sessionFile(idOrPath)
        let snapshot: SessionSnapshot
        do { snapshot = try SessionSnapshot.load(path: path) } catch { throw CommandFailure(message: error.description) }
        let h = snapshot.header
        let scenario: Scenario
        do { scenario = try ScenarioLoader.parse(h.scenario.content, path: h.scenario.path) } catch {
            throw CommandFailure(message: "the scenario recorded in \(path) no longer reads: \(error)")
        }
        let model: any ChatModel
        if let name = self.model {
            model = try await loadModel(name)
        } else {
            do { model = try await ModelFactory.make(.resuming(h.model)) } catch { throw CommandFailure(message: error.description) }
        }
        let annotator = self.annotator ?? h.annotator
        let opened: (file: TranscriptFile, recovered: RecoveryEvent?)
        do { opened = try TranscriptFile.openForAppend(path: path) } catch { throw CommandFailure(message: error.description) }
        let info = AppState.Info(sessionId: h.sessionId, scenario: scenario, condition: h.scenario.condition, annotator: annotator, model: model.description)
        var state = AppState(info: info, width: 80, height: 24)
        state.turns = snapshot.messages.map { m in
            let a = snapshot.annotations[m.index]
            return AppState.Turn(message: m, annotation: a.map { $0.annotation })
        }
        if let r = opened.recovered {
            state.status = .init(kind: .warning, text: "Line \(r.tornLine) of the transcript was torn by a crash; it is kept as it was and recorded. Everything saved before it is here.")
        } else {
            state.status = .init(kind: .info, text: "Resumed: \(snapshot.questions) question(s), \(snapshot.untagged.count) untagged repl\(snapshot.untagged.count == 1 ? "y" : "ies").")
        }
        state.pendingSaves = 1
        state.resendUnanswered = state.turns.last?.message.role == .interrogator
        return (state, opened.file, model, [.append(.resumed(.init(annotator: annotator))), .prepareModel])
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
            .nilIfEmpty.flatMap { TranscriptStore.isValidRaterId($0) ? $0 : nil }
    }
    static func save(_ id: String) {
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? (id + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
