import Annotate
import Foundation

/// What a report needs to know about a transcript besides its ratings: its groups and its
/// provenance.
public struct TranscriptInfo: Sendable, Equatable {
    public var sessionId: String
    public var folder: String
    /// `provider:name`, as `agree --by model` names it.
    public var model: String
    public var scenario: String
    public var condition: String
    /// The interrogator, who tagged live.
    public var annotator: String
    public var scenarioSha256: String
    public var modelRecord: SessionHeader.ModelRecord
    public var appVersion: String
}

/// Reads a study's sessions one at a time, for reports and exports that must not hold a
/// whole study in memory.
public enum StudyReader {
    /// The session folders under the given paths: a study folder is searched, a session folder
    /// or a `session.jsonl` is taken as it is; a path that does not exist is kept, so that
    /// reading it reports why.
    public static func sessionFolders(under paths: [String]) -> [String] {
        var out: [String] = []
        for path in paths {
            if path.hasSuffix(".jsonl") { out.append((path as NSString).deletingLastPathComponent); continue }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { out.append(path); continue }
            out += TranscriptStore.transcriptFiles(under: [path])
                .filter { ($0 as NSString).lastPathComponent == TranscriptStore.sessionFileName }
                .map { ($0 as NSString).deletingLastPathComponent }
        }
        return out
    }

    public static func load(folder: String) throws(TranscriptError) -> (info: TranscriptInfo, rated: RatedTranscript, ratings: SessionRatings) {
        guard FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(TranscriptStore.sessionFileName)) else {
            throw .notFound("\(folder): no \(TranscriptStore.sessionFileName) here")
        }
        let r = try SessionRatings.load(folder: folder)
        let h = r.header
        let info = TranscriptInfo(sessionId: h.sessionId, folder: folder, model: "\(h.model.provider):\(h.model.name)", scenario: h.scenario.id,
                                  condition: h.scenario.condition.rawValue, annotator: h.annotator, scenarioSha256: h.scenario.sha256,
                                  modelRecord: h.model, appVersion: h.app.version)
        return (info, rated(r), r)
    }

    /// The model turns with every rater's latest judgement and the latest adjudication.
    public static func rated(_ r: SessionRatings) -> RatedTranscript {
        RatedTranscript(turns: r.modelTurns.map { t in
            var ratings: [String: RatedTranscript.Judgement] = [:]
            for (rater, a) in r.ratings[t.reply.index] ?? [:] where !a.labels.isEmpty {
                ratings[rater] = .init(labels: a.labels, leak: a.leak.confirmed)
            }
            let adjudication = r.adjudications[t.reply.index].map { RatedTranscript.Judgement(labels: $0.labels, leak: $0.leak.confirmed) }
            return .init(number: t.number, question: t.question ?? "", ratings: ratings, adjudication: adjudication)
        })
    }
}
