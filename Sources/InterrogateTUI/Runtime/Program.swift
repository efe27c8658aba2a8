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

/// The one loop every screen runs in: draw the state, wait for a key or a message, hand each
/// message to `update`, give the commands it returns to `perform`. Curses is driven from the
/// thread that calls `run` alone; work done elsewhere posts its messages to a locked inbox and
/// wakes the loop. The loop sleeps while nothing happens, and draws only after something did.
final class ScreenRuntime<P: Program>: @unchecked Sendable {
    // @unchecked: `state` is touched on the loop thread only; `inbox` is locked.
    private let inbox = Mutex<[P.Message]>([])
    private let wakeup = Wakeup()
    private(set) var state: P.State
    private let stop: StopFlag?
    /// Does a command's work; called on the loop thread, so it may read `state` and
    /// `dispatch` results at once, or `post` them later from any thread.
    private let perform: (P.Command, ScreenRuntime<P>) -> Void

    /// The longest sleep without a key or a message: every wake-up has its own signal (a key,
    /// a posted message, a resize, a stop), so this only bounds the cost of one going astray.
    static var idleWait: Int32 { 1000 }
    /// Keys read before a frame is drawn: a paste is drawn once, not once per character.
    static var keysPerFrame: Int { 256 }

    init(state: P.State, stop: StopFlag? = nil, perform: @escaping (P.Command, ScreenRuntime<P>) -> Void = { _, _ in }) {
        self.state = state
        self.stop = stop
        self.perform = perform
    }

    /// Hands a message to the loop from any thread.
    func post(_ message: P.Message) {
        inbox.withLock { $0.append(message) }
        wakeup.signal()
    }

    /// Updates the state now (loop thread only) and performs what update asks for.
    func dispatch(_ message: P.Message) {
        for command in P.update(&state, message) { perform(command, self) }
    }

    /// Runs until the screen is done; returns its final state.
    func run(on terminal: CursesTerminal, initial: [P.Command] = []) -> P.State {
        stop?.wakes(wakeup)
        defer { stop?.wakes(nil) }
        let (w, h) = terminal.size
        dispatch(P.message(.resize(w, h)))
        for command in initial { perform(command, self) }
        var told = false
        var changed = true
        while !P.isDone(state) {
            if changed {
                terminal.draw(P.view(state))
                changed = false
            }
            if stop?.isSet == true && !told {
                told = true
                guard let terminate = P.terminate else { break }
                dispatch(terminate)
                changed = true
                continue
            }
            var keys = 0
            var input = terminal.read(waitingAtMost: Self.idleWait, orUntil: wakeup)
            while let next = input {
                dispatch(P.message(next))
                changed = true
                keys += 1
                input = keys < Self.keysPerFrame && !P.isDone(state) ? terminal.readPending() : nil
            }
            wakeup.drain()
            let messages = inbox.withLock { q -> [P.Message] in defer { q.removeAll() }; return q }
            for message in messages { dispatch(message) }
            if !messages.isEmpty { changed = true }
        }
        return state
    }
}
