import ArgumentParser
import Foundation
import Sessions

struct TranscriptsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcripts",
        abstract: "Check transcript files.",
        subcommands: [Validate.self]
    )

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check transcript files against the JSON Schema in docs/ and the format's rules.",
            discussion: """
            Each line must be a valid event (docs/transcript.schema.json); a session file starts with its \
            header; sequence numbers run 1, 2, 3… and message indexes 0, 1, 2…; annotations refer to \
            earlier model messages. A torn last line (a write cut short by a crash) is reported with its \
            line number. Problems print as file:line: message. Folders are searched for *.jsonl. \
            Exit code 0 when every file is valid, 1 otherwise. Files are only read, never changed.
            """
        )
        @OptionGroup var location: LocationOptions
        @Argument(help: "Transcript files or folders (default: the transcripts folder).") var paths: [String] = []

        func run() throws {
            let validator: TranscriptValidator
            do { validator = try TranscriptValidator() } catch {
                printError("\(error)")
                throw ExitCode.failure
            }
            let files = TranscriptStore.transcriptFiles(under: paths.isEmpty ? [location.store.root] : paths)
            if files.isEmpty {
                printError("no transcript files (*.jsonl) found")
                throw invalidInputExit
            }
            var bad = 0
            for file in files {
                let problems = validator.validate(path: file)
                for p in problems { print(p.isError ? p.description : "\(p.description) (note)") }
                if problems.contains(where: \.isError) { bad += 1 }
            }
            if bad == 0 {
                print("\(files.count) file(s) valid")
            } else {
                printError("\(bad) of \(files.count) file(s) invalid")
                throw invalidInputExit
            }
        }
    }
}
