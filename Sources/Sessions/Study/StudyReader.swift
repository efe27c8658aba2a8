import Annotate
import CFileSystem
import Foundation

/// What a report needs to know about a transcript besides its ratings: its groups and its
/// provenance.
public struct TranscriptInfo: Sendable, Equatable {
    public var sessionId: String
    public var folder: String
    /// `provider:name`, as `agree --by model` names it.
    public var model: String
    public var scenario: String
    public var condition: String
    /// Who tagged live (for a model-interrogated session, `auto-NAME`: no one).
    public var annotator: String
    /// Who asked: the annotator, or `model:NAME` for a model interrogator.
    public var interrogator: String
    public var scenarioSha256: String
    public var modelRecord: SessionHeader.ModelRecord
    public var appVersion: String

    public init(_ s: Session) {
        let h = s.header
        sessionId = h.sessionId
        folder = s.folder
        // A study's model is the one its design names (two study models may run the same
        // provider and model with other parameters); elsewhere, what the header records.
        model = h.study?.model ?? "\(h.model.provider):\(h.model.name)"
        scenario = h.scenario.id
        condition = h.scenario.condition.rawValue
        annotator = h.annotator
        interrogator = h.interrogatorId
        scenarioSha256 = h.scenario.sha256
        modelRecord = h.model
        appVersion = h.app.version
    }
}

/// A path or session a command did not count, and why.
public struct LeftOut: Sendable, Equatable, Encodable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "\(path): \(reason)" }

    public static let noSuchPath = "no such file or folder"
    /// A path the command was given does not exist: a typo, not a damaged study.
    public var isMissingPath: Bool { reason == Self.noSuchPath }
}

/// Reads a study's sessions one at a time, for reports, agreement and exports that must not
/// hold a whole study in memory. Each session is counted whole, once, or left out with the
/// reason: a path that does not exist, a folder that cannot be read, a session with a
/// problem, the same session named twice or found in two places.
public enum StudyReader {
    /// The paths a command was given, resolved to session folders. A folder holding a
    /// `session.jsonl` is a session; another folder is searched; a `session.jsonl` or a rater
    /// file (`reviews/NAME.jsonl`, `adjudications/NAME.jsonl`) names its session.
    public static func sessionFolders(under paths: [String]) -> (folders: [String], leftOut: [LeftOut]) {
        let walk = Walk(paths)
        return (Array(walk.folders), walk.leftOut)
    }

    /// Session folders in the order the walk met them: the folders they are in once, and each
    /// one's own name in one buffer (kept for a whole read; 100,000 paths as strings of their own
    /// cost about 80 bytes each, and whole in one buffer, their shared beginning each time).
    struct FolderList: RandomAccessCollection, Sendable {
        /// Up to and including the last "/" of each path (or empty).
        private var parents: [String] = []
        /// Known by their bytes: two strings a `String` holds equal (a composed and a decomposed
        /// "é") are two folders to the file system.
        private var parentNumber: [[UInt8]: UInt32] = [:]
        /// Per folder: the number of its parent and the end of its name in `names`.
        private var entries: [(parent: UInt32, end: UInt32)] = []
        private var names: [UInt8] = []
        var startIndex: Int { 0 }
        var endIndex: Int { entries.count }
        subscript(i: Int) -> String {
            let start = i == 0 ? 0 : Int(entries[i - 1].end)
            return parents[Int(entries[i].parent)] + String(decoding: names[start..<Int(entries[i].end)], as: UTF8.self)
        }
        mutating func append(_ path: String) {
            let bytes = Array(path.utf8)
            let cut = (bytes.lastIndex(of: UInt8(ascii: "/")) ?? -1) + 1
            let parent = Array(bytes[..<cut])
            let number: UInt32
            if let p = parents.last, p.utf8.elementsEqual(parent) {
                number = UInt32(parents.count - 1)
            } else if let known = parentNumber[parent] {
                number = known
            } else {
                number = UInt32(parents.count)
                parents.append(String(decoding: parent, as: UTF8.self))
                parentNumber[parent] = number
            }
            names.append(contentsOf: bytes[cut...])
            entries.append((number, UInt32(names.count)))
        }
    }

