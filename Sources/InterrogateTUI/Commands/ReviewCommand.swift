import Annotate
import ArgumentParser
import Foundation
import Sessions

struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Review a recorded session blind: replay it turn by turn and tag each model reply.",
        discussion: """
        The session is replayed one reply at a time, the interrogator's question then the \
        model's reply; tag each with the keys of a live session (c r d t f, l, n, Enter). The \
        review is blind: no other rater's labels, notes or leak decisions are read, and the model \
        and condition are not shown. Your labels go to <session>/reviews/<rater>.jsonl, each \
        fsync'd before the screen says saved; run the same command again to resume. Reviewing a \
        session you tagged yourself is refused unless --force.

        Without SESSION, the review queue lists the sessions you may review, fewest reviews \
        first (never your own); pick one with Enter. --list prints the queue instead.
        """
    )

    @OptionGroup var location: LocationOptions
    @OptionGroup var team: TeamStoreOption
    @Argument(help: "The session: its id, its folder or its session.jsonl. Omit it for the review queue.") var session: String?
    @Option(help: "Your rater id (letters, digits, . _ -).") var rater: String
    @Flag(help: "Review a session you tagged yourself (the review is marked own_session).") var force = false
    @Flag(help: "Print the review queue and exit.") var list = false
    @Option(help: "Output format of --list: text or json.") var format: OutputFormat = .text

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
        let store = location.store
        var chosen = session
        if chosen == nil {
            let queue = ReviewQueue.entries(store: store, rater: rater)
            for p in queue.problems { printError("skipped \(p)") }
            let interactive = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
            if list || !interactive {
                printQueue(queue.entries)
                return
            }
            if queue.entries.isEmpty {
                print("Nothing for \(rater) to review in \(store.root): every session is yours, reviewed by you, or has no replies.")
                return
            }
            let state = ReviewQueueState(rater: rater, entries: queue.entries, width: 80, height: 24)
            guard let picked = await onCursesThread({ Self.pick(state) }) else { return }
            chosen = picked
        }
        let prepared: Prepared
        do {
            // Refusals (own session, nothing to review) come before the terminal check and
            // before any file is created.
            let checked = try Self.check(folder: store.folder(forSession: chosen!), rater: rater, force: force)
            guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
                throw RunCommand.CommandFailure(message: "review needs a terminal (stdin and stdout must be a TTY)")
            }
            prepared = try Self.open(checked, rater: rater)
        } catch let e as RunCommand.CommandFailure {
            printError(e.message)
            throw invalidInputExit
        }
        try await Self.review(prepared, rater: rater)
    }

    /// The review screen, then what was reviewed.
    static func review(_ prepared: Prepared, rater: String) async throws {
        let stop = StopFlag()
        let stopper = SignalStopper(exit: false) { stop.set() }
        defer { stopper.cancel() }
        let final = await onCursesThread {
            let terminal = CursesTerminal()
            defer { terminal.close() }
            return RunCommand.interrogate(prepared, on: terminal, stop: stop)
        }
        let done = final.turns.filter { $0.isTaggable && $0.isTagged }.count
        print("Review of \(final.info.sessionId) by \(rater): \(done) of \(final.taggableCount) replies reviewed.")
        print("Saved in \(prepared.file.path)")
        if let error = final.saveError {
            printError("some events were NOT saved: \(error)")
            throw ExitCode.failure
        }
    }

    private func printQueue(_ entries: [ReviewQueue.Entry]) {
        switch format {
        case .json: printJSON(entries)
        case .text:
            if entries.isEmpty { print("Nothing for \(rater) to review."); return }
            print(Table(header: ["SESSION", "SCENARIO", "REPLIES", "REVIEWS", "YOURS"], rows: entries.map {
                [$0.sessionId, $0.scenario, String($0.replies), String($0.reviews), $0.reviewedByYou == 0 ? "-" : "\($0.reviewedByYou)/\($0.replies)"]
            }).render())
        }
    }

    private static func pick(_ start: ReviewQueueState) -> String? {
        let terminal = CursesTerminal()
        defer { terminal.close() }
        let s = ScreenRuntime<ReviewQueueProgram>(state: start).run(on: terminal)
        if case .review(let id)? = s.outcome { return id }
        return nil
    }

    struct Checked {
        /// The session as this rater may see it: no other rater's labels.
        var session: Session
        var scenario: Scenario
        var own: Bool
    }

    /// The session can be reviewed by this rater.
    static func check(folder: String, rater: String, force: Bool) throws -> Checked {
        let full: Session
        do { full = try Session.load(folder: folder) } catch { throw RunCommand.CommandFailure(message: error.description) }
        let h = full.header
        let own = full.hasSeenLabels(rater)
        if own && !force {
            let how = full.liveRaters.contains(rater) ? "tagged session \(h.sessionId) live" : "adjudicated session \(h.sessionId) and has seen every rater's labels"
            throw RunCommand.CommandFailure(message: "\(rater) \(how); a review must come from someone else (--force reviews it anyway, marked own_session)")
        }
        let ratings = full.blind(for: rater)
        guard !ratings.ratableTurns.isEmpty else {
            throw RunCommand.CommandFailure(message: "session \(h.sessionId) has no model replies to review")
        }
        let scenario: Scenario
        do { scenario = try ScenarioLoader.parse(h.scenario.content, path: h.scenario.path) } catch {
            throw RunCommand.CommandFailure(message: "the scenario recorded in session \(h.sessionId) no longer reads: \(error)")
        }
        return Checked(session: ratings, scenario: scenario, own: own)
    }

    /// Opens (or resumes) this rater's review, beside the session that was read.
    static func open(_ checked: Checked, rater: String) throws -> Prepared {
        let (ratings, scenario, own, h) = (checked.session, checked.scenario, checked.own, checked.session.header)
        let opened: (file: TranscriptFile, created: Bool, recovered: RecoveryEvent?)
        do {
            opened = try TranscriptStore.openRaterFile(ReviewHeader(sessionId: h.sessionId, rater: rater, purpose: .review, ownSession: own),
                                                       sessionFolder: ratings.folder)
        } catch {
            throw RunCommand.CommandFailure(message: error.description)
        }
        // Blind by construction: the session value holds this rater's own labels and no one else's.
        let mine = ratings.annotations(by: rater, from: .review)
        let model = ModelDescription(provider: h.model.provider, name: h.model.name, baseURL: h.model.baseUrl, parameters: h.model.parameters)
        let info = Prepared.info(h, scenario: scenario, annotator: rater, model: model)
        var state = AppState(info: info, width: 80, height: 24)
        state.turns = ratings.messages.map { AppState.Turn(message: $0, annotation: mine[$0.index]?.annotation) }
        Update.startReview(&state)
        var effects: [Effect] = []
        if let r = opened.recovered {
            state.status = .init(kind: .warning, text: "Line \(r.tornLine) of your review file was torn by a crash; it is kept and recorded. Your earlier labels are here.")
        } else if !opened.created, state.mode != .compose {
            let done = state.turns.filter { $0.isTaggable && $0.isTagged }.count
            state.status = .init(kind: .info, text: "Resumed your review: \(done) of \(state.taggableCount) replies already reviewed.")
        }
        if opened.created {
            state.lastSavedSeq = 1
        } else {
            state.pendingSaves = 1
            effects.append(.append(.resumed(.init(annotator: rater))))
        }
        return Prepared(state: state, file: opened.file, model: nil, effects: effects)
    }
}
