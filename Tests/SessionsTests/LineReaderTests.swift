import Foundation
import Testing
import TestSupport
@testable import Sessions

@Suite("Reading transcript lines")
struct LineReaderTests {
    @Test("lines longer than a read chunk, many short lines in one chunk, and a torn last line come back whole and numbered")
    func linesAcrossChunks() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.jsonl").path
        // 3.5 MB, then 3 short lines, then exactly one chunk, then a torn fragment.
        let long = String(repeating: "a", count: 3_500_000)
        let chunk = String(repeating: "b", count: 1 << 20)
        let expected = [long, "x", "", "yz", chunk]
        try (expected.joined(separator: "\n") + "\ntorn").write(toFile: path, atomically: true, encoding: .utf8)
        var got: [(String, Int, Bool)] = []
        try LineReader.forEachLine(path: path) { data, n, terminated in
            got.append((String(decoding: data, as: UTF8.self), n, terminated))
            return true
        }
        #expect(got.map(\.0) == expected + ["torn"])
        #expect(got.map(\.1) == Array(1...6))
        #expect(got.map(\.2) == [true, true, true, true, true, false])
    }
}
