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
    public func reviewFile(_ sessionId: String, rater: String) -> String {
        ((sessionFolder(sessionId) as NSString).appendingPathComponent(Self.reviewsFolderName) as NSString)
            .appendingPathComponent("\(rater).jsonl")
    }
    public func adjudicationFile(_ sessionId: String, rater: String) -> String {
        ((sessionFolder(sessionId) as NSString).appendingPathComponent(Self.adjudicationsFolderName) as NSString)
            .appendingPathComponent("\(rater).jsonl")
    }

    /// A rater's own file for a session (their review or their adjudication): opened to append
    /// when it exists (a review resumed), else created with its header, durably. `recovered`
    /// tells of a torn last line that was ended.
    public func openRaterFile(_ header: ReviewHeader) throws(TranscriptError) -> (file: TranscriptFile, created: Bool, recovered: RecoveryEvent?) {
        guard Self.isValidRaterId(header.rater) else {
            throw .invalid("rater id '\(header.rater)' may use letters, digits, '.', '_' and '-' only")
        }
        let path = header.purpose == .review ? reviewFile(header.sessionId, rater: header.rater)
            : adjudicationFile(header.sessionId, rater: header.rater)
        if FileManager.default.fileExists(atPath: path) {
            let opened = try TranscriptFile.openForAppend(path: path)
            return (opened.file, false, opened.recovered)
        }
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw .invalid("cannot create \(folder): \(error.localizedDescription)")
        }
        TranscriptFile.fsyncDirectory(of: folder)
        return (try TranscriptFile.create(path: path, first: .review(header)), true, nil)
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

    /// Rater and annotator ids become file names, so they are kept to a safe alphabet.
    public static func isValidRaterId(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && !id.hasPrefix(".")
            && id.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0) }
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
        return try TranscriptFile.create(path: sessionFile(header.sessionId), first: .header(header))
    }

    /// The folder of a session named by its id, its folder or its `session.jsonl`.
    public func folder(forSession ref: String) -> String {
        if ref.hasSuffix(".jsonl") { return (ref as NSString).deletingLastPathComponent }
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

    /// Every transcript file (session and review files) under the given paths; a file path is
    /// taken as it is, a folder is searched for `*.jsonl`.
    public static func transcriptFiles(under paths: [String]) -> [String] {
        var out: [String] = []
        for path in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { out.append(path); continue }
            if !isDir.boolValue { out.append(path); continue }
            let e = FileManager.default.enumerator(atPath: path)
            var found: [String] = []
            while let rel = e?.nextObject() as? String {
                if rel.hasSuffix(".jsonl") { found.append((path as NSString).appendingPathComponent(rel)) }
            }
            out += found.sorted()
        }
        return out
    }
}
