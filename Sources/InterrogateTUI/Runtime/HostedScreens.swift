import Annotate
import Foundation
import Sessions

// Every screen of the app as a `Program` the one runtime hosts. The screens stay pure; the
// work they ask for is done by the effect handlers given to `ScreenRuntime`.

/// The live interrogation and the blind review (a review replays a recorded session).
enum InterrogationProgram: Program {
    static func update(_ state: inout AppState, _ message: Action) -> [Effect] { Update.update(&state, message) }
    static func view(_ state: AppState) -> Screen { InterrogationView.view(state) }
    static func isDone(_ state: AppState) -> Bool { state.quitting }
    static func message(_ input: CursesTerminal.Input) -> Action {
        switch input {
        case .key(let k): .key(k)
        case let .resize(w, h): .resize(width: w, height: h)
        }
    }
    static var terminate: Action? { .terminate }
}

/// `interrogate adjudicate`.
enum AdjudicationProgram: Program {
    static func update(_ state: inout AdjudicationState, _ message: Action) -> [Effect] { AdjudicationUpdate.update(&state, message) }
    static func view(_ state: AdjudicationState) -> Screen { AdjudicationView.view(state) }
    static func isDone(_ state: AdjudicationState) -> Bool { state.quitting }
    static func message(_ input: CursesTerminal.Input) -> Action { InterrogationProgram.message(input) }
    static var terminate: Action? { .terminate }
}

/// The start screen of `interrogate run`: it only chooses; nothing to do outside update.
enum StartProgram: Program {
    static func update(_ state: inout StartState, _ message: CursesTerminal.Input) -> [Never] {
        StartUpdate.update(&state, message)
        return []
    }
    static func view(_ state: StartState) -> Screen { StartView.view(state) }
    static func isDone(_ state: StartState) -> Bool { state.outcome != nil }
    static func message(_ input: CursesTerminal.Input) -> CursesTerminal.Input { input }
    static var terminate: CursesTerminal.Input? { nil }
}

/// The review queue of `interrogate review --rater ID`.
enum ReviewQueueProgram: Program {
    static func update(_ state: inout ReviewQueueState, _ message: CursesTerminal.Input) -> [Never] {
        ReviewQueueUpdate.update(&state, message)
        return []
    }
    static func view(_ state: ReviewQueueState) -> Screen { ReviewQueueView.view(state) }
    static func isDone(_ state: ReviewQueueState) -> Bool { state.outcome != nil }
    static func message(_ input: CursesTerminal.Input) -> CursesTerminal.Input { input }
    static var terminate: CursesTerminal.Input? { nil }
}

/// `interrogate report --tui`: a transcript's replay is read from disk by an effect, never by
/// the screen.
enum ReportProgram: Program {
    enum Command: Sendable, Equatable {
        case loadReplay(folder: String, ties: ScoringConfiguration.TieRule)
    }

    static func update(_ state: inout ReportScreenState, _ message: ReportScreenUpdate.Input) -> [Command] {
        ReportScreenUpdate.update(&state, message).map { [.loadReplay(folder: $0, ties: state.report.configuration.ties)] } ?? []
    }
    static func view(_ state: ReportScreenState) -> Screen { ReportScreenView.view(state) }
    static func isDone(_ state: ReportScreenState) -> Bool { state.quitting }
    static func message(_ input: CursesTerminal.Input) -> ReportScreenUpdate.Input {
        switch input {
        case .key(let k): .key(k)
        case let .resize(w, h): .resize(w, h)
        }
    }
    static var terminate: ReportScreenUpdate.Input? { nil }

    /// Reads the transcript to replay, through the one session reader.
    static func perform(_ command: Command, in runtime: ScreenRuntime<ReportProgram>) {
        switch command {
        case let .loadReplay(folder, ties): runtime.dispatch(ReplayReader.replay(folder: folder, ties: ties))
        }
    }
}
