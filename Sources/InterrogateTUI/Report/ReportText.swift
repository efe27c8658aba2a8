import Annotate
import Foundation
import Sessions

/// `report --format table|markdown|csv`.
enum ReportText {
    static func fmt(_ d: Double?, _ digits: Int = 3) -> String { d.map { String(format: "%.\(digits)f", $0) } ?? "—" }

    static func withInterval(_ f: StudyReport.Figures) -> String {
        guard let m = f.mean else { return "—" }
        guard let lo = f.bootstrapLow, let hi = f.bootstrapHigh, f.n > 1 else { return fmt(m) }
        return "\(fmt(m)) [\(fmt(lo)), \(fmt(hi))]"
    }

    static func groupName(_ r: StudyReport, _ g: StudyReport.Group) -> String { g.key.joined(separator: " · ") }

    static let headline: [Score] = [.deceptionRate, .severity, .labelRate(.fabrication), .secretKept]

    static func headlineRows(_ r: StudyReport) -> (header: [String], rows: [[String]]) {
        let header = [r.by.map { $0.rawValue.uppercased() }.joined(separator: " · "), "N", "TURNS", "RATERS"]
            + headline.map { $0.description } + ["ALPHA"]
        let rows = r.groups.map { g in
            [groupName(r, g), String(g.transcripts), String(g.turns), String(g.raters.count)]
                + headline.map { withInterval(g.scores[$0]!) }
                + [g.alpha.value.map { fmt($0) } ?? "—"]
        }
        return (header, rows)
    }

    static func footer(_ r: StudyReport) -> [String] {
        var out = [
            "\(r.transcripts) transcript(s). Mean [95% CI]: percentile bootstrap over transcripts, \(r.resamples) resamples, seed \(r.seed).",
            "Scoring: \(r.configurationSource) — weights " + Label.allCases.map { "\($0.rawValue) \(fmt(r.configuration.weights.weight(of: $0), 2))" }.joined(separator: ", ")
                + "; tied raters: \(r.configuration.ties.rawValue). Alpha: Krippendorff nominal over turns rated twice or more.",
            r.raters.statement,
        ]
        let unresolved = r.groups.reduce(0) { $0 + $1.tiedTurns }
        let untagged = r.groups.reduce(0) { $0 + $1.untaggedTurns }
        if unresolved + untagged > 0 {
            out.append("Left out of the rates: \(untagged) untagged turn(s)" + (r.configuration.ties == .exclude ? ", \(unresolved) tied turn(s)." : "; \(unresolved) tied turn(s) counted as \(r.configuration.ties.rawValue)."))
        }
        for f in r.failed { out.append("NOT COUNTED \(f.path): \(f.reason)") }
        out += excludedLines(r)
        out += studyLines(r)
        return out
    }

    /// Sessions left out by design, counted by reason (each path is in the JSON report).
    static func excludedLines(_ r: StudyReport) -> [String] {
        var counts: [String: Int] = [:]
        for e in r.excluded { counts[e.reason, default: 0] += 1 }
        return counts.keys.sorted().map { "Not counted by design: \(counts[$0]!) session(s), \($0)." }
    }

    static func studyLines(_ r: StudyReport) -> [String] {
        guard let s = r.study else { return [] }
        return s.keys.sorted().map { "Study \($0): \(s[$0]!)" }
    }

    static func table(_ r: StudyReport) -> String {
        if r.groups.isEmpty { return (["No transcripts to report."] + footer(r)).joined(separator: "\n") + "\n" }
        let (header, rows) = headlineRows(r)
        return Table(header: header, rows: rows).render() + "\n\n" + footer(r).joined(separator: "\n") + "\n"
    }

    static func markdown(_ r: StudyReport) -> String {
        func row(_ cells: [String]) -> String { "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |" }
        var out = ["# Deception scores", ""]
        let (header, rows) = headlineRows(r)
        out.append(row(header))
        out.append(row(header.map { _ in "---" }))
        out += rows.map(row)
        out.append("")
        for g in r.groups {
            out.append("## \(groupName(r, g))")
            out.append("")
            out.append("\(g.transcripts) transcript(s), \(g.turns) model turn(s) (\(g.scoredTurns) scored, \(g.untaggedTurns) untagged, \(g.tiedTurns) tied, \(g.adjudicatedTurns) adjudicated), raters: \(g.raters.joined(separator: ", ")).")
            out.append("")
            out.append(row(["score", "n", "mean", "sd", "se", "95% CI (t)", "95% CI (bootstrap)"]))
            out.append(row(Array(repeating: "---", count: 7)))
            for s in Score.all {
                let f = g.scores[s]!
                out.append(row([s.description, String(f.n), fmt(f.mean), fmt(f.sd), fmt(f.se),
                                f.tLow.map { "[\(fmt($0)), \(fmt(f.tHigh))]" } ?? "—",
                                f.bootstrapLow.map { "[\(fmt($0)), \(fmt(f.bootstrapHigh))]" } ?? "—"]))
            }
            out.append("")
        }
        out += footer(r).map { "- " + $0 }
        return out.joined(separator: "\n") + "\n"
    }

    /// Long format: one row per group and score, full precision.
    static func csv(_ r: StudyReport) -> String {
        func num(_ d: Double?) -> String { d.map { String($0) } ?? "" }
        var text = CSVText.row(r.by.map(\.rawValue) + ["transcripts", "turns", "raters", "score", "n", "mean", "sd", "se", "t_ci_low", "t_ci_high",
                                                        "bootstrap_ci_low", "bootstrap_ci_high", "agreement_alpha_nominal"])
        for g in r.groups {
            for s in Score.all {
                let f = g.scores[s]!
                let cells = g.key + [String(g.transcripts), String(g.turns), String(g.raters.count), s.description, String(f.n),
                                               num(f.mean), num(f.sd), num(f.se), num(f.tLow), num(f.tHigh), num(f.bootstrapLow), num(f.bootstrapHigh),
                                               num(g.alpha.value)]
                text += CSVText.row(cells)
            }
        }
        return text
    }
}
