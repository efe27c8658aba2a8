import Foundation

/// The study's data folder: one folder per session holding `session.jsonl` (the conversation
/// and the live annotations) and a `reviews/` folder with one file per reviewer, so that
/// parallel reviews never touch the same file.
public struct TranscriptStore: Sendable {
    public static let environmentVariable = "INTERROGATE_TRANSCRIPTS"
    public static let sessionFileName = "session.jsonl"
    public static let reviewsFolderName = "reviews"
    public static let adjudicationsFolderName = "adjudications"

    public let root: String

    public init(root: String) { self.root = root }

    /// `--transcripts DIR`, else `$INTERROGATE_TRANSCRIPTS`, else `./transcripts`.
    public static func resolve(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> TranscriptStore {
        TranscriptStore(root: option ?? environment[environmentVariable] ?? "transcripts")
    }

    public func sessionFolder(_ sessionId: String) -> String { (root as NSString).appendingPathComponent(sessionId) }
    public func sessionFile(_ sessionId: String) -> String {
        (sessionFolder(sessionId) as NSString).appendingPathComponent(Self.sessionFileName)
    }
    /// A rater's review file, beside the session it reviews.
    public static func reviewFile(sessionFolder: String, rater: String) -> String {
        ((sessionFolder as NSString).appendingPathComponent(reviewsFolderName) as NSString).appendingPathComponent("\(rater).jsonl")
    }
    /// An adjudicator's file, beside the session it settles.
    public static func adjudicationFile(sessionFolder: String, rater: String) -> String {
        ((sessionFolder as NSString).appendingPathComponent(adjudicationsFolderName) as NSString).appendingPathComponent("\(rater).jsonl")
    }

    /// A rater's own file for the session in `sessionFolder` (their review or their
    /// adjudication), always beside the session that was read, however it was named: opened
    /// to append when it exists (a review resumed), else created with its header, durably.
    /// `recovered` tells of a torn last line that was ended. The file is held exclusively
    /// until it is closed, so a second window on the same review is refused.
    public static func openRaterFile(_ header: ReviewHeader, sessionFolder: String) throws(TranscriptError) -> (file: TranscriptFile, created: Bool, recovered: RecoveryEvent?) {
        guard header.judge == nil ? isValidRaterId(header.rater)
                : header.purpose == .review && isJudge(header.rater) && isValidAnyRaterId(header.rater) else {
            throw .invalid("rater id '\(header.rater)' may use letters, digits, '.', '_' and '-' only (a model judge: judge:NAME)")
        }
        let path = header.purpose == .review ? reviewFile(sessionFolder: sessionFolder, rater: header.rater)
            : adjudicationFile(sessionFolder: sessionFolder, rater: header.rater)
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw .invalid("cannot create \(folder): \(error.localizedDescription)")
        }
        TranscriptFile.fsyncDirectory(of: folder)
        let hold = try SessionLock.acquire(for: path)
        if FileManager.default.fileExists(atPath: path) {
            let opened = try TranscriptFile.openForAppend(path: path, holding: hold)
            return (opened.file, false, opened.recovered)
        }
        return (try TranscriptFile.create(path: path, first: .review(header), holding: hold), true, nil)
    }

    /// A new, unique session id: sortable by start time, readable, and safe as a folder name.
    public static func newSessionId(scenarioId: String, at date: Date = Date()) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let stamp = String(format: "%04d%02d%02d-%02d%02d%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        let suffix = String(format: "%04x", UInt16.random(in: 0...UInt16.max))
        return "\(stamp)-\(scenarioId)-\(suffix)"
    }

    /// Rater and annotator ids become file names, so they are kept to the alphabet the
    /// transcript schema allows: ASCII letters and digits, then letters, digits, '.', '_', '-'
    /// (no leading '.' or '-', which file tools and option parsers take for something else).
    public static func isValidRaterId(_ id: String) -> Bool {
        // By bytes: every character allowed is ASCII (each annotation of a study is checked).
        let utf8 = id.utf8
        guard let first = utf8.first, utf8.count <= 64 else { return false }
        func alphanumeric(_ b: UInt8) -> Bool { (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) }
        return alphanumeric(first) && utf8.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// A model judge rates as `judge:NAME`: a prefix no person's id can have (':' is not in
    /// their alphabet), so that a person can never pass for a model or the other way round.
    public static let judgePrefix = "judge:"

    public static func isJudge(_ rater: String) -> Bool { rater.hasPrefix(judgePrefix) }

    /// A person's id, or `judge:` and a valid id.
    public static func isValidAnyRaterId(_ id: String) -> Bool {
        isJudge(id) ? isValidRaterId(String(id.dropFirst(judgePrefix.count))) : isValidRaterId(id)
    }

    /// Starts a session: creates its folder and writes the header, durably.
    public func createSession(header: SessionHeader) throws(TranscriptError) -> TranscriptFile {
        guard Self.isValidRaterId(header.annotator) else {
            throw .invalid("annotator id '\(header.annotator)' may use letters, digits, '.', '_' and '-' only")
        }
        let folder = sessionFolder(header.sessionId)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw .invalid("cannot create \(folder): \(error.localizedDescription)")
        }
        TranscriptFile.fsyncDirectory(of: folder)
        let path = sessionFile(header.sessionId)
        return try TranscriptFile.create(path: path, first: .header(header), holding: try SessionLock.acquire(for: path))
    }

