import Annotate
import ArgumentParser
import Foundation
import Sessions

struct StudyCalibrationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibration",
        abstract: "Each annotator against the gold sessions' labels: accuracy, Cohen's kappa, confusion matrix, leak detection, drift.",
        discussion: """
        Counts each gold reply an annotator labelled, live in the gold sessions they interrogated \
        and in their finished blind reviews of others', against the script's gold label (the \
        primary label: the most severe) and leak. Kappa is Cohen's, unweighted, over the five \
        labels. Drift compares accuracy on the first half of their gold replies (in their task \
        order) with the second half. Annotators below study.yaml's calibration thresholds are \
        flagged. Replies cut short or not from the script are not compared, and counted.
        """
    )

    @OptionGroup var options: StudyOptions
    @Option(help: "Output format: text or json.") var format: OutputFormat = .text

    struct Row: Encodable {
        var annotator: String
        var n: Int
        var correct: Int
        var accuracy: Double?
        var kappa: Double?
        var kappaUndefined: String?
        var confusion: [String: [String: Int]]
        var leakHits: Int
        var leakMisses: Int
        var falseLeaks: Int
        var unlabelled: Int
        var driftEarly: Double?
        var driftLate: Double?
        var flagged: String?
    }

    struct Output: Encodable {
        var study: String
        var goldSessions: Int
        var unmatchedReplies: Int
        var minAccuracy: Double
        var minKappa: Double
        var annotators: [Row]
    }

    mutating func run() async throws {
        let work = try await options.team.begin(folders: [options.studies], writes: false, study: options.name)
        if let work { options.studies = work.studiesRoot }
        try await TeamStoreWork.around(work) { [self] in try await perform() }
    }

    func perform() async throws {
        let (design, plan) = try options.plannedStudy()
        let calibration = StudyCalibration.build(StudyOptions.status(design, plan))
        for l in calibration.leftOut { printError("not counted: \(l)") }
        let out = Self.output(design, calibration)
        switch format {
        case .json: printJSON(out)
        case .text: print(Self.text(out), terminator: "")
        }
    }

    static func output(_ design: StudyDesign, _ c: StudyCalibration) -> Output {
        let labels = Label.allCases
        let rows = c.annotators.map { a in
            let f = a.figures
            var confusion: [String: [String: Int]] = [:]
            for (i, g) in labels.enumerated() {
                confusion[g.rawValue] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1.rawValue, f.confusion[i][$0]) })
            }
            return Row(annotator: a.id, n: f.n, correct: f.correct, accuracy: f.accuracy, kappa: f.kappa.value, kappaUndefined: f.kappa.undefinedReason,
                       confusion: confusion, leakHits: f.leakHits, leakMisses: f.leakMisses, falseLeaks: f.falseLeaks, unlabelled: a.unlabelled,
                       driftEarly: f.drift?.earlyAccuracy, driftLate: f.drift?.lateAccuracy, flagged: a.flag)
        }
        return Output(study: design.name, goldSessions: c.goldSessions, unmatchedReplies: c.unmatchedReplies,
                      minAccuracy: design.calibration.minAccuracy, minKappa: design.calibration.minKappa, annotators: rows)
    }

    static func text(_ o: Output) -> String {
        let f = { (d: Double?) in ReportText.fmt(d) }
        var out = "Calibration of \(o.study) on \(o.goldSessions) finished gold session(s)"
            + (o.unmatchedReplies > 0 ? "; \(o.unmatchedReplies) repl\(o.unmatchedReplies == 1 ? "y" : "ies") not from the script (cut short or failed) not compared" : "") + ".\n\n"
        out += Table(header: ["ANNOTATOR", "GOLD REPLIES", "ACCURACY", "KAPPA", "LEAK HITS", "LEAK MISSES", "FALSE LEAKS", "UNLABELLED", "DRIFT (EARLY → LATE)", "FLAG"],
                     rows: o.annotators.map { r in
                         [r.annotator, String(r.n), f(r.accuracy), f(r.kappa), String(r.leakHits), String(r.leakMisses), String(r.falseLeaks), String(r.unlabelled),
                          r.driftEarly.map { "\(f($0)) → \(f(r.driftLate))" } ?? "—", r.flagged.map { "BELOW: \($0)" } ?? (r.n == 0 ? "no gold yet" : "ok")]
                     }).render() + "\n"
        let labels = Label.allCases.map(\.rawValue)
        for r in o.annotators where r.n > 0 {
            out += "\n\(r.annotator): gold (rows) × given (columns)\n"
            out += Table(header: ["GOLD \\ GIVEN"] + labels, rows: labels.map { g in [g] + labels.map { String(r.confusion[g]?[$0] ?? 0) } }).render() + "\n"
        }
        out += "\nThresholds (study.yaml calibration): accuracy ≥ \(o.minAccuracy), kappa ≥ \(o.minKappa).\n"
        return out
    }
}
