import ArgumentParser
import Foundation
import Sessions

struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List the sessions of the transcripts folder: scenario, model, annotator, turns, untagged replies, reviews."
    )
    @OptionGroup var location: LocationOptions
    @OptionGroup var team: TeamStoreOption
    @Option(help: "Output format: text (a table) or json.") var format: OutputFormat = .text

    mutating func run() async throws {
        let work = try await team.begin(folders: [location.transcripts], writes: false)
        if let work {
            location.transcripts = work.transcriptsRoot
        }
        try await TeamStoreWork.around(work) { [self] in try await perform() }
    }

    func perform() async throws {
        let store = location.store
        let summaries = store.sessionIds().map { SessionSummary.of(store: store, sessionId: $0) }
        switch format {
        case .json: printJSON(summaries)
        case .text:
            if summaries.isEmpty { print("no sessions in \(store.root)"); return }
            print(Table(header: ["SESSION", "SCENARIO", "CONDITION", "MODEL", "ANNOTATOR", "QUESTIONS", "UNTAGGED", "REVIEWS", "STATE"],
                        rows: summaries.map { s in
                            [s.sessionId, s.scenario, s.condition, s.model, s.annotator, String(s.questions), String(s.untagged),
                             String(s.reviews), s.problems.isEmpty ? (s.ended ? "ended" : "open") : "problems: \(s.problems.count)"]
                        }).render())
        }
        for s in summaries { for p in s.problems { printError(p) } }
    }
}
