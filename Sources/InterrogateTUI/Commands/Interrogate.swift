import ArgumentParser
import Foundation
import Sessions

struct Interrogate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interrogate",
        abstract: "Interrogation studies of language models: scenarios, durable deception transcripts, scores.",
        discussion: """
        A scenario tells a model to keep a secret; a person interrogates it and tags each reply \
        as candid, refusal, deflection, transformation or fabrication. Transcripts are append-only \
        JSONL files under the transcripts folder (--transcripts or $\(TranscriptStore.environmentVariable)).

        Exit codes: 0 success, 1 the input was checked and found invalid, 64 bad arguments, \
        74 the output could not be written (a full disk, a closed pipe).
        """,
        version: AppVersion.current,
        subcommands: [RunCommand.self, StudyCommand.self, AutoCommand.self, JudgeCommand.self, ReviewCommand.self, AdjudicateCommand.self, SessionsCommand.self, AgreeCommand.self, ReportCommand.self, SignalsCommand.self, ExportCommand.self, ScenariosCommand.self, TranscriptsCommand.self, ModelsCommand.self, StoreCommand.self]
    )

    /// ArgumentParser's own `main`, with two changes: a reader that has gone (`| head`) makes a
    /// write fail with EPIPE, reported like any failed write, instead of killing the process
    /// silently with SIGPIPE; and what commands wrote with `print` (help included) is flushed and
    /// checked before the process ends, so output lost on a full disk is never exit 0.
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        var code: Int32 = 0
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            code = exitCode(for: error).rawValue
            let message = fullMessage(for: error)
            if !message.isEmpty {
                if code == ExitCode.success.rawValue { print(message) } else { printError(message, prefix: false) }
            }
        }
        Foundation.exit(finishStandardOutput(code))
    }
}

/// Flushes standard output's buffer; when it, or any earlier write through it, failed, says so
/// once on standard error and returns `outputFailedExit`, else `code`. A command that already
/// reported its failed output (exit 74) is not reported twice.
func finishStandardOutput(_ code: Int32) -> Int32 {
    let stream = standardOutputStream()
    // Without the stream, every stream is flushed: a failure still shows.
    let flushed = fflush(stream) == 0
    let reason = flushed ? nil : errno
    guard !flushed || (stream.map { ferror($0) != 0 } ?? false) else { return code }
    if code != outputFailedExit.rawValue {
        printError("cannot write standard output: " + (reason.map { String(cString: strerror($0)) } ?? "a write failed"))
    }
    return outputFailedExit.rawValue
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

/// The C library's standard output stream, which `print` writes through. Swift 6 refuses to
/// read the C global `stdout` (shared mutable state), so it is looked up by its symbol; it is
/// read once, by `finishStandardOutput`, when the command is done and nothing else runs.
private func standardOutputStream() -> UnsafeMutablePointer<FILE>? {
    // RTLD_DEFAULT: every loaded object.
    #if canImport(Darwin)
    let (everywhere, name) = (UnsafeMutableRawPointer(bitPattern: -2), "__stdoutp")
    #else
    let (everywhere, name) = (UnsafeMutableRawPointer(bitPattern: 0), "stdout")
    #endif
    guard let symbol = dlsym(everywhere, name) else { return nil }
    return symbol.assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self).pointee
}

/// The executable's entry point (Sources/InterrogateCLI).
public enum InterrogateApp {
    public static func main() async { await Interrogate.main() }
}
