import Foundation

/// One file of a folder as the team store keeps it.
public struct StoreFile: Sendable, Equatable, Hashable {
    public enum Kind: String, Sendable, Equatable, Hashable, CaseIterable {
        case session, review, adjudication, logprobs, probes
        /// A study's `plan.jsonl`.
        case plan
        /// A study's `study.yaml`: kept as versions, not lines (it is edited, not appended to).
        case study
    }

    /// Where it is, relative to the collection's folder, with `/` between parts.
    public var path: String
    public var kind: Kind
    public var sessionId: String?
    /// Whose file it is: the rater of a review or adjudication, the annotator of a session and
    /// its sidecars; nil for a study's own files.
    public var rater: String?

    public var isDocument: Bool { kind == .study }

    public init(path: String, kind: Kind, sessionId: String? = nil, rater: String? = nil) {
        self.path = path
        self.kind = kind
        self.sessionId = sessionId
        self.rater = rater
    }
}

/// A folder the team store mirrors: the transcripts folder (collection `transcripts`) or a
/// study's folder (`studies/NAME`, whose sessions are under `transcripts/`).
public struct StoreCollection: Sendable, Equatable {
    public var name: String
    public var folder: String

    public static func transcripts(root: String) -> StoreCollection { StoreCollection(name: "transcripts", folder: root) }
    public static func study(name: String, folder: String) -> StoreCollection { StoreCollection(name: "studies/\(name)", folder: folder) }

    var isStudy: Bool { name.hasPrefix("studies/") }
    /// Where the sessions are, relative to `folder`.
    var sessionsPrefix: String { isStudy ? "transcripts/" : "" }

    public func localPath(_ file: StoreFile) -> String {
        (folder as NSString).appendingPathComponent(file.path)
    }

    /// What a path from the database is, or nil when it is not a place this collection can
    /// hold: a path from the server is checked before anything is written where it points.
    public func classify(path: String, rater: String?) -> StoreFile? {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if isStudy {
            if parts == ["study.yaml"] { return StoreFile(path: path, kind: .study) }
            if parts == ["plan.jsonl"] { return StoreFile(path: path, kind: .plan) }
            guard parts.first == "transcripts" else { return nil }
            parts.removeFirst()
        }
        guard parts.count >= 2, Self.isSessionId(parts[0]) else { return nil }
        let session = parts[0]
        switch parts.count {
        case 2:
            let kind: StoreFile.Kind? = switch parts[1] {
            case TranscriptStore.sessionFileName: .session
            case SignalSidecar.logprobsFileName: .logprobs
            case SignalSidecar.probesFileName: .probes
            default: nil
            }
            guard let kind, let rater, TranscriptStore.isValidAnyRaterId(rater) else { return nil }
            return StoreFile(path: path, kind: kind, sessionId: session, rater: rater)
        case 3:
            guard parts[2].hasSuffix(".jsonl") else { return nil }
            let who = String(parts[2].dropLast(6))
            guard TranscriptStore.isValidAnyRaterId(who), rater == nil || rater == who else { return nil }
            switch parts[1] {
            case TranscriptStore.reviewsFolderName: return StoreFile(path: path, kind: .review, sessionId: session, rater: who)
            case TranscriptStore.adjudicationsFolderName: return StoreFile(path: path, kind: .adjudication, sessionId: session, rater: who)
            default: return nil
            }
        default:
            return nil
        }
    }

