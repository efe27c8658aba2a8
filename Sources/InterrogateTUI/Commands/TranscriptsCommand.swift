import ArgumentParser
import Foundation
import Sessions

struct TranscriptsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcripts",
        abstract: "Check transcript files.",
        subcommands: [Validate.self]
    )

    struct Validate: AsyncParsableCommand {
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
        @OptionGroup var team: TeamStoreOption
        @Argument(help: "Transcript files or folders (default: the transcripts folder).") var paths: [String] = []

        mutating func run() async throws {
            let work = try await team.begin(folders: [location.transcripts] + paths.map { Optional($0) }, writes: false)
            if let work {
                location.transcripts = work.transcriptsRoot
            }
            try await TeamStoreWork.around(work) { [self] in try await perform() }
        }

        func perform() async throws {
            let validator: TranscriptValidator
            do { validator = try TranscriptValidator() } catch {
                printError("\(error)")
                throw ExitCode.failure
            }
            let (files, unreadable) = TranscriptStore.transcriptFiles(under: paths.isEmpty ? [location.store.root] : paths)
            for u in unreadable { print("\(u.path): \(u.reason)") }
            if files.isEmpty && !paths.contains(where: TranscriptStore.isSignalSidecar) {
                printError("no transcript files (*.jsonl) found")
                throw invalidInputExit
            }
            var invalid = Set<String>()
            var reported = Set<String>()
            let progress = ProgressLine.onTerminal("files")
            progress?.start(total: files.count)
            for (n, file) in files.enumerated() {
                progress?.advance(to: n + 1)
                let problems = validator.validate(path: file)
                // A problem line replaces the progress line, which comes back with the next file.
                if !problems.isEmpty { progress?.finish() }
                for p in problems { print(p.isError ? p.description : "\(p.description) (note)") }
                if problems.contains(where: \.isError) { invalid.insert(file) }
                reported.formUnion(problems.map { "\($0.file):\($0.line)" })
            }
            // What one file cannot show: the files of a session read together, as every command
            // reads them (annotations of turns that exist, raters in their own files, ids that match).
            // A line already reported by itself is not reported twice.
            progress?.finish()
            for p in Self.sessionProblems(files, progress: ProgressLine.onTerminal("sessions")) where !reported.contains("\(p.file):\(p.line)") {
                print(p.description)
                invalid.insert(p.file)
            }
            // The signal sidecars (beside each session found, or named), read as `signals` reads them.
            let sessionFolders = files.filter { ($0 as NSString).lastPathComponent == TranscriptStore.sessionFileName }.map { ($0 as NSString).deletingLastPathComponent }
            let sidecars = Set(sessionFolders.flatMap { [SignalSidecar.logprobsPath(folder: $0), SignalSidecar.probesPath(folder: $0)] }
                               + paths.filter(TranscriptStore.isSignalSidecar)).sorted()
            var sidecarsRead = 0
            for path in sidecars {
                guard let problems = SignalSidecar.problems(path: path) else { continue }
                sidecarsRead += 1
                for p in problems {
                    print(TerminalText.escaped("\(((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(p))"))
                    invalid.insert(path)
                }
            }
            let bad = invalid.count + unreadable.count
            let sidecarNote = sidecarsRead > 0 ? " (\(sidecarsRead) of them signal sidecars)" : ""
            if bad == 0 {
                print("\(files.count + sidecarsRead) file(s) valid\(sidecarNote)")
            } else {
                printError("\(invalid.count) of \(files.count + sidecarsRead) file(s) invalid\(sidecarNote)" + (unreadable.isEmpty ? "" : "; \(unreadable.count) path(s) could not be read"))
                throw invalidInputExit
            }
        }

        /// The consistency problems of the sessions the files belong to.
        static func sessionProblems(_ files: [String], progress: ProgressLine? = nil) -> [TranscriptProblem] {
            var folders: [String] = []
            var seen = Set<String>()
            var out: [TranscriptProblem] = []
            func parent(_ p: String) -> String { let d = (p as NSString).deletingLastPathComponent; return d.isEmpty ? "." : d }
            for file in files {
                var folder = parent(file)
                if [TranscriptStore.reviewsFolderName, TranscriptStore.adjudicationsFolderName].contains((folder as NSString).lastPathComponent) {
                    folder = parent(folder)
                    if !FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(TranscriptStore.sessionFileName)) {
                        out.append(.init(file: file, line: 0, kind: .inconsistent,
                                         message: "no \(TranscriptStore.sessionFileName) beside this rater file: its labels belong to no session"))
                        continue
                    }
                } else if (file as NSString).lastPathComponent != TranscriptStore.sessionFileName {
                    continue
                }
                if seen.insert(folder).inserted { folders.append(folder) }
            }
            let named = Set(files)
            progress?.start(total: folders.count)
            defer { progress?.finish() }
            for (n, folder) in folders.enumerated() {
                progress?.advance(to: n + 1)
                // A session that does not read at all is already reported line by line.
                guard let session = try? Session.load(folder: folder) else { continue }
                out += session.problems.filter { $0.kind == .inconsistent && (named.contains($0.file) || $0.line == 0) }
            }
            return out
        }
    }
}
