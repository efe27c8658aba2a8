import CNCurses
import Foundation

/// While curses is active, a crash (a Swift trap, a bad access, abort) must not leave the
/// person's terminal in the alternate screen with echo off and the cursor hidden. The signal
/// handler itself is C (Sources/CNCurses/shim.h) and does only async-signal-safe work: it
/// writes a reset sequence prepared here, puts back the terminal mode saved before curses
/// started, and re-raises the signal with its default action so the crash is still reported
/// with its exit status.
enum CrashGuard {
    /// SIGILL, SIGTRAP (Swift traps on Linux), SIGSEGV, SIGBUS, SIGABRT, SIGFPE.
    static var signals: [Int32] { (0..<cn_crash_signal_count()).map { cn_crash_signal($0) } }

    /// Call before `initscr`: the terminal mode to go back to.
    static func saveTerminalMode() { cn_crash_save_terminal_mode() }

    /// Call after `initscr`: prepares the reset sequence from terminfo and installs the handlers.
    static func install(mouse: Bool) {
        cn_crash_prepare_reset(mouse ? 1 : 0)
        _ = cn_crash_install()
    }

    /// Installs the handlers alone (the reset sequence stays as it was prepared).
    static func installHandlers() { _ = cn_crash_install() }

    /// Curses ended normally: the previous signal actions come back.
    static func uninstall() { cn_crash_uninstall() }

    static func isHandling(_ signal: Int32) -> Bool { cn_crash_handler_is_set(signal) != 0 }

    static func handlerAddress(_ signal: Int32) -> UInt { UInt(cn_signal_handler_address(signal)) }

    static var resetSequence: [UInt8] {
        var buffer = [CChar](repeating: 0, count: 512)
        let n = cn_crash_reset_copy(&buffer, Int32(buffer.count))
        return buffer.prefix(Int(max(0, n))).map { UInt8(bitPattern: $0) }
    }

    #if DEBUG
    /// Test-only, and only in debug builds (release builds do not read it): with
    /// INTERROGATE_TEST_CRASH set, the first screen drawn is followed by a crash — `trap` a
    /// Swift runtime trap (as an out-of-range index is), `abort` abort(), `segv` SIGSEGV —
    /// so that the end-to-end tests can check that the terminal is given back.
    static func crashForTestingIfAsked() {
        guard let kind = ProcessInfo.processInfo.environment["INTERROGATE_TEST_CRASH"] else { return }
        switch kind {
        case "abort": abort()
        case "segv": raise(SIGSEGV)
        default:
            let empty: [Int] = []
            _ = empty[empty.count + Int(kind.count)] // out of range: the Swift trap
        }
    }
    #endif
}