    /// A session folder's name: one path part, no dots of its own, no control characters.
    static func isSessionId(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 255 && !s.hasPrefix(".") && s.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0 != "/" && $0 != "\u{7F}" }
    }

    /// Every file of this folder the store keeps, and what was left out, with the reason.
    public func localFiles() -> (files: [StoreFile], leftOut: [(path: String, reason: String)]) {
        var files: [StoreFile] = []
        var leftOut: [(path: String, reason: String)] = []
        let fm = FileManager.default
        if isStudy {
            for name in ["study.yaml", "plan.jsonl"] where fm.fileExists(atPath: (folder as NSString).appendingPathComponent(name)) {
                if name == StudyPlan.fileName, StudyPlan.participantEdition(path: (folder as NSString).appendingPathComponent(name)) != nil {
                    leftOut.append(((folder as NSString).appendingPathComponent(name), StoreSyncReport.participantPlanNotPushed))
                    continue
                }
                files.append(StoreFile(path: name, kind: name == "study.yaml" ? .study : .plan))
            }
        }
        let sessionsFolder = isStudy ? (folder as NSString).appendingPathComponent("transcripts") : folder
        let names = ((try? fm.contentsOfDirectory(atPath: sessionsFolder)) ?? []).sorted()
        for name in names where !name.hasPrefix(".") {
            let dir = (sessionsFolder as NSString).appendingPathComponent(name)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else { continue }
            let sessionPath = (dir as NSString).appendingPathComponent(TranscriptStore.sessionFileName)
            let raterFolders = [TranscriptStore.reviewsFolderName, TranscriptStore.adjudicationsFolderName]
                .filter { fm.fileExists(atPath: (dir as NSString).appendingPathComponent($0)) }
            let hasSession = fm.fileExists(atPath: sessionPath)
            // A reviewer's copy of a session holds only their own file: the session itself is
            // read from the store, blind.
            guard hasSession || !raterFolders.isEmpty else {
                leftOut.append((dir, "not a session folder (no \(TranscriptStore.sessionFileName), reviews/ or adjudications/); a study is pushed with --study"))
                continue
            }
            guard Self.isSessionId(name) else {
                leftOut.append((dir, "a session folder name the store cannot hold"))
                continue
            }
            let prefix = sessionsPrefix + name + "/"
            let sidecars = [(SignalSidecar.logprobsFileName, StoreFile.Kind.logprobs), (SignalSidecar.probesFileName, .probes)]
                .filter { fm.fileExists(atPath: (dir as NSString).appendingPathComponent($0.0)) }
            let header = hasSession ? Self.header(ofSession: sessionPath) : nil
            if header?.isBlindCopy == true {
                leftOut.append((sessionPath, StoreSyncReport.blindCopyNotPushed))
            } else if hasSession, header == nil {
                let why = "the session's first line is not a readable header, so whose session it is is unknown"
                leftOut.append((sessionPath, why))
                for (sidecar, _) in sidecars { leftOut.append(((dir as NSString).appendingPathComponent(sidecar), why)) }
            } else if let annotator = header?.annotator {
                files.append(StoreFile(path: prefix + TranscriptStore.sessionFileName, kind: .session, sessionId: name, rater: annotator))
                for (sidecar, kind) in sidecars {
                    files.append(StoreFile(path: prefix + sidecar, kind: kind, sessionId: name, rater: annotator))
                }
            }
            for (sub, kind) in [(TranscriptStore.reviewsFolderName, StoreFile.Kind.review), (TranscriptStore.adjudicationsFolderName, .adjudication)] {
                let subdir = (dir as NSString).appendingPathComponent(sub)
                for file in ((try? fm.contentsOfDirectory(atPath: subdir)) ?? []).sorted() where !file.hasPrefix(".") {
                    let who = file.hasSuffix(".jsonl") ? String(file.dropLast(6)) : ""
                    guard TranscriptStore.isValidAnyRaterId(who) else {
                        leftOut.append(((subdir as NSString).appendingPathComponent(file), "not a rater's file (RATER.jsonl)"))
                        continue
                    }
                    files.append(StoreFile(path: prefix + sub + "/" + file, kind: kind, sessionId: name, rater: who))
                }
            }
        }
        return (files, leftOut)
    }

    /// The `annotator` of a session file's header line, read as every command reads it.
    static func annotator(ofSession path: String) -> String? { header(ofSession: path)?.annotator }

    /// A session file's header line, read as every command reads it.
    static func header(ofSession path: String) -> SessionHeader? {
        var found: SessionHeader?
        try? LineReader.forEachLineBytes(path: path) { line, _, terminated in
            if terminated, let tape = try? JSONTape(line), let event = try? TranscriptEvent(tape: tape), case .header(let h) = event.body {
                found = h
            }
            return false
        }
        return found
    }
}

/// A local file's lines exactly as saved: each without its newline, and the unterminated
/// fragment a cut-short write left at the end, which is not saved data and never copied.
struct LocalLines {
    var lines: [Data]
    var tornTail: Data?

    static func read(path: String) throws(StoreError) -> LocalLines? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        var lines: [Data] = []
        var torn: Data?
        do {
            try LineReader.forEachLine(path: path) { line, _, terminated in
                if terminated { lines.append(line) } else { torn = line }
                return true
            }
        } catch {
            throw StoreError("cannot read \(path): \(error)")
        }
        return LocalLines(lines: lines, tornTail: torn)
    }

    /// A document (study.yaml): its bytes whole.
    static func document(path: String) throws(StoreError) -> Data? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw StoreError("cannot read \(path)") }
        return data
    }
}
