import Annotate
import Foundation
import Testing
import TestSupport
@testable import Sessions

/// Mutated copies of real files (the example study, the shipped scenarios, a ratings CSV) fed
/// to every reader: none may crash or hang, and every problem names its file and line.
/// Seeded, so a failure is reproduced by its trial number.
@Suite("Readers on mutated files")
struct ReaderFuzzTests {
    static let oddTexts: [[UInt8]] = [
        Array("9223372036854775807".utf8), Array("9223372036854775808".utf8), Array("-9223372036854775809".utf8),
        Array("1e309".utf8), Array("-1".utf8), Array("0".utf8), Array("null".utf8), Array("[]".utf8), Array("{}".utf8),
        Array("\"\"".utf8), Array("é".utf8), Array("e\u{301}".utf8), Array("👩🏽‍🚀".utf8), Array("🇫🇷".utf8), Array("\u{202E}".utf8),
        Array("\u{FEFF}".utf8), [0x00], [0xC3, 0x28], [0xFF], [0x1B, 0x5B, 0x32, 0x4A], Array("\r".utf8), Array("\n".utf8),
        Array("\\u0000".utf8), Array("\\ud800".utf8), Array("\"labels\":[\"fabrication\",\"candid\"]".utf8),
    ]

    /// One mutation of `bytes`: a byte changed, a range cut or repeated, lines swapped, an odd
    /// value put in place of a number or a string, or the file cut short.
    static func mutate(_ bytes: [UInt8], _ r: inout SplitMix64) -> [UInt8] {
        guard !bytes.isEmpty else { return oddTexts.randomElement(using: &r)! }
        var b = bytes
        let i = Int.random(in: 0..<b.count, using: &r)
        switch Int.random(in: 0..<8, using: &r) {
        case 0: b[i] = UInt8.random(in: 0...255, using: &r)
        case 1: b.removeSubrange(i..<min(b.count, i + Int.random(in: 1...200, using: &r)))
        case 2: let j = min(b.count, i + Int.random(in: 1...400, using: &r)); b.insert(contentsOf: b[i..<j], at: j)
        case 3:
            var lines = b.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
            if lines.count > 2 { lines.swapAt(Int.random(in: 0..<lines.count, using: &r), Int.random(in: 0..<lines.count, using: &r)) }
            b = Array(lines.joined(separator: [0x0A]))
        case 4:
            // A number in the file replaced by an extreme or odd value.
            if let start = b[i...].firstIndex(where: { (0x30...0x39).contains($0) }) {
                let end = b[start...].firstIndex { !(0x30...0x39).contains($0) } ?? b.count
                b.replaceSubrange(start..<end, with: oddTexts.randomElement(using: &r)!)
            }
        case 5:
            // A string value replaced.
            if let q = b[i...].firstIndex(of: 0x22), let q2 = b[(q + 1)...].firstIndex(of: 0x22) {
                b.replaceSubrange(q...q2, with: oddTexts.randomElement(using: &r)!)
            }
        case 6: b.insert(contentsOf: oddTexts.randomElement(using: &r)!, at: i)
        default: b.removeSubrange(i...)
        }
        return b
    }

    static func copyExamples(to dir: URL) throws -> [URL] {
        let examples = TestSupport.packageRoot.appendingPathComponent("transcripts/examples")
        let names = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { !$0.hasPrefix(".") }.sorted()
        return try names.map { name in
            let to = dir.appendingPathComponent(name)
            try FileManager.default.copyItem(at: examples.appendingPathComponent(name), to: to)
            return to
        }
    }