    /// One walk of the paths a command was given.
    struct Walk {
        private(set) var folders = FolderList()
        private(set) var leftOut: [LeftOut] = []
        // A session is its session.jsonl, known by device and inode whatever names or links led
        // to it. The walk keeps the identity of each session a name or a link led to, with the
        // folder's number; a session met in a folder searched is known by that folder (below),
        // so that memory holds the folders searched, not every session in them.
        private var seen = FirstMet<FileIdentity>()
        // A folder named for its ratings whose session.jsonl is missing: known by its path.
        private var seenWithoutSession: [[UInt8]: Int] = [:]
        /// Real folders searched, each once however many names or links lead to it (so a loop of
        /// links ends), with the path they were searched by.
        private var visited: [FileIdentity: String] = [:]
        /// Sessions met by the searches (counted once or not).
        private var met = 0

        /// As a file system that gives no entry's type (readdir's `DT_UNKNOWN`) would list: for tests.
        private let typesUnknown: Bool

        init(_ paths: [String], typesUnknown: Bool = false) {
            self.typesUnknown = typesUnknown
            let fm = FileManager.default
            for path in paths {
                var isDir: ObjCBool = false
                guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
                    leftOut.append(.init(path: path, reason: LeftOut.noSuchPath))
                    continue
                }
                if !isDir.boolValue {
                    let url = URL(fileURLWithPath: path)
                    let parent = url.deletingLastPathComponent()
                    if url.lastPathComponent == TranscriptStore.sessionFileName {
                        add(parent.path, identity: Self.sessionIdentity(parent.path), named: path)
                    } else if url.pathExtension == "jsonl",
                              [TranscriptStore.reviewsFolderName, TranscriptStore.adjudicationsFolderName].contains(parent.lastPathComponent) {
                        let folder = parent.deletingLastPathComponent().path
                        add(folder, identity: Self.sessionIdentity(folder), named: path)
                    } else {
                        leftOut.append(.init(path: path, reason: "not a session folder, a \(TranscriptStore.sessionFileName) or a rater file"))
                    }
                    continue
                }
                let before = met
                search(path)
                if met == before && !leftOut.contains(where: { $0.path.hasPrefix(path) }) {
                    leftOut.append(.init(path: path, reason: "no sessions (no \(TranscriptStore.sessionFileName)) in this folder"))
                }
            }
        }

        /// What is at `path` itself (`S_IFDIR`, `S_IFLNK`, …), a link not followed; nil if nothing.
        static func kindWithoutFollowing(_ path: String) -> mode_t? {
            var st = stat()
            guard lstat(path, &st) == 0 else { return nil }
            return st.st_mode & S_IFMT
        }

        /// Entries of a folder asked about at once.
        static let stretch = 2048

        private static func sessionIdentity(_ folder: String) -> FileIdentity? {
            FileIdentity(path: (folder as NSString).appendingPathComponent(TranscriptStore.sessionFileName))
        }

        /// `searched`: met among the entries of a folder being searched, rather than by a name
        /// or a link.
        private mutating func add(_ folder: String, identity: FileIdentity?, named: String, searched: Bool = false) {
            let first: Int?
            if let identity, searched {
                // Met before only if a name or a link led to it first.
                first = seen.firstPlace(of: identity) { [folders] in Self.sessionIdentity(folders[$0]) }
            } else if let identity {
                first = seen.firstPlace(of: identity) { [folders] in Self.sessionIdentity(folders[$0]) }
                if first == nil {
                    let real = canonicalPath(folder)
                    if let earlier = searchedPath(real: real, identity: identity) {
                        leftOut.append(.init(path: named, reason: "the same session as \(earlier), which is counted once"))
                        return
                    }
                    _ = seen.insert(identity, at: folders.count) { [folders] in Self.sessionIdentity(folders[$0]) }
                    // A link named otherwise than the folder it leads to: the session is read by
                    // its folder's own path, whose name its id is (by the link's, it would be
                    // refused, and the folder itself, met later, taken for the same session).
                    folders.append(Session.folderName(folder) == (real as NSString).lastPathComponent ? folder : real)
                    return
                }
            } else {
                // Known by its bytes: two names a string holds equal are two folders on disk.
                let canonical = Array(canonicalPath(folder).utf8)
                first = seenWithoutSession[canonical]
                if first == nil { seenWithoutSession[canonical] = folders.count }
            }
            if let first {
                leftOut.append(.init(path: named, reason: "the same session as \(folders[first]), which is counted once"))
                return
            }
            folders.append(folder)
        }

