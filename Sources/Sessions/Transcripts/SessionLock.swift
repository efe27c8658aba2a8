import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Held by the one process that writes a session (or a rater's file) for as long as it is
/// open: a second `run --resume` of the same session, or a second window on the same review,
/// is refused instead of writing duplicate message indexes. The lock is a `flock` on a small
/// hidden file beside the transcript; the kernel releases it when the process ends, however
/// it ends, so a crash never leaves a session locked.
public final class SessionLock: Sendable {
    private let fd: Int32
    public let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// The lock file of a transcript: `.NAME.lock` in the same folder.
    public static func lockPath(for transcript: String) -> String {
        let dir = (transcript as NSString).deletingLastPathComponent
        return (dir as NSString).appendingPathComponent(".\((transcript as NSString).lastPathComponent).lock")
    }

    /// How long a lock held by someone else is waited for before the second writer is refused.
    /// A lock given up that moment is not a second writer: a child process being started holds a
    /// copy of every descriptor until it execs, so a file closed and reopened at that instant is
    /// still locked for a few milliseconds.
    public static let patience: Duration = .seconds(1)

    public static func acquire(for transcript: String, patience: Duration = patience) throws(TranscriptError) -> SessionLock {
        let path = lockPath(for: transcript)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system("cannot open the lock \(path)", errno) }
        let deadline = ContinuousClock.now + patience
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            let code = errno
            if code == EWOULDBLOCK && ContinuousClock.now < deadline {
                usleep(20_000)
                continue
            }
            var holder = ""
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            if n > 0, let pid = Int(String(decoding: buffer.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) {
                holder = " (process \(pid))"
            }
            close(fd)
            if code == EWOULDBLOCK {
                throw .invalid("\(transcript) is open in another interrogate\(holder); close it there first (one writer at a time keeps its events in order)")
            }
            throw .system("cannot lock \(path)", code)
        }
        // Who holds it, for the message a second process shows; not data, so rewritten freely.
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return SessionLock(fd: fd, path: path)
    }
}
