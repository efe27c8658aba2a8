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
    @Argument(help: "Transcript folders or session files (default: the sessions directly in the transcripts folder; a study kept inside it, such as transcripts/examples, counts only when named).") var paths: [String] = []
    @Option(name: .long, parsing: .singleValue, help: "Group by model, scenario, condition or annotator; repeat or comma-separate to combine (default: model).")
    var by: [String] = []
    @Option(help: "Output format: table, markdown, csv, json or html.") var format: Format = .table
    @Option(help: "Write the report to this file instead of standard output.") var out: String?
    @Option(help: "Scoring configuration (YAML; default: ./scoring.yaml if present, else the built-in defaults).") var scoring: String?
    @Option(help: "Bootstrap seed.") var seed: UInt64 = 20_261_128
    @Option(help: "Bootstrap resamples.") var resamples: Int = 2000
    @Flag(help: "Browse the report in the terminal: bar charts, a model's transcripts, a transcript's replay.") var tui = false

    var dimensions: [StudyReport.Dimension] {
        get throws {
            let names = by.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            var out: [StudyReport.Dimension] = []
            for n in names {
                guard let d = StudyReport.Dimension(rawValue: n) else {
                    throw ValidationError("--by takes model, scenario, condition or annotator, not '\(n)'")
                }
                if !out.contains(d) { out.append(d) }
            }
            return out.isEmpty ? [.model] : out
        }
    }

    func validate() throws {
        _ = try dimensions
        guard resamples >= 1 else { throw ValidationError("--resamples must be at least 1") }
        // JSON readers take integers up to 2^63 - 1 safely; the seed is printed as one.
        guard seed <= UInt64(Int64.max) else { throw ValidationError("--seed must be at most \(Int64.max)") }
    }

    func run() async throws {
        let config: (ScoringConfiguration, source: String)
        do { config = try ScoringFile.load(scoring) } catch {
            printError(error.description)
            throw invalidInputExit
        }
        let report = StudyReport.build(paths: paths.isEmpty ? location.store.defaultPaths : paths, by: try dimensions,
                                       configuration: config.0, configurationSource: config.source, resamples: resamples, seed: seed)
        let leftOutFails = LeftOutNotice.print(report.failed.map { LeftOut(path: $0.path, reason: $0.reason) }, counted: report.transcripts)
        if tui {
            guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
                printError("report --tui needs a terminal")
                throw invalidInputExit
            }
            let start = ReportScreenState(report: report, width: 80, height: 24)
            await onCursesThread { ReportScreen.run(start) }
            return
        }
        let text: String = switch format {
        case .table: ReportText.table(report)
        case .markdown: ReportText.markdown(report)
        case .csv: ReportText.csv(report)
        case .json: ReportJSON.render(report)
        case .html: ReportHTML.render(report)
        }
        if let out {
            do { try Self.write(text, to: out) } catch {
                printError("cannot write \(out): \(error.localizedDescription)")
                throw invalidInputExit
            }
            FileHandle.standardError.write(Data("wrote \(out)\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        if leftOutFails { throw invalidInputExit }
    }

    /// A regular file is replaced whole (written beside it, then renamed over it), so that a
    /// reader never sees half a report; a device or a pipe (/dev/stdout, a FIFO) is written
    /// into, never replaced.
    static func write(_ text: String, to path: String) throws {
        var st = stat()
        if stat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
            guard let handle = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteNoPermission) }
            defer { try? handle.close() }
            try handle.write(contentsOf: Data(text.utf8))
            return
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