    @Test("1,500 mutated session, review and adjudication files: no crash, every problem with its file and line, each session counted or left out")
    func transcriptReaders() throws {
        var r = SplitMix64(seed: 20_261_129)
        let validator = try TranscriptValidator()
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sessions = try Self.copyExamples(to: dir)
        try #require(!sessions.isEmpty)
        var files: [URL] = []
        for s in sessions {
            files.append(s.appendingPathComponent("session.jsonl"))
            for sub in ["reviews", "adjudications"] {
                let d = s.appendingPathComponent(sub)
                for name in (try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? [] { files.append(d.appendingPathComponent(name)) }
            }
        }
        let originals = try files.map { try [UInt8](Data(contentsOf: $0)) }
        var leftOut = 0
        for trial in 0..<1500 {
            let k = Int.random(in: 0..<files.count, using: &r)
            var bytes = originals[k]
            for _ in 0..<Int.random(in: 1...3, using: &r) { bytes = Self.mutate(bytes, &r) }
            try Data(bytes).write(to: files[k])
            defer { try? Data(originals[k]).write(to: files[k]) }
            let folder = files[k].lastPathComponent == "session.jsonl" ? files[k].deletingLastPathComponent()
                : files[k].deletingLastPathComponent().deletingLastPathComponent()

            for p in validator.validate(path: files[k].path) {
                #expect(p.file == files[k].path && p.line >= 0 && !p.message.isEmpty, "trial \(trial): \(p)")
            }
            if let s = try? Session.load(folder: folder.path) {
                for p in s.problems { #expect(p.file.hasPrefix(folder.path) && p.line >= 0 && !p.message.isEmpty, "trial \(trial): \(p)") }
            }
            var counted = 0
            let out = StudyReader.forEachSession(under: [folder.path]) { _ in counted += 1 }
            #expect(counted + out.count == 1, "trial \(trial): counted \(counted), left out \(out)")
            leftOut += out.count
        }
        // The mutations must mostly damage something, or the test exercised nothing.
        #expect(leftOut > 750, "only \(leftOut) of 1500 mutated sessions were left out")
    }

    @Test("500 mutated scenarios: no crash, every error with file, line and column")
    func scenarioReader() throws {
        var r = SplitMix64(seed: 7)
        let dir = TestSupport.packageRoot.appendingPathComponent("Scenarios")
        let texts = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
            .map { try [UInt8](Data(contentsOf: dir.appendingPathComponent($0))) }
        var rejected = 0
        for trial in 0..<500 {
            var bytes = texts[trial % texts.count]
            for _ in 0..<Int.random(in: 1...3, using: &r) { bytes = Self.mutate(bytes, &r) }
            let text = String(decoding: bytes, as: UTF8.self)
            do { _ = try ScenarioLoader.parse(text, path: "fuzz.yaml") } catch {
                rejected += 1
                for e in error.errors { #expect(e.file == "fuzz.yaml" && e.line >= 1 && e.column >= 1 && !e.message.isEmpty, "trial \(trial): \(e)") }
            }
        }
        #expect(rejected > 100)
    }

    @Test("500 mutated ratings CSV files: no crash, every error with file and line")
    func ratingsReader() throws {
        var r = SplitMix64(seed: 11)
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ratings.csv").path
        var csv = "unit,rater,label\n"
        for u in 0..<30 { for rater in ["alice", "bob", "carol"] { csv += "u\(u),\(rater),\(["candid", "refusal", "deflection", "fabrication"][(u + rater.count) % 4])\n" } }
        csv += "\"u,quoted\",bob,\"candid\"\n"
        let original = Array(csv.utf8)
        for trial in 0..<500 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &r) { bytes = Self.mutate(bytes, &r) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                let ratings = try RatingSources.csv(path: path)
                #expect(ratings.allSatisfy { !$0.unit.isEmpty && !$0.rater.isEmpty }, "trial \(trial): a rating with an empty unit or rater")
            } catch {
                for e in error.errors { #expect(e.file == path && e.line >= 1 && !e.message.isEmpty, "trial \(trial): \(e)") }
            }
        }
    }

    @Test("the fast ratings reader gives the same matrix, or the same error, as the general one on 1,000 mutated files, read whole or in two halves at once")
    func fastRatingsReaderAgrees() async throws {
        // Off the test pool: a second of reading holds no thread that replies wait on.
        try await TestSupport.offPool { try Self.fastRatingsReaderAgreesBody() }
    }

    static func fastRatingsReaderAgreesBody() throws {
        var r = SplitMix64(seed: 12)
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ratings.csv").path
        // No quotes: the fast reader takes it, until a mutation brings one in.
        var csv = "\u{FEFF}rater , unit,label\r\n"
        for u in 0..<20 { for rater in ["alice", "bob", "carol"] { csv += "\(rater), u\(u % 17) ,\(["candid", "refusal", "deflection", "fabrication", ""][(u * 7 + rater.count) % 5])\n" } }
        csv += ",u3,candid\n\n  ,  ,  \nbob,u99\n"
        // A second file whose rows all have their columns, with CRLF line ends, names first met in
        // its second half out of order, and an empty rater there: so that the halves are merged.
        var second = "unit,rater,label\r\n"
        for u in 0..<12 { second += "u\(u),alice,candid\r\n" }
        for u in [40, 17, 33, 21, 5, 38, 12, 29] { second += "u\(u),\(["dave", "bob", "erin"][u % 3]),\(["fabrication", "refusal", "candid"][u % 3])\r\n" }
        let originals = [Array(csv.utf8), Array((second + "u7,,candid\r\n\r\nu40,alice,deflection\r").utf8), Array((second + "\r\nu40,alice,deflection\r").utf8)]
        func outcome(_ read: () throws -> RatingMatrix) -> String {
            do { let m = try read(); return "\(m.units) \(m.raters) \(m.categories) \(Array(m.values.map { Array($0) }))" } catch {
                return "error: \(error)"
            }
        }
        for trial in 0..<1000 {
            var bytes = originals[trial % 3]
            for _ in 0..<Int.random(in: 0...3, using: &r) { bytes = Self.mutate(bytes, &r) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let order: [String]? = trial % 3 == 0 ? ["candid", "refusal", "deflection", "transformation", "fabrication"] : nil
            let fast = outcome { try RatingSources.csvMatrix(path: path, order: order) }
            let general = outcome { try RatingMatrix(ratings: try RatingSources.csv(path: path), order: order) }
            #expect(fast == general, "trial \(trial)")
            // Read in two halves at once, as a large file is.
            let halves = outcome { try RatingSources.csvMatrix(path: path, order: order, splitAbove: 0) }
            #expect(halves == general, "trial \(trial), in two halves")
        }
    }
}
