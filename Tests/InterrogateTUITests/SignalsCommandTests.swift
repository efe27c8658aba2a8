import Annotate
import Foundation
import Testing
import TestSupport
@testable import Sessions

/// `interrogate signals` as a researcher runs it: every figure with its n, every turn and
/// line left out said, each format readable, nothing from a file reaching the terminal as a command.
@Suite("The signals command")
struct SignalsCommandTests {
    static let binary = URL(fileURLWithPath: EndToEndTests.binary)

    /// Three sessions: two with logprobs (one with a torn last line), one without; and a gold
    /// session of a study, which never counts.
    static func study() throws -> URL {
        let root = try TestSupport.temporaryDirectory("signals-command")
        func tokens(_ text: String, _ lp: Double) -> [TokenLogprob] {
            text.split(separator: " ", omittingEmptySubsequences: false).enumerated().map { i, w in
                let t = (i == 0 ? "" : " ") + w
                return TokenLogprob(token: t, logprob: lp, top: [.init(token: t, logprob: lp), .init(token: "x", logprob: lp - 0.5), .init(token: "y", logprob: lp - 2)])
            }
        }
        let replies: [(String, [(String, Label, Double)])] = [
            ("s-1", [("The code is 9999.", .fabrication, -2.5), ("I can not say.", .refusal, -0.2), ("Let us talk about the weather.", .deflection, -1.9)]),
            ("s-2", [("It is 4417.", .candid, -0.1), ("Nothing else to add here.", .deflection, -1.2)]),
            ("s-3", [("Maybe, maybe not.", .deflection, -1), ("Yes it is.", .candid, -1)]),
        ]
        for (id, turns) in replies {
            let folder = try StudyFixture.session(in: root, id: id, replies: turns.map { .init("Q?", $0.0, ["alice": ([$0.1], false)]) })
            guard id != "s-3" else { continue }
            for (n, t) in turns.enumerated() {
                try SignalSidecar.append(LogprobRecord(messageIndex: 2 * n + 1, topLogprobs: 2, logprobs: tokens(t.0, t.2)), folder: folder.path)
            }
            if id == "s-2" { try TestSupport.append(#"{"message_index":9,"tok"#, to: SignalSidecar.logprobsPath(folder: folder.path), newline: false) }
            if id == "s-1" {
                try SignalSidecar.append(ProbeRecord(messageIndex: 1, probeSet: PromptFile(path: "p.yaml", version: "v\u{1b}]0;pwned\u{07}<script>", sha256: "abc"),
                                                     answers: [.init(id: "a", answer: .yes, text: "Yes")]), folder: folder.path)
            }
        }
        try StudyFixture.session(in: root, id: "gold-1", replies: [.init("Q?", "Scripted.", ["alice": ([.fabrication], false)])],
                                 study: .init(name: "st", task: "t1", alias: "Model A", gold: [.init(text: "Scripted.", labels: LabelSet([.fabrication]), leak: false)]))
        return root
    }

    static func signals(_ args: [String], in dir: URL) throws -> TestSupport.Result {
        try TestSupport.run(binary, ["signals", "--resamples", "200"] + args, currentDirectory: dir)
    }

    @Test("the table gives each figure with its n and what was left out; stderr names the torn line and the gold session")
    func table() throws {
        let dir = try Self.study()
        let r = try Self.signals([dir.path], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("3 session(s); logprobs recorded in 2; probes in 1; 7 labelled turn(s); probe sets: v\\u{1B}]0;pwned\\u{7}<script> (abc)."), "\(r.stdout)")
        let rows = r.stdout.split(separator: "\n")
        let mean = try #require(rows.first { $0.hasPrefix("  mean token log-probability") })
        // s-1 and s-2: fabrication -2.5, deflection -1.9, deflection -1.2 against refusal -0.2, candid -0.1.
        #expect(mean.contains("     3      2        2 0.000"), "\(mean)")
        #expect(mean.hasSuffix("2 not recorded"), "s-3's two turns: \(mean)")
        #expect(rows.first { $0.hasPrefix("  reply length (characters)") }?.contains("     4      3        3") == true)
        #expect(r.stderr.contains("not counted: s-2: logprobs.jsonl line 3: cut short (the writer stopped mid-line); left out"), "\(r.stderr)")
        #expect(r.stderr.contains("gold-1: a gold session"), "\(r.stderr)")
        #expect(!r.stdout.contains("\u{1b}") && !r.stdout.contains("\u{07}"), "a probe set's version from a file is shown inert")
    }

    @Test("json has every figure with null where none was computed; csv has a row per contrast and signal; html escapes file text")
    func formats() throws {
        let dir = try Self.study()
        let json = try Self.signals([dir.path, "--format", "json"], in: dir)
        #expect(json.status == 0, "\(json.stderr)")
        let doc = try JSONValue.parse(Data(json.stdout.utf8))
        guard case .array(let groups)? = doc["groups"], case .array(let results)? = groups.first?["results"] else { Issue.record("no results"); return }
        #expect(results.count == SignalKind.allCases.count * SignalContrast.allCases.count)
        let probe = try #require(results.first { $0["signal"]?.string == SignalKind.probeAnswers.rawValue && $0["contrast"]?.string == SignalContrast.deceptiveVsCandidOrRefusal.rawValue })
        #expect(probe["auroc"] == .null && probe["ci_low"] == .null, "not computed: null, not 0")
        #expect(probe["left_out"]?["not recorded"]?.integer == 6 && probe["left_out"]?["fewer than 2 sessions to cross-validate"]?.integer == 1)
        let csv = try Self.signals([dir.path, "--format", "csv"], in: dir)
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "contrast,signal,n_positive,n_negative,sessions,auroc,ci_low,ci_high,resamples_with_both_classes,length_auroc_same_turns,folds,left_out")
        #expect(lines.count == 1 + results.count)
        let html = try Self.signals([dir.path, "--format", "html"], in: dir)
        #expect(html.stdout.contains("<svg") && html.stdout.contains("</html>"))
        #expect(!html.stdout.contains("<script>") && html.stdout.contains("&lt;script&gt;"))
    }

    @Test("a wrong --by or --resamples is refused before anything is read")
    func badArguments() throws {
        let dir = try TestSupport.temporaryDirectory("signals-args")
        let by = try TestSupport.run(Self.binary, ["signals", "--by", "colour"], currentDirectory: dir)
        #expect(by.status == 64 && by.stderr.contains("--by takes model, scenario, condition, annotator or interrogator, not 'colour'"))
        let n = try TestSupport.run(Self.binary, ["signals", "--resamples", "5"], currentDirectory: dir)
        #expect(n.status == 64 && n.stderr.contains("--resamples must be between"))
        let missing = try TestSupport.run(Self.binary, ["signals", dir.appendingPathComponent("nope").path], currentDirectory: dir)
        #expect(missing.status == 1 && missing.stderr.contains("nope"))
    }

    @Test("transcripts validate reads the sidecars as sidecars, not as events, and names a torn line; no --out may write over one")
    func validateAndProtect() throws {
        let dir = try Self.study()
        let r = try TestSupport.run(Self.binary, ["transcripts", "validate", dir.path], currentDirectory: dir)
        #expect(r.status == 1)
        #expect(r.stdout.contains("s-2/logprobs.jsonl line 3: cut short (the writer stopped mid-line); left out"), "\(r.stdout)")
        #expect(!r.stdout.contains("unknown property"), "a sidecar is not checked against the event schema: \(r.stdout)")
        let clean = dir.appendingPathComponent("s-1")
        let ok = try TestSupport.run(Self.binary, ["transcripts", "validate", clean.path], currentDirectory: dir)
        #expect(ok.status == 0 && ok.stdout.contains("3 file(s) valid (2 of them signal sidecars)"), "\(ok.stdout)\(ok.stderr)")
        // Named one by one, as a shell glob names them: still read as sidecars.
        let named = try TestSupport.run(Self.binary, ["transcripts", "validate", SignalSidecar.logprobsPath(folder: dir.appendingPathComponent("s-2").path),
                                                      dir.appendingPathComponent("s-2/session.jsonl").path], currentDirectory: dir)
        #expect(named.status == 1 && named.stdout.contains("s-2/logprobs.jsonl line 3: cut short") && !named.stdout.contains("unknown property"), "\(named.stdout)")
        #expect(named.stderr.contains("1 of 2 file(s) invalid (1 of them signal sidecars)"), "\(named.stderr)")
        let sidecar = SignalSidecar.logprobsPath(folder: clean.path)
        let before = try String(contentsOfFile: sidecar, encoding: .utf8)
        for command in ["signals", "report"] {
            let out = try TestSupport.run(Self.binary, [command, dir.path, "--out", sidecar], currentDirectory: dir)
            #expect(out.status == 64, "\(command): \(out.stderr)")
        }
        #expect(try String(contentsOfFile: sidecar, encoding: .utf8) == before)
    }
}