        /// The path a search met a session by, when the folder that really holds it was searched
        /// (each of its sub-folders that is not hidden is met, whatever their order): the same
        /// session file there, asked again, so that a name the listing cannot give back is not
        /// taken for met.
        private func searchedPath(real: String, identity: FileIdentity) -> String? {
            let real = real as NSString
            let name = real.lastPathComponent
            guard !Listing.isHidden(name), let parent = FileIdentity(path: real.deletingLastPathComponent),
                  let searchedAs = visited[parent] else { return nil }
            let met = (searchedAs as NSString).appendingPathComponent(name)
            return Self.sessionIdentity(met) == identity ? met : nil
        }

        /// Session folders under `dir`, in name order, each with its session file's identity (one
        /// `stat` per session, which also says it is one); a folder that cannot be listed is reported.
        private mutating func search(_ dir: String, session known: FileIdentity? = nil, checked: Bool = false) {
            if let session = checked ? known : Self.sessionIdentity(dir) {
                met += 1
                add(dir, identity: session, named: dir, searched: checked)
                return
            }
            // Symbolic links to folders are followed, each real folder once, so a loop ends; a
            // folder met again is said (its sessions were met the first time).
            guard let folder = FileIdentity(path: dir) else {
                leftOut.append(.init(path: dir, reason: "cannot be read: \(String(cString: strerror(errno)))"))
                return
            }
            if let searchedAs = visited[folder] {
                leftOut.append(.init(path: dir, reason: "the same folder as \(searchedAs), whose sessions are counted once"))
                return
            }
            // Ratings whose session is missing: a session folder that lost its conversation (not
            // searched, so not noted as searched).
            if [TranscriptStore.reviewsFolderName, TranscriptStore.adjudicationsFolderName].contains(where: {
                pathExists((dir as NSString).appendingPathComponent($0))
            }) {
                leftOut.append(.init(path: dir, reason: "reviews or adjudications without a \(TranscriptStore.sessionFileName): their session is missing"))
                return
            }
            visited[folder] = dir
            let entries: Listing
            do { entries = try Listing(dir, typesUnknown: typesUnknown) } catch {
                let why = if case .system(_, let code) = error { String(cString: strerror(code)) } else { error.description }
                leftOut.append(.init(path: dir, reason: "cannot read the folder: \(why)"))
                // Nothing in it was met: a name or a link to a session in it is still counted.
                visited[folder] = nil
                return
            }
            for name in entries.notUTF8 {
                leftOut.append(.init(path: (dir as NSString).appendingPathComponent(name),
                                     reason: "a name that is not UTF-8, which interrogate cannot open: rename it"))
            }
            // Whether each sub-folder is a session, asked of many at once: on a disk that has to be
            // read (a study larger than the cache), each answer waits for it, and one at a time
            // the walk of 100,000 sessions took longer than reading them. Asked a stretch of
            // entries at a time, so that memory holds a stretch's answers, not a whole folder's.
            var sessions: [FileIdentity?] = []
            var next = 0
            for e in 0..<entries.count {
                if e % Self.stretch == 0 {
                    let stretch = (e..<min(e + Self.stretch, entries.count)).filter { entries.type($0) == UInt8(DT_DIR) }
                    sessions = ParallelIO.map(stretch.map { (dir as NSString).appendingPathComponent(entries.name($0)) }) {
                        Self.sessionIdentity($0)
                    }
                    next = 0
                }
                let type = entries.type(e), name = entries.name(e)
                let sub = (dir as NSString).appendingPathComponent(name)
                // Had it been readable, this folder would have been a session.
                if name == TranscriptStore.sessionFileName {
                    var st = stat()
                    let why = stat(sub, &st) == 0 ? "is not a session file" : String(cString: strerror(errno))
                    leftOut.append(.init(path: dir, reason: "its \(TranscriptStore.sessionFileName) cannot be read: \(why)"))
                    continue
                }
                if type == UInt8(DT_DIR) {
                    search(sub, session: sessions[next], checked: true)
                    next += 1
                } else if type == UInt8(DT_REG) {
                    continue
                } else if type != UInt8(DT_LNK), let kind = Self.kindWithoutFollowing(sub), kind != S_IFLNK {
                    // A file system that does not say what an entry is: a real folder is met as
                    // one among the folder's entries, like any other.
                    if kind == S_IFDIR { search(sub, session: Self.sessionIdentity(sub), checked: true) }
                } else if let isDir = isDirectory(sub) {
                    // A link.
                    if isDir { search(sub) }
                } else if (try? FileManager.default.destinationOfSymbolicLink(atPath: sub)) != nil {
                    // A link to nothing may have been a session: say so rather than pass it by.
                    leftOut.append(.init(path: sub, reason: "a symbolic link to something that does not exist"))
                }
            }
        }
    }

    /// A folder's entries, hidden ones left out, in name order (as `String` orders them), with
    /// their types as readdir gives them: the names in one buffer, so that a folder of 100,000
    /// sessions costs its names' bytes and a few numbers each, not a string each and its copies.
    struct Listing {
        private var bytes: [UInt8] = []
        /// Per entry as read: the end of its name in `bytes`, and its type.
        private var ends: [UInt32] = []
        private var types: [UInt8] = []
        /// The entries' numbers, in name order.
        private var order: [UInt32] = []
        /// Names that are not UTF-8 (as a string shows them), left out of the entries.
        private(set) var notUTF8: [String] = []

        init(_ dir: String, typesUnknown: Bool = false) throws(TranscriptError) {
            try StudyReader.forEachEntry(in: dir) { name, type in
                // Every hidden entry.
                if name.first == UInt8(ascii: "."), Self.isHidden(String(decoding: name, as: UTF8.self)) { return }
                // A name a string cannot hold: its path would lead elsewhere.
                if name.contains(where: { $0 >= 0x80 }) {
                    let decoded = String(decoding: name, as: UTF8.self)
                    guard decoded.utf8.elementsEqual(name) else {
                        notUTF8.append(decoded)
                        return
                    }
                }
                bytes.append(contentsOf: name)
                ends.append(UInt32(bytes.count))
                types.append(typesUnknown ? UInt8(DT_UNKNOWN) : type)
            }
            var sorted = (0..<UInt32(ends.count)).map { $0 }
            let listing = self
            sorted.sort { a, b in
                let x = listing.raw(Int(a)), y = listing.raw(Int(b))
                // Bytes order ASCII names as strings do; any other name is compared as a string.
                if x.allSatisfy({ $0 < 0x80 }) && y.allSatisfy({ $0 < 0x80 }) { return x.lexicographicallyPrecedes(y) }
                return String(decoding: x, as: UTF8.self) < String(decoding: y, as: UTF8.self)
            }
            order = sorted
        }

        /// A name the walk passes by (as a string sees it: "." with a combining mark after it is
        /// one character, not a dot).
        static func isHidden(_ name: String) -> Bool { name.hasPrefix(".") }

        var count: Int { order.count }
        private func raw(_ entry: Int) -> ArraySlice<UInt8> {
            bytes[(entry == 0 ? 0 : Int(ends[entry - 1]))..<Int(ends[entry])]
        }
        /// The name of the i-th entry in name order.
        func name(_ i: Int) -> String { String(decoding: raw(Int(order[i])), as: UTF8.self) }
        func type(_ i: Int) -> UInt8 { types[Int(order[i])] }
    }

    /// A file or folder by device and inode.
    struct FileIdentity: Hashable {
        let device: UInt64
        let inode: UInt64

        /// Nil when nothing is at `path` (following links).
        init?(path: String) {
            var st = stat()
            guard stat(path, &st) == 0 else { return nil }
            // Signed on some systems: the bits are the identity.
            device = UInt64(truncatingIfNeeded: st.st_dev)
            inode = UInt64(truncatingIfNeeded: st.st_ino)
        }
    }

    /// The path with links resolved, one system call rather than Foundation's walk of every
    /// component (a study's walk does this for every session).
    static func canonicalPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else {
            return URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The names in a folder (without "." and ".."), by readdir: Foundation's listing cost a
    /// noticeable share of reading a study, where every session's `reviews/` is listed.
    static func names(in dir: String) throws(TranscriptError) -> [String] {
        try entries(in: dir).map(\.name)
    }

    /// The same, with each entry's type as readdir gives it (`DT_DIR`, `DT_REG`, `DT_LNK`, or
    /// `DT_UNKNOWN` where the file system does not say).
    static func entries(in dir: String) throws(TranscriptError) -> [(name: String, type: UInt8)] {
        var entries: [(name: String, type: UInt8)] = []
        try forEachEntry(in: dir) { name, type in entries.append((String(decoding: name, as: UTF8.self), type)) }
        return entries
    }

    /// Each entry of a folder but "." and "..": its name's bytes and its type.
    static func forEachEntry(in dir: String, _ body: (Slice<UnsafeRawBufferPointer>, UInt8) -> Void) throws(TranscriptError) {
        #if os(Linux)
        // As opendir opens a folder (a FIFO is refused, not waited on).
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw errno == ENOENT ? .notFound("cannot list \(dir): no such folder") : .system("cannot list \(dir)", errno)
        }
        defer { close(fd) }
        // Records of getdents64: inode (8 bytes), offset (8), record length (2), type (1), name
        // ended by NUL; a record's length keeps the next one 8-byte aligned.
        try withUnsafeTemporaryAllocation(byteCount: 8192, alignment: 8) { (buffer) throws(TranscriptError) in
            while true {
                let n = interrogate_getdents64(fd, buffer.baseAddress, buffer.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    // The folder removed while it was listed: its end, as readdir takes it.
                    if errno == ENOENT { return }
                    throw .system("cannot list \(dir)", errno)
                }
                if n == 0 { return }
                var at = 0
                while at + 19 < n {
                    let length = Int(buffer.loadUnaligned(fromByteOffset: at + 16, as: UInt16.self))
                    // A record that does not fit what was read is not one (never seen; not trapped on).
                    guard length > 19, at + length <= n else { throw .system("cannot list \(dir)", EIO) }
                    let type = buffer[at + 18]
                    let name = UnsafeRawBufferPointer(rebasing: buffer[(at + 19)..<(at + length)])
                    let named = name[...].prefix(while: { $0 != 0 })
                    if !(named.elementsEqual(".".utf8) || named.elementsEqual("..".utf8)) { body(named, type) }
                    at += length
                }
            }
        }
        #else
        guard let d = opendir(dir) else {
            throw errno == ENOENT ? .notFound("cannot list \(dir): no such folder") : .system("cannot list \(dir)", errno)
        }
        defer { closedir(d) }
        while true {
            // Cleared before each call: only readdir's own failure may be read after it.
            errno = 0
            guard let entry = readdir(d) else { break }
            let type = entry.pointee.d_type
            withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let name = raw.prefix(while: { $0 != 0 })
                if name.elementsEqual(".".utf8) || name.elementsEqual("..".utf8) { return }
                body(name, type)
            }
        }
        if errno != 0 { throw .system("cannot list \(dir)", errno) }
        #endif
    }

    /// Whether something is at `path` (following links).
    static func pathExists(_ path: String) -> Bool { isDirectory(path) != nil }

    /// Nil when nothing is at `path` (or a link leads nowhere); else whether it is a folder.
    static func isDirectory(_ path: String) -> Bool? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Calls `body` with each session under `paths` that can be counted whole, once; returns
    /// what was left out and why, in the order met.
    public static func forEachSession(under paths: [String], progress: StudyProgress? = nil,
                                      _ body: (Session) throws -> Void) rethrows -> [LeftOut] {
        try forEachSession(under: paths, progress: progress, map: { $0 }, body)
    }

    /// The same, with `map` run on every core as sessions are read (what a command keeps of a
    /// session: scores, ratings) and `body` called with its result on the calling thread, in
    /// the sessions' order, so that figures never depend on which core finished first. Readers
    /// (twice the cores) work at most a window of 256 sessions each ahead of `body`, so memory
    /// holds the window whatever the size of the study.
    ///
    /// `exclude` says why a session that reads whole is not for this command (a gold session in
    /// a report of model scores); those are returned apart, as `excluded`, not as problems.
    public static func forEachSession<T: Sendable>(under paths: [String], progress: StudyProgress? = nil,
                                                   map: @escaping @Sendable (Session) -> T,
                                                   _ body: (T) throws -> Void) rethrows -> [LeftOut] {
        try forEachSession(under: paths, progress: progress, exclude: { _ in nil }, map: map, body).leftOut
    }

    public static func forEachSession<T: Sendable>(under paths: [String], progress: StudyProgress? = nil,
                                                   exclude: @escaping @Sendable (Session) -> String?,
                                                   map: @escaping @Sendable (Session) -> T,
                                                   _ body: (T) throws -> Void) rethrows -> (leftOut: [LeftOut], excluded: [LeftOut]) {
        var excluded: [LeftOut] = []
        // The walk's own tables (the files it met) are gone before reading starts.
        let walked = { let walk = Walk(paths); return (folders: walk.folders, leftOut: walk.leftOut) }()
        let folders = walked.folders
        var leftOut = walked.leftOut
        // Each id counted, with the number of the folder it was read from; a session counted
        // has its folder's name as its id, so the folder list gives its id again.
        var ids = FirstMet<String>(capacity: folders.count)
        progress?.start(total: folders.count)
        defer { progress?.finish() }
        guard !folders.isEmpty else { return (leftOut, excluded) }
        let readers = SessionReaders(folders, exclude: exclude, map: map)
        defer { readers.stop() }
        for i in folders.indices {
            switch readers.take(i) {
            case .leftOut(let reason): leftOut.append(.init(path: folders[i], reason: reason))
            case .excluded(let reason): excluded.append(.init(path: folders[i], reason: reason))
            case .read(let id, let value):
                if let first = ids.insert(id, at: i, keyAt: { Session.folderName(folders[$0]) }) {
                    leftOut.append(.init(path: folders[i], reason: "session id \(id) was already read from \(folders[first]); counted once"))
                    continue
                }
                try body(value)
            }
            if i % 256 == 255 || i == folders.count - 1 { progress?.advance(to: i + 1) }
        }
        return (leftOut, excluded)
    }

    /// One session for a command that shows it (a replay, a Markdown export).
    public static func load(folder: String) throws(TranscriptError) -> (info: TranscriptInfo, rated: RatedTranscript, ratings: Session) {
        let s = try Session.load(folder: folder)
        return (TranscriptInfo(s), rated(s), s)
    }

    /// The model turns with the latest judgement of every rater of the kinds counted, and the
    /// latest adjudication (a person's decision: counted unless only models are).
    public static func rated(_ r: Session, raters: RaterKinds = .people) -> RatedTranscript {
        RatedTranscript(turns: r.modelTurns.map { t in
            let all = r.ratings[t.reply.index] ?? [:]
            let counted = { (rater: String, a: AnnotationEvent) in !a.labels.isEmpty && raters.counts(rater) }
            // Mostly every rating counts: then the table is copied as it stands, its keys not hashed again.
            let ratings = (all.allSatisfy(counted) ? all : all.filter(counted))
                .mapValues { RatedTranscript.Judgement(labels: $0.labels, leak: $0.leak.confirmed) }
            let adjudication = raters == .models ? nil
                : r.adjudications[t.reply.index].map { RatedTranscript.Judgement(labels: $0.labels, leak: $0.leak.confirmed) }
            return .init(number: t.number, question: t.question ?? "", ratings: ratings, adjudication: adjudication)
        })
    }
}

