import Foundation
import Synchronization

/// A screen the one runtime can host (Bubble Tea's model): a state, the messages that change
/// it, the work it asks for, a pure `update` and a pure `view`. Keys and resizes come in as
/// messages; the work (a model stream, an append, reading a transcript) is done by the
/// runtime's effect handler and comes back as messages.
protocol Program: SendableMetatype {
    associatedtype State: Sendable
    associatedtype Message: Sendable
    associatedtype Command: Sendable

    static func update(_ state: inout State, _ message: Message) -> [Command]
    static func view(_ state: State) -> Screen
    /// The screen is finished: the loop ends and returns the state.
    static func isDone(_ state: State) -> Bool
    /// A key or a resize, as this screen's message.
    static func message(_ input: CursesTerminal.Input) -> Message
    /// What the screen is told when the process must end (SIGTERM, SIGHUP): it closes its
    /// work and finishes. Nil: the loop simply ends.
    static var terminate: Message? { get }
}

/// The one loop every screen runs in: draw the state, read a key, hand each
/// message to `update`, give the commands it returns to `perform`. Curses is driven from the
/// thread that calls `run` alone; work done elsewhere posts its messages to a locked inbox.
final class ScreenRuntime<P: Program>: @unchecked Sendable {
    // @unchecked: `state` is touched on the loop thread only; `inbox` is locked.
    private let inbox = Mutex<[P.Message]>([])
    private(set) var state: P.State
    private let stop: StopFlag?
    /// Does a command's work; called on the loop thread, so it may read `state` and
    /// `dispatch` results at once, or `post` them later from any thread.
    private let perform: (P.Command, ScreenRuntime<P>) -> Void

    init(state: P.State, stop: StopFlag? = nil, perform: @escaping (P.Command, ScreenRuntime<P>) -> Void = { _, _ in }) {
        self.state = state
        self.stop = stop
        self.perform = perform
    }

    /// Hands a message to the loop from any thread.
    func post(_ message: P.Message) { inbox.withLock { $0.append(message) } }

    /// Updates the state now (loop thread only) and performs what update asks for.
    func dispatch(_ message: P.Message) {
        for command in P.update(&state, message) { perform(command, self) }
    }

    /// Runs until the screen is done; returns its final state.
    func run(on terminal: CursesTerminal, initial: [P.Command] = []) -> P.State {
        let (w, h) = terminal.size
        dispatch(P.message(.resize(w, h)))
        for command in initial { perform(command, self) }
        var told = false
        while !P.isDone(state) {
            terminal.draw(P.view(state))
            if stop?.isSet == true && !told {
                told = true
                guard let terminate = P.terminate else { break }
                dispatch(terminate)
                continue
            }
            if let input = terminal.read() { dispatch(P.message(input)) }
            for message in inbox.withLock({ q -> [P.Message] in defer { q.removeAll() }; return q }) { dispatch(message) }
        }
        return state
    }
}
