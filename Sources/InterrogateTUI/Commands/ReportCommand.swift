import Annotate
import ArgumentParser
import Foundation
import Sessions

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Deception scores per model (scenario, condition, annotator) with 95% intervals.",
        discussion: """
        Each transcript is scored from the resolved label of each model turn: the latest \
        adjudication, else the raters' majority on the primary label, else the single rater; \
        tied raters are counted as the scoring configuration says (default: left out and \
        reported). Per group: n transcripts, turns and raters, each score's mean, standard \
        deviation, standard error, a t-based 95% interval and a percentile-bootstrap 95% \
        interval over transcripts (seeded; the seed and resample count are printed), and \
        Krippendorff's alpha where turns have several raters. A transcript that cannot be read \
        is listed with the reason; the others still count. Definitions: docs/scores.md.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, markdown, csv, json, html }

    @OptionGroup var location: LocationOptions
    @OptionGroup var team: TeamStoreOption
    @Argument(help: "Transcript folders or session files (default: the sessions directly in the transcripts folder; a study kept inside it, such as transcripts/examples, counts only when named).") var paths: [String] = []
    @Option(name: .long, parsing: .singleValue, help: "Group by model, scenario, condition, annotator or interrogator; repeat or comma-separate to combine (default: model).")
    var by: [String] = []
    @Option(help: "Output format: table, markdown, csv, json or html.") var format: Format = .table
    @Option(help: "Write the report to this file instead of standard output (a file is replaced only once the report is complete; a device or pipe is written into).") var out: String?
    @Option(help: "Scoring configuration (YAML; default: ./scoring.yaml if present, else the built-in defaults).") var scoring: String?
    @Option(help: "Bootstrap seed.") var seed: UInt64 = 20_261_128
    @Option(help: "Bootstrap resamples, \(Self.resampleRange.lowerBound) to \(Self.resampleRange.upperBound) (time and memory grow with it).") var resamples: Int = 2000
    @Option(help: "Whose labels count: people (default), models (judge:NAME raters only) or all; the report states it.") var raters: RaterKinds = .people
    @Flag(help: "Browse the report in the terminal: bar charts, a model's transcripts, a transcript's replay.") var tui = false
    @Option(help: "Report a study's own sessions (studies/NAME/transcripts; gold sessions never count), with its design in the provenance.") var study: String?
    @Option(name: .long, help: ArgumentHelp("Folder of studies, with --study (default: $\(StudyDesign.environmentVariable) or ./studies).", valueName: "dir"))
    var studies: String?

    /// Fewer resamples than 100 make the 2.5th and 97.5th percentiles rest on two or three
    /// means; 100,000 already takes seconds on a large study (the work is resamples × transcripts).
    static let resampleRange = 100...100_000

    var dimensions: [StudyReport.Dimension] {
        get throws {
            let out = try Self.dimensions(by)
            return out.isEmpty ? [.model] : out
        }
    }

    /// `--by` as given (repeated or comma-separated), each dimension once, in order.
    static func dimensions(_ by: [String]) throws -> [StudyReport.Dimension] {
        var out: [StudyReport.Dimension] = []
        for n in by.flatMap({ $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }) {
            guard let d = StudyReport.Dimension(rawValue: n) else {
                throw ValidationError("--by takes model, scenario, condition, annotator or interrogator, not '\(n)'")
            }
            if !out.contains(d) { out.append(d) }
        }
        return out
    }

    /// What every command with a seeded bootstrap and `--out` checks first.
    static func validate(out: String?, resamples: Int, seed: UInt64) throws {
        if let out, TranscriptStore.isTranscript(out) {
            throw ValidationError("--out \(out) is a transcript file; interrogate never writes over saved events (name another file)")
        }
        guard resampleRange.contains(resamples) else {
            throw ValidationError("--resamples must be between \(resampleRange.lowerBound) and \(resampleRange.upperBound), not \(resamples)")
        }
        // JSON readers take integers up to 2^63 - 1 safely; the seed is printed as one.
        guard seed <= UInt64(Int64.max) else { throw ValidationError("--seed must be at most \(Int64.max)") }
    }

    func validate() throws {
        _ = try dimensions
        if study != nil && !paths.isEmpty { throw ValidationError("--study reports the study's own sessions: give it or paths, not both") }
        try Self.validate(out: out, resamples: resamples, seed: seed)
    }

    mutating func run() async throws {
        let work = try await team.begin(folders: [location.transcripts, studies] + paths.map { Optional($0) }, writes: false, study: study)
        if let work {
            location.transcripts = work.transcriptsRoot
            studies = work.studiesRoot
        }
        try await TeamStoreWork.around(work) { [self] in try await perform() }
    }

    func perform() async throws {
        let config: (ScoringConfiguration, source: String)
        do { config = try ScoringFile.load(scoring) } catch {
            printError(error.description)
            throw invalidInputExit
        }
        var design: StudyDesign?
        var exclude: (@Sendable (Session) -> String?)?
        var status: StudyStatus?
        if let study {
            let d = try StudyOptions.design(name: study, root: StudyOptions.root(studies), scenarios: location.scenarios)
            design = d
            // Read once: what the report counts and what its provenance says come from the same reading.
            let s = StudyStatus.read(d, plan: try StudyOptions.plan(d))
            status = s
            exclude = StudySummary.counted(s)
        }
        var report = StudyReport.build(paths: design.map { [$0.transcripts] } ?? (paths.isEmpty ? location.store.defaultPaths : paths), by: try dimensions,
                                       configuration: config.0, configurationSource: config.source, resamples: resamples, seed: seed,
                                       progress: ProgressLine.onTerminal("sessions"), exclude: exclude, raters: raters,
                                       detail: tui || format == .html ? .lines : format == .json ? .sessionIds : .figures)
        if let status { report.study = StudySummary.provenance(status) }
        let leftOutFails = LeftOutNotice.print(report.failed.map { LeftOut(path: $0.path, reason: $0.reason) }, counted: report.transcripts)
        if tui {
            guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
                printError("report --tui needs a terminal")
                throw invalidInputExit
            }
            let start = ReportScreenState(report: report, width: 80, height: 24)
            await onCursesThread {
                let terminal = CursesTerminal()
                defer { terminal.close() }
                _ = ScreenRuntime<ReportProgram>(state: start, perform: ReportProgram.perform).run(on: terminal)
            }
            return
        }
        let text: String
        switch format {
        case .table: text = ReportText.table(report)
        case .markdown: text = ReportText.markdown(report)
        case .csv: text = ReportText.csv(report)
        case .json:
            do { text = try ReportJSON.render(report) } catch {
                printError("\(error)")
                throw outputFailedExit
            }
        case .html: text = ReportHTML.render(report)
        }
        try OutputSink.deliver(text, to: out)
        if leftOutFails { throw invalidInputExit }
    }
}

extension RaterKinds: ExpressibleByArgument {}