/// Sessions read on every core by threads of their own, a bounded window ahead of the caller,
/// who takes their outcomes in order: memory holds the window whatever the size of the study.
/// Threads of their own, not the shared dispatch pool: the pool counted the caller's thread,
/// busy adding up, against the cores and left one of them idle for much of the reading.
private final class SessionReaders<T: Sendable>: @unchecked Sendable {
    // @unchecked: `ring`, `claimed`, `consumed`, `awaiting`, `idleReaders`, `stopped` and
    // `running` are touched only with `lock` held.
    enum Outcome { case read(id: String, T), leftOut(String), excluded(String) }
    private let folders: StudyReader.FolderList
    private let window: Int
    private let ring: UnsafeMutableBufferPointer<Outcome?>
    // Two conditions on one lock, each waking only whom it concerns: a wake-up per session
    // for everyone cost more than reading it.
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Signalled when the outcome the caller waits for is in, and by the last reader to stop.
    private let filled = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Broadcast when the caller takes an outcome while readers wait for room in the window.
    private let room = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var claimed = 0
    /// Outcomes below this index have been taken by the caller.
    private var consumed = 0
    /// The index whose outcome wakes the caller, or -1.
    private var awaiting = -1
    private var idleReaders = 0
    private var stopped = false
    private var running: Int

