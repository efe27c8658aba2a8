import Foundation
import Testing
import TestSupport
@testable import InterrogateTUI

/// A crash while the screen is up gives the terminal back (normal screen, echo, cursor) and
/// still dies of its signal, so that the shell reports it.
@Suite("Terminal restored after a crash", .serialized)
struct CrashRestoreTests {
    @Test("the crash handlers are installed for every fatal signal and the previous actions come back on close")
    func installAndRestore() {
        let signals = CrashGuard.signals
        #expect(Set(signals) == [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE])
        let before = signals.map(CrashGuard.handlerAddress)
        #expect(!signals.contains(where: CrashGuard.isHandling))
        CrashGuard.installHandlers()
        #expect(signals.allSatisfy(CrashGuard.isHandling))
        CrashGuard.installHandlers() // twice is harmless: the first previous actions are kept
        CrashGuard.uninstall()
        #expect(!signals.contains(where: CrashGuard.isHandling))
        #expect(signals.map(CrashGuard.handlerAddress) == before)
    }

    /// Each crash the debug build can be asked for, and the exit statuses the shell may report
    /// for it (a Swift trap is SIGILL on x86-64 and SIGTRAP on arm64).
    static let crashes: [(String, Set<Int>)] = [("trap", [128 + 4, 128 + 5]), ("abort", [128 + 6]), ("segv", [128 + 11])]

    @Test("a crash on the start screen leaves the alternate screen, shows the cursor, restores echo and keeps its exit status",
          arguments: [0, 1, 2])
    func crashInTerminal(which: Int) async throws {
        let (kind, statuses) = Self.crashes[which]
        try await TestSupport.offPool {
            let dir = try TestSupport.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let run = "export XDG_CONFIG_HOME='\(dir.path)/config'; cd '\(EndToEndTests.root)' && '\(EndToEndTests.binary)' run --transcripts '\(dir.path)/t' --scenarios '\(EndToEndTests.root)/Scenarios'"
            let t = try Tmux("\(run); echo \"exit=$?\"; stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(echo|icanon)' | tr '\\n' ' '; echo; echo done; sleep 60",
                             environment: ["INTERROGATE_TEST_CRASH": kind])
            let screen = try t.waitFor("done", timeout: 30) { $0.contains("\ndone") }
            let status = screen.split(separator: "\n").first { $0.hasPrefix("exit=") }.flatMap { Int($0.dropFirst(5)) }
            #expect(status.map(statuses.contains) == true, "exit status \(String(describing: status)), expected \(statuses): \(screen)")
            let modes = screen.split(whereSeparator: { $0 == " " || $0 == "\n" })
            #expect(modes.contains("echo") && !modes.contains("-echo"), "echo not restored: \(screen)")
            #expect(modes.contains("icanon") && !modes.contains("-icanon"), "line mode not restored: \(screen)")
            let flags = try t.tmux(["display-message", "-p", "-t", t.session, "#{alternate_on} #{cursor_flag}"])
            #expect(flags.trimmingCharacters(in: .whitespacesAndNewlines) == "0 1", "alternate screen / cursor: \(flags)")
            #expect(!screen.contains("choose a scenario"), "the curses screen is still shown: \(screen)")
        }
    }
}
