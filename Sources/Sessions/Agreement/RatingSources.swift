import Annotate
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
        /// Unit → the adjudicated primary label, for measuring model judges against it.
        public var adjudicated: [String: String] = [:]
        public var leftOut: [LeftOut] = []
        /// Sessions counted.
        public var counted = 0
    }

    /// Each label set's names, made once: a set per rating made and hashed its names again.
    private static let labelNames: [Set<String>] = (0..<LabelSet.possibleSets).map { Set(LabelSet(number: $0).sorted.map(\.rawValue)) }

    public static func transcripts(_ paths: [String], progress: StudyProgress? = nil) -> FromTranscripts {
        var out = FromTranscripts()
        // Each session's ratings are listed on every core; they are added here in order.
        out.leftOut = StudyReader.forEachSession(under: paths, progress: progress, map: { s in
            var ratings: [RatingMatrix.Rating] = []
            // Each unit's label sets by rater, gathered here: the one thread that adds them up
            // then makes one entry per unit, not one per rating.
            var sets: [(unit: String, byRater: [String: Set<String>])] = []
            var settled: [(String, String)] = []
            for turn in s.messages where turn.isRatable {
                let unit = s.sessionId + "#" + String(turn.index)
                if let p = s.adjudications[turn.index]?.labels.primary { settled.append((unit, p.rawValue)) }
                var byRater: [String: Set<String>] = [:]
                for (rater, a) in (s.ratings[turn.index] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    guard let primary = a.labels.primary else { continue }
                    ratings.append(.init(unit: unit, rater: rater, category: primary.rawValue))
                    byRater[rater] = RatingSources.labelNames[a.labels.number]
                }
                if !byRater.isEmpty { sets.append((unit, byRater)) }
            }
            return (s.sessionId, "\(s.header.model.provider):\(s.header.model.name)", s.header.scenario.id, ratings, sets, settled)
        }) { (read: (String, String, String, [RatingMatrix.Rating], [(unit: String, byRater: [String: Set<String>])], [(String, String)])) in
            let (id, model, scenario, ratings, sets, settled) = read
            for (unit, label) in settled { out.adjudicated[unit] = label }
            out.counted += 1
            out.sessions[id] = (model, scenario)
            out.ratings += ratings
            for x in sets {
                // A unit is its session's and sessions are counted once, so this is its first entry.
                if let earlier = out.labelSets.updateValue(x.byRater, forKey: x.unit) {
                    out.labelSets[x.unit] = earlier.merging(x.byRater) { _, later in later }
                }
            }
        }
        return out
    }

    /// `s` without whitespace or line breaks at its ends; most fields have none, and asking
    /// Foundation to trim each of millions cost more than reading them.
    private static func trimmed(_ s: String) -> String {
        guard let first = s.utf8.first, let last = s.utf8.last else { return s }
        if first > 0x20, first < 0x80, last > 0x20, last < 0x80 { return s }
        return s.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Reads `unit,rater,label` rows (a header row naming those columns, in any order;
    /// `category` or `value` may stand for `label`). Empty labels count as missing.
    public static func csv(path: String) throws(LocatedErrors) -> [RatingMatrix.Rating] {
        func fail(_ line: Int, _ message: String) -> LocatedErrors {
            LocatedErrors([LocatedError(file: path, line: line, column: 1, message: message)])
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail(1, "cannot read the file") }
        // Validated as UTF-8 once, then read as bytes.
        guard var text = String(validating: data, as: UTF8.self) else { throw fail(1, "cannot read the file as UTF-8 text") }
        var ratings: [RatingMatrix.Rating] = []
        var errors: [LocatedError] = []
        let failure: LocatedErrors? = text.withUTF8 { bytes -> LocatedErrors? in
            var rows = CSVRows(bytes)
            do throws(CSVRows.Failure) {
                guard let (first, _) = try rows.next() else {
                    return fail(1, "the header must name the columns unit, rater and label (found: )")
                }
                let header = first.map { $0.lowercased() }
                guard let u = header.firstIndex(of: "unit"), let r = header.firstIndex(of: "rater"),
                      let l = header.firstIndex(where: { ["label", "category", "value"].contains($0) }) else {
                    return fail(1, "the header must name the columns unit, rater and label (found: \(header.joined(separator: ", ")))")
                }
                var row: [String] = []
                ratings.reserveCapacity(bytes.count / 24)
                while let line = try rows.next(into: &row) {
                    if row.allSatisfy({ $0.isEmpty }) { continue }
                    guard row.count > max(u, r, l) else { return fail(line, "expected \(header.count) columns, found \(row.count)") }
                    // An empty label is a missing rating; an empty unit or rater names no one.
                    if row[l].isEmpty { continue }
                    let unit = trimmed(row[u]), rater = trimmed(row[r])
                    let empty = [unit.isEmpty ? "unit" : nil, rater.isEmpty ? "rater" : nil].compactMap { $0 }
                    if !empty.isEmpty {
                        errors.append(LocatedError(file: path, line: line, column: 1,
                                                   message: "empty \(empty.joined(separator: " and ")) for the rating '\(row[l])': every rating needs a unit and a rater"))
                        continue
                    }
                    ratings.append(.init(unit: row[u], rater: row[r], category: row[l]))
                }
            } catch {
                return fail(error.line, error.description)
            }
            return nil
        }
        if let failure { throw failure }
        guard errors.isEmpty else { throw LocatedErrors(errors) }
        return ratings
    }
}