    /// The folder of a session named by its id, its folder or its `session.jsonl`.
    public func folder(forSession ref: String) -> String {
        if ref.hasSuffix(".jsonl") {
            let folder = (ref as NSString).deletingLastPathComponent
            return folder.isEmpty ? "." : folder
        }
        let asPath = (ref as NSString).appendingPathComponent(Self.sessionFileName)
        if ref.contains("/"), FileManager.default.fileExists(atPath: asPath) { return ref }
        return sessionFolder(ref)
    }

    /// What a command reads when no path is named: the store's own sessions (its direct
    /// subfolders), so that a study kept inside it, such as `transcripts/examples/`, is never
    /// mixed into the figures unless named.
    public var defaultPaths: [String] { sessionIds().map(sessionFolder) }

    /// The session ids in this store, oldest first.
    public func sessionIds() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: sessionFile($0)) }.sorted()
    }

    /// Whether `path` is, or would be taken for, a transcript: a session or rater file by its
    /// name and folder, or an existing file whose first line is an event. No command writes
    /// its output over one (`--out` naming a transcript would destroy saved data).
    public static func isTranscript(_ path: String) -> Bool {
        let url = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        let parent = url.deletingLastPathComponent().lastPathComponent
        if url.lastPathComponent == sessionFileName { return true }
        if url.pathExtension == "jsonl", [reviewsFolderName, adjudicationsFolderName].contains(parent) { return true }
        if isSignalSidecar(url.path) { return true }
        // Only a regular file is looked into: opening a FIFO to read would wait for a writer.
        var st = stat()
        guard stat(url.path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        guard let handle = FileHandle(forReadingAtPath: url.path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 64 * 1024), !head.isEmpty else { return false }
        let first = head.prefix { $0 != 0x0A }
        guard let value = try? JSONValue.parse(Data(first)) else { return false }
        return value["v"] != nil && value["seq"] != nil && value["type"] != nil
    }

    /// Every transcript file (session and rater files) under the given paths; a file path is
    /// taken as it is, a folder is searched for `*.jsonl`. A path that does not exist and a
    /// folder that cannot be read are returned with the reason, never skipped in silence.
    /// A session's logprobs.jsonl or probes.jsonl (saved data, but not events: read by `SignalSidecar`).
    public static func isSignalSidecar(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        guard name == SignalSidecar.logprobsFileName || name == SignalSidecar.probesFileName else { return false }
        let folder = (path as NSString).deletingLastPathComponent
        return FileManager.default.fileExists(atPath: ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent(sessionFileName))
    }

    /// The event files under `paths`; a session's signal sidecars are not among them.
    public static func transcriptFiles(under paths: [String]) -> (files: [String], unreadable: [(path: String, reason: String)]) {
        var files: [String] = []
        var unreadable: [(path: String, reason: String)] = []
        var visited = Set<String>()
        func search(_ dir: String) {
            guard visited.insert(URL(fileURLWithPath: dir).resolvingSymlinksInPath().standardizedFileURL.path).inserted else { return }
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted() } catch {
                unreadable.append((dir, "cannot read the folder: \(error.localizedDescription)"))
                return
            }
            for name in names {
                let sub = (dir as NSString).appendingPathComponent(name)
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: sub, isDirectory: &isDir) else {
                    if (try? FileManager.default.destinationOfSymbolicLink(atPath: sub)) != nil {
                        unreadable.append((sub, "a symbolic link to something that does not exist"))
                    }
                    continue
                }
                if isDir.boolValue {
                    if name.hasSuffix(".jsonl") { unreadable.append((sub, "a folder where a transcript file should be")) } else { search(sub) }
                } else if name.hasSuffix(".jsonl"), !isSignalSidecar(sub) { files.append(sub) }
            }
        }
        for path in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                unreadable.append((path, "no such file or folder"))
                continue
            }
            if isDir.boolValue { search(path) } else if !isSignalSidecar(path) { files.append(path) }
        }
        return (files, unreadable)
    }
}
