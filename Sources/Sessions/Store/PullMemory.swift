import Foundation

/// What a store's copy knew after its last pull, so that the next pull reads only the files
/// that changed: per file, the store's line count and newest line number (`interrogate_lines.id`,
/// the server's sequence) as this person saw them, and the copy's size and modification time once it held them. A file
/// whose store side and copy are as they were then has nothing to pull. It is only a shortcut:
/// lost or from another store, every file is read again.
struct PullMemory {
    struct Entry: Equatable {
        var fileID: Int
        var count: Int
        /// The newest line's number in the store; negated for a blind copy (the blind view's
        /// line number), so that the two are never taken for each other.
        var newest: Int
        var stamp: FileStamp
    }

    /// A file's size and modification time: a copy file changed in any way since (appended to,
    /// cut, rewritten even to the same length) is read again.
    struct FileStamp: Equatable {
        var size: Int64
        var modified: Int64
    }

    /// Which store (its first migration's time, the database's name and number): a store made
    /// again under the same name numbers its files afresh.
    var store: String
    var files: [String: Entry] = [:]

    static let fileName = ".interrogate-pulled"

    static func path(in folder: String) -> String { (folder as NSString).appendingPathComponent(fileName) }

    /// The memory kept in `folder` for `store`, or an empty one.
    static func read(folder: String, store: String) -> PullMemory {
        var memory = PullMemory(store: store)
        guard let data = FileManager.default.contents(atPath: path(in: folder)) else { return memory }
        var first = true
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: true) {
            guard let text = String(data: Data(line), encoding: .utf8) else { return PullMemory(store: store) }
            if first {
                first = false
                guard text == "store\t" + store else { return PullMemory(store: store) }
                continue
            }
            let parts = text.split(separator: "\t", maxSplits: 5, omittingEmptySubsequences: false)
            guard parts.count == 6, let id = Int(parts[0]), let count = Int(parts[1]), let newest = Int(parts[2]), let size = Int64(parts[3]),
                  let modified = Int64(parts[4]), id >= 0, count >= 0, size >= 0 else { return PullMemory(store: store) }
            memory.files[String(parts[5])] = Entry(fileID: id, count: count, newest: newest, stamp: FileStamp(size: size, modified: modified))
        }
        return memory
    }

    /// Written beside its place and renamed into place; a failure only costs the next pull time.
    func write(folder: String) {
        var text = "store\t\(store)\n"
        for (path, e) in files.sorted(by: { $0.key < $1.key }) where !path.contains("\n") {
            text += "\(e.fileID)\t\(e.count)\t\(e.newest)\t\(e.stamp.size)\t\(e.stamp.modified)\t\(path)\n"
        }
        let target = Self.path(in: folder)
        let temp = target + ".\(getpid())"
        guard FileManager.default.createFile(atPath: temp, contents: Data(text.utf8)) else { return }
        if rename(temp, target) != 0 { unlink(temp) }
    }

    static func stamp(of path: String) -> FileStamp? {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        #if canImport(Darwin)
        let time = st.st_mtimespec
        #else
        let time = st.st_mtim
        #endif
        return FileStamp(size: Int64(st.st_size), modified: Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec))
    }
}
