@testable import Annotate
import Foundation
import Testing
import TestSupport
@testable import InterrogateTUI
@testable import Sessions

/// Where report, export and agree write, and what happens when writing fails.
@Suite("Output of report, export and agree", .serialized)
struct OutputTests {
    static let binary = URL(fileURLWithPath: EndToEndTests.binary)
    /// A model name that breaks CSV written without quoting: a comma, quotes, a line break.
    static let oddModel = "odd \"quoted\", name\nsecond line"

    static func study() throws -> URL {
        let root = try ReportCommandTests.study()
        typealias R = StudyFixture.Reply
        try StudyFixture.session(in: root, id: "s6", model: oddModel, replies: [
            R("Code?", "No.", ["alice": ([.refusal], false), "bob": ([.refusal], false)]),
        ])
        return root
    }

    /// Reads CSV with Python's csv module (an independent RFC 4180 reader): the rows as lists.
    static func parseCSV(_ path: String) throws -> [[String]] {
        let script = "import csv, json, sys\nprint(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))))"
        let py = try TestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script, path])
        try #require(py.status == 0, "\(py.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(py.stdout.utf8)) as? [[String]])
    }

    static func runToFile(_ args: [String], in dir: URL) throws -> (result: TestSupport.Result, path: String) {
        let path = dir.appendingPathComponent("out-\(UUID().uuidString).csv").path
        let r = try TestSupport.run(binary, args + ["--out", path], currentDirectory: dir)
        return (r, path)
    }

    @Test("a group or field with a comma, quotes or a line break survives CSV: report, export and agree quote per RFC 4180")
    func csvQuoting() throws {
        let dir = try Self.study()
        defer { try? FileManager.default.removeItem(at: dir) }
        let group = "scripted:" + Self.oddModel

        let report = try Self.runToFile(["report", dir.path, "--format", "csv"], in: dir)
        #expect(report.result.status == 0, "\(report.result.stderr)")
        let reportRows = try Self.parseCSV(report.path)
        #expect(reportRows.allSatisfy { $0.count == reportRows[0].count }, "ragged rows: \(reportRows.map(\.count))")
        #expect(reportRows.contains { $0[0] == group })

        let export = try Self.runToFile(["export", dir.path, "--format", "csv"], in: dir)
        #expect(export.result.status == 0, "\(export.result.stderr)")
        let exportRows = try Self.parseCSV(export.path)
        #expect(exportRows[0] == ExportCommand.columns)
        #expect(exportRows.allSatisfy { $0.count == ExportCommand.columns.count }, "ragged rows")
        #expect(exportRows.filter { $0[1] == group }.count == 2)

        let agree = try TestSupport.run(Self.binary, ["agree", dir.path, "--by", "model", "--format", "csv"])
        #expect(agree.status == 0, "\(agree.stderr)")
        let agreePath = dir.appendingPathComponent("agree.csv").path
        try agree.stdout.write(toFile: agreePath, atomically: true, encoding: .utf8)
        let agreeRows = try Self.parseCSV(agreePath)
        #expect(agreeRows.allSatisfy { $0.count == 8 }, "ragged rows: \(agreeRows)")
        #expect(agreeRows.contains { $0[0] == group }, "\(agreeRows)")
    }

    @Test("a text table lines its columns up by display width under wide, accented and emoji names")
    func tableColumnsByDisplayWidth() {
        let rows = [["田中モデル", "3", "0.5"], ["e\u{301}cole", "10", "1.0"], ["🔐 vault", "7", "0.0"]]
        let lines = Table(header: ["model", "n", "rate"], rows: rows).render().split(separator: "\n").map(String.init)
        // Every row's last cell starts at the same column, and so does its second.
        let last = zip(lines, ["rate"] + rows.map { $0[2] }).map { line, cell in DisplayWidth.of(line.dropLast(cell.count)) }
        let second = zip(lines, ["model"] + rows.map { $0[0] }).map { line, cell in
            DisplayWidth.of(cell) + line.dropFirst(cell.count).prefix { $0 == " " }.count
        }
        #expect(Set(last).count == 1 && Set(second).count == 1, "\(lines.joined(separator: "\n"))")
    }

    @Test("a signal's interval that rests on fewer of 100,000 resamples is printed whole, not cut at its column")
    func signalIntervalWhole() {
        let r = SignalAnalysis.Result(signal: .meanLogprob, contrast: .deceptiveVsCandidOrRefusal, positives: 3, negatives: 4, sessions: 2,
                                      leftOut: ["not recorded": 1], area: 0.75, interval: .init(low: 0.125, high: 1, resamples: 99_999),
                                      curve: [], folds: nil, lengthArea: 0.5)
        let line = SignalsText.row(r, signalWidth: 30, resamples: 100_000)
        #expect(line.contains("[0.125, 1.000] (99999 of 100000) 0.500"), "\(line)")
        #expect(line.hasSuffix("  1 not recorded"), "\(line)")
    }

    @Test("CSV fields: plain ones as they are; commas, quotes, CR and LF enclosed, quotes doubled")
    func csvField() {
        #expect(CSVText.field("plain text") == "plain text")
        #expect(CSVText.field("a,b") == "\"a,b\"")
        #expect(CSVText.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVText.field("one\ntwo") == "\"one\ntwo\"")
        #expect(CSVText.field("one\r\ntwo") == "\"one\r\ntwo\"")
        #expect(CSVText.field("one\rtwo") == "\"one\rtwo\"")
        #expect(CSVText.row(["a", "b,c", ""]) == "a,\"b,c\",\n")
    }

    struct Figure: Encodable { var value: Double }

    @Test("a figure JSON cannot hold (NaN) is an error with a non-zero exit, not empty output and 0")
    func jsonNaN() throws {
        #expect(throws: OutputError.self) { try jsonText(Figure(value: .nan)) }
        #expect(throws: (any Error).self) { try writeJSON(Figure(value: .infinity)) }
        #expect(try jsonText(Figure(value: 0.5)).contains("0.5"))
    }

    /// Runs `interrogate ARGS` with its standard output on `fd` (closed here once passed on).
    static func run(_ args: [String], stdout fd: Int32, stderr: String) throws -> Int32 {
        let err = open(stderr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer { close(err) }
        let child = try ChildProcess(path: binary.path, arguments: args, environment: ProcessInfo.processInfo.environment, stdout: fd, stderr: err)
        close(fd)
        return child.waitUntilExit()
    }

    static func readAll(_ fd: Int32) -> String {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        close(fd)
        return String(decoding: data, as: UTF8.self)
    }

    @Test("export --format jsonl and csv write into a socket or a pipe given as standard output, every row")
    func exportIntoSocketAndPipe() async throws {
        struct Outcome: Sendable { var what: String; var status: Int32; var lines: Int; var expected: Int; var stderr: String }
        // The processes are waited on off the test pool; the expectations are checked here, in the test.
        let outcomes = try await TestSupport.offPool { () throws -> [Outcome] in
            let dir = try ReportCommandTests.study()
            defer { try? FileManager.default.removeItem(at: dir) }
            let err = dir.appendingPathComponent("err.txt").path
            var out: [Outcome] = []
            for format in ["jsonl", "csv"] {
                for kind in ["socket", "pipe"] {
                    var fds: [Int32] = [-1, -1]
                    let made = kind == "socket" ? socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) : pipe(&fds)
                    guard made == 0 else { throw POSIXError(.EMFILE) }
                    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
                    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
                    let status = try Self.run(["export", dir.path, "--format", format], stdout: fds[1], stderr: err)
                    let got = Self.readAll(fds[0])
                    out.append(Outcome(what: "\(format) into a \(kind)", status: status, lines: got.split(separator: "\n").count,
                                       expected: format == "jsonl" ? 13 : 14, stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""))
                }
            }
            return out
        }
        #expect(outcomes.count == 4)
        for o in outcomes {
            #expect(o.status == 0, "\(o.what): exit \(o.status) \(o.stderr)")
            #expect(o.lines == o.expected, "\(o.what): \(o.lines) lines")
        }
    }

    @Test("a write that fails (a full device, a missing folder, a folder, standard output on /dev/full) is an error, exit 74",
          arguments: ["export", "report", "agree"])
    func writeFailures(command: String) throws {
        let dir = try ReportCommandTests.study()
        defer { try? FileManager.default.removeItem(at: dir) }
        let format = command == "report" ? "json" : (command == "agree" ? "json" : "jsonl")
        var targets = ["/dev/full", dir.appendingPathComponent("missing/out.txt").path, dir.path]
        if command == "agree" { targets = [] } // agree writes to standard output only
        for target in targets {
            let r = try TestSupport.run(Self.binary, [command, dir.path, "--format", format, "--out", target])
            #expect(r.status == 74, "\(command) --out \(target): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("cannot write \(target)"), "\(r.stderr)")
        }
        // Standard output on a full device.
        let err = dir.appendingPathComponent("err.txt").path
        let full = open("/dev/full", O_WRONLY | O_CLOEXEC)
        try #require(full >= 0)
        let status = try Self.run([command, dir.path, "--format", format], stdout: full, stderr: err)
        let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        #expect(status == 74, "\(command) > /dev/full: \(status) \(stderr)")
        #expect(stderr.contains("cannot write standard output"), "\(stderr)")
    }

    @Test("export --out replaces a file whole: a reader of the old file still has all of it, the new one is complete")
    func exportReplacesWhole() throws {
        let dir = try ReportCommandTests.study()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("ratings.csv").path
        let old = String(repeating: "old line\n", count: 1000)
        try old.write(toFile: out, atomically: false, encoding: .utf8)
        chmod(out, 0o640)
        let held = open(out, O_RDONLY | O_CLOEXEC)
        defer { close(held) }
        let r = try TestSupport.run(Self.binary, ["export", dir.path, "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        // The old file, still open, was not written into.
        #expect(Self.readAll(dup(held)) == old)
        let rows = try Self.parseCSV(out)
        #expect(rows.count == 14)
        var st = stat()
        #expect(stat(out, &st) == 0 && st.st_mode & 0o777 == 0o640, "the replaced file keeps its permissions")
        // Nothing is left beside it.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(left.isEmpty, "\(left)")
    }

    @Test("sessions, transcripts validate and scenarios list with standard output on a full device say so and exit 74, never 0",
          arguments: ["sessions", "sessions-json", "transcripts", "scenarios", "scenarios-json", "help"])
    func printedOutputOnFullDevice(command: String) throws {
        let dir = try ReportCommandTests.study()
        defer { try? FileManager.default.removeItem(at: dir) }
        let scenarios = TestSupport.packageRoot.appendingPathComponent("Scenarios").path
        let args: [String] = switch command {
        case "sessions": ["sessions", "--transcripts", dir.path]
        case "sessions-json": ["sessions", "--transcripts", dir.path, "--format", "json"]
        case "transcripts": ["transcripts", "validate", dir.path]
        case "scenarios": ["scenarios", "list", "--scenarios", scenarios]
        case "scenarios-json": ["scenarios", "list", "--scenarios", scenarios, "--format", "json"]
        default: ["--help"]
        }
        // The command's output, for comparison: it has something to write.
        let ok = try TestSupport.run(Self.binary, args)
        #expect(ok.status == 0, "\(args): \(ok.stderr)")
        #expect(!ok.stdout.isEmpty)
        let err = dir.appendingPathComponent("err.txt").path
        let full = open("/dev/full", O_WRONLY | O_CLOEXEC)
        try #require(full >= 0)
        let status = try Self.run(args, stdout: full, stderr: err)
        let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        #expect(status == 74, "\(args) > /dev/full: exit \(status) \(stderr)")
        #expect(stderr.contains("cannot write standard output"), "\(stderr)")
        #expect(stderr.split(separator: "\n").filter { $0.contains("cannot write standard output") }.count == 1, "one message: \(stderr)")
    }

    @Test("export and report into a pipe whose reader has gone (`| head -c 10`) say so and exit 74, not killed silently by SIGPIPE",
          arguments: [["export", "--format", "jsonl"], ["export", "--format", "csv"], ["report"], ["report", "--format", "json"], ["agree", "--format", "json"], ["sessions", "--transcripts"]])
    func closedPipe(args: [String]) async throws {
        struct Outcome: Sendable { var status: Int32; var stderr: String }
        let outcome = try await TestSupport.offPool { () throws -> Outcome in
            let dir = try ReportCommandTests.study()
            defer { try? FileManager.default.removeItem(at: dir) }
            let err = dir.appendingPathComponent("err.txt").path
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            // The reader is gone before the first write.
            close(fds[0])
            let full = args.last == "--transcripts" ? args + [dir.path] : [args[0], dir.path] + args.dropFirst()
            let status = try Self.run(full, stdout: fds[1], stderr: err)
            return Outcome(status: status, stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
        }
        #expect(outcome.status == 74, "\(args): exit \(outcome.status) \(outcome.stderr)")
        #expect(outcome.stderr.contains("cannot write standard output"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("Broken pipe"), "\(outcome.stderr)")
    }

    @Test("report --out with standard error on a pipe whose reader has gone still writes the file and succeeds (no crash on the 'wrote' line)")
    func closedStandardError() async throws {
        struct Outcome: Sendable { var status: Int32; var rows: Int }
        let outcome = try await TestSupport.offPool { () throws -> Outcome in
            let dir = try ReportCommandTests.study()
            defer { try? FileManager.default.removeItem(at: dir) }
            let out = dir.appendingPathComponent("report.json").path
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            close(fds[0])
            let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
            defer { close(null) }
            let child = try ChildProcess(path: Self.binary.path, arguments: ["report", dir.path, "--format", "json", "--out", out],
                                         environment: ProcessInfo.processInfo.environment, stdout: null, stderr: fds[1])
            close(fds[1])
            let status = child.waitUntilExit()
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            return Outcome(status: status, rows: text.split(separator: "\n").count)
        }
        #expect(outcome.status == 0, "exit \(outcome.status)")
        #expect(outcome.rows > 10)
    }
}
