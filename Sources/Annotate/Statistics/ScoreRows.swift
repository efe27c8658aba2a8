/// Transcripts' rows of scores (NaN where a score is not defined), each distinct row kept once
/// and each transcript as the number of its row. A transcript's scores are shares of a handful
/// of turns, so a study of any size has few distinct rows: a transcript then costs 4 bytes, not
/// the 8 a score it would cost laid out flat, and memory stays level as a study grows. Where
/// every row differs it costs a few bytes more than flat.
///
/// Rows are told apart by their bits: the values handed back are, bit for bit, those added.
public struct ScoreRows: Sendable {
    /// Scores per row.
    public let width: Int
    /// The distinct rows, flat, in the order first added.
    public private(set) var table: [Double] = []
    /// Per transcript, in the order added, the number of its row in `table`.
    public private(set) var rowOf: [UInt32] = []
    /// Open addressing by the row's hash: the number of a row + 1, or 0 where free.
    private var slots: [UInt32] = []

    public init(width: Int) {
        precondition(width > 0)
        self.width = width
    }

    /// Transcripts added.
    public var count: Int { rowOf.count }
    /// Distinct rows among them.
    public var distinct: Int { table.count / width }

    /// Score `s` of transcript `i`.
    public subscript(transcript i: Int, score s: Int) -> Double { table[Int(rowOf[i]) * width + s] }

    public mutating func append<C: Collection>(_ row: C) where C.Element == Double {
        precondition(row.count == width)
        if (distinct + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var slot = Self.hash(row) & mask
        while slots[slot] != 0 {
            let r = Int(slots[slot] - 1)
            if zip(row, table[(r * width)..<((r + 1) * width)]).allSatisfy({ $0.bitPattern == $1.bitPattern }) {
                rowOf.append(UInt32(r))
                return
            }
            slot = (slot + 1) & mask
        }
        // More distinct rows than UInt32 numbers would need more transcripts than memory holds.
        precondition(distinct < Int(UInt32.max), "too many distinct score rows")
        slots[slot] = UInt32(distinct + 1)
        rowOf.append(UInt32(distinct))
        table.append(contentsOf: row)
    }

    private mutating func grow() {
        let size = max(16, slots.count * 2)
        slots = [UInt32](repeating: 0, count: size)
        let mask = size - 1
        for r in 0..<distinct {
            var slot = Self.hash(table[(r * width)..<((r + 1) * width)]) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = UInt32(r + 1)
        }
    }

    /// FNV-style mixing of the bits: fixed, so the table's layout (not the figures, which never
    /// depend on it) is the same from run to run.
    private static func hash<C: Collection>(_ row: C) -> Int where C.Element == Double {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for v in row {
            h = (h ^ v.bitPattern) &* 0x0000_0100_0000_01B3
            h ^= h >> 29
        }
        return Int(truncatingIfNeeded: h ^ (h >> 32))
    }
}
