import ArgumentParser
import Foundation
import Sessions

/// A command working on a team store instead of a folder (`--store URL`, or
/// `$INTERROGATE_STORE` when no folder is named): what the person may read is pulled into this
/// machine's copy of the store, the command runs on the copy as on any folder, and a command
/// that writes pushes what it wrote when it is done. What could not be pushed waits in the
/// copy for the next push; nothing is lost when the store is away.
struct TeamStoreWork {
    let copy: StoreCopy
    let collection: StoreCollection
    let writes: Bool
    let study: String?

    /// How long one query before or after a command may go unanswered: a store whose host has
    /// vanished does not hold the command for ever (a whole store's digest takes seconds).
    static let patience: Duration = .seconds(60)

    /// The store named by `--store`, else by $INTERROGATE_STORE when neither `--store` nor a
    /// folder option was given; nil when the command works on a folder.
    static func address(option: String?, folderGiven: Bool) throws -> StoreAddress? {
        let env = ProcessInfo.processInfo.environment[StoreAddress.environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        guard let text = option ?? (folderGiven ? nil : env) else { return nil }
        do { return try StoreAddress.parse(text) } catch {
            printError(error.description)
            throw ExitCode(64)
        }
    }

    /// Pulls the collection into the copy and says on stderr what was left out. Refused (exit 1)
    /// when the store cannot be reached: nothing has been typed yet, so nothing is lost.
    static func begin(_ address: StoreAddress, study: String?, writes: Bool) async throws -> TeamStoreWork {
        if let study, !TranscriptStore.isValidRaterId(study) {
            printError("a study name may use letters, digits, '.', '_' and '-' only")
            throw ExitCode(64)
        }
        let copy = StoreCopy(address: address)
        let collection = study.map { copy.study($0) } ?? copy.transcripts
        do { try copy.prepare(collection) } catch {
            printError(error.description)
            throw invalidInputExit
        }
        let store: TeamStore
        do { store = try await TeamStore.connect(address, patience: Self.patience) } catch {
            printError("\(error.description); nothing was done (the copy in \(copy.folder) is as it was)")
            throw invalidInputExit
        }
        let report: StoreSyncReport
        do { report = try await store.pull(collection, remember: true, blindCopies: true) } catch {
            await store.close()
            printError(error.description)
            throw invalidInputExit
        }
        await store.close()
        printStoreSummary(report, verb: "pulled", place: "from \(address) into \(collection.folder)")
        if let why = report.interrupted {
            printError("stopped: \(why); nothing was done")
            throw invalidInputExit
        }
        return TeamStoreWork(copy: copy, collection: collection, writes: writes, study: study)
    }

    /// `store push`'s arguments for this copy.
    var pushArguments: String {
        guard let name = study else { return "--transcripts '\(collection.folder)'" }
        return "--studies '\(studiesRoot)' --study \(name)"
    }

    var transcriptsRoot: String { study == nil ? collection.folder : (collection.folder as NSString).appendingPathComponent("transcripts") }
    var studiesRoot: String { copy.studiesFolder }

    /// Pushes what the command wrote (and anything still waiting in the copy). A store that
    /// is away is told, with the command that sends the copy later; exit 1 then, since the
    /// work is on this machine only.
    func finish() async throws {
        guard writes else { return }
        let later = "the copy keeps it: it is sent by the next command given --store that writes, or by `interrogate store push \(pushArguments) --store '\(copy.address.urlWithoutPassword)'`"
        let store: TeamStore
        do { store = try await TeamStore.connect(copy.address, patience: Self.patience) } catch {
            printError("\(error.description): what this command wrote is not in the store yet; \(later)")
            throw invalidInputExit
        }
        let report: StoreSyncReport
        do { report = try await store.push(collection, remember: true) } catch {
            await store.close()
            printError("\(error.description): what this command wrote is not in the store yet; \(later)")
            throw invalidInputExit
        }
        await store.close()
        printStoreSummary(report, verb: "pushed", place: "from \(collection.folder) into \(copy.address)")
        if let why = report.interrupted {
            printError("stopped: \(why); \(later)")
            throw invalidInputExit
        }
        let notYours = report.leftOut.filter { $0.reason.hasSuffix(StoreSyncReport.notYoursToPush) }.count
        if notYours > 0 {
            printError("\(notYours) file(s) written in another person's name are not in the store: \(copy.address.user) pushes only their own (give your own id, \(copy.address.user), as rater or annotator); they stay in \(collection.folder)")
        }
        if report.busy > 0 {
            printError("\(report.busy) file(s) are held by another connection to the store and were not pushed; \(later)")
        }
        if !report.conflicts.isEmpty || notYours > 0 || report.busy > 0 { throw invalidInputExit }
    }
}

/// What a push or pull around a command did, on stderr (standard output is the command's):
/// each file not copied with the reason (a blind copy, never pushed, goes without saying), then
/// one line that counts every file once.
func printStoreSummary(_ report: StoreSyncReport, verb: String, place: String) {
    for e in report.leftOut where e.reason != StoreSyncReport.blindCopyNotPushed && e.reason != StoreSyncReport.participantPlanNotPushed {
        printError("store: \(TerminalText.escaped(e.path)): left out: \(e.reason)", prefix: false)
    }
    for e in report.conflicts { printError("store: \(TerminalText.escaped(e.path)): CONFLICT: \(e.reason)", prefix: false) }
    for e in report.behind { printError("store: \(TerminalText.escaped(e.path)): \(e.reason)", prefix: false) }
    for e in report.notes { printError("store: \(TerminalText.escaped(e.path)): note: \(e.reason)", prefix: false) }
    var summary = "store: \(verb) \(report.linesCopied) line(s) in \(report.copied.count) file(s) \(place); \(report.unchanged) already the same"
    if report.blindCopies > 0 {
        summary += "; \(report.blindCopies) other people's session(s) held as blind copies, for review only (never counted)"
    }
    if report.blindSessions > report.blindCopies {
        summary += "; left out \(report.blindSessions - report.blindCopies) other people's session(s), which you may read only blind"
    }
    if !report.conflicts.isEmpty { summary += "; \(report.conflicts.count) in conflict, not copied" }
    printError(summary, prefix: false)
}

/// `--store URL` on a command that otherwise works on a folder.
struct TeamStoreOption: ParsableArguments {
    @Option(name: .customLong("store"), help: ArgumentHelp("Work on a team store (PostgreSQL) instead of a folder: postgresql://USER@HOST[:PORT]/DATABASE; default $\(StoreAddress.environmentVariable) when no folder is named. See docs/team-store.md.", valueName: "url"))
    var url: String?

