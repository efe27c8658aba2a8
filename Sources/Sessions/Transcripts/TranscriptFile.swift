import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An append-only JSONL event log on disk. Each event is one `write` of one whole line,
/// followed by `fsync`, under an advisory `flock` so that two processes appending to the
/// same file never interleave. Nothing already written is ever changed.
public final class TranscriptFile: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    // Guards fd use and the cached tail within this process; flock guards across processes.
    private let lock = NSLock()
    private var knownSize: off_t = 0
    private var lastSeq = 0
    private let encoder = TranscriptCoding.encoder()
    private let now: @Sendable () -> Date
    /// The writer's lock on the session, held for as long as the file is open.
    private let hold: SessionLock?

    private init(path: String, fd: Int32, now: @escaping @Sendable () -> Date, hold: SessionLock?) {
        self.path = path
        self.fd = fd
        self.now = now
        self.hold = hold
    }

    deinit { close(fd) }

    /// Creates a new file (failing if it exists) whose first event is `first`.
    public static func create(path: String, first: EventBody, holding hold: SessionLock? = nil,
                              now: @escaping @Sendable () -> Date = Date.init) throws(TranscriptError) -> TranscriptFile {
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system("cannot create \(path)", errno) }
        let file = TranscriptFile(path: path, fd: fd, now: now, hold: hold)
        // A new file must reach the disk through its folder's entry too.
        fsyncDirectory(of: path)
        _ = try file.append(first)
        return file
    }

    /// Opens an existing file to append to it. If its last line is torn, the line is ended and
    /// a `recovery` event records it; that event is returned so the caller can tell the user.
    /// `holding` keeps the writer's session lock for the file's life.
    public static func openForAppend(path: String, holding hold: SessionLock? = nil,
                                     now: @escaping @Sendable () -> Date = Date.init) throws(TranscriptError) -> (file: TranscriptFile, recovered: RecoveryEvent?) {
        let fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open \(path)", errno) }
        let file = TranscriptFile(path: path, fd: fd, now: now, hold: hold)
        let recovered = try file.withFileLock { () throws(TranscriptError) -> RecoveryEvent? in try file.syncTail() }
        return (file, recovered)
    }

    /// Appends one event and returns it once it is on disk (written and fsync'd).
    @discardableResult
    public func append(_ body: EventBody) throws(TranscriptError) -> TranscriptEvent {
        try withFileLock { () throws(TranscriptError) -> TranscriptEvent in
            _ = try syncTail()
            guard lastSeq < Int.max else { throw .invalid("\(path): the last sequence number is already the largest there is; nothing more can be appended") }
            let event = TranscriptEvent(seq: lastSeq + 1, timestamp: now(), body: body)
            try writeLine(event)
            return event
        }
    }

    private func writeLine(_ event: TranscriptEvent) throws(TranscriptError) {
        var line: Data
        do { line = try encoder.encode(event) } catch { throw .encoding("\(error)") }
        line.append(0x0A)
        try writeAll(line)
        guard fsync(fd) == 0 else { throw .system("cannot fsync \(path)", errno) }
        knownSize += off_t(line.count)
        lastSeq = event.seq
    }

    private func writeAll(_ data: Data) throws(TranscriptError) { try Self.writeAll(data, fd: fd, path: path) }

    /// One write call for the whole line; a loop only if the kernel takes part of it.
    static func writeAll(_ data: Data, fd: Int32, path: String) throws(TranscriptError) {
        var offset = 0
        while offset < data.count {
            let n = data.withUnsafeBytes { raw in write(fd, raw.baseAddress! + offset, raw.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .system("cannot write to \(path)", errno)
            }
            offset += n
        }
    }

    private func withFileLock<T>(_ body: () throws(TranscriptError) -> T) throws(TranscriptError) -> T {
        lock.lock()
        defer { lock.unlock() }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw .system("cannot lock \(path)", errno) }
        }
        defer { _ = flock(fd, LOCK_UN) }
        return try body()
    }

    /// Brings the cached size and last sequence number up to date when another writer has
    /// appended since, and ends a torn last line. Call with the file lock held.
    private func syncTail() throws(TranscriptError) -> RecoveryEvent? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .system("cannot stat \(path)", errno) }
        let size = st.st_size
        if size == knownSize { return nil }
        knownSize = size
        guard size > 0 else { lastSeq = 0; return nil }
        if try readBytes(size - 1 ..< size) == Data([0x0A]) {
            lastSeq = try lastSeq(before: size)
            return nil
        }
        // A crash mid-write left a fragment: end it so that the next event starts on its own
        // line, keep the fragment as it is, and record what happened.
        let fragmentStart = try lastNewline(before: size).map { $0 + 1 } ?? 0
        let lineNumber = try countNewlines() + 1
        try writeAll(Data([0x0A]))
        guard fsync(fd) == 0 else { throw .system("cannot fsync \(path)", errno) }
        knownSize += 1
        lastSeq = try lastSeq(before: fragmentStart)
        guard lastSeq < Int.max else { throw .invalid("\(path): the last sequence number is already the largest there is; nothing more can be appended") }
        let event = RecoveryEvent(tornLine: lineNumber, tornBytes: Int(size - fragmentStart))
        try writeLine(TranscriptEvent(seq: lastSeq + 1, timestamp: now(), body: .recovery(event)))
        return event
    }

    /// The sequence number of the last whole, readable line ending before `end`; lines that
    /// cannot be read (an earlier torn fragment) are stepped over.
    private func lastSeq(before end: off_t) throws(TranscriptError) -> Int {
        var end = end
        while let term = try lastNewline(before: end) {
            let start = try lastNewline(before: term).map { $0 + 1 } ?? 0
            if let seq = Self.seq(ofLine: try readBytes(start ..< term)) { return seq }
            end = start
        }
        return 0
    }

    /// The offset of the last newline byte before `end`, reading backwards in chunks.
    private func lastNewline(before end: off_t) throws(TranscriptError) -> off_t? {
        var pos = end
        let chunk: off_t = 64 * 1024
        while pos > 0 {
            let start = max(0, pos - chunk)
            let piece = try readBytes(start ..< pos)
            if let i = piece.lastIndex(of: 0x0A) { return start + off_t(i - piece.startIndex) }
            pos = start
        }
        return nil
    }

    private func readBytes(_ range: Range<off_t>) throws(TranscriptError) -> Data {
        var piece = Data(count: Int(range.count))
        let n = piece.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, range.lowerBound) }
        guard n == piece.count else { throw .system("cannot read \(path)", errno) }
        return piece
    }

    private func countNewlines() throws(TranscriptError) -> Int {
        var count = 0
        var pos: off_t = 0
        var piece = Data(count: 1 << 20)
        while true {
            let n = piece.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, pos) }
            if n < 0 { throw .system("cannot read \(path)", errno) }
            if n == 0 { break }
            count += piece.prefix(n).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            pos += off_t(n)
        }
        return count
    }

    private static func seq(ofLine line: Data) -> Int? {
        guard let seq = (try? JSONValue.parse(line))?["seq"]?.integer, seq >= 0 else { return nil }
        return seq
    }

    static func fsyncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }
}

public enum TranscriptError: Error, Sendable, Equatable, CustomStringConvertible {
    case system(String, Int32)
    case encoding(String)
    case notFound(String)
    case invalid(String)

    public var description: String {
        switch self {
        case let .system(what, code): "\(what): \(String(cString: strerror(code)))"
        case let .encoding(what): "cannot encode event: \(what)"
        case let .notFound(what): what
        case let .invalid(what): what
        }
    }
}
