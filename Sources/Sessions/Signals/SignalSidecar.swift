import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files beside `session.jsonl` that hold what the signals need and the session does not:
/// token log-probabilities and probe answers, one JSON line per reply, keyed by its message
/// index. Appended and fsync'd like the session; a line is never changed.
public enum SignalSidecar {
    public static let logprobsFileName = "logprobs.jsonl"
    public static let probesFileName = "probes.jsonl"

    public static func logprobsPath(folder: String) -> String { (folder as NSString).appendingPathComponent(logprobsFileName) }
    public static func probesPath(folder: String) -> String { (folder as NSString).appendingPathComponent(probesFileName) }

    public static func append(_ record: LogprobRecord, folder: String) throws(TranscriptError) {
        try append(record, path: logprobsPath(folder: folder))
    }

    public static func append(_ record: ProbeRecord, folder: String) throws(TranscriptError) {
        try append(record, path: probesPath(folder: folder))
    }

    /// One write of one whole line, then fsync, under the file's lock; a torn last line (a
    /// crash mid-write) is ended first so that the new line stands on its own.
    static func append<T: Encodable>(_ record: T, path: String) throws(TranscriptError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line: Data
        do { line = try encoder.encode(record) } catch { throw .encoding("\(error)") }
        line.append(0x0A)
        let created = access(path, F_OK) != 0
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system("cannot open \(path)", errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw .system("cannot lock \(path)", errno) }
        }
        defer { _ = flock(fd, LOCK_UN) }
        let size = lseek(fd, 0, SEEK_END)
        if size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, size - 1) == 1, last != 0x0A { line.insert(0x0A, at: 0) }
        }
        try TranscriptFile.writeAll(line, fd: fd, path: path)
        guard fsync(fd) == 0 else { throw .system("cannot fsync \(path)", errno) }
        if created { TranscriptFile.fsyncDirectory(of: path) }
    }

    /// What a session's sidecars hold, read whole: every line counted or listed with why not.
    public struct Contents: Sendable {
        /// nil: the file is not there (nothing was recorded), which is not the same as empty.
        public var logprobs: [Int: LogprobRecord]?
        public var probes: [Int: ProbeRecord]?
        /// "probes.jsonl line 3: …; left out", in file order.
        public var problems: [String] = []
    }

    public static func read(folder: String) -> Contents {
        var c = Contents()
        c.logprobs = readLines(logprobsPath(folder: folder), name: logprobsFileName, problems: &c.problems, decode: decodeLogprobs)
        c.probes = readLines(probesPath(folder: folder), name: probesFileName, problems: &c.problems, decode: decodeProbes)
        return c
    }

    /// What is wrong with one sidecar file (a logprobs.jsonl or a probes.jsonl), line by line,
    /// as `read` would leave it out; nil when it is neither or is not there.
    public static func problems(path: String) -> [String]? {
        var problems: [String] = []
        switch (path as NSString).lastPathComponent {
        case logprobsFileName: guard readLines(path, name: logprobsFileName, problems: &problems, decode: decodeLogprobs) != nil else { return nil }
        case probesFileName: guard readLines(path, name: probesFileName, problems: &problems, decode: decodeProbes) != nil else { return nil }
        default: return nil
        }
        return problems
    }

    /// The records by message index. A line that cannot be read, or that repeats an index, is
    /// left out with its reason (both lines of a repeat: which one is right is not known).
    static func readLines<T>(_ path: String, name: String, problems: inout [String],
                             decode: (JSONValue) throws(SidecarError) -> (Int, T)) -> [Int: T]? {
        guard let data = FileManager.default.contents(atPath: path) else {
            if access(path, F_OK) == 0 { problems.append("\(name): cannot be read; left out") ; return [:] }
            return nil
        }
        var out: [Int: T] = [:]
        var lineOf: [Int: Int] = [:]
        var repeated: Set<Int> = []
        let bytes = [UInt8](data)
        var start = 0, number = 0
        while start < bytes.count {
            number += 1
            let end = bytes[start...].firstIndex(of: 0x0A)
            let line = bytes[start..<(end ?? bytes.count)]
            start = (end ?? bytes.count) + 1
            if end == nil {
                problems.append("\(name) line \(number): cut short (the writer stopped mid-line); left out")
                break
            }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { continue }
            do throws(SidecarError) {
                guard let value = try? JSONValue.parse(Data(line)) else { throw SidecarError("not JSON") }
                let (index, record) = try decode(value)
                if let first = lineOf[index] {
                    repeated.insert(index)
                    problems.append("\(name) line \(number): message \(index) was already recorded on line \(first); both left out")
                    continue
                }
                lineOf[index] = number
                out[index] = record
            } catch {
                problems.append("\(name) line \(number): \(error.message); left out")
            }
        }
        for i in repeated { out[i] = nil }
        return out
    }

    struct SidecarError: Error {
        var message: String
        init(_ m: String) { message = m }
    }

    static func index(_ v: JSONValue) throws(SidecarError) -> Int {
        guard let i = v["message_index"]?.integer, i >= 0 else { throw SidecarError("no message_index (a whole number from 0)") }
        return i
    }

    /// A log-probability is a finite number not above zero (a rounding hair above is read as zero).
    static func logprob(_ v: JSONValue?, _ what: String) throws(SidecarError) -> Double {
        guard let x = v?.number, x.isFinite, x <= 1e-6 else { throw SidecarError("\(what) is not a log-probability (a finite number ≤ 0)") }
        return min(x, 0)
    }

    static func decodeLogprobs(_ v: JSONValue) throws(SidecarError) -> (Int, LogprobRecord) {
        let i = try index(v)
        guard case .array(let items)? = v["tokens"], !items.isEmpty else { throw SidecarError("no tokens") }
        var tokens: [LogprobRecord.Token] = []
        for (n, t) in items.enumerated() {
            guard let text = t["token"]?.string else { throw SidecarError("token \(n + 1) has no text") }
            let lp = try logprob(t["logprob"], "token \(n + 1)'s logprob")
            var top: [LogprobRecord.Alternative] = []
            if case .array(let alts)? = t["top"] {
                guard alts.count <= 100 else { throw SidecarError("token \(n + 1) lists \(alts.count) alternatives (at most 100)") }
                for a in alts {
                    guard let s = a["token"]?.string else { throw SidecarError("an alternative of token \(n + 1) has no text") }
                    top.append(.init(token: s, logprob: try logprob(a["logprob"], "an alternative of token \(n + 1)")))
                }
            }
            tokens.append(.init(token: text, logprob: lp, top: top))
        }
        let k = v["top_logprobs"]?.integer
        return (i, LogprobRecord(messageIndex: i, topLogprobs: k.map { max(0, min($0, 100)) }, tokens: tokens, recordedAt: v["recorded_at"]?.string))
    }

    static func decodeProbes(_ v: JSONValue) throws(SidecarError) -> (Int, ProbeRecord) {
        let i = try index(v)
        guard let set = v["probe_set"], let path = set["path"]?.string, let version = set["version"]?.string, let sha = set["sha256"]?.string else {
            throw SidecarError("no probe_set (path, version, sha256)")
        }
        guard case .array(let items)? = v["answers"], !items.isEmpty else { throw SidecarError("no answers") }
        var answers: [ProbeRecord.ProbeAnswer] = []
        var ids: Set<String> = []
        for (n, a) in items.enumerated() {
            guard let id = a["id"]?.string, ids.insert(id).inserted else { throw SidecarError("answer \(n + 1) has no id, or one already used") }
            guard let raw = a["answer"]?.string, let answer = ProbeRecord.Answer(rawValue: raw) else {
                throw SidecarError("answer \(n + 1) is not yes, no, other or failed")
            }
            let yes = try a["logprob_yes"].flatMap { v throws(SidecarError) in v == .null ? nil : try logprob(v, "answer \(n + 1)'s logprob_yes") }
            let no = try a["logprob_no"].flatMap { v throws(SidecarError) in v == .null ? nil : try logprob(v, "answer \(n + 1)'s logprob_no") }
            answers.append(.init(id: id, answer: answer, text: a["text"]?.string ?? "", logprobYes: yes, logprobNo: no, error: a["error"]?.string))
        }
        return (i, ProbeRecord(messageIndex: i, probeSet: PromptFile(path: path, version: version, sha256: sha), answers: answers,
                               recordedAt: v["recorded_at"]?.string))
    }
}
