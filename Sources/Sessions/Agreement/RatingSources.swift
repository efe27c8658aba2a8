import Annotate
import CSV
import Foundation

/// Ratings for `interrogate agree`, from transcripts or from a CSV file in long format.
public enum RatingSources {
    /// Ratings of model turns from the sessions under `paths`, read by the one session reader
    /// (each session counted whole, once, or left out with the reason). A unit is one model
    /// turn, `SESSION#INDEX`; each rater's latest annotation of it counts (a review supersedes
    /// the same rater's live tag); the category is its primary label.
    public struct FromTranscripts: Sendable {
        public var ratings: [RatingMatrix.Rating] = []
        /// Each (unit, rater)'s full label set, for the per-label presence figures.
        public var labelSets: [String: [String: Set<String>]] = [:]
        /// The model and scenario of each session, for `--by`.
        public var sessions: [String: (model: String, scenario: String)] = [:]
        public var leftOut: [LeftOut] = []
        /// Sessions counted.
        public var counted = 0
    }

    public static func transcripts(_ paths: [String], progress: StudyProgress? = nil) -> FromTranscripts {
        var out = FromTranscripts()
        out.leftOut = StudyReader.forEachSession(under: paths, progress: progress) { s in
            out.counted += 1
            out.sessions[s.sessionId] = ("\(s.header.model.provider):\(s.header.model.name)", s.header.scenario.id)
            for turn in s.ratableTurns {
                let unit = "\(s.sessionId)#\(turn.index)"
                for (rater, a) in (s.ratings[turn.index] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    guard let primary = a.labels.primary else { continue }
                    out.ratings.append(.init(unit: unit, rater: rater, category: primary.rawValue))
                    out.labelSets[unit, default: [:]][rater] = Set(a.labels.sorted.map(\.rawValue))
                }
            }
        }
        return out
    }

    /// Reads `unit,rater,label` rows (a header row naming those columns, in any order;
    /// `category` or `value` may stand for `label`). Empty labels count as missing.
    public static func csv(path: String) throws(LocatedErrors) -> [RatingMatrix.Rating] {
        func fail(_ line: Int, _ message: String) -> LocatedErrors {
            LocatedErrors([LocatedError(file: path, line: line, column: 1, message: message)])
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw fail(1, "cannot read the file as UTF-8 text") }
        let reader: CSVReader
        do { reader = try CSVReader(string: text, hasHeaderRow: true, trimFields: true) } catch {
            throw fail(1, "not valid CSV: \(error)")
        }
        let header = (reader.headerRow ?? []).map { $0.lowercased() }
        guard let u = header.firstIndex(of: "unit"), let r = header.firstIndex(of: "rater"),
              let l = header.firstIndex(where: { ["label", "category", "value"].contains($0) }) else {
            throw fail(1, "the header must name the columns unit, rater and label (found: \(header.joined(separator: ", ")))")
        }
        var ratings: [RatingMatrix.Rating] = []
        var errors: [LocatedError] = []
        var line = 1, next = 2
        while let row = reader.next() {
            // A quoted field may span lines: the next row starts after them.
            line = next
            next = line + 1 + row.reduce(0) { $0 + $1.reduce(0) { $1 == "\n" || $1 == "\r\n" || $1 == "\r" ? $0 + 1 : $0 } }
            if row.allSatisfy({ $0.isEmpty }) { continue }
            guard row.count > max(u, r, l) else { throw fail(line, "expected \(header.count) columns, found \(row.count)") }
            // An empty label is a missing rating; an empty unit or rater names no one.
            if row[l].isEmpty { continue }
            let unit = row[u].trimmingCharacters(in: .whitespacesAndNewlines), rater = row[r].trimmingCharacters(in: .whitespacesAndNewlines)
            let empty = [unit.isEmpty ? "unit" : nil, rater.isEmpty ? "rater" : nil].compactMap { $0 }
            if !empty.isEmpty {
                errors.append(LocatedError(file: path, line: line, column: 1,
                                           message: "empty \(empty.joined(separator: " and ")) for the rating '\(row[l])': every rating needs a unit and a rater"))
                continue
            }
            ratings.append(.init(unit: row[u], rater: row[r], category: row[l]))
        }
        guard errors.isEmpty else { throw LocatedErrors(errors) }
        return ratings
    }
}
