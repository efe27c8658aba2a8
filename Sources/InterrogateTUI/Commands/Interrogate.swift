import ArgumentParser
import Sessions

@main
struct Interrogate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interrogate",
        abstract: "Interrogation studies of language models: scenarios, durable deception transcripts, scores.",
        discussion: """
        A scenario tells a model to keep a secret; a person interrogates it and tags each reply \
        as candid, refusal, deflection, transformation or fabrication. Transcripts are append-only \
        JSONL files under the transcripts folder (--transcripts or $\(TranscriptStore.environmentVariable)).

        Exit codes: 0 success, 1 the input was checked and found invalid, 64 bad arguments.
        """,
        version: AppVersion.current,
        subcommands: [RunCommand.self, ReviewCommand.self, AdjudicateCommand.self, SessionsCommand.self, AgreeCommand.self, ReportCommand.self, ExportCommand.self, ScenariosCommand.self, TranscriptsCommand.self, ModelsCommand.self]
    )
}

/// Where scenarios and transcripts are found; shared by every command.
struct LocationOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Folder of scenario YAML files (default: $\(ScenarioLocation.environmentVariable) or ./Scenarios).", valueName: "dir"))
    var scenarios: String?

    @Option(name: .long, help: ArgumentHelp("Folder of session transcripts (default: $\(TranscriptStore.environmentVariable) or ./transcripts).", valueName: "dir"))
    var transcripts: String?

    var scenarioDirectory: String { ScenarioLocation.resolve(option: scenarios) }
    var store: TranscriptStore { TranscriptStore.resolve(option: transcripts) }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Exit code for "checked, and found invalid", distinct from ArgumentParser's usage error (64).
let invalidInputExit = ExitCode(1)
