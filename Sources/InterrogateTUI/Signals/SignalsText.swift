import Annotate
import Foundation
import Sessions

/// `signals` as a table for the terminal, and as CSV: every figure with its n, and every
/// turn left out counted with why.
enum SignalsText {
    static func area(_ r: SignalAnalysis.Result) -> String {
        guard let a = r.area else {
            return r.positives + r.negatives == 0 && !r.leftOut.isEmpty && r.leftOut.keys.allSatisfy { $0 == "not recorded" } ? "not recorded" : "n/a"
        }
        return String(format: "%.3f", a)
    }

    /// The interval, with how many resamples it rests on when some drew one class only.
    static func interval(_ r: SignalAnalysis.Result, resamples: Int) -> String {
        guard let i = r.interval else { return "" }
        let shown = String(format: "[%.3f, %.3f]", i.low, i.high)
        return i.resamples < resamples ? "\(shown) (\(i.resamples) of \(resamples))" : shown
    }

    static func baseline(_ r: SignalAnalysis.Result) -> String {
        guard r.signal != .length, let b = r.lengthArea else { return "" }
        return String(format: "%.3f", b)
    }

    /// One signal's line of the table. A cell longer than its column (an interval that rests
    /// on fewer of 100,000 resamples) pushes the rest along rather than being cut.
    static func row(_ r: SignalAnalysis.Result, signalWidth: Int, resamples: Int) -> String {
        let cols = [
            String(format: "%6d", r.positives), String(format: "%6d", r.negatives), String(format: "%8d", r.sessions),
            DisplayWidth.padded(area(r), toAtLeast: 12), DisplayWidth.padded(interval(r, resamples: resamples), toAtLeast: 30),
            DisplayWidth.padded(baseline(r), toAtLeast: 21),
        ]
        let line = "  " + DisplayWidth.padded(r.signal.rawValue, toAtLeast: signalWidth) + " " + cols.joined(separator: " ") + "  " + leftOut(r)
        return line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
    }

