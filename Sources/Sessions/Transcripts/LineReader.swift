import Foundation

/// Streams a file line by line without holding it whole in memory. Reports whether the
/// last line ended with a newline, which is how a torn write is recognised.
public enum LineReader {
    /// Calls `body` with each line (without its newline), its 1-based number and whether it
    /// was terminated. Stops early when `body` returns false. Each byte is scanned once, so a
    /// line of many megabytes costs what its bytes cost.
    public static func forEachLine(path: String, _ body: (_ line: Data, _ number: Int, _ terminated: Bool) throws -> Bool) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TranscriptError.notFound("cannot open \(path)")
        }
        defer { try? handle.close() }
        var pending = Data()
        // Bytes of `pending` already searched for a newline: a long line is not rescanned.
        var scanned = 0
        var number = 0
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            pending.append(chunk)
            var start = pending.startIndex
            var from = pending.startIndex + scanned
            while let nl = pending[from...].firstIndex(of: 0x0A) {
                number += 1
                if try !body(Data(pending[start..<nl]), number, true) { return }
                start = nl + 1
                from = start
            }
            if start > pending.startIndex { pending.removeSubrange(pending.startIndex..<start) }
            scanned = pending.count
        }
        if !pending.isEmpty {
            number += 1
            _ = try body(pending, number, false)
        }
    }
}
