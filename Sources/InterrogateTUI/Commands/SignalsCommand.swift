import Annotate
import ArgumentParser
import Foundation
import Sessions

struct SignalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signals",
        abstract: "Do the model's own token probabilities, or its answers to follow-up probes, tell its deceptive replies apart?",
        discussion: """
        For each signal recorded beside the sessions (logprobs.jsonl from --logprobs, probes.jsonl \
        from --probes) and for the reply's length as a baseline: the area under the ROC curve \
        (AUROC) for telling turns whose resolved label is deceptive (deflection, transformation, \
        fabrication) from candid or refusal turns, and each deceptive label from candid, with a \
        95% percentile-bootstrap interval over sessions. The probe answers are scored by a \
        logistic regression, cross-validated by session. Turns without a resolved label, and \
        turns without the signal ("not recorded"), are left out and counted. Definitions and \
        limits: docs/signals.md.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv, html }

    @OptionGroup var location: LocationOptions
    @OptionGroup var team: TeamStoreOption
    @Argument(help: "Transcript folders or session files (default: the sessions directly in the transcripts folder).") var paths: [String] = []
    @Option(name: .long, parsing: .singleValue, help: "Group by model, scenario, condition, annotator or interrogator; repeat or comma-separate (default: all sessions together).")
    var by: [String] = []
    @Option(help: "Output format: table, json, csv or html.") var format: Format = .table
    @Option(help: "Write to this file instead of standard output (replaced only once complete).") var out: String?
    @Option(help: "Scoring configuration, for its tie rule (YAML; default: ./scoring.yaml if present, else the built-in defaults).") var scoring: String?
    @Option(help: "Whose labels count: people (default), models (judge:NAME raters only) or all.") var raters: RaterKinds = .people
    @Option(help: "Bootstrap seed.") var seed: UInt64 = 20_261_130
    @Option(help: "Bootstrap resamples, \(ReportCommand.resampleRange.lowerBound) to \(ReportCommand.resampleRange.upperBound).") var resamples: Int = 2000

    var dimensions: [StudyReport.Dimension] { get throws { try ReportCommand.dimensions(by) } }

    func validate() throws {
        _ = try dimensions
        try ReportCommand.validate(out: out, resamples: resamples, seed: seed)
    }

    mutating func run() async throws {
        let work = try await team.begin(folders: [location.transcripts] + paths.map { Optional($0) }, writes: false)
        if let work {
            location.transcripts = work.transcriptsRoot
        }
        try await TeamStoreWork.around(work) { [self] in try await perform() }
    }

    func perform() async throws {
        let config: (ScoringConfiguration, source: String)
        do { config = try ScoringFile.load(scoring) } catch {
            printError(error.description)
            throw invalidInputExit
        }
        let study = SignalsStudy.build(paths: paths.isEmpty ? location.store.defaultPaths : paths, by: try dimensions, raters: raters,
                                       ties: config.0.ties, resamples: resamples, seed: seed, progress: ProgressLine.onTerminal("sessions"))
        let leftOutFails = LeftOutNotice.print(study.failed, counted: study.transcripts)
        for e in study.excluded { printError("not counted: \(e.path): \(e.reason)") }
        for p in study.sidecarProblems { printError("not counted: \(TerminalText.escaped(p))") }
        let text: String
        switch format {
        case .table: text = SignalsText.table(study)
        case .csv: text = SignalsText.csv(study)
        case .json:
            do { text = try SignalsJSON.render(study) } catch {
                printError("\(error)")
                throw outputFailedExit
            }
        case .html: text = SignalsHTML.render(study)
        }
        try OutputSink.deliver(text, to: out)
        if leftOutFails { throw invalidInputExit }
    }
}
