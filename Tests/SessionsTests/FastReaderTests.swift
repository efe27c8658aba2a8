import Annotate
import CSV
import Foundation
import Testing
import TestSupport
@testable import Sessions

/// The study reader's fast parts are checked against the slow, well-known ones they replaced:
/// Foundation's JSON parser, the schema walked as JSON, ICU's regular expressions, Foundation's
/// ISO 8601 parser, the Codable events, and the CSV.swift library. If one of them disagrees, a
/// study's figures would count a line the validator rejects, or lose one it accepts.
@Suite("Fast readers agree with the references")
struct FastReaderTests {
    static func exampleLines() throws -> [[UInt8]] {
        let root = TestSupport.packageRoot.appendingPathComponent("transcripts/examples")
        var lines: [[UInt8]] = []
        let files = FileManager.default.enumerator(atPath: root.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".jsonl") }.sorted()
        for f in files {
            let data = try Data(contentsOf: root.appendingPathComponent(f))
            lines += data.split(separator: 0x0A).map(Array.init)
        }
        return lines
    }

    /// A line of the example study, mutated up to twice (or not at all).
    static func mutated(_ lines: [[UInt8]], _ r: inout SplitMix64) -> [UInt8] {
        var bytes = lines[r.below(lines.count)]
        for _ in 0..<r.below(3) { bytes = ReaderFuzzTests.mutate(bytes, &r) }
        return bytes
    }

    /// Foundation's verdict and value, the reference.
    static func foundation(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    @Test("the JSON parsers accept only what Foundation accepts, read the same values, and refuse keys given twice")
    func parsersMatchFoundation() throws {
        var r = SplitMix64(seed: 20261130)
        let lines = try Self.exampleLines()
        var checked = 0, rejected = 0
        for trial in 0..<3000 {
            let bytes = Self.mutated(lines, &r)
            let parsed = try? JSONParser.parse(Data(bytes))
            let tapeValue = bytes.withUnsafeBytes { raw in (try? JSONTape(raw))?.value(0) }
            #expect(parsed == tapeValue, "trial \(trial): the tape and the parser differ on \(String(decoding: bytes, as: UTF8.self))")
            if let parsed {
                // Whatever we accept, Foundation reads as the same value.
                #expect(Self.foundation(bytes).map { JSONSchema.equal($0, parsed) } == true,
                        "trial \(trial): Foundation disagrees on \(String(decoding: bytes, as: UTF8.self))")
                checked += 1
            } else {
                rejected += 1
            }
        }
        #expect(checked > 100 && rejected > 100)
        for text in [#"{"a":1,"a":2}"#, #"{"a":1,"\u0061":2}"#, #"{"rater":"x","rater":"y"}"#] {
            #expect(throws: JSONParseError.self) { try JSONParser.parse(Data(text.utf8)) }
            #expect(Array(text.utf8).withUnsafeBytes { (try? JSONTape($0)) == nil })
        }
        for text in [#""\ud800""#, "\"\u{01}\"", "01", "1.", "[1,]", "{\"a\":1}x", "1e999", #""\x""#] {
            #expect(throws: JSONParseError.self, "\(text)") { try JSONParser.parse(Data(text.utf8)) }
            #expect(Array(text.utf8).withUnsafeBytes { (try? JSONTape($0)) == nil }, "\(text)")
        }
        #expect(try JSONParser.parse(Data(#"{"s":"\ud83d\ude00 \u00e9\n","n":-12,"d":2.5e1,"b":[true,false,null]}"#.utf8))
                == .object(["s": .string("😀 é\n"), "n": .int(-12), "d": .double(25), "b": .array([.bool(true), .bool(false), .null])]))
    }

    @Test("a string is read as Foundation reads it wherever in it a quote, escape, control character or non-ASCII byte falls")
    func stringsReadAtEveryOffset() throws {
        // The tape skips plain text a word of 8 bytes at a time: each special byte is tried at
        // every position of two words, and as the string's last byte.
        let specials: [[UInt8]] = [[0x22], Array(#"\""#.utf8), Array(#"\\"#.utf8), Array(#"\u00e9"#.utf8), Array(#"\ud83d\ude00"#.utf8),
                                   Array(#"\n"#.utf8), [0x00], [0x01], [0x0A], [0x1F], [0x7F], Array("é".utf8), Array("😀".utf8),
                                   [0xC3], [0xFF], [0x80], Array(#"\x"#.utf8), [0x5C]]
        var accepted = 0, refused = 0
        for special in specials {
            for before in 0...17 {
                for after in [0, 1, 7, 8, 9] {
                    let text = Array(#"{"k":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: before) + special
                        + Array(repeating: UInt8(ascii: "b"), count: after) + Array(#""}"#.utf8)
                    // The value is taken while the bytes are lent: a tape points into them.
                    let read = text.withUnsafeBytes { raw in (try? JSONTape(raw))?.value(0) }
                    let reference = Self.foundation(text)
                    #expect((read != nil) == (reference != nil), "\(special) after \(before) bytes: the tape \(read == nil ? "refused" : "read") \(String(decoding: text, as: UTF8.self))")
                    if let read, let reference {
                        #expect(JSONSchema.equal(read, reference), "\(special) after \(before) bytes")
                        accepted += 1
                    } else {
                        refused += 1
                    }
                }
            }
        }
        #expect(accepted > 500 && refused > 500)
        for length in 0...20 {
            let plain = String(repeating: "x", count: length)
            let text = Array("[\"\(plain)\",\"\(plain)é\"]".utf8)
            let value = text.withUnsafeBytes { try? JSONTape($0).value(0) }
            #expect(value == .array([.string(plain), .string(plain + "é")]), "length \(length)")
        }
    }

    @Test("lines parsed one after another into the same token room read as each line parsed alone, refused lines and long ones included")
    func reusedTokenRoom() throws {
        var r = SplitMix64(seed: 17)
        let lines = try Self.exampleLines()
        let storage = JSONTape.Storage()
        var read = 0
        for trial in 0..<2000 {
            // Now and then a line of many tokens, which makes the room grow.
            let bytes = trial % 50 == 0 ? Array("[\(Array(repeating: "{\"a\":[1,2,\"x\"]}", count: 40 + trial / 10).joined(separator: ","))]".utf8)
                : Self.mutated(lines, &r)
            let alone = bytes.withUnsafeBytes { raw in Result { () throws(JSONParseError) in try JSONTape(raw).value(0) } }
            let shared = bytes.withUnsafeBytes { raw in Result { () throws(JSONParseError) in try JSONTape(raw, into: storage).value(0) } }
            #expect(alone == shared, "trial \(trial): \(String(decoding: bytes, as: UTF8.self))")
            if case .success = shared { read += 1 }
        }
        #expect(read > 500)
    }

    @Test("a key is found exactly when its object has it, among few or many keys, written plainly or with escapes")
    func keysFoundExactly() throws {
        var r = SplitMix64(seed: 11)
        let names = (0..<80).map { "key_\($0)" } + ["v", "seq", "ts", "type", "text", "é", ""]
        for trial in 0..<300 {
            // Up to 60 keys: more than the 32 bits that tell most absent keys apart.
            let chosen = Array(names.shuffled(using: &r).prefix(r.below(61)))
            let written = chosen.enumerated().map { i, name in
                // Some keys spelled with a \u escape for their first character.
                let key = i % 3 == 0 && name.first.map({ $0.isASCII }) == true
                    ? String(format: "\\u%04x", Int(name.unicodeScalars.first!.value)) + String(name.dropFirst()) : name
                return "\"\(key)\":\(i)"
            }
            let text = Array("{\(written.joined(separator: ","))}".utf8)
            try text.withUnsafeBytes { raw in
                let tape = try JSONTape(raw)
                for name in names {
                    let found = tape.member(0, StaticBytes(name)).flatMap { tape.int($0) }
                    #expect(found == chosen.firstIndex(of: name), "trial \(trial): '\(name)' in \(String(decoding: text, as: UTF8.self))")
                }
            }
        }
    }

    @Test("bytes compare equal exactly when they are, whatever their length and wherever one differs")
    func bytesCompared() {
        for count in 0...40 {
            let a = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            // Read from inside larger buffers, so that a read past `count` would see a difference.
            let before: [UInt8] = [1, 2, 3], after: [UInt8] = Array(repeating: 0xEE, count: 9)
            let x = before + a + after
            #expect(x.withUnsafeBytes { ra in (before.map { ~$0 } + a + after.map { ~$0 }).withUnsafeBytes { rb in
                JSONTape.bytesEqual(ra.baseAddress! + 3, rb.baseAddress! + 3, count) } }, "\(count) bytes")
            for i in 0..<count {
                for flip: UInt8 in [0x01, 0x80] {
                    var b = a
                    b[i] ^= flip
                    let y = before + b + after
                    #expect(!x.withUnsafeBytes { ra in y.withUnsafeBytes { rb in JSONTape.bytesEqual(ra.baseAddress! + 3, rb.baseAddress! + 3, count) } },
                            "\(count) bytes, byte \(i) differs")
                }
            }
        }
    }

    @Test("a key is found exactly when searched from where the last search ended, in any order, with searches of another object between")
    func keysFoundFromTheCursor() throws {
        var r = SplitMix64(seed: 13)
        // A name with a backslash is written escaped: its written bytes are another name's.
        let names = (0..<40).map { "key_\($0)" } + ["v", "seq", "ts", "type", "text", "é", "", "back\\slash", "back\\\\slash"]
        for trial in 0..<200 {
            let objects = (0..<2).map { _ in Array(names.shuffled(using: &r).prefix(r.below(41))) }
            // Most objects' keys sorted, as writers write them; some in any order.
            let keys = objects.map { trial % 4 == 0 ? $0 : $0.sorted() }
            let written: [String] = keys.map { o in
                // Some keys spelled with a \u escape for their first character.
                let pairs: [String] = o.enumerated().map { i, name in
                    let escaped = name.replacingOccurrences(of: "\\", with: "\\\\")
                    let key = i % 4 == 1 && name.first.map({ $0.isASCII && $0 != "\\" }) == true
                        ? String(format: "\\u%04x", Int(name.unicodeScalars.first!.value)) + String(escaped.dropFirst()) : escaped
                    return "\"\(key)\":\(i)"
                }
                return "{" + pairs.joined(separator: ",") + "}"
            }
            let text = Array(("[" + written.joined(separator: ",") + "]").utf8)
            try text.withUnsafeBytes { raw in
                let tape = try JSONTape(raw)
                let starts = [1, Int(tape.tokens[1].next)]
                var cursor = JSONTape.Cursor()
                for _ in 0..<120 {
                    let o = r.below(5) == 0 ? 1 : 0
                    // Mostly the keys in the order written; sometimes any key, present or not.
                    let name = r.below(3) == 0 || keys[o].isEmpty ? names[r.below(names.count)] : keys[o][r.below(keys[o].count)]
                    let key = StaticBytes(name)
                    let found = tape.member(starts[o], key.bytes, cursor: &cursor).flatMap { tape.int($0) }
                    #expect(found == keys[o].firstIndex(of: name), "trial \(trial): '\(name)' in \(String(decoding: text, as: UTF8.self))")
                }
            }
        }
    }

    /// `value` as JSON text with each object's keys in an order drawn from `r`.
    static func shuffledText(_ value: JSONValue, _ r: inout SplitMix64) -> String {
        switch value {
        case .object(let o):
            let pairs = o.keys.sorted().shuffled(using: &r).map { k in "\(shuffledText(.string(k), &r)):\(shuffledText(o[k]!, &r))" }
            return "{\(pairs.joined(separator: ","))}"
        case .array(let a): return "[\(a.map { shuffledText($0, &r) }.joined(separator: ","))]"
        default: return String(decoding: try! JSONEncoder().encode(value), as: UTF8.self)
        }
    }

    @Test("the compiled schema gives the verdict of the schema walked as JSON, on values and on tapes, whatever order the keys are written in")
    func compiledSchemaMatchesTheWalk() throws {
        let schema = try #require(TranscriptReader.schema)
        var r = SplitMix64(seed: 7)
        // Writers sort keys, and the compiled schema searches properties from the last key
        // found: the same line with its keys in any order gets the same verdict.
        var order = SplitMix64(seed: 29)
        let lines = try Self.exampleLines()
        var valid = 0, invalid = 0
        for trial in 0..<4000 {
            let bytes = Self.mutated(lines, &r)
            guard let value = try? JSONParser.parse(Data(bytes)) else { continue }
            let reference = schema.diagnose(value).isEmpty
            #expect(schema.isValid(value) == reference, "trial \(trial): \(String(decoding: bytes, as: UTF8.self))")
            for text in [bytes, Array(Self.shuffledText(value, &order).utf8)] {
                let onTape = text.withUnsafeBytes { raw in (try? JSONTape(raw)).map { schema.isValid($0) } }
                #expect(onTape == reference, "trial \(trial): \(String(decoding: text, as: UTF8.self))")
            }
            if reference { valid += 1 } else { invalid += 1 }
        }
        #expect(valid > 200 && invalid > 200)
    }

    @Test("a schema whose values refer to other schemas, through one or more $refs or with keywords beside one, gives the walk's verdict on tapes")
    func schemaOfReferencesMatchesTheWalk() throws {
        // Refs to refs to a leaf, a ref with its own enum beside it, refs under items,
        // additionalProperties, anyOf, not and if/then/else, leaves of every keyword a leaf may
        // have, and each keyword a leaf may not have alone beside a bare $ref to a leaf: the
        // compiled schema skips a bare $ref and checks leaves apart. A long enum makes its
        // constants' numbers those of nodes too.
        let long = (0..<40).map(String.init).joined(separator: ", ")
        let defs = #"""
           "code": {"type": "string", "pattern": "^[a-z]{2,4}$"},
           "alias": {"$ref": "#/$defs/code"},
           "alias2": {"$ref": "#/$defs/alias"},
           "small": {"type": ["integer", "null"], "minimum": 0, "maximum": 10},
           "pair": {"type": "object", "required": ["a"], "additionalProperties": {"$ref": "#/$defs/alias"},
                    "properties": {"a": {"$ref": "#/$defs/alias2"}, "b": {"$ref": "#/$defs/small"}}},
           "refWithMore": {"$ref": "#/$defs/small", "enum": [1, 2, 3, null]},
           "word": {"enum": ["x", "yy", 3]},
           "fixed": {"const": "k"},
           "nowhere": {"$ref": "#/$defs/missing"},
           "many": {"enum": [\#(long), "x"]},
           "top": {
             "type": "object",
             "properties": {
               "p": {"$ref": "#/$defs/pair"},
               "q": {"type": "array", "items": {"$ref": "#/$defs/alias2"}, "minItems": 1},
               "r": {"$ref": "#/$defs/refWithMore"},
               "s": {"anyOf": [{"$ref": "#/$defs/word"}, {"$ref": "#/$defs/fixed"}]},
               "t": {"not": {"$ref": "#/$defs/alias2"}},
               "u": {"minLength": 2},
               "w": {"if": {"$ref": "#/$defs/small"}, "then": {"$ref": "#/$defs/refWithMore"}, "else": {"$ref": "#/$defs/alias"}},
               "x": {"oneOf": [{"$ref": "#/$defs/alias2"}, {"$ref": "#/$defs/word"}]},
               "y": {"$ref": "#/$defs/nowhere"},
               "m": {"$ref": "#/$defs/many"},
               "k1": {"minItems": 1},
               "k2": {"items": {"$ref": "#/$defs/alias"}},
               "k3": {"additionalProperties": false},
               "k4": {"properties": {"a": {"$ref": "#/$defs/small"}}},
               "k5": {"required": ["a"]},
               "k6": {"uniqueItems": true},
               "k7": {"allOf": [{"$ref": "#/$defs/small"}]},
               "k8": false,
               "k9": true,
               "k10": {"properties": {"a": {"const": "x"}}},
               "k11": {"allOf": [{"if": {"properties": {"a": {"const": "x"}}}, "then": {"required": ["b"]}},
                                 {"if": {"properties": {"a": {"const": "yy"}}}, "then": {"required": ["c"]}}]},
               "k12": {"$ref": "#/$defs/alias2", "minItems": 1}}}
        """#
        // Behind a root that is only a $ref, and under a root's allOf.
        let schemas = try [##"{"$defs": {"## + defs + ##"}, "$ref": "#/$defs/top"}"##,
                           ##"{"$defs": {"## + defs + ##"}, "allOf": [{"$ref": "#/$defs/top"}]}"##].map { try JSONSchema(data: Data($0.utf8)) }
        let keys = ["p", "q", "r", "s", "t", "u", "w", "x", "y", "m"] + (1...12).map { "k\($0)" }
        var r = SplitMix64(seed: 11)
        let scalars: [JSONValue] = [.string("ab"), .string("abcde"), .string("A"), .string("k"), .string("x"), .string("yy"),
                                    .string("é"), .string(""), .int(0), .int(3), .int(11), .int(39), .int(-1), .double(2.5), .double(3.0), .null, .bool(true)]
        func value(_ depth: Int) -> JSONValue {
            switch depth > 1 ? 0 : r.below(6) {
            case 4: return .array((0..<r.below(3)).map { _ in value(depth + 1) })
            case 5: return .object(Dictionary(uniqueKeysWithValues: ["a", "b", "c"].filter { _ in r.below(2) == 0 }.map { ($0, value(depth + 1)) }))
            default: return scalars[r.below(scalars.count)]
            }
        }
        for schema in schemas {
            var valid = 0, invalid = 0
            for trial in 0..<4000 {
                // Each key present an eighth of the time ("y" and "k8" rarely: they are never valid).
                let present = keys.filter { $0 == "y" || $0 == "k8" ? r.below(40) == 0 : r.below(8) == 0 }
                let line = JSONValue.object(Dictionary(uniqueKeysWithValues: present.map { ($0, value(0)) }))
                let reference = schema.diagnose(line).isEmpty
                #expect(schema.isValid(line) == reference, "trial \(trial): \(line)")
                let bytes = Array(Self.shuffledText(line, &r).utf8)
                let onTape = bytes.withUnsafeBytes { raw in (try? JSONTape(raw)).map { schema.isValid($0) } }
                #expect(onTape == reference, "trial \(trial): \(String(decoding: bytes, as: UTF8.self))")
                if reference { valid += 1 } else { invalid += 1 }
            }
            #expect(valid > 300 && invalid > 300, "valid \(valid), invalid \(invalid)")
        }
    }

    @Test("a folder is listed as Foundation lists it, however many entries and whatever their names, with each entry's type; a missing folder or a file is said to be so")
    func foldersListedAsFoundationLists() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Enough long names that listing takes several reads of the folder.
        var made: [String: UInt8] = [:]
        for i in 0..<700 {
            let name = String(repeating: "n", count: 1 + i % 200) + "-\(i)" + ["", " space", "-é", "😀", ".jsonl", "\u{0301}"][i % 6]
            if i % 10 == 0 {
                try FileManager.default.createDirectory(at: dir.appendingPathComponent(name), withIntermediateDirectories: false)
                made[name] = UInt8(DT_DIR)
            } else if i % 10 == 1 {
                try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(name).path, withDestinationPath: "nowhere")
                made[name] = UInt8(DT_LNK)
            } else {
                try Data("x".utf8).write(to: dir.appendingPathComponent(name))
                made[name] = UInt8(DT_REG)
            }
        }
        for hidden in [".hidden", "..x"] { try Data().write(to: dir.appendingPathComponent(hidden)); made[hidden] = UInt8(DT_REG) }
        var listed: [String: UInt8] = [:]
        var count = 0
        try StudyReader.forEachEntry(in: dir.path) { name, type in
            listed[String(decoding: name, as: UTF8.self)] = type
            count += 1
        }
        #expect(count == made.count, "each entry once, \".\" and \"..\" left out")
        #expect(Set(listed.keys) == Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)))
        // A file system that does not say a type says DT_UNKNOWN, which readers then ask about.
        #expect(listed.allSatisfy { name, type in type == made[name] || type == UInt8(DT_UNKNOWN) })
        #expect(try StudyReader.names(in: dir.appendingPathComponent(made.first { $0.value == UInt8(DT_DIR) }!.key).path).isEmpty)

        #expect(throws: TranscriptError.self) { try StudyReader.names(in: dir.appendingPathComponent("absent").path) }
        do { _ = try StudyReader.names(in: dir.appendingPathComponent("absent").path); Issue.record("listed a missing folder") }
        catch { if case .notFound = error {} else { Issue.record("\(error)") } }
        let file = dir.appendingPathComponent(made.first { $0.value == UInt8(DT_REG) }!.key).path
        do { _ = try StudyReader.names(in: file); Issue.record("listed a file") }
        catch { if case .system(_, ENOTDIR) = error {} else { Issue.record("\(error)") } }

        // A folder removed while it is listed (a rater's reviews/ deleted as a study is read)
        // ends there, as readdir ends it, rather than failing the session.
        let going = dir.appendingPathComponent("going")
        try FileManager.default.createDirectory(at: going, withIntermediateDirectories: false)
        try Data().write(to: going.appendingPathComponent("a.jsonl"))
        var seen: [String] = []
        try StudyReader.forEachEntry(in: going.path) { name, _ in
            seen.append(String(decoding: name, as: UTF8.self))
            try? FileManager.default.removeItem(at: going)
        }
        #expect(seen == ["a.jsonl"])
    }

    @Test("schema patterns match as ICU matches them, on printable text and on anything else")
    func patternsMatchICU() throws {
        let patterns = [
            #"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})$"#,
            "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", "^[a-z0-9][a-z0-9-]*$", "^[0-9a-f]{64}$", "a|b+c?", "(ab)*x$", "^$", "[.-]",
            "^(judge:)?[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", "^t[0-9]{1,9}$", "(a|ab)(c|bcd)(d*)", "x{2,}y?$|^zz",
        ]
        var r = SplitMix64(seed: 3)
        let alphabet = Array("0123456789abcdefxyzAZ-_.:+TZ é\n\t".unicodeScalars)
        for p in patterns {
            let fast = try #require(ASCIIPattern(p), "\(p) is in the subset")
            let walking = try #require(ASCIIPattern(p, tableStates: 0))
            let icu = try NSRegularExpression(pattern: p)
            var samples = ["2026-11-28T10:15:30.123Z", "2026-11-28T10:15:30+01:00", "s000001", "a", "", "abc\n", String(repeating: "a", count: 64)]
            for _ in 0..<400 {
                var s = String.UnicodeScalarView()
                for _ in 0..<r.below(30) { s.append(alphabet[r.below(alphabet.count)]) }
                samples.append(String(s))
                // Near misses of a real value.
                var t = Array(samples[r.below(4)].unicodeScalars)
                if !t.isEmpty { t[r.below(t.count)] = alphabet[r.below(alphabet.count)] }
                samples.append(String(String.UnicodeScalarView(t)))
            }
            for s in samples {
                let expected = icu.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
                let pattern = JSONSchema.Pattern(regex: icu, ascii: fast)
                #expect(pattern.matches(s) == expected, "\(p) on \(s.debugDescription)")
                if let verdict = fast.matches(s) { #expect(verdict == expected, "\(p) on \(s.debugDescription)") }
                #expect(walking.matches(s) == fast.matches(s), "without the table: \(p) on \(s.debugDescription)")
            }
        }
        for unsupported in ["[^a]", "a{2,1}", "(?i)a", "a*?", "(?=a)", #"(a)\1"#, #"[\b]"#, "(a?)*", #"\x41"#, "é", "^*",
                            "[0-9--5]", "[a-z--aeiou]", "[+--/]", #"[\.-9]"#, #"[\--z]"#, "[:digit:]", "[:alpha:]"] {
            #expect(ASCIIPattern(unsupported) == nil, "\(unsupported)")
        }
    }

    @Test("timestamps read by hand are the dates Foundation reads, and what Foundation refuses is refused")
    func timestampsMatchFoundation() {
        var r = SplitMix64(seed: 11)
        let strategy = Date.ISO8601FormatStyle().year().month().day().dateSeparator(.dash)
            .time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted)
        for _ in 0..<2000 {
            let date = Date(timeIntervalSince1970: Double(r.below(4_000_000_000)) + Double(r.below(1000)) / 1000)
            let text = TranscriptCoding.formatTimestamp(date)
            let reference = try? Date(text, strategy: strategy)
            #expect(Timestamp.parse(text) == reference, "\(text)")
        }
        for text in ["2026-11-28T10:15:30Z", "2026-11-28T10:15:30+01:00", "2026-11-28T10:15:30.5-0230", "2024-02-29T00:00:00.000Z"] {
            let reference = try? Date(text, strategy: .iso8601)
            #expect(reference != nil && Timestamp.parse(text).map { abs($0.timeIntervalSince(reference!)) < 0.000_001 } == true, "\(text)")
        }
        for text in ["2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-28T24:00:00Z", "2026-11-28 10:15:30Z", "2026-11-28T10:15:30", "x"] {
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
    }

    @Test("every event written by the encoder is read back equal by the tape reader")
    func eventsRoundTrip() throws {
        let encoder = TranscriptCoding.encoder()
        let header = SessionHeader(sessionId: "s1", annotator: "ann",
                                   scenario: .init(id: "x", title: "T \"q\"", path: "p", sha256: String(repeating: "0", count: 64), content: "line\n\ttab é 😀",
                                                   condition: .control, systemPrompt: "keep\u{1B}[2J it"),
                                   model: .init(provider: "openai", name: "m", baseUrl: "http://127.0.0.1:8080/v1",
                                                parameters: .init(temperature: 0.25, topP: 1, maxTokens: 64, seed: -3, stop: ["\n"], logprobs: true, topLogprobs: 2)))
        let at = Date(timeIntervalSince1970: 1_764_300_000.123)
        let bodies: [EventBody] = [
            .header(header),
            .message(.init(index: 0, role: .interrogator, text: "q")),
            .message(.init(index: 1, role: .model, text: "a", status: .error, reasoning: "r", finishReason: "stop", error: "e",
                           modelReported: "m2", firstTokenMs: 12.5, totalMs: 40, usage: .init(promptTokens: 3, completionTokens: nil))),
            .annotation(.init(messageIndex: 1, rater: "ann", annotation: Annotation(labels: LabelSet([.fabrication, .deflection]),
                                                                                  leak: LeakDecision(suggested: true, confirmed: false, matches: ["x"]), note: "n"))),
            .resumed(.init(annotator: "bob")), .recovery(.init(tornLine: 3, tornBytes: 9)), .sessionEnd(.init(reason: "quit")),
            .review(.init(sessionId: "s1", rater: "bob", purpose: .review, ownSession: true)),
            .adjudication(.init(messageIndex: 1, rater: "zoe", labels: LabelSet([.candid]), leak: LeakDecision(suggested: false, confirmed: true),
                                reason: "why", ratings: [.init(rater: "ann", labels: LabelSet([.refusal]), leak: false)])),
            .judgementFailed(.init(messageIndex: 1, rater: "judge:m", error: "no labels", raw: "{", attempts: 2)),
        ]
        for (i, body) in bodies.enumerated() {
            let event = TranscriptEvent(seq: i + 1, timestamp: at, body: body)
            let bytes = Array(try encoder.encode(event))
            let read = try bytes.withUnsafeBytes { raw in try TranscriptEvent(tape: JSONTape(raw)) }
            #expect(read.body == event.body, "\(body.type)")
            #expect(read.seq == event.seq && abs(read.timestamp.timeIntervalSince(at)) < 0.001)
            let decoded = try TranscriptCoding.decoder().decode(TranscriptEvent.self, from: Data(bytes))
            #expect(decoded.body == read.body, "\(body.type): Codable and the tape reader differ")
            // The same line with every string value's first letter written as a \u escape
            // (a type, a role, a status, a label told from their bytes included).
            let escaped = Array(Self.escapedText(try JSONParser.parse(Data(bytes))).utf8)
            #expect(escaped != bytes)
            let readEscaped = try escaped.withUnsafeBytes { raw in try TranscriptEvent(tape: JSONTape(raw)) }
            #expect(readEscaped.body == event.body, "\(String(decoding: escaped, as: UTF8.self))")
        }
        // A type this version does not know is kept by its name, escaped or not.
        for (type, name) in [("mystery", "mystery"), ("mes\\u0073ages", "messages"), ("\\u006dessage", "message")] {
            let line = #"{"seq":2,"ts":"2026-11-28T00:00:04Z","type":""# + type + #"","v":1,"index":0,"role":"interrogator","text":"q"}"#
            let read = try Array(line.utf8).withUnsafeBytes { raw in try TranscriptEvent(tape: JSONTape(raw)) }
            if name == "message" { #expect(read.body == .message(.init(index: 0, role: .interrogator, text: "q"))) }
            else { #expect(read.body == .unknown(type: name), "\(line)") }
        }
    }

    /// `value` as JSON text with the first character of each string value (not key) that is
    /// an ASCII letter written as a `\u` escape.
    static func escapedText(_ value: JSONValue) -> String {
        switch value {
        case .object(let o):
            let pairs = o.keys.sorted().map { k in "\(String(decoding: try! JSONEncoder().encode(k), as: UTF8.self)):\(escapedText(o[k]!))" }
            return "{\(pairs.joined(separator: ","))}"
        case .array(let a): return "[\(a.map(escapedText).joined(separator: ","))]"
        case .string(let s):
            let plain = String(decoding: try! JSONEncoder().encode(s), as: UTF8.self)
            guard let first = s.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return plain }
            return "\"" + String(format: "\\u%04x", Int(first.value)) + plain.dropFirst(2)
        default: return String(decoding: try! JSONEncoder().encode(value), as: UTF8.self)
        }
    }

    @Test("a list of labels that is not all strings is said to be so, whatever comes first in it; an unknown label is named")
    func labelListErrors() throws {
        func error(_ labels: String) -> String? {
            let line = #"{"v":1,"seq":4,"ts":"2026-11-28T00:00:04Z","type":"annotation","message_index":1,"rater":"ann","labels":"# + labels
                + #","leak":{"suggested":false,"confirmed":false,"matches":[]}}"#
            return Array(line.utf8).withUnsafeBytes { raw in
                do { _ = try TranscriptEvent(tape: JSONTape(raw)); return nil } catch { return "\(error)" }
            }
        }
        #expect(error(#"["bogus",1]"#)?.contains("wrong type at 'labels': expected an array of strings") == true)
        #expect(error(#"[1,"bogus"]"#)?.contains("wrong type at 'labels': expected an array of strings") == true)
        #expect(error(#"["fabrication","bogus"]"#)?.contains("'bogus' is not a label") == true)
        #expect(error(#"["fabrication","\u0064eflection","fabrication"]"#) == nil)
    }

    @Test("CSV rows read as the CSV.swift library reads them, quotes, line breaks and spaces included; a stray quote is an error, not a guess")
    func csvRowsMatchTheLibrary() throws {
        var r = SplitMix64(seed: 5)
        let pieces = ["u1", "ann", "fabrication", " spaced ", "\"q,uoted\"", "\"multi\nline\"", "\"say \"\"hi\"\"\"", "", "é", "  \"x\"  "]
        for trial in 0..<500 {
            var text = ""
            let rowCount = 1 + r.below(6)
            for row in 0..<rowCount {
                text += (0..<3).map { _ in pieces[r.below(pieces.count)] }.joined(separator: ",")
                text += r.chance(30) ? "\r\n" : (row == rowCount - 1 && r.chance(30) ? "" : "\n")
            }
            let reference = try? CSVReader(string: text, hasHeaderRow: false, trimFields: true).map { $0 }
            var bytes = Array(text.utf8)
            let ours: [[String]]? = bytes.withUnsafeMutableBufferPointer { buffer in
                var rows = CSVRows(UnsafeBufferPointer(buffer))
                var out: [[String]] = []
                do throws(CSVRows.Failure) { while let (f, _) = try rows.next() { out.append(f) } } catch { return nil }
                return out
            }
            #expect(ours != nil && ours == reference, "trial \(trial): \(text.debugDescription)")
        }
        // CSV.swift reads a quote inside an unquoted field as text; a ratings file with one is
        // damaged (a lost line break, a bad export), and its line is reported instead.
        var stray = Array("unit,rater,label\nu1,ann,fab\"rication\n".utf8)
        let failure: CSVRows.Failure? = stray.withUnsafeMutableBufferPointer { b in
            var rows = CSVRows(UnsafeBufferPointer(b))
            do throws(CSVRows.Failure) { while try rows.next() != nil {} } catch { return error }
            return nil
        }
        #expect(failure?.line == 2)
    }
}
