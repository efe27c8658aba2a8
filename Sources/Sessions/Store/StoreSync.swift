import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import PostgresNIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a `store push` or `store pull` did, file by file: every file of the folder (or of the
/// database) is in exactly one of these.
public struct StoreSyncReport: Sendable {
    public struct Entry: Sendable, Equatable {
        public var path: String
        public var reason: String
    }

    /// Files that got lines (or a new version) they lacked, and how many lines.
    public var copied: [Entry] = []
    public var linesCopied = 0
    /// Files already the same on both sides.
    public var unchanged = 0
    /// Files the other side has more of: the other command brings them.
    public var behind: [Entry] = []
    /// Files whose two copies differ: nothing of them was written, on either side.
    public var conflicts: [Entry] = []
    /// Files not copied, and why (another person's file, a path the folder cannot hold…).
    public var leftOut: [Entry] = []
    /// Other people's sessions a reviewer may read only blind, so not copied (pull).
    public var blindSessions = 0
    /// Of those, the ones held as blind copies for review (a store's copy), and how many of
    /// them this pull wrote.
    public var blindCopies = 0
    public var blindCopiesWritten = 0
    /// Files not pushed because another connection was writing them (in `behind`).
    public var busy = 0
    /// Something to know about a file counted above (a torn last line not copied with it).
    public var notes: [Entry] = []
    /// Why the command stopped before the end (the connection was lost); the files not yet
    /// copied are among `leftOut`.
    public var interrupted: String?
    /// Why another person's file is not pushed (a copy that holds it was given it to read).
    public static let notYoursToPush = "only they or an organiser push it"
    /// Why a blind copy is not pushed: it is the store's own view of someone else's session.
    public static let blindCopyNotPushed = "a blind copy the store gave you for review; never pushed"
    /// Why a participant's copy of a study's plan is not pushed: the store's own view of it.
    public static let participantPlanNotPushed = "your copy of the study's plan, as the store gives it to you; never pushed"

    public init() {}
}

extension TeamStore {
    // MARK: push

    /// Copies what the database lacks of a folder's files into it, each file in one
    /// transaction: lines are only ever added after the lines the database already holds, and
    /// a file whose copies differ is reported and left as it is. Running it twice adds nothing.
    ///
    /// With `remember` (a store's copy), a file that is on both sides as the copy's last pull
    /// left it (`PullMemory`) is known to be the same without reading it.
    public func push(_ collection: StoreCollection, remember: Bool = false) async throws(StoreError) -> StoreSyncReport {
        let me = try await whoAmI()
        var report = StoreSyncReport()
        let (files, leftOut) = collection.localFiles()
        report.leftOut = leftOut.map { .init(path: $0.path, reason: $0.reason) }
        var same: Set<String> = []
        var memory: PullMemory?
        if remember {
            let read = PullMemory.read(folder: collection.folder, store: try await storeIdentity())
            memory = read
            if !read.files.isEmpty {
                // Only this folder's own files are looked at; a path from the server is not.
                let local = Dictionary(files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
                for (path, id, count, newest) in try await rows("""
                    SELECT f.path, f.id, count(l.id), coalesce(max(l.id), 0)
                    FROM interrogate_files f LEFT JOIN interrogate_lines l ON l.file = f.id
                    WHERE f.collection = \(collection.name) GROUP BY f.id
                    """, as: (String, Int, Int, Int).self) {
                    if let e = read.files[path], e.fileID == id, e.count == count, e.newest == newest,
                       let file = local[path],
                       PullMemory.stamp(of: collection.localPath(file)) == e.stamp {
                        same.insert(path)
                    }
                }
            }
        }
        // What the store holds of each other file this role reads, in one query: its line count
        // and a digest of its lines, so that a file already the same costs no transaction of its own.
        let needed = files.map(\.path).filter { !same.contains($0) }
        var held: [String: (count: Int, digest: [UInt8])] = [:]
        if !needed.isEmpty {
            for (path, count, digest) in try await rows("""
                SELECT f.path, count(l.id)::int8,
                       pg_catalog.sha256(coalesce(pg_catalog.string_agg(l.body, '\\x0a'::bytea ORDER BY l.line_no), ''::bytea))
                FROM interrogate_files f LEFT JOIN interrogate_lines l ON l.file = f.id
                WHERE f.collection = \(collection.name) AND f.path = ANY(\(needed)::text[]) GROUP BY f.path
                """, as: (String, Int, ByteBuffer).self) {
                held[path] = (count, Array(buffer: digest))
            }
        }
        for file in files {
            let local = collection.localPath(file)
            if same.contains(file.path) {
                report.unchanged += 1
                continue
            }
            if let why = report.interrupted {
                report.leftOut.append(.init(path: local, reason: "not pushed: \(why)"))
                continue
            }
            guard me.organiser || file.rater == me.user else {
                // Another person's file as it was pulled (the store has moved on since): not
                // this person's to push, and nothing of theirs is in it.
                if let e = memory?.files[file.path], PullMemory.stamp(of: local) == e.stamp {
                    report.unchanged += 1
                    continue
                }
                // Without the copy's memory of it: nothing of this person's is in it unless it
                // has more lines than the store (a pull cut short, access since taken away).
                if remember, let h = held[file.path], let lines = try? LocalLines.read(path: local), lines.lines.count <= h.count {
                    if h.count == lines.lines.count && h.digest == Self.digest(lines.lines) { report.unchanged += 1 }
                    else { report.behind.append(.init(path: local, reason: "another person's file, which the store has moved on from; pull to update it")) }
                    continue
                }
                let whose = file.rater.map { "\($0)'s" } ?? "the study's"
                report.leftOut.append(.init(path: local, reason: "\(whose) file: \(StoreSyncReport.notYoursToPush)"))
                continue
            }
            do {
                if file.isDocument {
                    guard let data = try LocalLines.document(path: local) else {
                        report.leftOut.append(.init(path: local, reason: "it was removed while the folder was being pushed"))
                        continue
                    }
                    try await pushDocument(file, data: data, collection: collection, local: local, report: &report)
                } else {
                    guard let lines = try LocalLines.read(path: local) else {
                        report.leftOut.append(.init(path: local, reason: "it was removed while the folder was being pushed"))
                        continue
                    }
                    if lines.lines.isEmpty {
                        report.leftOut.append(.init(path: local, reason: "no complete line yet"))
                        continue
                    }
                    if lines.tornTail != nil {
                        report.notes.append(.init(path: local, reason: "its last line is torn (a write was cut short): the lines before it are pushed, the fragment is not"))
                    }
                    if let h = held[file.path], h.count == lines.lines.count, h.digest == Self.digest(lines.lines) {
                        report.unchanged += 1
                        continue
                    }
                    try await pushLines(file, lines: lines.lines, collection: collection, local: local, report: &report)
                }
            } catch where error.isBusy {
                report.busy += 1
                report.behind.append(.init(path: local, reason: "not pushed: \(error.description)"))
            } catch {
                if isGone {
                    // What was committed stays committed; the rest is listed, not guessed.
                    report.interrupted = "the connection to \(address) was lost (\(error.description))"
                    report.leftOut.append(.init(path: local, reason: "not pushed: \(report.interrupted!)"))
                } else {
                    report.conflicts.append(.init(path: local, reason: "not pushed: \(error.description)"))
                }
            }
        }
        return report
    }

    var isGone: Bool { connection.isClosed }

    /// Which store this is (its first migration's time, the database's name and number), for a
    /// copy's `PullMemory`.
    func storeIdentity() async throws(StoreError) -> String {
        try await rows("""
            SELECT coalesce((SELECT applied_at::text FROM interrogate_migrations WHERE version = 1), '') || ' ' || pg_catalog.current_database()
                   || ' ' || (SELECT d.oid::text FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
            """, as: String.self).first ?? ""
    }

    /// The sha256 of lines joined by newlines, as the store's push query computes it.
    static func digest(_ lines: [Data]) -> [UInt8] {
        var h = SHA256()
        for (i, line) in lines.enumerated() {
            if i > 0 { h.update(data: Data([0x0A])) }
            h.update(data: line)
        }
        return Array(h.finalize())
    }

    /// The database's row for a file, created when missing; nil when it exists and this role
    /// may not read it.
    private func fileRow(_ file: StoreFile, collection: StoreCollection) async throws(StoreError) -> (id: Int, kind: String, rater: String?)? {
        // A live writer holds its file for the session's life: its lines are pushed by it, or later.
        let free = try await rows("SELECT pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtextextended(\(StoreWriter.lockKey(collection, file.path)), 0::int8))", as: Bool.self).first ?? false
        guard free else { throw StoreError("it is being written by a running interrogate connected to the store; push again later", busy: true) }
        try await run("""
            INSERT INTO interrogate_files (collection, path, kind, session_id, rater)
            VALUES (\(collection.name), \(file.path), \(file.kind.rawValue), \(file.sessionId), \(file.rater))
            ON CONFLICT (collection, path) DO NOTHING
            """)
        return try await rows("SELECT id, kind, rater FROM interrogate_files WHERE collection = \(collection.name) AND path = \(file.path)",
                              as: (Int, String, String?).self).first.map { (id: $0.0, kind: $0.1, rater: $0.2) }
    }

    private func storedLines(file id: Int) async throws(StoreError) -> [Data] {
        let rows = try await rows("SELECT line_no, body FROM interrogate_lines WHERE file = \(id) ORDER BY line_no", as: (Int, Data).self)
        for (i, row) in rows.enumerated() where row.0 != i + 1 {
            throw StoreError("the database's copy has a gap before line \(row.0)")
        }
        return rows.map(\.1)
    }

    private func pushLines(_ file: StoreFile, lines: [Data], collection: StoreCollection, local: String, report: inout StoreSyncReport) async throws(StoreError) {
        let outcome = try await transaction { () async throws(StoreError) -> (added: Int, entry: StoreSyncReport.Entry?, conflict: Bool) in
            guard let row = try await fileRow(file, collection: collection) else {
                throw StoreError("the database holds this file and you may not read it")
            }
            guard row.kind == file.kind.rawValue, row.rater == file.rater else {
                return (0, .init(path: local, reason: "the database has it as \(row.kind) of \(row.rater ?? "the study"), the folder as \(file.kind.rawValue) of \(file.rater ?? "the study")"), true)
            }
            let stored = try await storedLines(file: row.id)
            for (i, line) in stored.prefix(lines.count).enumerated() where line != lines[i] {
                return (0, .init(path: local, reason: "line \(i + 1) differs from the database's copy; nothing of this file was pushed"), true)
            }
            if stored.count > lines.count {
                return (0, .init(path: local, reason: "the database has \(stored.count - lines.count) more line(s): pull to get them"), false)
            }
            // The new lines in one statement, numbered after the stored ones; the server reads
            // each line's type and what a blind reviewer may see of it.
            guard lines.count > stored.count else { return (0, nil, false) }
            let numbers = Array((stored.count + 1)...lines.count)
            let bodies = lines[stored.count...].map { ByteBuffer(bytes: $0) }
            try await run("""
                INSERT INTO interrogate_lines (file, line_no, body)
                SELECT \(row.id), n, b FROM ROWS FROM (pg_catalog.unnest(\(numbers)::int8[]), pg_catalog.unnest(\(bodies)::bytea[])) AS t(n, b) ORDER BY n
                """)
            return (lines.count - stored.count, nil, false)
        }
        if let entry = outcome.entry {
            if outcome.conflict { report.conflicts.append(entry) } else { report.behind.append(entry) }
        } else if outcome.added == 0 {
            report.unchanged += 1
        } else {
            report.copied.append(.init(path: local, reason: "\(outcome.added) line(s)"))
            report.linesCopied += outcome.added
        }
    }

    private func pushDocument(_ file: StoreFile, data: Data, collection: StoreCollection, local: String, report: inout StoreSyncReport) async throws(StoreError) {
        let outcome = try await transaction { () async throws(StoreError) -> (version: Int?, entry: StoreSyncReport.Entry?) in
            guard let row = try await fileRow(file, collection: collection) else {
                throw StoreError("the database holds this file and you may not read it")
            }
            let versions = try await storedLines(file: row.id)
            if versions.last == data { return (nil, nil) }
            if let older = versions.firstIndex(of: data) {
                return (nil, .init(path: local, reason: "this is version \(older + 1); the database has version \(versions.count): pull to get it"))
            }
            try await run("INSERT INTO interrogate_lines (file, line_no, body) VALUES (\(row.id), \(versions.count + 1), \(ByteBuffer(bytes: data)))")
            return (versions.count + 1, nil)
        }
        if let entry = outcome.entry { report.behind.append(entry) }
        else if let v = outcome.version {
            report.copied.append(.init(path: local, reason: "version \(v)"))
            report.linesCopied += 1
        } else { report.unchanged += 1 }
    }

    // MARK: pull

    /// Copies what a folder lacks of the files this role may read whole: new files are
    /// written whole and renamed into place, existing ones get the lines after their own, each
    /// write fsync'd. A file whose copies differ, or that is open in a running interrogate, is
    /// reported and left as it is. Running it twice writes nothing.
    ///
    /// With `remember` (a store's copy, which only interrogate writes), the folder keeps what it
    /// held after this pull (`PullMemory`), and the next pull reads only the files whose store
    /// side gained lines or whose copy changed since.
    ///
    /// With `blindCopies`, another person's session this role may read only blind is written as
    /// a blind copy (`SessionHeader.blindCopy`): what the server's blind view holds of it, for
    /// review, never counted or pushed.
    public func pull(_ collection: StoreCollection, remember: Bool = false, blindCopies: Bool = false) async throws(StoreError) -> StoreSyncReport {
        // The count and the lines from one snapshot: a teammate's append in between is not a conflict.
        try await transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { () async throws(StoreError) -> StoreSyncReport in
            try await pullInSnapshot(collection, remember: remember, blindCopies: blindCopies)
        }
    }

    private func pullInSnapshot(_ collection: StoreCollection, remember: Bool, blindCopies: Bool) async throws(StoreError) -> StoreSyncReport {
        var report = StoreSyncReport()
        let me = try await whoAmI()
        var memory: PullMemory?
        var next: PullMemory?
        if remember {
            let identity = try await storeIdentity()
            memory = PullMemory.read(folder: collection.folder, store: identity)
            next = PullMemory(store: identity)
        }
        // What this role sees of each file: the count and the newest line are of the lines it may read.
        let files = try await rows("""
            SELECT f.id, f.path, f.kind, f.rater, count(l.id), coalesce(max(l.id), 0)
            FROM interrogate_files f LEFT JOIN interrogate_lines l ON l.file = f.id
            WHERE f.collection = \(collection.name) GROUP BY f.id ORDER BY f.id
            """, as: (Int, String, String, String?, Int, Int).self)
        var wanted: [Int: (file: StoreFile, count: Int, newest: Int)] = [:]
        var blindOnly = 0
        var blind: [String: (id: Int, file: StoreFile)] = [:]
        for (id, path, kind, rater, count, newest) in files {
            guard let file = collection.classify(path: path, rater: rater), file.kind.rawValue == kind else {
                report.leftOut.append(.init(path: "\(collection.name):\(TerminalText.escaped(path))",
                                            reason: "a \(TerminalText.escaped(kind)) file at a place this folder cannot hold; not written"))
                continue
            }
            if count == 0 {
                if me.organiser || file.rater == me.user {
                    report.leftOut.append(.init(path: collection.localPath(file), reason: "no lines yet"))
                } else if file.kind == .session {
                    blindOnly += 1
                    if blindCopies, let session = file.sessionId { blind[session] = (id, file) }
                } else {
                    report.leftOut.append(.init(path: collection.localPath(file), reason: "you may not read it"))
                }
                continue
            }
            // As it was at the last pull, on both sides: nothing to read.
            if let e = memory?.files[path], e.fileID == id, e.count == count, e.newest == newest,
               PullMemory.stamp(of: collection.localPath(file)) == e.stamp {
                report.unchanged += 1
                next?.files[path] = e
                continue
            }
            wanted[id] = (file, count, newest)
        }
        // Every line this role may read, file after file, in one query: a file is written when
        // its last line has arrived, so only one file's lines are held at a time.
        var current: (id: Int, lines: [Data])?
        func finish(_ id: Int, _ lines: [Data], report: inout StoreSyncReport) {
            guard let (file, count, newest) = wanted.removeValue(forKey: id) else { return }
            let local = collection.localPath(file)
            guard lines.count == count, lines.isEmpty == false else {
                report.conflicts.append(.init(path: local, reason: "not pulled: the store's copy changed while it was read (\(count) line(s) counted, \(lines.count) read); pull again"))
                return
            }
            do throws(StoreError) {
                // The copy holds the store's lines exactly: remembered, as it was then.
                let stamp = file.isDocument ? try Self.pullDocument(lines, local: local, report: &report)
                    : try Self.pullLines(lines, file: file, local: local, report: &report)
                if let stamp { next?.files[file.path] = .init(fileID: id, count: count, newest: newest, stamp: stamp) }
            } catch {
                report.conflicts.append(.init(path: local, reason: "not pulled: \(error.description)"))
            }
        }
        // Rewritten only when it changed: a command on a large store that finds nothing new
        // writes nothing.
        defer { if let next, next.files != memory?.files { next.write(folder: collection.folder) } }
        let watch = idleWatch()
        defer { watch?.stop() }
        do {
            let ids = wanted.keys.sorted()
            let stream = try await connection.query("""
                SELECT l.file, l.line_no, l.body FROM interrogate_lines l
                WHERE l.file = ANY(\(ids)::int8[]) ORDER BY l.file, l.line_no
                """, logger: logger)
            for try await (id, number, body) in stream.decode((Int, Int, ByteBuffer).self) {
                watch?.touch()
                if current?.id != id {
                    if let done = current { finish(done.id, done.lines, report: &report) }
                    current = (id, [])
                }
                // Lines are numbered from 1 without gaps; a gap is a damaged store, never papered over.
                guard number == current!.lines.count + 1 else {
                    if let (file, _, _) = wanted.removeValue(forKey: id) {
                        report.conflicts.append(.init(path: collection.localPath(file), reason: "not pulled: the store's copy has a gap before line \(number)"))
                    }
                    continue
                }
                current!.lines.append(Data(buffer: body))
            }
        } catch {
            // What was written stays written and is listed; the rest is listed as not copied.
            report.interrupted = "reading \(collection.name) from \(address) failed (\(Self.describe(error)))"
            for (_, (file, _, _)) in wanted.sorted(by: { $0.key < $1.key }) {
                report.leftOut.append(.init(path: collection.localPath(file), reason: "not pulled: \(report.interrupted!)"))
            }
            return report
        }
        if let done = current { finish(done.id, done.lines, report: &report) }
        // Files counted but with no line read (they gained visibility or lines vanished mid-read).
        for (_, (file, _, _)) in wanted.sorted(by: { $0.key < $1.key }) {
            report.conflicts.append(.init(path: collection.localPath(file), reason: "not pulled: its lines could not be read; pull again"))
        }
        report.blindSessions = blindOnly
        watch?.stop()
        if !blind.isEmpty {
            try await pullBlindCopies(blind, collection: collection, memory: memory, next: &next, report: &report)
        }
        if blindCopies, collection.isStudy, !me.organiser, report.interrupted == nil {
            try await pullParticipantPlan(collection, user: me.user, report: &report)
        }
        return report
    }

    /// A participant's copy of a study's plan, from the server's participant view: their own
    /// tasks whole, everyone else's without model, alias, condition or gold, after a first line
    /// that says whose copy it is. Written only into a folder that has no plan of its own.
    private func pullParticipantPlan(_ collection: StoreCollection, user: String, report: inout StoreSyncReport) async throws(StoreError) {
        let lines = try await rows("""
            SELECT line_no, line FROM interrogate_participant_plans WHERE collection = \(collection.name) ORDER BY line_no
            """, as: (Int, String).self)
        // Not a participant of this study, or it has no plan yet.
        guard !lines.isEmpty else { return }
        let local = (collection.folder as NSString).appendingPathComponent(StudyPlan.fileName)
        var text = StudyPlan.participantEditionLine(annotator: user) + "\n"
        for (i, (number, line)) in lines.enumerated() {
            guard number == i + 1, !line.contains("\n") else {
                report.conflicts.append(.init(path: local, reason: "not pulled: the store's plan has a gap or a broken line at line \(number)"))
                return
            }
            text += line + "\n"
        }
        let data = Data(text.utf8)
        try Self.ensureFolder(collection.folder)
        if let have = try LocalLines.document(path: local) {
            if have == data { report.unchanged += 1; return }
            guard StudyPlan.participantEdition(path: local) == user else {
                report.conflicts.append(.init(path: local, reason: "the folder has a plan of its own; your copy of the study's plan from the store is not written over it"))
                return
            }
            try Self.writeNew(local, data: data, replacing: true)
        } else {
            try Self.writeNew(local, data: data)
        }
        report.copied.append(.init(path: local, reason: "your copy of the study's plan: \(lines.count) line(s), other people's tasks without their models"))
        report.linesCopied += lines.count
    }

    /// Writes each session in `blind` as the server's blind view holds it: a blind copy for
    /// review. A copy as it was at the last pull is not read again.
    private func pullBlindCopies(_ blind: [String: (id: Int, file: StoreFile)], collection: StoreCollection, memory: PullMemory?,
                                 next: inout PullMemory?, report: inout StoreSyncReport) async throws(StoreError) {
        var stale: [String: (id: Int, file: StoreFile, count: Int, newest: Int)] = [:]
        let ids = blind.keys.sorted()
        for (session, count, newest) in try await rows("""
            SELECT session_id, count(*), max(line_no) FROM interrogate_blind_sessions
            WHERE collection = \(collection.name) AND session_id = ANY(\(ids)::text[]) GROUP BY session_id
            """, as: (String, Int, Int).self) {
            guard let (id, file) = blind[session] else { continue }
            // A blind copy is remembered with its newest line negated: never taken for the whole file.
            if let e = memory?.files[file.path], e.fileID == id, e.count == count, e.newest == -newest,
               PullMemory.stamp(of: collection.localPath(file)) == e.stamp {
                report.blindCopies += 1
                next?.files[file.path] = e
                continue
            }
            stale[session] = (id, file, count, newest)
        }
        guard !stale.isEmpty else { return }
        var current: (session: String, lines: [Data])?
        var start: String?
        func finish(_ session: String, _ lines: [Data], report: inout StoreSyncReport) {
            guard let (id, file, count, newest) = stale.removeValue(forKey: session) else { return }
            let local = collection.localPath(file)
            guard lines.count == count else {
                report.leftOut.append(.init(path: local, reason: "blind copy not written: its header is not readable blind"))
                return
            }
            do throws(StoreError) {
                if try Self.writeBlindCopy(lines, local: local, report: &report), let stamp = PullMemory.stamp(of: local) {
                    next?.files[file.path] = .init(fileID: id, count: count, newest: -newest, stamp: stamp)
                }
            } catch {
                report.conflicts.append(.init(path: local, reason: "blind copy not written: \(error.description)"))
            }
        }
        let watch = idleWatch()
        defer { watch?.stop() }
        do {
            let stream = try await connection.query("""
                SELECT session_id, line_no, blind FROM interrogate_blind_sessions
                WHERE collection = \(collection.name) AND session_id = ANY(\(stale.keys.sorted())::text[]) ORDER BY session_id, line_no
                """, logger: logger)
            for try await (session, number, text) in stream.decode((String, Int, String).self) {
                watch?.touch()
                if current?.session != session {
                    if let done = current { finish(done.session, done.lines, report: &report) }
                    current = (session, [])
                }
                // The header first, then the lines in order; a session whose header the blind
                // view cannot show gets no copy.
                guard let line = BlindCopy.line(text, number: current!.lines.count + 1, header: current!.lines.isEmpty, start: &start),
                      number == 1 || !current!.lines.isEmpty else { continue }
                current!.lines.append(line)
            }
        } catch {
            report.interrupted = "reading \(collection.name)'s blind sessions from \(address) failed (\(Self.describe(error)))"
            return
        }
        if let done = current { finish(done.session, done.lines, report: &report) }
        for (_, (_, file, _, _)) in stale.sorted(by: { $0.key < $1.key }) {
            report.leftOut.append(.init(path: collection.localPath(file), reason: "blind copy not written: its header is not readable blind"))
        }
    }

    /// True when the copy holds `lines` afterwards. Only a blind copy is ever replaced.
    static func writeBlindCopy(_ lines: [Data], local: String, report: inout StoreSyncReport) throws(StoreError) -> Bool {
        try ensureFolder((local as NSString).deletingLastPathComponent)
        let data = joined(lines)
        if let have = try LocalLines.document(path: local) {
            if have == data { report.blindCopies += 1; return true }
            guard BlindCopy.isBlindCopy(path: local) else {
                report.conflicts.append(.init(path: local, reason: "the folder has its own copy of this session, which the store lets you read only blind; not replaced"))
                return false
            }
            try writeNew(local, data: data, replacing: true)
        } else {
            try writeNew(local, data: data)
        }
        report.blindCopies += 1
        report.blindCopiesWritten += 1
        return true
    }

    /// The copy file's stamp when it holds exactly the store's lines (taken under the file's lock,
    /// before another writer could add to it), else nil.
    @discardableResult
    static func pullLines(_ stored: [Data], file: StoreFile, local: String, report: inout StoreSyncReport) throws(StoreError) -> PullMemory.FileStamp? {
        try ensureFolder((local as NSString).deletingLastPathComponent)
        // The lock every writer of this file holds: a running session or review is never
        // appended to by a second process.
        let lock: SessionLock
        do { lock = try SessionLock.acquire(for: local, patience: .milliseconds(200)) } catch {
            report.conflicts.append(.init(path: local, reason: "\(error.description); not pulled"))
            return nil
        }
        defer { withExtendedLifetime(lock) {} }
        guard let have = try LocalLines.read(path: local) else {
            try writeNew(local, data: joined(stored))
            report.copied.append(.init(path: local, reason: "new, \(stored.count) line(s)"))
            report.linesCopied += stored.count
            return PullMemory.stamp(of: local)
        }
        if file.kind == .session, BlindCopy.isBlindCopy(path: local) {
            // Now readable whole (an adjudicator assigned to it): the blind copy gives way.
            try writeNew(local, data: joined(stored), replacing: true)
            report.copied.append(.init(path: local, reason: "\(stored.count) line(s), in place of its blind copy"))
            report.linesCopied += stored.count
            return PullMemory.stamp(of: local)
        }
        if file.kind == .plan, StudyPlan.participantEdition(path: local) != nil {
            // Now readable whole (a participant become organiser): her copy of the plan gives way.
            try writeNew(local, data: joined(stored), replacing: true)
            report.copied.append(.init(path: local, reason: "\(stored.count) line(s), in place of your participant's copy of the plan"))
            report.linesCopied += stored.count
            return PullMemory.stamp(of: local)
        }
        if have.tornTail != nil {
            report.conflicts.append(.init(path: local, reason: "its last line is torn; resume the session (which records the recovery) before pulling into it"))
            return nil
        }
        for (i, line) in have.lines.prefix(stored.count).enumerated() where line != stored[i] {
            report.conflicts.append(.init(path: local, reason: "line \(i + 1) differs from the database's copy; nothing was written"))
            return nil
        }
        if have.lines.count > stored.count {
            report.behind.append(.init(path: local, reason: "the folder has \(have.lines.count - stored.count) more line(s): push to send them"))
            return nil
        }
        if have.lines.count == stored.count {
            report.unchanged += 1
            return PullMemory.stamp(of: local)
        }
        let missing = Array(stored[have.lines.count...])
        try append(local, data: joined(missing))
        report.copied.append(.init(path: local, reason: "\(missing.count) line(s)"))
        report.linesCopied += missing.count
        return PullMemory.stamp(of: local)
    }

    @discardableResult
    static func pullDocument(_ versions: [Data], local: String, report: inout StoreSyncReport) throws(StoreError) -> PullMemory.FileStamp? {
        guard let latest = versions.last else { return nil }
        try ensureFolder((local as NSString).deletingLastPathComponent)
        guard let have = try LocalLines.document(path: local) else {
            try writeNew(local, data: latest)
            report.copied.append(.init(path: local, reason: "new, version \(versions.count)"))
            report.linesCopied += 1
            return PullMemory.stamp(of: local)
        }
        if have == latest { report.unchanged += 1; return PullMemory.stamp(of: local) }
        guard let older = versions.firstIndex(of: have) else {
            report.conflicts.append(.init(path: local, reason: "differs from every version in the database: push it to add it as a new version, or move it aside; nothing was written"))
            return nil
        }
        // The folder's copy is an earlier version the database keeps: nothing is lost by replacing it.
        try writeNew(local, data: latest, replacing: true)
        report.copied.append(.init(path: local, reason: "version \(older + 1) → \(versions.count)"))
        report.linesCopied += 1
        return PullMemory.stamp(of: local)
    }

    static func joined(_ lines: [Data]) -> Data {
        var out = Data()
        out.reserveCapacity(lines.reduce(0) { $0 + $1.count + 1 })
        for line in lines {
            out.append(line)
            out.append(0x0A)
        }
        return out
    }

    /// Creates the folders of `path` that are missing, each made durable in its parent (a
    /// session folder that a crash could take back would take its files with it).
    static func ensureFolder(_ path: String) throws(StoreError) {
        var missing: [String] = []
        var p = path
        while !p.isEmpty, p != "/", !FileManager.default.fileExists(atPath: p) {
            missing.append(p)
            p = (p as NSString).deletingLastPathComponent
        }
        for dir in missing.reversed() {
            if mkdir(dir, 0o755) != 0 && errno != EEXIST {
                throw StoreError("cannot create \(dir): \(String(cString: strerror(errno)))")
            }
            TranscriptFile.fsyncDirectory(of: dir)
        }
    }

    /// Writes a whole file beside its place, fsyncs it and renames it into place, so a reader
    /// sees nothing or all of it. Without `replacing`, an existing file is never replaced.
    static func writeNew(_ path: String, data: Data, replacing: Bool = false) throws(StoreError) {
        let dir = (path as NSString).deletingLastPathComponent
        let temp = (dir as NSString).appendingPathComponent(".\((path as NSString).lastPathComponent).pull-\(getpid())")
        // A temporary left by an interrupted pull is ours to replace; never followed if a link.
        unlink(temp)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError("cannot write \(temp): \(String(cString: strerror(errno)))") }
        do {
            try TranscriptFile.writeAll(data, fd: fd, path: temp)
            guard fsync(fd) == 0 else { throw TranscriptError.system("cannot fsync \(temp)", errno) }
        } catch {
            closeDescriptor(fd)
            unlink(temp)
            throw StoreError("\(error)")
        }
        closeDescriptor(fd)
        // link() refuses an existing file; rename() replaces one, which only a document may be.
        let placed = replacing ? rename(temp, path) : link(temp, path)
        let code = errno
        if !replacing || placed != 0 { unlink(temp) }
        guard placed == 0 else {
            throw StoreError(code == EEXIST ? "\(path) appeared while it was being written; pull again" : "cannot write \(path): \(String(cString: strerror(code)))")
        }
        TranscriptFile.fsyncDirectory(of: path)
    }

    static func append(_ path: String, data: Data) throws(StoreError) {
        let fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError("cannot open \(path) to append: \(String(cString: strerror(errno)))") }
        defer { closeDescriptor(fd) }
        // The lock every appender of a transcript takes around a write (TranscriptFile).
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw StoreError("cannot lock \(path): \(String(cString: strerror(errno)))") }
        }
        defer { _ = flock(fd, LOCK_UN) }
        do {
            try TranscriptFile.writeAll(data, fd: fd, path: path)
            guard fsync(fd) == 0 else { throw TranscriptError.system("cannot fsync \(path)", errno) }
        } catch {
            throw StoreError("\(error)")
        }
    }
}

/// The C library's close(2): inside `TeamStore`, `close` names the store's own.
private func closeDescriptor(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}
