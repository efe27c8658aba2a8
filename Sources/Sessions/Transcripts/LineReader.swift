import Foundation

/// Streams a file line by line without holding it whole in memory. Reports whether the
/// last line ended with a newline, which is how a torn write is recognised.
public enum LineReader {
    /// Calls `body` with each line (without its newline), its 1-based number and whether it
    /// was terminated. Stops early when `body` returns false. Each byte is scanned once, so a
    /// line of many megabytes costs what its bytes cost.
    public static func forEachLine(path: String, _ body: (_ line: Data, _ number: Int, _ terminated: Bool) throws -> Bool) throws {
        try forEachLineBytes(path: path) { bytes, number, terminated in try body(Data(bytes), number, terminated) }
    }

    /// The same, lending each line's bytes in place (valid only during the call): a reader of a
    /// study copies nothing it does not keep.
    public static func forEachLineBytes(path: String, _ body: (_ line: UnsafeRawBufferPointer, _ number: Int, _ terminated: Bool) throws -> Bool) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw TranscriptError.notFound("cannot open \(path)") }
            throw TranscriptError.system("cannot open \(path)", code)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TranscriptError.system("cannot read \(path)", errno) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw TranscriptError.invalid("\(path) is a folder where a transcript file should be") }
        // A regular file is read up to the size it had when opened (what an append finishes
        // later is the next reader's), which spares the read that would only confirm its end;
        // anything else, or a file that says it is empty, is read until it ends.
        let size: Int? = (st.st_mode & S_IFMT) == S_IFREG && st.st_size > 0 ? Int(st.st_size) : nil
        // Sized to the file (a study's transcripts are a few kilobytes); not zero-filled first.
        var buffer = [UInt8](unsafeUninitializedCapacity: min(max((size ?? 0) + 1, 4096), 1 << 16)) { buf, count in count = buf.count }
        var total = 0
        // Bytes [0, filled) hold data; [0, start) was handed out already; [start, scanned) has no newline.
        var filled = 0
        var start = 0
        var scanned = 0
        var number = 0
        while true {
            if start > 0 {
                // Keep the unfinished line at the front.
                let pending = filled - start
                buffer.withUnsafeMutableBytes { raw in
                    if pending > 0 { memmove(raw.baseAddress!, raw.baseAddress! + start, pending) }
                }
                filled = pending
                scanned -= start
                start = 0
            }
            if let size, total >= size { break }
            if filled == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            let n = buffer.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress! + filled, raw.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TranscriptError.system("cannot read \(path)", errno)
            }
            if n == 0 { break }
            filled += n
            total += n
            let stop: Bool = try buffer.withUnsafeBytes { raw in
                let base = raw.baseAddress!
                while scanned < filled {
                    guard let nl = memchr(base + scanned, 0x0A, filled - scanned) else { scanned = filled; break }
                    let end = base.distance(to: UnsafeRawPointer(nl))
                    number += 1
                    if try !body(UnsafeRawBufferPointer(start: base + start, count: end - start), number, true) { return true }
                    start = end + 1
                    scanned = start
                }
                return false
            }
            if stop { return }
        }
        if filled > start {
            number += 1
            _ = try buffer.withUnsafeBytes { raw in
                try body(UnsafeRawBufferPointer(start: raw.baseAddress! + start, count: filled - start), number, false)
            }
        }
    }
}
