import Foundation

/// A pipe that wakes the screen loop (the self-pipe trick): the loop sleeps until a key
/// arrives or this becomes readable, so an idle screen uses no CPU and a message posted
/// from another thread (a model token, a save) is drawn at once.
final class Wakeup: Sendable {
    /// Polled by the loop.
    let readEnd: Int32
    /// Written by `signal`, or by a signal handler (write(2) is async-signal-safe).
    let writeEnd: Int32

    init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 { fds = [-1, -1] }
        // Non-blocking both ways: a full pipe already means "wake up", and draining stops when empty.
        for fd in fds where fd >= 0 {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    deinit {
        if readEnd >= 0 { close(readEnd) }
        if writeEnd >= 0 { close(writeEnd) }
    }

    /// From any thread.
    func signal() {
        guard writeEnd >= 0 else { return }
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Empties the pipe (loop thread), before taking what was posted: a message posted after
    /// this leaves a byte, so it is never slept through.
    func drain() {
        guard readEnd >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(readEnd, &buffer, buffer.count) > 0 {}
    }
}
