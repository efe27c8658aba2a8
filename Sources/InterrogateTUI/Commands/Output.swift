import ArgumentParser
import Foundation

/// Writes `message` on standard error, after "interrogate: " unless `prefix` is false. A
/// failure to write there is not reported: there is nowhere left to report it.
func printError(_ message: String, prefix: Bool = true) {
    let bytes = Array(((prefix ? "interrogate: " : "") + message + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count) }
        if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { break }
    }
}

/// Exit code for "the output could not be written" (sysexits' EX_IOERR), distinct from
/// invalid input (1) and bad arguments (64).
let outputFailedExit = ExitCode(74)

/// The pretty, key-sorted JSON every command prints.
func jsonText<T: Encodable>(_ value: T) throws(OutputError) -> String {
    let e = JSONEncoder()
    e.keyEncodingStrategy = .convertToSnakeCase
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    do { return String(decoding: try e.encode(value), as: UTF8.self) + "\n" } catch {
        throw OutputError(description: "cannot write the output as JSON: \(error)")
    }
}

/// Writes `value` as JSON to standard output; throws `outputFailedExit` (after saying why on
/// standard error) when it cannot be encoded (a NaN, say) or written.
func writeJSON<T: Encodable>(_ value: T) throws {
    do {
        let out = OutputSink.standardOutput()
        try out.write(try jsonText(value))
        try out.finish()
    } catch {
        printError("\(error)")
        throw outputFailedExit
    }
}

/// As `writeJSON`, for commands that do not throw: a failure is reported and the process exits
/// with `outputFailedExit`, never silently with 0.
func printJSON<T: Encodable>(_ value: T) {
    do { try writeJSON(value) } catch { exit(outputFailedExit.rawValue) }
}

struct OutputError: Error, CustomStringConvertible {
    var description: String
}

/// RFC 4180 CSV text: a field holding a comma, a double quote, a carriage return or a line
/// feed is enclosed in double quotes, its quotes doubled; every other field is written as it
/// is. Rows end with a line feed.
enum CSVText {
    static func field(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func row(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") + "\n" }
}

/// Where a command's output goes, every failure to write it reported:
/// - standard output: the descriptor the process was given (a terminal, file, pipe or socket),
///   never reopened by a path such as /dev/stdout;
/// - an existing device, pipe or socket named by `--out`: written into, never replaced;
/// - a regular file: written beside it and renamed over it once complete (after fsync), so
///   that a reader never sees half of it and a failed write leaves the old file as it was.
final class OutputSink {
    let name: String
    private var fd: Int32
    private let ownsDescriptor: Bool
    /// The temporary file being written, and the path it is renamed to by `finish()`.
    private let replace: (temporary: String, target: String)?
    private var buffer: [UInt8] = []
    private var finished = false

    private init(name: String, fd: Int32, ownsDescriptor: Bool, replace: (temporary: String, target: String)?) {
        self.name = name
        self.fd = fd
        self.ownsDescriptor = ownsDescriptor
        self.replace = replace
    }

    static func standardOutput() -> OutputSink {
        // Anything `print` left in the C library's buffer goes first.
        fflush(nil)
        return OutputSink(name: "standard output", fd: STDOUT_FILENO, ownsDescriptor: false, replace: nil)
    }

    static func failure(_ what: String, _ path: String, _ code: Int32 = errno) -> OutputError {
        OutputError(description: "cannot \(what) \(path): \(String(cString: strerror(code)))")
    }

    /// `--out PATH`.
    static func file(_ path: String) throws(OutputError) -> OutputSink {
        var st = stat()
        var target = path
        if lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK, let real = realpath(path, nil) {
            // A link to a file: the file it points to is replaced, the link kept.
            target = String(cString: real)
            free(real)
        }
        let exists = stat(target, &st) == 0
        if exists && (st.st_mode & S_IFMT) != S_IFREG {
            // A device, pipe or directory: written into (a directory fails here, with its reason).
            let fd = systemOpen(target, O_WRONLY | O_CLOEXEC, 0)
            guard fd >= 0 else { throw failure("write", path) }
            return OutputSink(name: path, fd: fd, ownsDescriptor: true, replace: nil)
        }
        let url = URL(fileURLWithPath: target)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        let fd = systemOpen(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw failure("write", path) }
        // A file that is replaced keeps its permissions.
        if exists { _ = fchmod(fd, st.st_mode & 0o7777) }
        return OutputSink(name: path, fd: fd, ownsDescriptor: true, replace: (temporary, target))
    }

    /// `--out PATH` if given, else standard output.
    static func destination(_ path: String?) throws(OutputError) -> OutputSink {
        if let path { try file(path) } else { standardOutput() }
    }

    /// A command's whole output to `--out` or standard output; a failure is reported and
    /// exits 74, and a file written is named on stderr.
    static func deliver(_ text: String, to path: String?) throws {
        do {
            let sink = try destination(path)
            try sink.write(text)
            try sink.finish()
        } catch {
            printError("\(error)")
            throw outputFailedExit
        }
        if let path { printError("wrote \(path)", prefix: false) }
    }

    func write(_ text: String) throws(OutputError) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    func flush() throws(OutputError) {
        var offset = 0
        defer { buffer.removeFirst(offset) }
        while offset < buffer.count {
            let n = buffer[offset...].withUnsafeBytes { systemWrite(fd, $0.baseAddress!, $0.count) }
            if n > 0 { offset += n; continue }
            let code = n < 0 ? errno : EIO
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                // A descriptor someone else set non-blocking: wait until it takes more.
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, -1)
                continue
            }
            throw Self.failure("write", name, code)
        }
    }

    /// Writes what is buffered and, for a file, puts it in place.
    func finish() throws(OutputError) {
        guard !finished else { return }
        do throws(OutputError) {
            try flush()
            if let replace {
                guard fsync(fd) == 0 else { throw Self.failure("write", name) }
                let fd = self.fd
                self.fd = -1
                guard close(fd) == 0 else { throw Self.failure("write", name) }
                guard rename(replace.temporary, replace.target) == 0 else { throw Self.failure("replace", name) }
            } else if ownsDescriptor {
                let fd = self.fd
                self.fd = -1
                guard close(fd) == 0 else { throw Self.failure("write", name) }
            }
            finished = true
        } catch {
            discard()
            throw error
        }
    }

    /// Gives up: a file being written is removed, the old one left as it was.
    func discard() {
        finished = true
        if ownsDescriptor && fd >= 0 { close(fd); fd = -1 }
        if let replace { unlink(replace.temporary) }
    }

    deinit { if !finished { discard() } }
}

// The C library's calls, out of reach of OutputSink's own `write` inside it.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }

/// A plain text table for terminals and logs, columns padded to their widest cell.
struct Table {
    var header: [String]
    var rows: [[String]]

    func render() -> String {
        let all = [header] + rows
        // By display width: a model or rater named in wide or accented characters keeps the
        // columns after it in line.
        let widths = header.indices.map { i in all.map { DisplayWidth.of($0[i]) }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : DisplayWidth.padded(cell, toAtLeast: widths[i])
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
