import Annotate
import Foundation
import Sessions

/// Reads a transcript for the report screen's replay: an effect, run by the runtime, so that
/// the screen never reads a file itself.
enum ReplayReader {
    /// The replay of one transcript: each question and reply, with every rater's labels and
    /// the resolved label the scores counted.
    static func replay(folder: String, ties: ScoringConfiguration.TieRule) -> ReportScreenUpdate.Input {
        let loaded: (info: TranscriptInfo, rated: RatedTranscript, ratings: Session)
        do { loaded = try StudyReader.load(folder: folder) } catch { return .replayFailed(error.description) }
        var lines: [ReportScreenState.ReplayLine] = []
        var number = 0
        let r = loaded.ratings
        for m in r.messages {
            if m.role == .interrogator {
                lines.append(.init(text: "You", role: .interrogator))
                lines.append(.init(text: m.text, role: .interrogator))
                continue
            }
            number += 1
            let ratings = (r.ratings[m.index] ?? [:]).filter { !$0.value.labels.isEmpty }.sorted { $0.key < $1.key }
            let turn = loaded.rated.turns.first { $0.number == number }
            let resolved = turn.map { ResolvedTurn.resolve($0, ties: ties) }
            var head = "Model #\(number)"
            if let p = resolved?.primary { head += " → \(p.rawValue.uppercased())" } else if let src = resolved?.source { head += " → (\(src.rawValue))" }
            if resolved?.leak == true { head += " LEAK" }
            head += "  " + ratings.map { "\($0.key): \($0.value.labels.description)\($0.value.leak.confirmed ? "+leak" : "")" }.joined(separator: "  ")
            if let a = r.adjudications[m.index] { head += "  adjudicated by \(a.rater): \(a.reason)" }
            lines.append(.init(text: head, role: resolved?.primary.map { Role.badge($0) } ?? .untagged))
            lines.append(.init(text: m.text.isEmpty ? "(no text: \(m.error ?? m.status?.rawValue ?? ""))" : m.text, role: .text))
        }
        return .replayLoaded(title: "\(loaded.info.sessionId) · \(loaded.info.model) · \(loaded.info.scenario) [\(loaded.info.condition)]", lines: lines)
    }
}
