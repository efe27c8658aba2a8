import ArgumentParser
import Foundation
import Sessions

struct AdjudicateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adjudicate",
        abstract: "Settle disputed turns: every rater's labels side by side, a final decision with a reason.",
        discussion: """
        Shows each model turn of the session with every rater's latest labels (live tags and \
        reviews), disputed turns first and highlighted. Set the final labels (c r d t f) and leak \
        decision (l), press Enter, give a reason, Enter again: the decision is appended to \
        <session>/adjudications/<rater>.jsonl and fsync'd. Nothing is overwritten; a new \
        decision on a turn supersedes the earlier one and both stay on disk.
        """
    )

    @OptionGroup var location: LocationOptions
    @OptionGroup var team: TeamStoreOption
    @Argument(help: "The session: its id, its folder or its session.jsonl.") var session: String
    @Option(help: "Your rater id as adjudicator (letters, digits, . _ -).") var rater: String

    func validate() throws {
        guard TranscriptStore.isValidRaterId(rater) else { throw ValidationError("--rater may use letters, digits, '.', '_' and '-' only") }
        guard !RaterId.isPlaceholder(rater) else { throw ValidationError("--rater '\(rater)' is a placeholder, not a person: give your own id") }
    }

    mutating func run() async throws {
        let work = try await team.begin(folders: [location.transcripts, TeamStoreOption.pathLike(session)], writes: true)
        if let work {
            location.transcripts = work.transcriptsRoot
        }
        try await TeamStoreWork.around(work) { [self] in try await perform() }
    }

    func perform() async throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            printError("adjudicate needs a terminal (stdin and stdout must be a TTY)")
            throw invalidInputExit
        }
        try await Self.adjudicate(folder: location.store.folder(forSession: session), rater: rater)
    }

    /// Opens the adjudication screen on the session in `folder` for `rater` (also a study's
    /// adjudication task), and says what was decided.
    static func adjudicate(folder: String, rater: String) async throws {
        let ratings: Session
        let scenario: Scenario
        do {
            ratings = try Session.load(folder: folder)
            let h = ratings.header.scenario
            scenario = try ScenarioLoader.parse(h.content, path: h.path)
        } catch let e as TranscriptError {
            printError(e.description)
            throw invalidInputExit
        } catch {
            printError("the scenario recorded in the session no longer reads: \(error)")
            throw invalidInputExit
        }
        if ratings.header.isBlindCopy {
            printError("session \(ratings.sessionId) is a blind copy: the team store lets you read only its messages, not the raters' labels; an organiser lets an adjudicator read it whole with `interrogate store assign`")
            throw invalidInputExit
        }
        for p in ratings.problems where p.isError { printError(p.description) }
        let opened: (file: TranscriptFile, created: Bool, recovered: RecoveryEvent?)
        do {
            opened = try TranscriptStore.openRaterFile(ReviewHeader(sessionId: ratings.sessionId, rater: rater, purpose: .adjudication),
                                                       sessionFolder: ratings.folder)
        } catch {
            printError(error.description)
            throw invalidInputExit
        }
        var state = AdjudicationState(sessionId: ratings.sessionId, scenario: scenario, adjudicator: rater,
                                      turns: AdjudicationState.turns(from: ratings), width: 80, height: 24)
        var first: [Effect] = []
        if opened.created { state.lastSavedSeq = 1 } else {
            state.pendingSaves = 1
            first.append(.append(.resumed(.init(annotator: rater))))
        }
        if state.disputedCount == 0 {
            state.status = .init(kind: .info, text: "No disputed turns: the raters agree everywhere (or only one rated). Decisions are optional.")
        }
        let stop = StopFlag()
        let stopper = SignalStopper(exit: false) { stop.set() }
        defer { stopper.cancel() }
        let (start, file, initial) = (state, opened.file, first)
        let final = await onCursesThread { Self.loop(start, file: file, initial: initial, stop: stop) }
        print("Adjudication of \(final.sessionId) by \(rater): \(final.decidedDisputes) of \(final.disputedCount) disputed turns decided.")
        print("Saved in \(file.path)")
        if let error = final.saveError {
            printError("some decisions were NOT saved: \(error)")
            throw ExitCode.failure
        }
    }

    /// The adjudication screen in the one runtime; each append is on disk before the next
    /// draw says saved.
    private static func loop(_ start: AdjudicationState, file: TranscriptFile, initial: [Effect], stop: StopFlag) -> AdjudicationState {
        let terminal = CursesTerminal()
        defer { terminal.close() }
        let effects = SessionEffects(model: nil, transcript: file)
        let runtime = ScreenRuntime<AdjudicationProgram>(state: start, stop: stop) { effect, runtime in
            effects.perform(effect, in: runtime, isCurrentStream: { _ in false })
        }
        return runtime.run(on: terminal, initial: initial)
    }
}
