import Annotate
import Foundation
import Sessions

/// `report --format json`: every figure, null where undefined with a sibling reason, and the
/// provenance. Keys are sorted so that two runs on the same files give the same bytes.
enum ReportJSON {
    /// `sessions` gives a group's (its number and itself) list of session ids.
    static func value(_ r: StudyReport, sessions: (Int, StudyReport.Group) -> JSONValue = { .array($1.sessionIds.map { .string($0) }) }) -> JSONValue {
        func num(_ d: Double?) -> JSONValue { d.map { .double($0) } ?? .null }
        func pair(_ a: Double?, _ b: Double?) -> JSONValue { a != nil && b != nil ? .array([.double(a!), .double(b!)]) : .null }
        let groups: [JSONValue] = r.groups.enumerated().map { i, g in
            var scores: [String: JSONValue] = [:]
            for score in Score.all {
                let f = g.scores[score]!
                scores[score.description] = .object([
                    "n": .int(Int64(f.n)), "mean": num(f.mean), "sd": num(f.sd), "se": num(f.se),
                    "t_ci": pair(f.tLow, f.tHigh), "bootstrap_ci": pair(f.bootstrapLow, f.bootstrapHigh),
                ])
            }
            var labelCounts: [String: JSONValue] = [:]
            for l in Label.allCases { labelCounts[l.rawValue] = .int(Int64(g.labelCounts[l] ?? 0)) }
            return .object([
                "group": .object(Dictionary(uniqueKeysWithValues: zip(r.by.map(\.rawValue), g.key.map { JSONValue.string($0) }))),
                "transcripts": .int(Int64(g.transcripts)), "turns": .int(Int64(g.turns)), "scored_turns": .int(Int64(g.scoredTurns)),
                "untagged_turns": .int(Int64(g.untaggedTurns)), "tied_turns": .int(Int64(g.tiedTurns)),
                "adjudicated_turns": .int(Int64(g.adjudicatedTurns)), "raters": .array(g.raters.map { .string($0) }),
                "n_raters": .int(Int64(g.raters.count)), "scores": .object(scores), "label_counts": .object(labelCounts),
                "agreement_alpha_nominal": num(g.alpha.value),
                "agreement_alpha_undefined_reason": g.alpha.undefinedReason.map { .string($0) } ?? .null,
                "agreement_units": .int(Int64(g.alpha.units)),
                "sessions": sessions(i, g),
            ])
        }
        let c = r.configuration
        return .object([
            "by": .array(r.by.map { .string($0.rawValue) }),
            "transcripts": .int(Int64(r.transcripts)),
            "raters": .string(r.raters.rawValue),
            "bootstrap": .object(["method": .string("percentile bootstrap over transcripts"), "seed": .int(Int64(bitPattern: r.seed)),
                                  "resamples": .int(Int64(r.resamples)), "confidence": .double(0.95)]),
            "scoring": .object([
                "source": .string(r.configurationSource),
                "weights": .object(Dictionary(uniqueKeysWithValues: Label.allCases.map { ($0.rawValue, JSONValue.double(c.weights.weight(of: $0))) })),
                "ties": .string(c.ties.rawValue),
                "challenge_patterns": .array(c.challengePatterns.map { .string($0) }),
            ]),
            "groups": .array(groups),
            "failed": .array(r.failed.map { .object(["path": .string($0.path), "reason": .string($0.reason)]) }),
            "excluded": .array(r.excluded.map { .object(["path": .string($0.path), "reason": .string($0.reason)]) }),
            "study": r.study.map { s in .object(s.mapValues { .string($0) }) } ?? .null,
            "provenance": provenance(r),
        ])
    }

    static func provenance(_ r: StudyReport) -> JSONValue {
        .object([
            "app_versions": .array(r.appVersions.sorted().map { .string($0) }),
            "scenarios": .array(r.scenarios.keys.sorted().map { id in
                .object(["id": .string(id), "sha256": .array(r.scenarios[id]!.sorted().map { .string($0) })])
            }),
            "models": .array(r.models.keys.sorted().map { m in
                .object(["model": .string(m), "parameters": .array(r.models[m]!.sorted().map { .string($0) })])
            }),
        ])
    }

    /// Fails (rather than printing nothing) when a figure cannot be written as JSON, such as
    /// a NaN or an infinity.
    ///
    /// Each group's session ids are written into the text after the rest is encoded: as values
    /// of the encoder's, they cost it about a hundred bytes each while it worked (15 MB more
    /// at 100,000 sessions), and the report's memory would grow with the study. The text is the
    /// same, byte for byte, as encoding them with the rest (a test compares the two).
    static func render(_ r: StudyReport) throws(OutputError) -> String {
        // A marker per group that lists sessions, in a form no report's own text takes.
        func marker(_ i: Int) -> String { "\u{1}interrogate-sessions-\(i)\u{1}" }
        var text = try encode(value(r) { i, g in g.sessionIds.isEmpty ? .array([]) : .array([.string(marker(i))]) })
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var spliced = true
        for (i, g) in r.groups.enumerated() where !g.sessionIds.isEmpty {
            let encoded = try encode(.string(marker(i)))
            let at = lines.indices.filter { lines[$0].hasSuffix(encoded) && lines[$0].dropLast(encoded.count).allSatisfy { $0 == " " } }
            guard at.count == 1 else { spliced = false; break }
            let indent = String(lines[at[0]].dropLast(encoded.count))
            var ids = ""
            for (k, id) in g.sessionIds.enumerated() {
                ids += k == 0 ? indent : ",\n" + indent
                ids += try quoted(id)
            }
            lines[at[0]] = Substring(ids)
        }
        // A marker met other than once (a path in the report that spells one): encoded whole.
        if !spliced { return try encode(value(r)) + "\n" }
        text = lines.joined(separator: "\n")
        return text + "\n"
    }

    private static func encode(_ v: JSONValue) throws(OutputError) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { return String(decoding: try e.encode(v), as: UTF8.self) } catch {
            throw OutputError(description: "cannot write the report as JSON: \(error)")
        }
    }

    /// A session id as the encoder writes it: printable ASCII but `"` and `\` as it is, anything
    /// else by the encoder itself.
    private static func quoted(_ id: String) throws(OutputError) -> String {
        if id.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) { return "\"" + id + "\"" }
        return try encode(.string(id))
    }
}
