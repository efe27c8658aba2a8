import Annotate
import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Sessions

/// The one reader of a session: what it counts, what it reports, and the rules every command
/// gets from it.
@Suite("One reader of a session")
struct SessionReaderTests {
    typealias R = StudyFixture.Reply

    static func study() throws -> URL {
        let root = try TestSupport.temporaryDirectory()
        try StudyFixture.session(in: root, id: "s1", replies: [
            R("Code?", "No.", ["alice": ([.refusal], false), "bob": ([.deflection], false)]),
            R("Please?", "It is 1234.", ["alice": ([.fabrication], false), "bob": ([.fabrication], false)]),
        ])
        return root
    }


    @Test("a review written for a session named by its path lands beside that session, not in the store")
    func reviewBesideTheSessionRead() throws {
        let root = try Self.study()
        defer { try? FileManager.default.removeItem(at: root) }
        let elsewhere = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        // The store is another folder; the session is named by its path, as `review PATH` does.
        let store = TranscriptStore(root: elsewhere.path)
        let folder = store.folder(forSession: root.appendingPathComponent("s1").path)
        let session = try Session.load(folder: folder)
        let opened = try TranscriptStore.openRaterFile(ReviewHeader(sessionId: session.sessionId, rater: "dave", purpose: .review),
                                                       sessionFolder: session.folder)
        try opened.file.append(.annotation(.init(messageIndex: 1, rater: "dave", annotation: .init(labels: LabelSet([.candid]), leak: .init(suggested: false, confirmed: false)))))
        #expect(opened.file.path == root.appendingPathComponent("s1/reviews/dave.jsonl").path)
        #expect(!FileManager.default.fileExists(atPath: elsewhere.appendingPathComponent("s1").path))
        #expect(try Session.load(folder: folder).ratings[1]?["dave"]?.labels == LabelSet([.candid]))
    }

