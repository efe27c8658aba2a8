import Foundation
import Testing
import TestSupport
@testable import Sessions

/// These tests use a real child process (TranscriptProbe) that appends events and reports
/// each one after `append` returned, then kill or race it.
@Suite("Durability under crashes and concurrent writers", .serialized)
struct DurabilityTests {
    static let probe = TestSupport.product("TranscriptProbe")

    /// Starts the probe appending; its "saved N" lines go to `report` (each written before
    /// the next append starts, so a line there is a promise the event is on disk).
    func startAppender(path: String, count: Int, size: Int, tag: String, report: String) throws -> ChildProcess {
        try TestSupport.spawn(Self.probe.path, ["append", path, String(count), String(size), tag], stdout: report)
    }

    func savedSeqs(_ report: String) -> [Int] {
        ((try? String(contentsOfFile: report, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line -> Int? in
            let parts = line.split(separator: " ")
            return parts.count >= 2 && parts[0] == "saved" ? Int(parts[1]) : nil
        }
    }

    @Test("an event reported as saved survives SIGKILL of the writer at any moment (60 trials)")
    func sigkillLosesNothingReported() async throws {
        try await TestSupport.offPool { try Self().sigkillTrials() }
    }

    func sigkillTrials() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var generator = SystemRandomNumberGenerator()
        var killedMidRun = 0
        for trial in 0..<60 {
            let path = dir.appendingPathComponent("t\(trial).jsonl").path
            let created = try TestSupport.run(Self.probe, ["create", path])
            try #require(created.status == 0, "\(created.stderr)")
            // Lines of varied size so that kills land in writes of different lengths.
            let size = [10, 2_000, 70_000][trial % 3]
            let report = path + ".report"
            let appender = try startAppender(path: path, count: 100_000, size: size, tag: "t", report: report)
            usleep(UInt32.random(in: 2_000...60_000, using: &generator))
            kill(appender.pid, SIGKILL)
            if appender.waitUntilExit() == 128 + SIGKILL { killedMidRun += 1 }
            let reported = savedSeqs(report)

            let read = try TranscriptReader.read(path: path)
            let onDisk = Set(read.events.map(\.seq))
            for seq in reported { #expect(onDisk.contains(seq), "trial \(trial): event \(seq) was reported saved but is not on disk") }
            #expect(read.events.map(\.seq) == Array(1...read.events.count), "trial \(trial): sequence numbers skip or repeat")
            let errors = read.problems.filter(\.isError)
            #expect(errors.count <= 1, "trial \(trial): \(errors)")
            if let e = errors.first { #expect(e.kind == .tornLastLine && e.line == read.events.count + 1) }
        }
        #expect(killedMidRun > 50, "the probe finished before it was killed: the test exercised nothing")
    }

    @Test("two processes appending to one file never interleave a line, and sequence numbers stay unique")
    func concurrentAppendersDoNotInterleave() async throws {
        try await TestSupport.offPool { try Self().concurrentAppenders() }
    }

    func concurrentAppenders() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("shared.jsonl").path
        #expect(try TestSupport.run(Self.probe, ["create", path]).status == 0)
        let perWriter = 300
        // 100 KB lines: far past the pipe-atomic size, so without the lock writes could mix.
        let a = try startAppender(path: path, count: perWriter, size: 100_000, tag: "A", report: path + ".a")
        let b = try startAppender(path: path, count: perWriter, size: 100_000, tag: "B", report: path + ".b")
        #expect(a.waitUntilExit() == 0 && b.waitUntilExit() == 0)

        let read = try TranscriptReader.read(path: path)
        #expect(read.problems.isEmpty, "\(read.problems.count) problem(s), first: \(read.problems.prefix(3))")
        #expect(read.events.count == 1 + 2 * perWriter)
        let seqs = read.events.map(\.seq)
        let numberedInOrder = seqs == Array(1...(1 + 2 * perWriter))
        #expect(numberedInOrder, "sequence numbers repeat or skip, first: \(seqs.prefix(12))")
        for tag in ["A", "B"] {
            let order = read.events.compactMap { event -> Int? in
                guard case .sessionEnd(let e) = event.body else { return nil }
                let parts = e.reason.split(separator: "-")
                return parts[0] == tag ? Int(parts[1]) : nil
            }
            #expect(order == Array(0..<perWriter), "writer \(tag)'s events are missing or out of order")
        }
    }

    @Test("every event the writer reports saved was written and then fsync'd before the report (traced system calls)")
    func savedOnlyAfterFsync() async throws {
        try await TestSupport.offPool { try Self().fsyncBeforeSaved() }
    }

    /// SIGKILL keeps the page cache, so the kill test would pass without fsync; the order of
    /// the system calls shows it: transcript write, fsync of that file, then "saved" on stdout.
    func fsyncBeforeSaved() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.jsonl").path
        #expect(try TestSupport.run(Self.probe, ["create", path]).status == 0)
        let trace = dir.appendingPathComponent("trace").path
        let strace = URL(fileURLWithPath: "/usr/bin/strace")
        try #require(FileManager.default.isExecutableFile(atPath: strace.path), "strace is installed by scripts/setup.sh")
        let r = try TestSupport.run(strace, ["-f", "-e", "trace=openat,write,fsync,fdatasync", "-o", trace, Self.probe.path, "append", path, "25", "10", "t"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map(String.init)
        // The transcript's descriptor, from the openat that opened it.
        let fd = try #require(lines.first { $0.contains("openat(") && $0.contains(path) }.flatMap { $0.split(separator: "=").last }
            .flatMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        var wroteSinceSync = false
        var syncedSinceWrite = false
        var saved = 0
        for line in lines {
            let call = line.drop { $0 != " " }.trimmingCharacters(in: .whitespaces)
            if call.hasPrefix("write(\(fd),") { wroteSinceSync = true; syncedSinceWrite = false }
            if call.hasPrefix("fsync(\(fd))") || call.hasPrefix("fdatasync(\(fd))") {
                if wroteSinceSync { syncedSinceWrite = true }
                wroteSinceSync = false
            }
            if call.hasPrefix("write(1,"), call.contains("saved ") {
                saved += 1
                #expect(syncedSinceWrite && !wroteSinceSync, "\(call): reported saved before its line was fsync'd")
                syncedSinceWrite = false
            }
        }
        #expect(saved == 25, "the trace shows \(saved) saved reports")
    }
}