    /// A session named by its path rather than its id: a place on this machine, which a command
    /// on the store (working on its copy) cannot use.
    static func pathLike(_ session: String?) -> String? {
        guard let session, session.contains("/") || session.hasSuffix(".jsonl") else { return nil }
        return session
    }

    /// Pulls the store into this machine's copy, when the command works on one; `folders` says
    /// which folder options were given (they name a folder, so they cannot go with --store).
    func begin(folders: [String?], writes: Bool, study: String? = nil) async throws -> TeamStoreWork? {
        let given = folders.contains { $0 != nil }
        if url != nil && given {
            printError("--store works on this machine's copy of the store: give --store or folders and files (--transcripts, --studies, paths), not both")
            throw ExitCode(64)
        }
        guard let address = try TeamStoreWork.address(option: url, folderGiven: given) else { return nil }
        return try await TeamStoreWork.begin(address, study: study, writes: writes)
    }
}

extension TeamStoreWork {
    /// Runs a command's work, then pushes what it wrote, also when it failed part way (what
    /// was saved before the failure belongs in the store too).
    static func around(_ work: TeamStoreWork?, _ body: () async throws -> Void) async throws {
        do { try await body() } catch {
            if let work { try? await work.finish() }
            throw error
        }
        try await work?.finish()
    }
}

/// The live session of `run` on a team store, sent to the store as it is saved and held there
/// so that no other connection writes it meanwhile.
actor LiveStoreLink {
    let work: TeamStoreWork
    private var follower: StoreFollower?
    private var loop: Task<Void, Never>?

    init(work: TeamStoreWork) { self.work = work }

    /// Why the session could not be followed at all, told when the run ends.
    private var refusal: String?

    /// Holds the session at `path` (in the copy) in the store; refused when another
    /// connection holds it, or its copies differ (a resumed session, before its screen opens).
    func hold(_ path: String) async throws(StoreError) {
        guard follower == nil else { return }
        guard let file = StoreFollower.sessionFile(at: path, in: work.collection) else {
            throw StoreError("\(path) is not a session the team store can hold")
        }
        start(try await StoreFollower.hold(file, in: work.collection, address: work.copy.address))
    }

    /// Follows a new session without making its screen wait for the store: the follower
    /// connects in the background, and again until the store answers.
    func follow(_ path: String) {
        guard follower == nil else { return }
        guard let file = StoreFollower.sessionFile(at: path, in: work.collection) else {
            refusal = "\(path) is not a session the team store can hold; it stays in the copy"
            return
        }
        start(StoreFollower.follow(file, in: work.collection, address: work.copy.address))
    }

    private func start(_ f: StoreFollower) {
        follower = f
        loop = Task {
            while !Task.isCancelled {
                await f.sync()
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// A last send; says what waits in the copy, if anything.
    func finish() async {
        loop?.cancel()
        await loop?.value
        loop = nil
        if let refusal { printError("store: \(refusal)", prefix: false) }
        guard let follower else { return }
        await follower.finish()
        if let problem = await follower.problem { printError("store: \(problem)", prefix: false) }
        self.follower = nil
    }
}