    init(_ folders: StudyReader.FolderList, exclude: @escaping @Sendable (Session) -> String?, map: @escaping @Sendable (Session) -> T) {
        self.folders = folders
        // Twice as many readers as cores: when a study is larger than the cache, a reader waits
        // on the disk, and the others keep the cores busy meanwhile.
        let workers = max(1, min(2 * ProcessInfo.processInfo.activeProcessorCount, folders.count))
        window = 256 * workers
        ring = .allocate(capacity: window)
        ring.initialize(repeating: nil)
        pthread_mutex_init(lock, nil)
        pthread_cond_init(filled, nil)
        pthread_cond_init(room, nil)
        running = workers
        for _ in 0..<workers {
            let thread = Thread { [self] in work(exclude: exclude, map: map) }
            // Deeply nested JSON is refused long before this, but a reader must never overflow.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    private func work(exclude: @Sendable (Session) -> String?, map: @Sendable (Session) -> T) {
        while true {
            pthread_mutex_lock(lock)
            while !stopped, claimed < folders.count, claimed >= consumed + window {
                idleReaders += 1
                pthread_cond_wait(room, lock)
                idleReaders -= 1
            }
            if stopped || claimed >= folders.count {
                running -= 1
                if running == 0 { pthread_cond_signal(filled) }
                pthread_mutex_unlock(lock)
                return
            }
            let i = claimed
            claimed += 1
            pthread_mutex_unlock(lock)
            let outcome: Outcome
            do throws(TranscriptError) {
                let session = try Session.load(folder: folders[i])
                if let why = session.whyNotCounted { outcome = .leftOut(why) }
                else if let why = exclude(session) { outcome = .excluded(why) }
                else { outcome = .read(id: session.sessionId, map(session)) }
            } catch {
                outcome = .leftOut(error.description)
            }
            pthread_mutex_lock(lock)
            ring[i % window] = outcome
            if i == awaiting { pthread_cond_signal(filled) }
            pthread_mutex_unlock(lock)
        }
    }

    /// The outcome of folder `i`, waiting for it; folders are taken in order.
    func take(_ i: Int) -> Outcome {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if ring[i % window] == nil {
            // Woken once for a run of outcomes, not once for each.
            awaiting = min(i + 15, folders.count - 1)
            while ring[awaiting % window] == nil { pthread_cond_wait(filled, lock) }
            awaiting = i
            while ring[i % window] == nil { pthread_cond_wait(filled, lock) }
            awaiting = -1
        }
        let outcome = ring[i % window]!
        ring[i % window] = nil
        consumed = i + 1
        if idleReaders > 0 { pthread_cond_broadcast(room) }
        return outcome
    }

    /// Stops the readers (after the last folder, or when the caller gave up) and waits for them.
    func stop() {
        pthread_mutex_lock(lock)
        stopped = true
        pthread_cond_broadcast(room)
        while running > 0 { pthread_cond_wait(filled, lock) }
        pthread_mutex_unlock(lock)
    }

    deinit {
        ring.deinitialize()
        ring.deallocate()
        pthread_cond_destroy(filled)
        pthread_cond_destroy(room)
        pthread_mutex_destroy(lock)
        filled.deallocate()
        room.deallocate()
        lock.deallocate()
    }
}

/// Told how far a long read has got (a command draws it as a progress line).
public protocol StudyProgress: AnyObject {
    func start(total: Int)
    func advance(to done: Int)
    func finish()
}

/// Calls that wait on a disk, made many at once.
enum ParallelIO {
    /// `body` of each item, on up to `threads` threads (more than there are cores: they wait
    /// rather than compute), the results in the items' order. A few items are done in turn.
    static func map<T: Sendable, R: Sendable>(_ items: [T], threads: Int = 16, _ body: @escaping @Sendable (T) -> R) -> [R] {
        guard items.count >= 64, threads > 1 else { return items.map(body) }
        let results = Results<R>(count: items.count)
        let group = DispatchGroup()
        for _ in 0..<min(threads, items.count / 16) {
            group.enter()
            let thread = Thread {
                while let i = results.claim() { results.set(i, body(items[i])) }
                group.leave()
            }
            thread.start()
        }
        group.wait()
        return results.collect()
    }

    private final class Results<R>: @unchecked Sendable {
        // @unchecked: each index is claimed under the lock by one thread, which alone writes its
        // slot; `collect` reads them after every thread has left the group.
        private let slots: UnsafeMutableBufferPointer<R?>
        private let lock = NSLock()
        private var next = 0

        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: nil)
        }

        func claim() -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard next < slots.count else { return nil }
            next += 1
            return next - 1
        }

        func set(_ i: Int, _ value: R) { slots[i] = value }

        func collect() -> [R] { slots.map { $0! } }

        deinit {
            slots.deinitialize()
            slots.deallocate()
        }
    }
}
