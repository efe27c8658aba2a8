import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server of the tests' own: `initdb` in a temporary folder, started on a
/// free loopback port with password (SCRAM) logins, and stopped by a small shell that watches
/// this test process, so that a crashed test run leaves no server behind. Run as the
/// `postgres` user when the tests run as root (PostgreSQL refuses to run as root).
public final class PostgresServer: @unchecked Sendable {
    public let folder: String
    public let port: Int
    public let admin = "lab_admin"
    public let adminPassword = "admin-\(UInt32.random(in: 0...UInt32.max))"
    let bin: String
    private let lock = NSLock()
    private var databases = 0

    /// One server for the whole test process, started on first use. Roles are a cluster's,
    /// shared by all its databases: a test that makes people (alice, carol…) starts its own
    /// server with `start()` instead, and stops it.
    public static let shared: Result<PostgresServer, PostgresServerError> = Result(catching: { () throws(PostgresServerError) -> PostgresServer in try PostgresServer.start() })

    public static func get() throws -> PostgresServer { try shared.get() }

    /// Extra server settings (`-c name=value`), such as logging every statement.
    let settings: [String]

    private init(folder: String, port: Int, bin: String, settings: [String]) {
        self.folder = folder
        self.port = port
        self.bin = bin
        self.settings = settings
    }

    /// The server's log so far.
    public var log: String { (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? "" }

    public var dataFolder: String { folder + "/data" }

    /// The newest PostgreSQL that Debian's `postgresql` package installed (setup.sh installs it).
    static func binFolder() throws(PostgresServerError) -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        for v in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(v)/bin/initdb") {
            return "\(root)/\(v)/bin"
        }
        throw PostgresServerError(description: "no PostgreSQL server under \(root): run scripts/setup.sh (it installs Debian's postgresql package)")
    }

    static var runAsPostgres: Bool { getuid() == 0 }

    /// `args` as the server's user, waiting for it; (status, output).
    @discardableResult
    static func runAsServerUser(_ args: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let p = Process()
        if runAsPostgres {
            p.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            p.arguments = ["-u", "postgres", "--", "env"] + environment.map { "\($0.key)=\($0.value)" } + args
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = environment.map { "\($0.key)=\($0.value)" } + args
        }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    public static func start(settings: [String] = []) throws(PostgresServerError) -> PostgresServer {
        let bin = try binFolder()
        var template = Array("/tmp/interrogate-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw PostgresServerError(description: "cannot make a temporary folder") }
        let folder = String(cString: made)
        if runAsPostgres, let pw = getpwnam("postgres") {
            chown(folder, pw.pointee.pw_uid, pw.pointee.pw_gid)
        }
        var lastError = ""
        for _ in 0..<3 {
            let server = PostgresServer(folder: folder, port: freePort(), bin: bin, settings: settings)
            do {
                try server.initialise()
                try server.launch()
                return server
            } catch {
                lastError = "\(error)"
                _ = try? runAsServerUser(["rm", "-rf", server.dataFolder])
            }
        }
        throw PostgresServerError(description: "could not start PostgreSQL: \(lastError)")
    }

    private func initialise() throws {
        let pwfile = folder + "/pwfile"
        try adminPassword.write(toFile: pwfile, atomically: true, encoding: .utf8)
        if Self.runAsPostgres, let pw = getpwnam("postgres") { chown(pwfile, pw.pointee.pw_uid, pw.pointee.pw_gid) }
        let (status, output) = try Self.runAsServerUser([bin + "/initdb", "-D", dataFolder, "-U", admin, "--pwfile=" + pwfile,
                                                         "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        guard status == 0 else { throw PostgresServerError(description: "initdb failed: \(output)") }
    }

    /// Starts the server under a shell that stops it when this test process is gone.
    public func launch() throws {
        let script = """
            d="$1" data="$2" port="$3" dir="$4" watched="$5"
            shift 5
            "$d/postgres" -D "$data" -p "$port" -k "$dir" -c listen_addresses=127.0.0.1 -c max_connections=60 "$@" >>"$dir/server.log" 2>&1 &
            pg=$!
            while [ -d "/proc/$watched" ] && kill -0 "$pg" 2>/dev/null; do sleep 0.5; done
            kill -INT "$pg" 2>/dev/null
            wait "$pg"
            [ -d "/proc/$watched" ] || rm -rf "$dir"
            """
        let p = Process()
        let args = ["/bin/sh", "-c", script, "sh", bin, dataFolder, String(port), folder, String(getpid())] + settings.flatMap { ["-c", $0] }
        if Self.runAsPostgres {
            p.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            p.arguments = ["-u", "postgres", "--"] + args
        } else {
            p.executableURL = URL(fileURLWithPath: args[0])
            p.arguments = Array(args.dropFirst())
        }
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if (try? psql("SELECT 1").output) == "1" { return }
            if !p.isRunning { break }
            usleep(100_000)
        }
        let log = (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? ""
        throw PostgresServerError(description: "PostgreSQL did not start on port \(port): \(log.suffix(2000))")
    }

    /// Stops the server (a fast shutdown) and removes its folder.
    public func stop() {
        if let pid = postmasterPID, kill(pid, SIGINT) == 0 {
            let deadline = Date().addingTimeInterval(30)
            while kill(pid, 0) == 0 && Date() < deadline { usleep(50_000) }
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The processes whose parent is `pid` (the server's backends and helpers), from /proc.
    public static func children(of pid: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            // After "pid (comm) state ppid …": the fourth field.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == pid
        }
    }

    /// The server's process id, from its pid file.
    public var postmasterPID: pid_t? {
        guard let text = try? String(contentsOfFile: dataFolder + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = pid_t(first) else { return nil }
        return pid
    }

    /// A new, empty database owned by the admin, for one test.
    public func createDatabase() throws -> String {
        let n = lock.withLock { databases += 1; return databases }
        let name = "t\(getpid())_\(n)_\(UInt16.random(in: 0...UInt16.max))"
        let r = try psql("CREATE DATABASE \(name)")
        guard r.status == 0 else { throw PostgresServerError(description: "cannot create a database: \(r.output)") }
        return name
    }

    public func url(user: String? = nil, password: String? = nil, database: String = "postgres") -> String {
        let u = user ?? admin
        let p = password ?? (user == nil ? adminPassword : "")
        return "postgresql://\(u)\(p.isEmpty ? "" : ":" + (p.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? p))@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Plain SQL through psql, as a person would type it: (exit status, output without the
    /// trailing newline). Errors stop the script (ON_ERROR_STOP).
    public func psql(_ sql: String, user: String? = nil, password: String? = nil, database: String = "postgres") throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        p.arguments = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port),
                       "-U", user ?? admin, "-d", database, "-c", sql]
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
        env["PGPASSWORD"] = password ?? (user == nil ? adminPassword : "")
        env["PGCONNECT_TIMEOUT"] = "5"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines))
    }

    /// A port nobody listens on now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

public struct PostgresServerError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
