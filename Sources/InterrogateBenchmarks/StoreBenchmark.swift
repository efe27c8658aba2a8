import Annotate
import Foundation
import Sessions
import TestSupport

/// The team store against the JSONL folder, on a PostgreSQL server of its own (initdb in a
/// temporary folder, default durability: fsync and synchronous commit on): what one saved line
/// costs (an event appended and fsync'd, against one committed), and what copying a study
/// costs (push, a second push that finds nothing to do, pull into an empty folder, against
/// reading the same files). Prints figures, asserts nothing:
/// `swift run -c release InterrogateBenchmarks store [--sessions N] [--appends N]`.
enum StoreBenchmark {
    static func main(_ arguments: [String]) async throws {
        let sessions = value("--sessions", in: arguments) ?? 1000
        let appends = value("--appends", in: arguments) ?? 2000
        #if DEBUG
        print("note: a debug build; release figures: swift run -c release InterrogateBenchmarks store")
        #endif
        let server = try PostgresServer.start()
        defer { server.stop() }
        let db = try server.createDatabase()
        let address = try StoreAddress.parse(server.url(database: db))
        let store = try await TeamStore.connect(address, checkSchema: false)
        _ = try await store.initialise()
        _ = try await store.addRater(server.admin, role: .organiser, password: nil)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("store-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        print("the team store (PostgreSQL \(try server.psql("SHOW server_version").output), fsync and synchronous_commit on, loopback TCP) "
              + "against the JSONL folder, both under \(FileManager.default.temporaryDirectory.path); \(ProcessInfo.processInfo.activeProcessorCount) cores")

        // 1. One saved line: an annotation event, as a reviewer saves one per keypress.
        let event = EventBody.annotation(.init(messageIndex: 1, rater: "bench", annotation: .init(
            labels: LabelSet([.deflection, .fabrication]), leak: .init(suggested: false, confirmed: false), note: "changes the subject")))
        let folder = TranscriptStore(root: root.appendingPathComponent("append").path)
        try FileManager.default.createDirectory(atPath: folder.root, withIntermediateDirectories: true)
        let file = try TranscriptStore.openRaterFile(ReviewHeader(sessionId: "s1", rater: "bench", purpose: .review),
                                                     sessionFolder: folder.sessionFolder("s1")).file
        let clock = ContinuousClock()
        var folderTimes: [Double] = []
        for _ in 0..<appends {
            let t = clock.measure { _ = try? file.append(event) }
            folderTimes.append(ms(t))
        }
        // The store is sent the very lines the folder saved.
        var lines: [Data] = []
        try LineReader.forEachLine(path: file.path) { line, _, _ in lines.append(line); return true }
        let writer = try await StoreWriter.open(StoreFile(path: "transcripts/s1/reviews/bench.jsonl", kind: .review, sessionId: "s1", rater: "bench"),
                                                in: .study(name: "bench-append", folder: root.path), store: store)
        var storeTimes: [Double] = []
        for line in lines {
            let start = clock.now
            try await writer.append(line)
            storeTimes.append(ms(clock.now - start))
        }
        await writer.release()
        print("\none saved line (\(appends) annotation events, \(lines.first?.count ?? 0) bytes each):")
        print("  folder: append + fsync          p50 \(f(percentile(folderTimes, 0.5))) ms   p99 \(f(percentile(folderTimes, 0.99))) ms")
        print("  store:  INSERT, committed       p50 \(f(percentile(storeTimes, 0.5))) ms   p99 \(f(percentile(storeTimes, 0.99))) ms"
              + "   (×\(f(percentile(storeTimes, 0.5) / percentile(folderTimes, 0.5))) and ×\(f(percentile(storeTimes, 0.99) / percentile(folderTimes, 0.99))) the folder's)")

        // 2. A study of `sessions` sessions, each with 10 replies tagged live and two reviews.
        let study = root.appendingPathComponent("studies/bench/transcripts")
        for i in 0..<sessions {
            let replies = (0..<10).map { k in
                StudyFixture.Reply("Question \(k) about the vault?", "Reply \(k): I cannot share that, but the weather is nice.",
                                   ["alice": ([.deflection], false), "bob": ([.candid], false), "carol": ([.fabrication], k == 3)])
            }
            try StudyFixture.session(in: study, id: String(format: "20261130-%06d-vault-%04x", i, i % 65536), replies: replies)
        }
        let collection = StoreCollection.study(name: "bench", folder: root.appendingPathComponent("studies/bench").path)
        let bytes = folderBytes(collection.folder)
        var pushed = StoreSyncReport()
        let pushTime = try await measure { pushed = try await store.push(collection) }
        var again = StoreSyncReport()
        let againTime = try await measure { again = try await store.push(collection) }
        let copy = StoreCollection.study(name: "bench", folder: root.appendingPathComponent("copy/studies/bench").path)
        var pulled = StoreSyncReport()
        let pullTime = try await measure { pulled = try await store.pull(copy) }
        let readTime = try await measure {
            for path in FileManager.default.enumerator(atPath: collection.folder)?.compactMap({ $0 as? String }) ?? [] where path.hasSuffix(".jsonl") {
                _ = try? TranscriptReader.read(path: (collection.folder as NSString).appendingPathComponent(path))
            }
        }
        for e in (pushed.conflicts + pulled.conflicts).prefix(3) { print("  not copied: \(e.path): \(e.reason)") }
        let mb = Double(bytes) / 1_000_000
        print("\na study of \(sessions) sessions (\(pushed.copied.count) files, \(pushed.linesCopied) lines, \(f(mb)) MB):")
        print("  push into an empty store      \(f(pushTime)) s   \(f(mb / pushTime)) MB/s   \(Int(Double(pushed.linesCopied) / pushTime)) lines/s")
        print("  push again (nothing to do)    \(f(againTime)) s   \(again.unchanged) files found the same")
        print("  pull into an empty folder     \(f(pullTime)) s   \(f(mb / pullTime)) MB/s   \(pulled.copied.count) files written and fsync'd")
        print("  reading the folder's files with the transcript reader (for scale)   \(f(readTime)) s   \(f(mb / readTime)) MB/s")
        print("  ratios: push ×\(f(pushTime / readTime)), pull ×\(f(pullTime / readTime)) the read")

        // 3. `report` on the store as a command runs it (the copy pulled, remembered, then the
        // report on the copy) against `report` on the folder.
        func report(_ folder: String) -> StudyReport {
            StudyReport.build(paths: [(folder as NSString).appendingPathComponent("transcripts")], by: [.model], configuration: .default,
                              configurationSource: "defaults", resamples: 2000, seed: 20_261_128, detail: .figures)
        }
        var onFolder: StudyReport?
        let folderReport = try await measure { onFolder = report(collection.folder) }
        let working = StoreCollection.study(name: "bench", folder: root.appendingPathComponent("copies/studies/bench").path)
        var first = StoreSyncReport(), later = StoreSyncReport()
        var onStore: StudyReport?
        let firstCommand = try await measure {
            first = try await store.pull(working, remember: true)
            onStore = report(working.folder)
        }
        let laterCommand = try await measure {
            later = try await store.pull(working, remember: true)
            onStore = report(working.folder)
        }
        let same = onStore.map { "\($0.groups.map(\.transcripts))" } == onFolder.map { "\($0.groups.map(\.transcripts))" }
        print("\nreport --store against report on the folder (\(sessions) sessions; the same transcripts counted: \(same ? "yes" : "NO")):")
        print("  report on the folder                                  \(f(folderReport)) s")
        print("  report --store, first on this machine (pull \(first.copied.count) files) \(f(firstCommand)) s   ×\(f(firstCommand / folderReport))")
        print("  report --store again (pull finds \(later.unchanged) files as they were) \(f(laterCommand)) s   ×\(f(laterCommand / folderReport))")
        await store.close()
    }

    static func measure(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        return ms(ContinuousClock.now - start) / 1000
    }

    static func ms(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    static func percentile(_ xs: [Double], _ p: Double) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return .nan }
        return s[min(s.count - 1, Int((Double(s.count) * p).rounded(.up)) - 1)]
    }

    static func f(_ x: Double) -> String { String(format: x < 10 ? "%.2f" : "%.1f", x) }

    static func folderBytes(_ path: String) -> Int {
        var total = 0
        for case let p as String in FileManager.default.enumerator(atPath: path) ?? NSEnumerator() {
            total += ((try? FileManager.default.attributesOfItem(atPath: (path as NSString).appendingPathComponent(p)))?[.size] as? Int) ?? 0
        }
        return total
    }

    static func value(_ flag: String, in arguments: [String]) -> Int? {
        guard let i = arguments.firstIndex(of: flag), i + 1 < arguments.count else { return nil }
        return Int(arguments[i + 1])
    }
}
