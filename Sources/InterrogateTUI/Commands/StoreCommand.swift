import ArgumentParser
import Foundation
import Sessions

/// `interrogate store …`: a team store on PostgreSQL, and copying between it and a folder.
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "A team store on PostgreSQL: set it up, add people, copy sessions to and from a folder.",
        discussion: """
        The store is named by --store postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE or \
        $\(StoreAddress.environmentVariable) (the password may instead be in $PGPASSWORD). Each person \
        connects as their own PostgreSQL role; the server's row-level security decides what they \
        may read. See docs/team-store.md.
        """,
        subcommands: [Init.self, AddRater.self, Assign.self, Push.self, Pull.self]
    )

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or upgrade the store's schema (run by the database's owner; safe to run again).")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let connection = try await store.connect(checkSchema: false)
            let result: TeamStore.InitResult
            do { result = try await connection.initialise() } catch {
                await connection.close()
                printError(error.description)
                throw invalidInputExit
            }
            await connection.close()
            if result.applied.isEmpty {
                print("\(connection.address): schema version \(result.version), already up to date")
            } else {
                print("\(connection.address): applied migration(s) \(result.applied.map { String(format: "%04d", $0) }.joined(separator: ", ")); schema version \(result.version)")
            }
        }
    }

    struct AddRater: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-rater",
            abstract: "Give a person a role in the store (run by someone who may create roles).",
            discussion: """
            Creates a login role named after the rater id, with the password read from standard \
            input (one line), when there is none; then makes it a member of the group for --role. \
            An existing role keeps its password.
            """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "The person's rater id, which is also their PostgreSQL role.") var rater: String
        @Option(help: "organiser (reads and writes everything), reviewer (interrogates and reviews, blind) or adjudicator (reads the sessions assigned to them).")
        var role: StoreRoleArgument

        func run() async throws {
            let password = isatty(STDIN_FILENO) == 0 ? readLine(strippingNewline: true) : nil
            let connection = try await store.connect()
            do {
                let created = try await connection.addRater(rater, role: role.role, password: password)
                await connection.close()
                print("\(rater): \(created ? "login role created, " : "")member of interrogate_\(role.role.rawValue)")
            } catch {
                await connection.close()
                printError(error.description)
                throw invalidInputExit
            }
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let an adjudicator read every file of a session (an organiser's command).")
        @OptionGroup var store: StoreOptions
        @OptionGroup var place: CollectionOptions
        @Argument(help: "The session id.") var session: String
        @Option(help: "The adjudicator's rater id.") var adjudicator: String

        func run() async throws {
            let connection = try await store.connect()
            do {
                try await connection.assign(session: session, in: place.collection, adjudicator: adjudicator)
                await connection.close()
                print("\(adjudicator) may read \(place.collection.name)/\(session)")
            } catch {
                await connection.close()
                printError(error.description)
                throw invalidInputExit
            }
        }
    }

    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy what the store lacks of a folder's sessions into it.",
            discussion: """
            Each file's new lines are added after the lines the store holds, in one transaction; \
            nothing in the store is changed or removed. A file whose copies differ is reported and \
            not pushed. A reviewer pushes their own files; an organiser pushes everything. \
            Running it twice adds nothing. Exit code 1 when a file was in conflict.
            """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var place: CollectionOptions

        func run() async throws {
            let connection = try await store.connect()
            let report: StoreSyncReport
            do { report = try await connection.push(place.collection) } catch {
                await connection.close()
                printError(error.description)
                throw invalidInputExit
            }
            await connection.close()
            try printSyncReport(report, verb: "pushed", to: "into \(connection.address)")
        }
    }

    struct Pull: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy what a folder lacks of the store's sessions into it.",
            discussion: """
            Files are written whole and renamed into place, or get the lines after their own, \
            each write fsync'd; nothing in the folder is overwritten (a study.yaml that is an \
            earlier version the store keeps is replaced by the latest). A file whose copies differ, \
            or that is open in a running interrogate, is reported and not written. You get the \
            files you may read whole. Running it twice writes nothing. Exit code 1 when a file was \
            in conflict.
            """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var place: CollectionOptions

        func run() async throws {
            let connection = try await store.connect()
            let report: StoreSyncReport
            do { report = try await connection.pull(place.collection) } catch {
                await connection.close()
                printError(error.description)
                throw invalidInputExit
            }
            await connection.close()
            try printSyncReport(report, verb: "pulled", to: "from \(connection.address) into \(place.collection.folder)")
        }
    }
}