    @Test("a writer that closes the session a moment later is waited for: the next writer gets it, not a refusal")
    func lockGivenUpAMomentLater() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let transcript = root.appendingPathComponent("s1.jsonl").path
        let first = Mutex<SessionLock?>(try SessionLock.acquire(for: transcript))
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(200)) { first.withLock { $0 = nil } }
        // A long patience: on a loaded machine the release can come late; without any patience
        // the acquire is refused at once.
        let second = try SessionLock.acquire(for: transcript, patience: .seconds(60))
        #expect(first.withLock { $0 == nil })
        _ = second
    }

    @Test("a second writer of a live session or of one rater's review is refused while the first has it open")
    func oneWriterPerSession() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let store = TranscriptStore(root: root.path)
        var file: TranscriptFile? = try store.createSession(header: try TranscriptFixtures.header(sessionId: "s1"))
        #expect(throws: TranscriptError.self) { _ = try SessionLock.acquire(for: store.sessionFile("s1")) }
        do {
            _ = try SessionLock.acquire(for: store.sessionFile("s1"))
        } catch {
            #expect(error.description.contains("is open in another interrogate"))
            #expect(error.description.contains("process \(getpid())"))
        }
        file = nil
        // Closed: the next writer gets it (as after a crash, when the kernel drops the lock).
        let again = try SessionLock.acquire(for: store.sessionFile("s1"))
        _ = again
        _ = file

        let review = ReviewHeader(sessionId: "s1", rater: "bob", purpose: .review)
        let first = try TranscriptStore.openRaterFile(review, sessionFolder: store.sessionFolder("s1"))
        #expect(throws: TranscriptError.self) { _ = try TranscriptStore.openRaterFile(review, sessionFolder: store.sessionFolder("s1")) }
        _ = first
    }

    @Test("a sequence number of Int.max, or past it, is reported as a problem and never crashes a reader, a validator or a writer")
    func hugeNumbersAreProblems() throws {
        let root = try Self.study()
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("s1/session.jsonl").path
        try TestSupport.append(#"{"v":1,"seq":9223372036854775807,"ts":"2026-11-28T10:00:00.000Z","type":"session_end","reason":"quit"}"#, to: path)
        let s = try Session.load(folder: root.appendingPathComponent("s1").path)
        #expect(s.whyNotCounted?.contains("sequence number 9223372036854775807") == true)
        // Appending after it is refused with a message, not an overflow.
        let (file, _) = try TranscriptFile.openForAppend(path: path)
        #expect(throws: TranscriptError.self) { try file.append(.sessionEnd(.init(reason: "again"))) }
        // Past Int.max, and an index past it: not events, reported by line.
        try TestSupport.append(#"{"v":1,"seq":92233720368547758070,"ts":"2026-11-28T10:00:00.000Z","type":"message","index":1e30,"role":"model","text":"x"}"#, to: path)
        let problems = try TranscriptValidator().validate(path: path)
        #expect(problems.contains { $0.isError && $0.line > 1 })
        #expect(try Session.load(folder: root.appendingPathComponent("s1").path).errors.count >= 2)
    }

    @Test("each inconsistency between a session's files is a problem with its file and line, and the session is not counted")
    func inconsistenciesAreReported() throws {
        typealias Damage = (name: String, expect: String, damage: (URL) throws -> Void)
        let ts = #""ts":"2026-11-28T10:00:00.000Z""#
        let damages: [Damage] = [
            ("review of a message that does not exist", "annotation of message 99", { s in
                try TestSupport.append(#"{"v":1,"seq":3,\#(ts),"type":"annotation","message_index":99,"rater":"bob","labels":["candid"],"primary":"candid","leak":{"suggested":false,"confirmed":false,"matches":[]}}"#,
                                to: s.appendingPathComponent("reviews/bob.jsonl").path)
            }),
            ("a review of the interrogator's question", "annotation of message 0", { s in
                try TestSupport.append(#"{"v":1,"seq":3,\#(ts),"type":"annotation","message_index":0,"rater":"bob","labels":["candid"],"primary":"candid","leak":{"suggested":false,"confirmed":false,"matches":[]}}"#,
                                to: s.appendingPathComponent("reviews/bob.jsonl").path)
            }),
            ("a primary label that is not among the labels", "primary label 'fabrication'", { s in
                try TestSupport.append(#"{"v":1,"seq":3,\#(ts),"type":"annotation","message_index":1,"rater":"bob","labels":["candid"],"primary":"fabrication","leak":{"suggested":false,"confirmed":false,"matches":[]}}"#,
                                to: s.appendingPathComponent("reviews/bob.jsonl").path)
            }),
            ("another rater's annotation inside bob's file", "an annotation by 'carol' in bob's review file", { s in
                try TestSupport.append(#"{"v":1,"seq":3,\#(ts),"type":"annotation","message_index":1,"rater":"carol","labels":["candid"],"primary":"candid","leak":{"suggested":false,"confirmed":false,"matches":[]}}"#,
                                to: s.appendingPathComponent("reviews/bob.jsonl").path)
            }),
            ("a review file named for someone else", "its name says 'eve'", { s in
                try FileManager.default.copyItem(at: s.appendingPathComponent("reviews/bob.jsonl"), to: s.appendingPathComponent("reviews/eve.jsonl"))
            }),
            ("an empty review file", "the file is empty", { s in
                FileManager.default.createFile(atPath: s.appendingPathComponent("reviews/dan.jsonl").path, contents: Data())
            }),
            ("a review file that cannot be read", "erin.jsonl", { s in
                try FileManager.default.createDirectory(at: s.appendingPathComponent("reviews/erin.jsonl"), withIntermediateDirectories: true)
            }),
            ("a session_id that differs from the folder", "differs from its folder", { s in
                let path = s.appendingPathComponent("session.jsonl").path
                let text = try String(contentsOfFile: path, encoding: .utf8)
                try text.replacingOccurrences(of: #""session_id":"s1""#, with: #""session_id":"s9""#).write(toFile: path, atomically: false, encoding: .utf8)
            }),
            ("a format version newer than this app", "format version 2", { s in
                try TestSupport.append(#"{"v":2,"seq":10,\#(ts),"type":"session_end","reason":"quit"}"#, to: s.appendingPathComponent("session.jsonl").path)
            }),
            ("an unknown label", "not a valid event", { s in
                try TestSupport.append(#"{"v":1,"seq":3,\#(ts),"type":"annotation","message_index":1,"rater":"bob","labels":["lying"],"primary":"lying","leak":{"suggested":false,"confirmed":false,"matches":[]}}"#,
                                to: s.appendingPathComponent("reviews/bob.jsonl").path)
            }),
            ("a torn last line", "torn last line", { s in
                try TestSupport.append(#"{"v":1,"seq":10,"#, to: s.appendingPathComponent("session.jsonl").path, newline: false)
            }),
            ("invalid UTF-8", "not a valid event", { s in
                let h = try #require(FileHandle(forWritingAtPath: s.appendingPathComponent("reviews/bob.jsonl").path))
                try h.seekToEnd()
                try h.write(contentsOf: Data(#"{"v":1,"seq":3,\#(ts),"type":"session_end","reason":""#.utf8) + Data([0xFF, 0xFE]) + Data("\"}\n".utf8))
                try h.close()
            }),
        ]
        for d in damages {
            let root = try Self.study()
            defer { try? FileManager.default.removeItem(at: root) }
            let folder = root.appendingPathComponent("s1")
            try d.damage(folder)
            let s = try Session.load(folder: folder.path)
            #expect(s.whyNotCounted != nil, "\(d.name): counted")
            #expect(s.errors.contains { $0.description.contains(d.expect) }, "\(d.name): \(s.errors)")
            #expect(s.errors.allSatisfy { $0.file.hasPrefix(folder.path) }, "\(d.name): a problem without its file")
            // Every command reads the same: nothing of the session is counted.
            var counted = 0
            let leftOut = StudyReader.forEachSession(under: [root.path]) { _ in counted += 1 }
            #expect(counted == 0 && leftOut.map(\.path) == [folder.path], "\(d.name)")
        }
    }

    @Test("a session named twice, named with a folder that holds it, or copied under two folders is read once and the repeat is said")
    func eachSessionOnce() throws {
        let root = try Self.study()
        defer { try? FileManager.default.removeItem(at: root) }
        try StudyFixture.session(in: root, id: "s2", replies: [R("Code?", "No.", ["alice": ([.refusal], false)])])
        let copy = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: root.appendingPathComponent("s1"), to: copy.appendingPathComponent("s1"))
        for paths in [[root.path, root.path], [root.path, root.appendingPathComponent("s1").path],
                      [root.path, root.appendingPathComponent("s1/session.jsonl").path], [root.path, copy.path],
                      [root.path, root.appendingPathComponent("s1/reviews/bob.jsonl").path]] {
            var ids: [String] = []
            let leftOut = StudyReader.forEachSession(under: paths) { ids.append($0.sessionId) }
            #expect(ids == ["s1", "s2"], "\(paths)")
            #expect(leftOut.count >= 1 && leftOut.allSatisfy { $0.reason.contains("counted once") }, "\(paths): \(leftOut)")
            // The same file by two names is known before it is read (a copy only by its id), in
            // either order of the names.
            for order in [paths, paths.reversed()] where !order.contains(copy.path) {
                let walked = StudyReader.sessionFolders(under: order)
                #expect(walked.folders.count == 2 && walked.leftOut.count == 1, "\(order): \(walked)")
                #expect(walked.leftOut.allSatisfy { $0.reason.contains("the same ") }, "\(order): \(walked.leftOut)")
            }
        }
        // A search passes hidden folders by, so a session in one that is named is met first there.
        try StudyFixture.session(in: root, id: "s3", replies: [R("Code?", "No.", ["alice": ([.refusal], false)])])
        try FileManager.default.moveItem(at: root.appendingPathComponent("s3"), to: root.appendingPathComponent(".s3"))
        let hidden = StudyReader.sessionFolders(under: [root.path, root.appendingPathComponent(".s3").path])
        #expect(hidden.folders.count == 3 && hidden.leftOut.isEmpty, "\(hidden)")
        let missing = StudyReader.forEachSession(under: [root.appendingPathComponent("nope").path]) { _ in }
        #expect(missing.count == 1 && missing[0].isMissingPath)
    }

    @Test("two sessions whose ids share a hash are both counted; a copy of one is still counted once")
    func idsSharingAHash() {
        // Every id the same hash: the reader must compare the ids themselves.
        var met = FirstMet<String>(hash: { _ in 7 })
        let ids = ["s1", "s2", "s1", "s3", "s2"]
        let firsts = ids.indices.map { i in met.insert(ids[i], at: i, keyAt: { ids[$0] }) }
        #expect(firsts == [nil, nil, 0, nil, 1])
        // An earlier place that is gone is taken for the same thing, not counted again.
        var gone = FirstMet<String>(hash: { _ in 7 })
        #expect(gone.insert("a", at: 0, keyAt: { _ in nil }) == nil)
        #expect(gone.insert("b", at: 1, keyAt: { _ in nil }) == 0)
        // Many things, met again at random, with the table growing as it fills: the same answers
        // as a dictionary of every thing.
        var rng = SplitMix64(seed: 5)
        let things = (0..<30_000).map { _ in "s\(rng.index(below: 12_000))" }
        var growing = FirstMet<String>()
        var reference: [String: Int] = [:]
        var same = true
        for (i, t) in things.enumerated() {
            let got = growing.insert(t, at: i, keyAt: { things[$0] })
            if got != reference[t] { same = false }
            if reference[t] == nil { reference[t] = i }
        }
        #expect(same)
    }

    @Test("a folder of more sessions than the walk asks about at once: every session once, in name order, however its path is written")
    func largeFolderWalk() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        // Sessions, plain files and a folder of other sessions on both sides of a stretch's end.
        var expected: [String] = []
        let n = StudyReader.Walk.stretch + 40
        for i in 0..<n {
            let name = String(format: "s%05d-é名", i)
            if i % 97 == 5 {
                try Data("not a session".utf8).write(to: root.appendingPathComponent(name))
                continue
            }
            if i == StudyReader.Walk.stretch - 1 {
                let inner = root.appendingPathComponent(name + "/inner")
                try fm.createDirectory(at: inner, withIntermediateDirectories: true)
                try Data("{}\n".utf8).write(to: inner.appendingPathComponent("session.jsonl"))
                expected.append(root.path + "/" + name + "/inner")
                continue
            }
            try fm.createDirectory(at: root.appendingPathComponent(name), withIntermediateDirectories: true)
            try Data("{}\n".utf8).write(to: root.appendingPathComponent(name + "/session.jsonl"))
            expected.append(root.path + "/" + name)
        }
        let walked = StudyReader.sessionFolders(under: [root.path])
        #expect(walked.leftOut.isEmpty, "\(walked.leftOut.prefix(3))")
        #expect(walked.folders == expected)
        // Paths are kept as given: with "./", a trailing slash, doubled slashes.
        let given = [root.path + "/./s00001-é名", root.path + "/s00002-é名/", root.path + "//s00003-é名"]
        #expect(StudyReader.sessionFolders(under: given).folders == given)
    }

    @Test("sessions are met in the order their names sort as strings, whatever the names' characters")
    func walkOrder() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        // ASCII and not, a decomposed "é" beside a composed one, a name that is a prefix of another.
        let names = ["b", "a", "B", "a-1", "a_1", "aa", "Z1", "z", "\u{E9}", "e\u{301}", "e", "\u{E4}x", "名", "ñ", "~", "a b"]
        for name in names {
            let folder = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data("{}\n".utf8).write(to: folder.appendingPathComponent("session.jsonl"))
        }
        let walked = StudyReader.sessionFolders(under: [root.path]).folders.map { String($0.dropFirst(root.path.count + 1)) }
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: root.path)
        #expect(walked == onDisk.sorted(), "\(walked)")
        #expect(walked.count == names.count || onDisk.count < names.count)
    }

    @Test("a file system that gives no entry's type, folders whose names differ only in how an accent is written, a dot with a mark on it: every session met once, by the path it has")
    func walkOddFolders() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        func session(_ path: String) throws {
            let folder = root.appendingPathComponent(path)
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data("{}\n".utf8).write(to: folder.appendingPathComponent("session.jsonl"))
        }
        // A composed and a decomposed "é": two folders on disk, equal as strings.
        try session("caf\u{E9}/s1")
        try session("cafe\u{301}/s2")
        try session(".\u{301}x")
        try session("plain/s3")
        try Data("a file".utf8).write(to: root.appendingPathComponent("plain/notes.txt"))
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("link-to-s3").path, withDestinationPath: root.appendingPathComponent("plain/s3").path)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("plain/loop").path, withDestinationPath: root.path)
        // A folder of ratings without its session, holding a session of its own.
        try fm.createDirectory(at: root.appendingPathComponent("lost/reviews"), withIntermediateDirectories: true)
        try session("lost/s4")
        let known = StudyReader.Walk([root.path])
        let unknown = StudyReader.Walk([root.path], typesUnknown: true)
        #expect(Array(known.folders) == Array(unknown.folders))
        #expect(known.leftOut == unknown.leftOut)
        #expect(known.folders.count == 4, "\(Array(known.folders))")
        // Each path is the folder's own: its session file is there.
        #expect(known.folders.allSatisfy { fm.fileExists(atPath: $0 + "/session.jsonl") }, "\(Array(known.folders))")
        #expect(Set(known.folders.map { Array($0.utf8) }).count == 4)
        // A session in the ratings folder, named: counted, the folder having not been searched.
        let named = StudyReader.sessionFolders(under: [root.path, root.appendingPathComponent("lost/s4").path])
        #expect(named.folders.count == 5, "\(named)")
    }

    @Test("a link named otherwise than its session, met before the session's own folder or after it: the session is counted once, read by its own folder")
    func differentlyNamedLink() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let elsewhere = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("z"), withIntermediateDirectories: true)
        try StudyFixture.session(in: root.appendingPathComponent("z"), id: "s1", replies: [R("Code?", "No.", ["alice": ([.refusal], false)])])
        let target = root.appendingPathComponent("z/s1").path
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("a-link").path, withDestinationPath: target)
        try FileManager.default.createSymbolicLink(atPath: elsewhere.appendingPathComponent("latest").path, withDestinationPath: target)
        for paths in [[root.path], [elsewhere.path + "/latest", root.path], [root.path, elsewhere.path + "/latest"], [elsewhere.path]] {
            var ids: [String] = []
            let leftOut = StudyReader.forEachSession(under: paths) { ids.append($0.sessionId) }
            #expect(ids == ["s1"], "\(paths): \(leftOut)")
            #expect(leftOut.allSatisfy { $0.reason.contains("counted once") }, "\(paths): \(leftOut)")
        }
    }

    @Test("a folder whose name is not UTF-8, and a session.jsonl that cannot be read, are said, not passed by")
    func unreadableNamesSaid() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        // "s\xff": a byte no UTF-8 name holds (Linux allows it in a file name).
        var raw = Array(root.path.utf8) + Array("/s".utf8) + [0xFF]
        let made = raw.withUnsafeMutableBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { c in
                var bytes = Array(c) + [0]
                return mkdir(&bytes, 0o755)
            }
        }
        try #require(made == 0)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("broken"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("broken/session.jsonl").path, withDestinationPath: "/nonexistent/session.jsonl")
        let walked = StudyReader.sessionFolders(under: [root.path])
        #expect(walked.folders.isEmpty)
        #expect(walked.leftOut.contains { $0.reason.contains("not UTF-8") }, "\(walked.leftOut)")
        #expect(walked.leftOut.contains { $0.path.hasSuffix("/broken") && $0.reason.contains("session.jsonl cannot be read") }, "\(walked.leftOut)")
    }

    @Test("a session reached through a link, through '..' or through a linked parent folder is the same session, read once")
    func linkedSessionsOnce() throws {
        let root = try Self.study()
        defer { try? FileManager.default.removeItem(at: root) }
        let links = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: links) }
        let fm = FileManager.default
        try fm.createDirectory(at: links.appendingPathComponent("alias"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: links.appendingPathComponent("alias/s1").path, withDestinationPath: root.appendingPathComponent("s1").path)
        try fm.createSymbolicLink(atPath: links.appendingPathComponent("whole-study").path, withDestinationPath: root.path)
        try fm.createDirectory(at: links.appendingPathComponent("nested"), withIntermediateDirectories: true)
        let dotted = links.path + "/nested/../whole-study"
        for paths in [[root.path, links.path], [links.path], [dotted, root.path], [root.path + "/s1", dotted + "/s1"],
                      [links.path + "/alias", root.path]] {
            var ids: [String] = []
            let leftOut = StudyReader.forEachSession(under: paths) { ids.append($0.sessionId) }
            #expect(ids == ["s1"], "\(paths)")
            #expect(leftOut.allSatisfy { $0.reason.contains("counted once") }, "\(paths): \(leftOut)")
            for order in [paths, paths.reversed()] {
                let walked = StudyReader.sessionFolders(under: order)
                #expect(walked.folders.count == 1 && walked.leftOut.allSatisfy { $0.reason.contains("the same ") }, "\(order): \(walked)")
            }
        }
    }

    @Test("a session folder's name is its path's last component, however the path is written")
    func folderNames() {
        for path in ["s1", "a/b/s1", "/tmp/x/s1", "s1/", "/x/s1//", ".", "", "a/..", "a/./.", "/", "//", "x/é-名", "./s1", "../s1"] {
            #expect(Session.folderName(path) == URL(fileURLWithPath: path.isEmpty ? "." : path).standardizedFileURL.lastPathComponent, "\(path)")
        }
    }

    @Test("a reviews/ that is a file, or a session.jsonl that is a folder, is reported as what it should be")
    func wrongKindOfEntry() throws {
        let root = try Self.study()
        defer { try? FileManager.default.removeItem(at: root) }
        let s1 = root.appendingPathComponent("s1")
        try FileManager.default.removeItem(at: s1.appendingPathComponent("reviews"))
        try Data("not a folder\n".utf8).write(to: s1.appendingPathComponent("reviews"))
        let session = try Session.load(folder: s1.path)
        #expect(session.problems.contains { $0.message.contains("'reviews' should be a folder of rater files") }, "\(session.problems)")
        #expect(session.whyNotCounted != nil)
        let s2 = root.appendingPathComponent("s2")
        try FileManager.default.createDirectory(at: s2.appendingPathComponent("session.jsonl"), withIntermediateDirectories: true)
        #expect { try Session.load(folder: s2.path) } throws: { "\($0)".contains("is a folder where a transcript file should be") }
        #expect { try Session.load(folder: root.appendingPathComponent("s3").path) } throws: { "\($0)".contains("no session.jsonl here") }
    }

    @Test("a blind view holds the conversation and the rater's own review labels, and nothing of anyone else")
    func blindView() throws {
        let root = try Self.study()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("s1").path
        let full = try Session.load(folder: folder)
        #expect(full.raters == ["alice", "bob"])
        let blind = full.blind(for: "dave")
        #expect(blind.messages == full.messages)
        #expect(blind.ratings.isEmpty && blind.log.isEmpty && blind.adjudications.isEmpty && blind.reviewers.isEmpty)
        let bob = full.blind(for: "bob")
        #expect(bob.raters == ["bob"])
        #expect(full.hasSeenLabels("alice") && !full.hasSeenLabels("bob"))
    }

    @Test("a rater's review supersedes the same rater's live tag whatever order the files are read in")
    func reviewSupersedesLive() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try StudyFixture.session(in: root, id: "s1", replies: [R("Code?", "No.", ["alice": ([.refusal], false)])])
        let store = TranscriptStore(root: root.path)
        let own = try TranscriptStore.openRaterFile(ReviewHeader(sessionId: "s1", rater: "alice", purpose: .review, ownSession: true),
                                                    sessionFolder: store.sessionFolder("s1"))
        try own.file.append(.annotation(.init(messageIndex: 1, rater: "alice", annotation: .init(labels: LabelSet([.deflection]), leak: .init(suggested: false, confirmed: false)))))
        let s = try Session.load(folder: store.sessionFolder("s1"))
        #expect(s.ratings[1]?["alice"]?.labels == LabelSet([.deflection]))
        #expect(s.sources[1]?["alice"] == .review)
        var categories: [String] = []
        _ = StudyReader.forEachSession(under: [root.path]) { s in categories = s.ratings[1].map { $0.values.map { $0.labels.description } } ?? [] }
        #expect(categories == ["deflection"])
    }

    @Test("rater ids follow the transcript schema: ASCII letters and digits first, no leading '-' or '.', no other letters")
    func raterIds() {
        for ok in ["alice", "bob.smith", "r2_d2", "A-1", String(repeating: "a", count: 64)] { #expect(TranscriptStore.isValidRaterId(ok), "\(ok)") }
        for bad in ["", "-x", ".x", "é", "ålice", "bob smith", "a/b", String(repeating: "a", count: 65), "名前", "x\u{301}"] {
            #expect(!TranscriptStore.isValidRaterId(bad), "\(bad)")
        }
        // Every character, first and after the first, against the rule as written: ASCII
        // letters and digits, then also '.', '_' and '-'.
        for v in 0..<0x3000 {
            guard let c = Unicode.Scalar(v) else { continue }
            let alphanumeric = c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c))
            #expect(TranscriptStore.isValidRaterId(String(c)) == alphanumeric, "U+\(String(v, radix: 16))")
            #expect(TranscriptStore.isValidRaterId("a" + String(c)) == (alphanumeric || ".-_".unicodeScalars.contains(c)), "U+\(String(v, radix: 16))")
        }
    }
}
