/// Which of many things (session ids, session files) was met first, and where. Only the place
/// each was first met is kept, with 32 bits of the thing's hash, in 8 bytes a slot (a session id
/// kept whole cost about a hundred): the caller can give the thing at a place again, and a
/// hash that matches is checked against it, so two things that merely share a hash are both new.
struct FirstMet<Key: Hashable> {
    /// Open addressing: a slot holds the hash's 32 bits (high half), which also say where its
    /// search starts, and the place + 1 (low half); 0 is free.
    private var slots: [UInt64]
    private var count = 0
    private let hash: (Key) -> Int

    /// `capacity`: how many things are expected (the table is made that size at once, since
    /// growing holds the old table and the new one); `hash` is the thing's hash (a test gives
    /// one that collides).
    init(capacity: Int = 0, hash: @escaping (Key) -> Int = { $0.hashValue }) {
        slots = [UInt64](repeating: 0, count: Self.size(for: capacity))
        self.hash = hash
    }

    /// Slots for `n` things: a power of two, at most four fifths full.
    private static func size(for n: Int) -> Int {
        var size = 16
        while size * 4 < n * 5 { size *= 2 }
        return size
    }

    private func fingerprint(_ key: Key) -> UInt64 {
        // The hash folded to 32 bits and mixed (a test's hash may be a small number).
        let h = UInt64(UInt(bitPattern: hash(key)))
        return ((h ^ (h >> 32)) &* 0x9E37_79B9) & 0xFFFF_FFFF
    }

    /// The place `key` was first met, if it was. `keyAt` gives the thing at an earlier place
    /// again (nil if it is gone).
    func firstPlace(of key: Key, keyAt: (Int) -> Key?) -> Int? {
        let f = fingerprint(key), mask = slots.count - 1
        var i = Int(f) & mask
        while slots[i] != 0 {
            if slots[i] >> 32 == f {
                let place = Int(slots[i] & 0xFFFF_FFFF) - 1
                // A place that is gone (a folder removed meanwhile) is taken for the same thing:
                // sharing 32 bits of a hash by chance is far less likely than a copy.
                guard let earlier = keyAt(place) else { return place }
                if earlier == key { return place }
            }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Notes `key`, met at place `place` (below 2³² − 1), unless it was met before: then the
    /// place it was first met.
    mutating func insert(_ key: Key, at place: Int, keyAt: (Int) -> Key?) -> Int? {
        if let earlier = firstPlace(of: key, keyAt: keyAt) { return earlier }
        precondition(place >= 0 && place < Int(UInt32.max), "place out of range")
        count += 1
        if count * 5 > slots.count * 4 { grow() }
        put(fingerprint(key) << 32 | UInt64(place + 1))
        return nil
    }

    private mutating func put(_ slot: UInt64) {
        let mask = slots.count - 1
        var i = Int(slot >> 32) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = slot
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        for slot in old where slot != 0 { put(slot) }
    }
}
