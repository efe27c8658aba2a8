import Annotate
import ArgumentParser
import Foundation
import Sessions

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export ratings for pandas or R (one row per model turn per rater), or one session as Markdown.",
        discussion: """
        csv and jsonl: one row per model turn per rater, with the columns session, model, \
        scenario, condition, turn, message_index, rater, source (live, review or adjudication), \
        labels (joined with +), primary_label, leak, note. A turn no one labelled is one row \
        with an empty rater, so that every turn is there. Rows are written as sessions are \
        read. markdown: one session, for reading or sharing.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case csv, jsonl, markdown }

    @OptionGroup var location: LocationOptions
    @OptionGroup var team: TeamStoreOption
    @Argument(help: "Transcript folders or session files (default: the sessions directly in the transcripts folder; a study kept inside it, such as transcripts/examples, counts only when named); one session for markdown.") var paths: [String] = []
    @Option(help: "csv, jsonl or markdown.") var format: Format = .csv
    @Option(help: "Write to this file instead of standard output (a file is replaced only once the export is complete; a device or pipe is written into).") var out: String?

    static let columns = ["session", "model", "scenario", "condition", "turn", "message_index", "rater", "source", "labels", "primary_label", "leak", "note"]

    func validate() throws {
        if let out, TranscriptStore.isTranscript(out) {
            throw ValidationError("--out \(out) is a transcript file; interrogate never writes over saved events (name another file)")
        }
    }

    mutating func run() async throws {
        let work = try await team.begin(folders: [location.transcripts] + paths.map { Optional($0) }, writes: false)
        if let work {
            location.transcripts = work.transcriptsRoot
        }
        try await TeamStoreWork.around(work) { [self] in try await perform() }
    }

    func perform() async throws {
        let store = location.store
        if format == .markdown && paths.count != 1 { throw ValidationError("markdown exports one session: name it (its id, folder or session.jsonl)") }
        // Standard output is the descriptor this process was given (never reopened by path);
        // --out replaces a file only once the export is complete, and writes into a device or pipe.
        let sink: OutputSink
        do { sink = try OutputSink.destination(out) } catch {
            printError("\(error)")
            throw outputFailedExit
        }
        var counted = 0
        var leftOut: [LeftOut] = []
        do {
            if format == .markdown {
                let loaded: (info: TranscriptInfo, rated: RatedTranscript, ratings: Session)
                do { loaded = try StudyReader.load(folder: store.folder(forSession: paths[0])) } catch {
                    sink.discard()
                    printError("not exported: \(paths[0]): \(error.description)")
                    throw invalidInputExit
                }
                try sink.write(Self.markdown(loaded.info, loaded.ratings))
                try sink.finish()
                return
            }
            if format == .csv { try sink.write(CSVText.row(Self.columns)) }
            // Each session whole, once, or left out with the reason: the same rule as report and
            // agree. A session's rows are made on the core that read it; they are written here,
            // in the sessions' order.
            let format = format
            leftOut = try StudyReader.forEachSession(under: paths.isEmpty ? store.defaultPaths : paths,
                                                           progress: out == nil && isatty(STDOUT_FILENO) == 1 ? nil : ProgressLine.onTerminal("sessions"),
                                                           map: { session in Self.text(of: session, as: format) }) { text in
                counted += 1
                try sink.write(try text.get())
            }
            try sink.finish()
        } catch let e as ExitCode {
            throw e
        } catch {
            sink.discard()
            printError("\(error)")
            throw outputFailedExit
        }
        if LeftOutNotice.print(leftOut, counted: counted, verb: "exported") { throw invalidInputExit }
    }

    /// A session's rows as CSV or JSON lines.
    static func text(of session: Session, as format: Format) -> Result<String, OutputError> {
        let rows = Self.rows(TranscriptInfo(session), session)
        switch format {
        case .markdown: return .success("")
        case .csv: return .success(rows.map(CSVText.row).joined())
        case .jsonl:
            do throws(OutputError) { return .success(try rows.map { (row) throws(OutputError) in try Self.jsonLine(row) }.joined()) } catch { return .failure(error) }
        }
    }

    /// One row as a JSON object on one line: numbers and booleans typed, empty cells null.
    static func jsonLine(_ row: [String]) throws(OutputError) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var object: [String: JSONValue] = [:]
        for (k, v) in zip(columns, row) {
            switch k {
            case "turn", "message_index": object[k] = .int(Int64(v) ?? 0)
            case "leak": object[k] = v.isEmpty ? .null : .bool(v == "true")
            case "labels": object[k] = .array(v.split(separator: "+").map { .string(String($0)) })
            default: object[k] = v.isEmpty && k != "note" ? .null : .string(v)
            }
        }
        do { return String(decoding: try e.encode(JSONValue.object(object)), as: UTF8.self) + "\n" } catch {
            throw OutputError(description: "cannot write a row as JSON: \(error)")
        }
    }

    /// Every rater's latest judgement of every model turn, live raters first, then reviewers,
    /// then the adjudication.
    static func rows(_ info: TranscriptInfo, _ r: Session) -> [[String]] {
        var out: [[String]] = []
        for t in r.modelTurns {
            let m = t.reply
            let base = [info.sessionId, info.model, info.scenario, info.condition, String(t.number), String(m.index)]
            let ratings = (r.ratings[m.index] ?? [:]).filter { !$0.value.labels.isEmpty }
            for (rater, a) in ratings.sorted(by: { $0.key < $1.key }) {
                let source = r.sources[m.index]?[rater]?.rawValue ?? "live"
                out.append(base + [rater, source, a.labels.description, a.labels.primary?.rawValue ?? "", String(a.leak.confirmed), a.note ?? ""])
            }
            if let a = r.adjudications[m.index] {
                out.append(base + [a.rater, "adjudication", a.labels.description, a.labels.primary?.rawValue ?? "", String(a.leak.confirmed), a.reason])
            }
            if ratings.isEmpty && r.adjudications[m.index] == nil { out.append(base + ["", "", "", "", "", ""]) }
        }
        return out
    }

    static func markdown(_ info: TranscriptInfo, _ r: Session) -> String {
        let h = r.header
        var out = ["# \(h.scenario.title)", "",
                   "- Session: `\(info.sessionId)`", "- Scenario: `\(h.scenario.id)` (\(h.scenario.condition.rawValue)), sha256 `\(h.scenario.sha256)`",
                   "- Model: \(info.model)" + (h.model.baseUrl.map { " at \($0)" } ?? ""), "- Interrogator: \(h.annotator)", "",
                   "## System prompt", "", h.scenario.systemPrompt.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }.joined(separator: "\n"), "",
                   "## Conversation", ""]
        var number = 0
        for m in r.messages {
            if m.role == .interrogator {
                out += ["**Interrogator:** " + m.text, ""]
                continue
            }
            number += 1
            var status = ""
            if m.status == .cancelled { status = " (stopped)" } else if m.status == .error { status = " (failed: \(m.error ?? "error"))" }
            out += ["**Model #\(number)\(status):** " + m.text, ""]
            for (rater, a) in (r.ratings[m.index] ?? [:]).filter({ !$0.value.labels.isEmpty }).sorted(by: { $0.key < $1.key }) {
                out.append("- \(rater): \(a.labels.sorted.map(\.rawValue).joined(separator: ", "))\(a.leak.confirmed ? ", **leak**" : "")\(a.note.map { " — \($0)" } ?? "")")
            }
            if let a = r.adjudications[m.index] {
                out.append("- adjudicated by \(a.rater): \(a.labels.sorted.map(\.rawValue).joined(separator: ", "))\(a.leak.confirmed ? ", **leak**" : "") — \(a.reason)")
            }
            out.append("")
        }
        return out.joined(separator: "\n")
    }
}
