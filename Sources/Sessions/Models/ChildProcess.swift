import Foundation
#if canImport(Glibc)
import CFileSystem
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with posix_spawn and watched with waitpid on its own pid.
/// Foundation's Process is not used: on Linux its exit monitoring can miss an exit when many
/// processes run at once, and stopping the model server must never hang the app's exit.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `exitStatus` is only touched under `lock`.
    public let pid: pid_t
    /// Its own process group (`ownProcessGroup`): the last resort kills the whole group, so
    /// nothing it started outlives it.
    private let leadsGroup: Bool
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Starts `path` with `arguments`; stdin is /dev/null, stdout and stderr go to the given
    /// open descriptors (which the caller closes afterwards). With `ownProcessGroup`, Ctrl-C in
    /// the terminal (SIGINT to the foreground process group) does not reach it: the app decides
    /// what Ctrl-C stops, and when.
    public init(path: String, arguments: [String], environment: [String: String], stdout: Int32, stderr: Int32,
                ownProcessGroup: Bool = false) throws(ModelError) {
        var actions = Platform.spawnFileActions()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        // Nothing else of the app's: a descriptor Swift or a library opened without
        // close-on-exec (NIO's sockets, a transcript, a session's lock) would stay open in the
        // child for as long as it runs: a connection the app closed would not end, a lock not
        // be released.
        #if canImport(Glibc)
        // A glibc before 2.34 has no such action (ENOSYS): the child then starts as it did
        // before, and the local model server's launcher closes what it inherited itself.
        let closing = interrogate_spawn_close_from(&actions, 3)
        guard closing == 0 || closing == ENOSYS else { throw .localServer("cannot start \(path): \(String(cString: strerror(closing)))") }
        #endif
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        let env = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for e in env { free(e) } }
        // A thread of a concurrent runtime may block signals; the child must not inherit that,
        // or SIGTERM cannot stop it.
        var attr = Platform.spawnAttributes()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attr, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attr, &allSignals)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        #if canImport(Darwin)
        // Darwin's way of the same: only the descriptors the actions set survive.
        flags |= POSIX_SPAWN_CLOEXEC_DEFAULT
        #endif
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attr, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attr, Int16(flags))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, argv, env)
        guard rc == 0 else { throw .localServer("cannot start \(path): \(String(cString: strerror(rc)))") }
        self.pid = pid
        leadsGroup = ownProcessGroup
    }

    /// Whether it still runs; reaps it once it has ended.
    public var isRunning: Bool {
        lock.withLock {
            guard exitStatus == nil else { return false }
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f); return false }
            if r < 0 && errno == ECHILD { exitStatus = -1; return false }
            return true
        }
    }

    /// The exit status (128 + signal for a signal), once it has ended.
    public var status: Int32? { _ = isRunning; return lock.withLock { exitStatus } }

    /// Blocks until it has ended; its exit status, or 128 + the signal that ended it.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        while isRunning { usleep(2_000) }
        return status ?? -1
    }

    /// SIGTERM, then SIGKILL (to its whole group if it leads one) after `grace` seconds;
    /// returns when it has ended.
    public func stop(grace: Double = 5) {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while isRunning && Date() < deadline { usleep(20_000) }
        if isRunning { kill(leadsGroup ? -pid : pid, SIGKILL) }
        while isRunning { usleep(5_000) }
    }
}
