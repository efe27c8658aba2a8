import Foundation
import Sessions

/// A progress line on standard error for reads of large studies: what is done, the rate and
/// the time left, rewritten in place at most a few times a second. Nothing at all when standard
/// error is not a terminal, so logs and pipes get only what the command says (and none from a
/// command whose rows stream to that same terminal, where the two would interleave).
final class ProgressLine: StudyProgress, @unchecked Sendable {
    // @unchecked: called from the command's own thread only.
    private let what: String
    private let verb: String
    private let write: (String) -> Void
    private var total = 0
    private var started = Date()
    private var lastDrawn = Date.distantPast
    private var drawn = false

    /// Nil when standard error is not a terminal.
    static func onTerminal(_ what: String, verb: String = "read") -> ProgressLine? {
        isatty(STDERR_FILENO) == 1 ? ProgressLine(what, verb: verb) : nil
    }

    init(_ what: String, verb: String = "read", write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.what = what
        self.verb = verb
        self.write = write
    }

    func start(total: Int) {
        self.total = total
        started = Date()
    }

    func advance(to done: Int) {
        let now = Date()
        guard now.timeIntervalSince(lastDrawn) >= 0.2 || done == total else { return }
        lastDrawn = now
        let elapsed = now.timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var line = "\(done)/\(total) \(what) \(verb)"
        if rate > 0 { line += String(format: ", %.0f/s", rate) }
        if rate > 0, done < total { line += ", about \(Self.duration(Double(total - done) / rate)) left" }
        // \r returns to the line start; \u{1B}[K clears what a longer earlier line left.
        write("\r\(line)\u{1B}[K")
        drawn = true
    }

    func finish() {
        if drawn { write("\r\u{1B}[K") }
        drawn = false
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        return s < 60 ? "\(s) s" : "\(s / 60) min \(s % 60) s"
    }
}
