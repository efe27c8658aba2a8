import Foundation

/// Runs `body` on a thread of its own, never on the cooperative pool: curses blocks on input
/// and must stay on one thread.
func onCursesThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
        Thread { c.resume(returning: body()) }.start()
    }
}