struct StoreRoleArgument: ExpressibleByArgument {
    var role: StoreRole
    init?(argument: String) {
        guard let r = StoreRole(rawValue: argument) else { return nil }
        role = r
    }
    static var allValueStrings: [String] { StoreRole.allCases.map(\.rawValue) }
}

/// `--store URL`, else $INTERROGATE_STORE.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The team store: postgresql://USER@HOST[:PORT]/DATABASE (default: $\(StoreAddress.environmentVariable)).", valueName: "url"))
    var store: String?

    func address() throws -> StoreAddress {
        guard let text = store ?? ProcessInfo.processInfo.environment[StoreAddress.environmentVariable], !text.isEmpty else {
            printError("no team store: give --store postgresql://USER@HOST/DATABASE or set $\(StoreAddress.environmentVariable)")
            throw ExitCode(64)
        }
        do { return try StoreAddress.parse(text) } catch {
            printError(error.description)
            throw ExitCode(64)
        }
    }

    func connect(checkSchema: Bool = true) async throws -> TeamStore {
        let address = try address()
        do { return try await TeamStore.connect(address, checkSchema: checkSchema) } catch {
            printError(error.description)
            throw invalidInputExit
        }
    }
}

/// Which folder: the transcripts folder, or a study's (`--study NAME`).
struct CollectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Folder of session transcripts (default: $\(TranscriptStore.environmentVariable) or ./transcripts).", valueName: "dir"))
    var transcripts: String?
    @Option(name: .long, help: ArgumentHelp("A study instead: its folder under the studies folder, with its study.yaml and plan.jsonl.", valueName: "name"))
    var study: String?
    @Option(name: .long, help: ArgumentHelp("Folder of studies (default: $\(StudyDesign.environmentVariable) or ./studies).", valueName: "dir"))
    var studies: String?

    func validate() throws {
        if study != nil && transcripts != nil { throw ValidationError("give --transcripts or --study, not both") }
        if let study, !TranscriptStore.isValidRaterId(study) {
            throw ValidationError("a study name may use letters, digits, '.', '_' and '-' only")
        }
    }

    var collection: StoreCollection {
        if let study {
            return .study(name: study, folder: (StudyOptions.root(studies) as NSString).appendingPathComponent(study))
        }
        return .transcripts(root: TranscriptStore.resolve(option: transcripts).root)
    }
}

/// What a push or pull did, one line per file that changed or was not copied, then a summary
/// in which every file is counted once.
func printSyncReport(_ report: StoreSyncReport, verb: String, to place: String) throws {
    for e in report.copied { print("\(TerminalText.escaped(e.path)): \(verb) \(e.reason)") }
    for e in report.behind { print("\(TerminalText.escaped(e.path)): \(e.reason)") }
    for e in report.leftOut { print("\(TerminalText.escaped(e.path)): left out: \(e.reason)") }
    for e in report.conflicts { print("\(TerminalText.escaped(e.path)): CONFLICT: \(e.reason)") }
    for e in report.notes { print("\(TerminalText.escaped(e.path)): note: \(e.reason)") }
    if report.blindSessions > 0 {
        print("left out: \(report.blindSessions) other people's session(s): you may read only their messages (blind review), so they are not copied")
    }
    var summary = "\(verb) \(report.linesCopied) line(s) in \(report.copied.count) file(s) \(place); \(report.unchanged) file(s) already the same"
    if !report.behind.isEmpty { summary += "; \(report.behind.count) to copy later (newer on the other side, or being written)" }
    let leftOut = report.leftOut.count + report.blindSessions
    if leftOut > 0 { summary += "; \(leftOut) left out" }
    if !report.conflicts.isEmpty { summary += "; \(report.conflicts.count) in conflict, not copied" }
    print(summary)
    if let why = report.interrupted {
        printError("stopped: \(why); run it again when the store is back (what was copied stays copied)")
        throw invalidInputExit
    }
    if !report.conflicts.isEmpty { throw invalidInputExit }
}
