import Foundation

/// Drives a program in a real terminal: tmux types keys and reads the screen back, as a
/// person would. Each instance has its own tmux server, so tests never touch a user's tmux.
public final class Tmux {
    public let socket = "interrogate-test-\(UUID().uuidString.prefix(8))"
    public let session = "t"

    public struct TimedOut: Error, CustomStringConvertible {
        public var waitingFor: String
        public var screen: String
        public var description: String { "the screen never showed \(waitingFor.debugDescription); it shows:\n\(screen)" }
    }

    /// Starts `command` (run by sh) in a width×height terminal.
    public init(_ command: String, width: Int = 100, height: Int = 30, environment: [String: String] = [:]) throws {
        let exports = environment.map { "export \($0.key)='\($0.value)';" }.joined(separator: " ")
        // The first command starts the tmux server, which must not inherit a pipe of ours.
        let started = try TestSupport.run(URL(fileURLWithPath: "/usr/bin/tmux"),
                                          ["-L", socket, "new-session", "-d", "-s", session, "-x", String(width), "-y", String(height), "\(exports) \(command)"])
        guard started.status == 0 else { throw TimedOut(waitingFor: "tmux to start", screen: "") }
        // Keep the pane readable after the program exits.
        try tmux(["set-option", "-t", session, "remain-on-exit", "on"])
    }

    deinit { try? tmux(["kill-server"]) }

    @discardableResult
    public func tmux(_ args: [String]) throws -> String {
        let r = try TestSupport.run(URL(fileURLWithPath: "/usr/bin/tmux"), ["-L", socket] + args)
        guard r.status == 0 else { throw TimedOut(waitingFor: "tmux \(args.joined(separator: " "))", screen: r.stderr) }
        return r.stdout
    }

    /// Types text literally.
    public func type(_ text: String) throws { try tmux(["send-keys", "-t", session, "-l", text]) }

    /// Presses keys by tmux name: Enter, Tab, Escape, Up, C-q, F1, …
    public func press(_ keys: String...) throws { for k in keys { try tmux(["send-keys", "-t", session, k]) } }

    public func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", session]) }

    public func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", session, "-x", String(width), "-y", String(height)])
    }

    /// The process id of the program in the pane.
    public func panePID() throws -> Int32 {
        Int32(try tmux(["list-panes", "-t", session, "-F", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Waits until the program in the pane has exited (or was killed).
    public func waitForExit(timeout: Double = 20) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try tmux(["display-message", "-p", "-t", session, "#{pane_dead}"]).hasPrefix("1") { return }
            usleep(50_000)
        }
        throw TimedOut(waitingFor: "the program to exit", screen: try screen())
    }

    /// Waits until the screen satisfies `condition` (polling), and returns that screen.
    @discardableResult
    public func waitFor(_ description: String, timeout: Double = 20, _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if condition(last) { return last }
            usleep(50_000)
        }
        throw TimedOut(waitingFor: description, screen: last)
    }

    @discardableResult
    public func waitFor(_ text: String, timeout: Double = 20) throws -> String {
        try waitFor(text, timeout: timeout) { $0.contains(text) }
    }
}
