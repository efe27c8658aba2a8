import Crypto
import Foundation

/// This machine's copy of a team store, which a command given `--store` works on: what the
/// person may read is pulled into it first, the command reads and writes it as it would any
/// folder (with the one session reader), and what it wrote is pushed back. It is also the
/// queue: an event saved while the store is away stays here, fsync'd, and the next push sends
/// it. One copy per store and person, so two people on one machine never share one.
public struct StoreCopy: Sendable, Equatable {
    /// Where the copies are kept, when not in `$XDG_DATA_HOME/interrogate/stores`.
    public static let environmentVariable = "INTERROGATE_STORE_COPIES"

    public let address: StoreAddress
    /// This store's copy: `transcripts/` and `studies/NAME/` as in a working folder.
    public let folder: String

    public init(address: StoreAddress, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.address = address
        folder = (Self.root(environment) as NSString).appendingPathComponent(Self.folderName(address))
    }

    public var transcriptsFolder: String { (folder as NSString).appendingPathComponent("transcripts") }
    public var studiesFolder: String { (folder as NSString).appendingPathComponent("studies") }
    public var transcripts: StoreCollection { .transcripts(root: transcriptsFolder) }
    public func study(_ name: String) -> StoreCollection {
        .study(name: name, folder: (studiesFolder as NSString).appendingPathComponent(name))
    }

    /// Creates the folder of `collection` in the copy when missing.
    public func prepare(_ collection: StoreCollection) throws(StoreError) {
        try TeamStore.ensureFolder(collection.isStudy ? (collection.folder as NSString).appendingPathComponent("transcripts") : collection.folder)
    }

    static func root(_ environment: [String: String]) -> String {
        if let set = environment[environmentVariable], !set.isEmpty { return set }
        let data = environment["XDG_DATA_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".local/share")
        return (data as NSString).appendingPathComponent("interrogate/stores")
    }

    /// Readable (`ana@db.lab.org_5432_interrogate`) and one per store and person: the parts a
    /// folder name cannot hold become `_`, and a digest of the exact address tells apart two
    /// addresses that would read the same.
    static func folderName(_ a: StoreAddress) -> String {
        let place = a.socketFolder ?? a.host
        let exact = [a.user, place, String(a.port), a.database].joined(separator: "\u{0}")
        let digest = SHA256.hash(data: Data(exact.utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
        let readable = "\(a.user)@\(place)_\(a.port)_\(a.database)".unicodeScalars.map { s -> String in
            (s.isASCII && (CharacterSet.alphanumerics.contains(s) || "@._-".unicodeScalars.contains(s))) ? String(s) : "_"
        }.joined()
        return String(readable.prefix(80)) + "-" + digest
    }
}
