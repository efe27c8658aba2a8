/// Which of many things (session ids, session files) was met first, and where: each thing kept
/// as its hash with the number of the place it was first met (12 bytes, where a session id kept
/// whole cost about a hundred). A hash met again is no verdict: the thing at the earlier place
/// is asked for again and compared, so two things that merely share a hash are both new.
struct FirstMet<Key: Hashable> {
    private var first: [Int: UInt32] = [:]
    /// Further places whose things share a hash with the first's (almost never any).
    private var more: [Int: [UInt32]] = [:]
    private let hash: (Key) -> Int

    /// `hash` is the thing's hash (a test gives one that collides).
    init(capacity: Int = 0, hash: @escaping (Key) -> Int = { $0.hashValue }) {
        // Made its full size at once: growing, it held the old table and the new one.
        if capacity > 0 { first.reserveCapacity(capacity) }
        self.hash = hash
    }

    /// The place `key` was first met, if it was.
    func firstPlace(of key: Key, keyAt: (Int) -> Key?) -> Int? {
        let h = hash(key)
        guard let earliest = first[h] else { return nil }
        for candidate in [earliest] + (more[h] ?? []) {
            // A place that is gone (a folder removed meanwhile) is taken for the same thing:
            // sharing a hash by chance is far less likely than a copy.
            guard let earlier = keyAt(Int(candidate)) else { return Int(candidate) }
            if earlier == key { return Int(candidate) }
        }
        return nil
    }

    /// Notes `key`, met at place `at` (below 2³²), unless it was met before: then the place it
    /// was first met. `keyAt` gives the thing at an earlier place again (nil if it is gone).
    mutating func insert(_ key: Key, at place: Int, keyAt: (Int) -> Key?) -> Int? {
        if let earlier = firstPlace(of: key, keyAt: keyAt) { return earlier }
        let h = hash(key)
        if first[h] == nil { first[h] = UInt32(place) } else { more[h, default: []].append(UInt32(place)) }
        return nil
    }
}