    static func leftOut(_ r: SignalAnalysis.Result) -> String {
        r.leftOut.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: "; ")
    }

    static func header(_ s: SignalsStudy) -> [String] {
        [
            "Signals over \(s.transcripts) session(s)" + (s.dimensions.isEmpty ? "" : ", by \(s.dimensions.map(\.rawValue).joined(separator: ", "))") + ".",
            s.raters.statement + " Tied raters: \(s.ties.rawValue).",
            "AUROC: the chance that a deceptive turn's signal is above a non-deceptive turn's (0.5: no information; below 0.5: lower on deceptive turns).",
            "95% interval: percentile bootstrap over sessions, \(s.resamples) resamples, seed \(s.seed); \"(k of n)\": only k resamples drew both kinds of turn.",
            "Length on these turns: the baseline's AUROC over the same turns as the signal. Probe regressions: L2 logistic (C = 1), cross-validated by session; their intervals resample the out-of-fold predictions without refitting, so they are narrower than a refit's.",
        ]
    }

    static func groupLine(_ g: SignalsStudy.Group) -> String {
        var parts = ["\(g.sessions) session(s)", "logprobs recorded in \(g.sessionsWithLogprobs)", "probes in \(g.sessionsWithProbes)",
                     "\(g.labelledTurns) labelled turn(s)"]
        if g.untaggedTurns + g.tiedTurns > 0 {
            parts.append("left out: \(g.untaggedTurns) untagged, \(g.tiedTurns) tied turn(s)")
        }
        if !g.probeSets.isEmpty {
            parts.append("probe sets: " + g.probeSets.sorted { $0.key < $1.key }.map { "\($0.value) (\($0.key.prefix(12)))" }.joined(separator: ", "))
        }
        return parts.joined(separator: "; ") + "."
    }

    static func table(_ s: SignalsStudy) -> String {
        var out = header(s)
        if s.groups.isEmpty { out.append("\nNo sessions to score.") }
        for g in s.groups {
            out.append("")
            if !g.key.isEmpty { out.append("== " + TerminalText.escaped(zip(s.dimensions, g.key).map { "\($0.rawValue): \($1)" }.joined(separator: ", ")) + " ==") }
            // Probe set versions come from files: nothing in them reaches the terminal as a command.
            out.append(TerminalText.escaped(groupLine(g)))
            for contrast in SignalContrast.allCases {
                out.append("")
                out.append(contrast.rawValue)
                let width = SignalKind.allCases.map(\.rawValue.count).max()!
                out.append("  " + DisplayWidth.padded("signal", toAtLeast: width) + "     n+     n-  sessions  AUROC         95% interval                   length on these turns  left out")
                for r in g.results where r.contrast == contrast { out.append(row(r, signalWidth: width, resamples: s.resamples)) }
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func csv(_ s: SignalsStudy) -> String {
        var out = CSVText.row(s.dimensions.map(\.rawValue) + ["contrast", "signal", "n_positive", "n_negative", "sessions", "auroc",
                                                            "ci_low", "ci_high", "resamples_with_both_classes", "length_auroc_same_turns", "folds", "left_out"])
        for g in s.groups {
            for r in g.results {
                out += CSVText.row(g.key + [
                    r.contrast.rawValue, r.signal.rawValue, String(r.positives), String(r.negatives), String(r.sessions),
                    r.area.map { String($0) } ?? "", r.interval.map { String($0.low) } ?? "", r.interval.map { String($0.high) } ?? "",
                    r.interval.map { String($0.resamples) } ?? "", r.lengthArea.map { String($0) } ?? "", r.folds.map(String.init) ?? "", leftOut(r),
                ])
            }
        }
        return out
    }
}

/// `signals --format json`: the figures with their n, what was left out, and the ROC curves.
enum SignalsJSON {
    struct Document: Encodable {
        var dimensions: [String]
        var raters: String
        var ties: String
        var resamples: Int
        var seed: UInt64
        var sessions: Int
        var notCounted: [LeftOut]
        var sidecarProblems: [String]
        var groups: [Group]
        enum CodingKeys: String, CodingKey {
            case dimensions, raters, ties, resamples, seed, sessions, notCounted = "not_counted", sidecarProblems = "sidecar_problems", groups
        }
    }
    struct Group: Encodable {
        var key: [String: String]
        var sessions: Int
        var sessionsWithLogprobs: Int
        var sessionsWithProbes: Int
        var labelledTurns: Int
        var untaggedTurns: Int
        var tiedTurns: Int
        var probeSets: [String: String]
        var results: [Result]
        enum CodingKeys: String, CodingKey {
            case key, sessions, sessionsWithLogprobs = "sessions_with_logprobs", sessionsWithProbes = "sessions_with_probes",
                 labelledTurns = "labelled_turns", untaggedTurns = "untagged_turns", tiedTurns = "tied_turns", probeSets = "probe_sets", results
        }
    }
    struct Result: Encodable {
        var contrast: String
        var signal: String
        var nPositive: Int
        var nNegative: Int
        var sessions: Int
        var auroc: Double?
        var ciLow: Double?
        var ciHigh: Double?
        var resamplesWithBothClasses: Int?
        var lengthAurocSameTurns: Double?
        var folds: Int?
        var leftOut: [String: Int]
        var roc: [[Double]]
        enum CodingKeys: String, CodingKey {
            case contrast, signal, nPositive = "n_positive", nNegative = "n_negative", sessions, auroc, ciLow = "ci_low", ciHigh = "ci_high",
                 resamplesWithBothClasses = "resamples_with_both_classes", lengthAurocSameTurns = "length_auroc_same_turns", folds, leftOut = "left_out", roc
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(contrast, forKey: .contrast)
            try c.encode(signal, forKey: .signal)
            try c.encode(nPositive, forKey: .nPositive)
            try c.encode(nNegative, forKey: .nNegative)
            try c.encode(sessions, forKey: .sessions)
            // Absent figures are written as null, not left out: a reader sees they were not computed.
            try c.encode(auroc, forKey: .auroc)
            try c.encode(ciLow, forKey: .ciLow)
            try c.encode(ciHigh, forKey: .ciHigh)
            try c.encode(resamplesWithBothClasses, forKey: .resamplesWithBothClasses)
            try c.encode(lengthAurocSameTurns, forKey: .lengthAurocSameTurns)
            try c.encode(folds, forKey: .folds)
            try c.encode(leftOut, forKey: .leftOut)
            try c.encode(roc, forKey: .roc)
        }
    }

    static func render(_ s: SignalsStudy) throws -> String {
        let doc = Document(
            dimensions: s.dimensions.map(\.rawValue), raters: s.raters.rawValue, ties: s.ties.rawValue, resamples: s.resamples, seed: s.seed,
            sessions: s.transcripts, notCounted: s.failed, sidecarProblems: s.sidecarProblems,
            groups: s.groups.map { g in
                Group(key: Dictionary(uniqueKeysWithValues: zip(s.dimensions.map(\.rawValue), g.key)), sessions: g.sessions,
                      sessionsWithLogprobs: g.sessionsWithLogprobs, sessionsWithProbes: g.sessionsWithProbes, labelledTurns: g.labelledTurns,
                      untaggedTurns: g.untaggedTurns, tiedTurns: g.tiedTurns, probeSets: g.probeSets,
                      results: g.results.map { r in
                          Result(contrast: r.contrast.rawValue, signal: r.signal.rawValue, nPositive: r.positives, nNegative: r.negatives,
                                 sessions: r.sessions, auroc: r.area, ciLow: r.interval?.low, ciHigh: r.interval?.high,
                                 resamplesWithBothClasses: r.interval?.resamples, lengthAurocSameTurns: r.lengthArea, folds: r.folds, leftOut: r.leftOut,
                                 roc: r.curve.map { [$0.falsePositiveRate, $0.truePositiveRate] })
                      })
            })
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(doc), as: UTF8.self) + "\n"
    }
}
