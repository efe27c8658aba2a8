import Foundation

/// A JSON Schema turned into typed nodes once, answering only "is this valid?". Looking up
/// keywords in the schema's own JSON for every value, and building a pointer and a message for
/// every branch tried, was most of the time of reading a study; messages are built only for the
/// rare invalid line, by `JSONSchema.validate`, which must reach the same verdict (a test
/// checks both on generated values).
struct CompiledSchema: Sendable {
    fileprivate struct TypeSet: OptionSet, Sendable {
        let rawValue: UInt8
        static let null = TypeSet(rawValue: 1), boolean = TypeSet(rawValue: 2), integer = TypeSet(rawValue: 4)
        static let number = TypeSet(rawValue: 8), string = TypeSet(rawValue: 16), array = TypeSet(rawValue: 32)
        static let object = TypeSet(rawValue: 64)

        init(rawValue: UInt8) { self.rawValue = rawValue }
        init(name: String) {
            switch name {
            case "null": self = .null
            case "boolean": self = .boolean
            case "integer": self = .integer
            case "number": self = .number
            case "string": self = .string
            case "array": self = .array
            case "object": self = .object
            default: self = []
            }
        }
    }

    // A class: a node is read once per value checked, and copying a struct of this many
    // collections cost a retain and release for each of them.
    private final class Node: @unchecked Sendable {
        // @unchecked: filled in while the schema is compiled, read-only afterwards.
        var always: Bool?
        var ref: Int?
        /// A `$ref` that resolves to nothing: never valid, as `validate` reports it.
        var brokenRef = false
        var types: TypeSet?
        var enumeration: [JSONValue]?
        var constant: JSONValue?
        var required: [String] = []
        /// Properties with a `const`, checked first: they tell the branches of if/oneOf apart.
        var discriminators: [(String, JSONValue)] = []
        var properties: [String: Int] = [:]
        /// The same, with keys as bytes, for checking a tape.
        var tapeDiscriminators: [(StaticBytes, JSONValue)] = []
        var tapeProperties: [(StaticBytes, Int)] = []
        var tapeRequired: [StaticBytes] = []
        var additional: Int?
        var items: Int?
        var minItems: Double?
        var uniqueItems = false
        var minLength: Double?
        var pattern: JSONSchema.Pattern?
        var minimum: Double?
        var maximum: Double?
        var allOf: [Int] = []
        /// The `allOf` entries of the form `{if: {properties: {K: {const: C}}}, then: T}` with one
        /// key K (a discriminated union, as the transcript schema's event types are): on an
        /// object that has K, only the `then` whose C equals its value can apply, so it is found
        /// by one lookup instead of trying every `if`.
        var dispatch: (key: StaticBytes, cases: [(value: JSONValue, then: Int)])?
        /// `allOf` entries not in `dispatch`.
        var allOfRest: [Int] = []
        var anyOf: [Int]?
        var oneOf: [Int]?
        var not: Int?
        var condition: (if: Int, then: Int?, else: Int?)?
    }

    private var nodes: [Node] = []
    private let root: Int

    init(root schema: JSONValue, patterns: [String: JSONSchema.Pattern]) {
        var builder = Builder(root: schema, patterns: patterns)
        root = builder.node(schema)
        nodes = builder.nodes
    }

    private struct Builder {
        let root: JSONValue
        let patterns: [String: JSONSchema.Pattern]
        var nodes: [Node] = []
        /// A `$ref` target's node, made once (and so a schema that refers to itself terminates).
        var refNodes: [String: Int] = [:]

        mutating func node(_ schema: JSONValue) -> Int {
            let index = nodes.count
            let n = Node()
            nodes.append(n)
            if case .bool(let b) = schema { n.always = b; return index }
            guard case .object(let s) = schema else { n.always = true; return index }
            if case .string(let r)? = s["$ref"] {
                if let known = refNodes[r] { n.ref = known }
                else if let target = Self.resolve(r, in: root) {
                    let slot = nodes.count
                    refNodes[r] = slot
                    n.ref = node(target)
                } else { n.brokenRef = true }
            }
            if let t = s["type"] {
                switch t {
                case .string(let one): n.types = TypeSet(name: one)
                case .array(let many): n.types = many.compactMap(\.string).reduce(into: TypeSet()) { $0.formUnion(TypeSet(name: $1)) }
                default: n.types = []
                }
            }
            if case .array(let options)? = s["enum"] { n.enumeration = options }
            n.constant = s["const"]
            if case .array(let req)? = s["required"] { n.required = req.compactMap(\.string) }
            if case .object(let props)? = s["properties"] {
                for (name, sub) in props.sorted(by: { $0.key < $1.key }) {
                    if case .object(let o) = sub, o.count == 1, let c = o["const"] { n.discriminators.append((name, c)) }
                    n.properties[name] = node(sub)
                }
            }
            n.tapeDiscriminators = n.discriminators.map { (StaticBytes($0.0), $0.1) }
            n.tapeProperties = n.properties.sorted { $0.key < $1.key }.map { (StaticBytes($0.key), $0.value) }
            n.tapeRequired = n.required.map { StaticBytes($0) }
            if let extra = s["additionalProperties"] { n.additional = node(extra) }
            if let items = s["items"] { n.items = node(items) }
            n.minItems = s["minItems"]?.number
            if case .bool(true)? = s["uniqueItems"] { n.uniqueItems = true }
            n.minLength = s["minLength"]?.number
            if case .string(let p)? = s["pattern"] { n.pattern = patterns[p] }
            n.minimum = s["minimum"]?.number
            n.maximum = s["maximum"]?.number
            if case .array(let subs)? = s["allOf"] {
                n.allOf = subs.map { node($0) }
                var key: String?
                var cases: [(JSONValue, Int)] = []
                for (sub, index) in zip(subs, n.allOf) {
                    if case .object(let o) = sub, o.count == 2, case .object(let cond)? = o["if"], cond.count == 1,
                       case .object(let props)? = cond["properties"], props.count == 1, let (k, p) = props.first,
                       case .object(let c) = p, c.count == 1, let value = c["const"], o["then"] != nil,
                       key == nil || key == k, let then = nodes[index].condition?.then {
                        key = k
                        cases.append((value, then))
                    } else {
                        n.allOfRest.append(index)
                    }
                }
                if let key, cases.count > 1 { n.dispatch = (StaticBytes(key), cases) } else { n.allOfRest = n.allOf }
            }
            if case .array(let subs)? = s["anyOf"] { n.anyOf = subs.map { node($0) } }
            if case .array(let subs)? = s["oneOf"] { n.oneOf = subs.map { node($0) } }
            if let not = s["not"] { n.not = node(not) }
            if let cond = s["if"] {
                let i = node(cond)
                n.condition = (i, s["then"].map { node($0) }, s["else"].map { node($0) })
            }
            return index
        }

        static func resolve(_ ref: String, in root: JSONValue) -> JSONValue? {
            guard ref.hasPrefix("#/") else { return nil }
            var node: JSONValue? = root
            for part in ref.dropFirst(2).split(separator: "/") {
                node = node?[String(part).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")]
            }
            return node
        }
    }

    func isValid(_ value: JSONValue) -> Bool { valid(value, root) }

    private func valid(_ value: JSONValue, _ index: Int) -> Bool {
        let n = nodes[index]
        if let always = n.always { return always }
        if n.brokenRef { return false }
        if let r = n.ref, !valid(value, r) { return false }
        if let types = n.types, !types.admits(value) { return false }
        if let options = n.enumeration, !options.contains(where: { JSONSchema.equal($0, value) }) { return false }
        if let c = n.constant, !JSONSchema.equal(c, value) { return false }
        switch value {
        case .object(let o):
            for (name, c) in n.discriminators {
                if let v = o[name], !JSONSchema.equal(c, v) { return false }
            }
            for name in n.required where o[name] == nil { return false }
            if let extra = n.additional {
                for (k, v) in o {
                    if let p = n.properties[k] { if !valid(v, p) { return false } }
                    else if !valid(v, extra) { return false }
                }
            } else if !n.properties.isEmpty {
                for (k, p) in n.properties { if let v = o[k], !valid(v, p) { return false } }
            }
        case .array(let a):
            if let items = n.items { for v in a where !valid(v, items) { return false } }
            if let m = n.minItems, Double(a.count) < m { return false }
            if n.uniqueItems {
                for i in a.indices { for j in a.indices where j > i && JSONSchema.equal(a[i], a[j]) { return false } }
            }
        case .string(let s):
            if let m = n.minLength, Double(s.unicodeScalars.count) < m { return false }
            if let p = n.pattern, !p.matches(s) { return false }
        case .int, .double:
            let x = value.number!
            if let m = n.minimum, x < m { return false }
            if let m = n.maximum, x > m { return false }
        default: break
        }
        for sub in n.allOf where !valid(value, sub) { return false }
        if let subs = n.anyOf, !subs.contains(where: { valid(value, $0) }) { return false }
        if let subs = n.oneOf {
            var passed = 0
            for sub in subs where valid(value, sub) { passed += 1; if passed > 1 { return false } }
            if passed != 1 { return false }
        }
        if let not = n.not, valid(value, not) { return false }
        if let (i, t, e) = n.condition {
            if valid(value, i) { if let t, !valid(value, t) { return false } }
            else if let e, !valid(value, e) { return false }
        }
        return true
    }
}

// MARK: - Checking a tape

extension CompiledSchema {
    /// The same verdict as `isValid(_:)` on the tape's value, without building it.
    func isValid(_ tape: JSONTape) -> Bool { valid(tape, 0, root) }

    private func valid(_ tape: JSONTape, _ t: Int, _ index: Int) -> Bool {
        let n = nodes[index]
        if let always = n.always { return always }
        if n.brokenRef { return false }
        if let r = n.ref, !valid(tape, t, r) { return false }
        let token = tape.tokens[t]
        if let types = n.types, !types.admits(tape, t) { return false }
        if let options = n.enumeration, !options.contains(where: { equal(tape, t, $0) }) { return false }
        if let c = n.constant, !equal(tape, t, c) { return false }
        switch token.kind {
        case .object:
            for (name, c) in n.tapeDiscriminators {
                if let v = tape.member(t, name), !equal(tape, v, c) { return false }
            }
            for name in n.tapeRequired where tape.member(t, name) == nil { return false }
            if let extra = n.additional {
                var k = t + 1
                for _ in 0..<token.count {
                    let v = k + 1
                    if let p = n.tapeProperties.first(where: { tape.keyEquals(k, $0.0.bytes, hash: $0.0.hash) })?.1 {
                        if !valid(tape, v, p) { return false }
                    } else if !valid(tape, v, extra) { return false }
                    k = Int(tape.tokens[v].next)
                }
            } else {
                for (name, p) in n.tapeProperties {
                    if let v = tape.member(t, name), !valid(tape, v, p) { return false }
                }
            }
        case .array:
            let items = tape.items(t)
            if let node = n.items { for i in items where !valid(tape, i, node) { return false } }
            if let m = n.minItems, Double(items.count) < m { return false }
            if n.uniqueItems, items.count > 1 {
                let values = items.map { tape.value($0) }
                for i in values.indices { for j in values.indices where j > i && JSONSchema.equal(values[i], values[j]) { return false } }
            }
        case .string:
            if let m = n.minLength {
                if Double(tape.scalarCount(t)) < m { return false }
            }
            if let p = n.pattern {
                let verdict = token.flag ? nil : p.fast?.matches(tape.raw(t).assumingMemoryBound(to: UInt8.self))
                if !(verdict ?? p.matches(tape.string(t))) { return false }
            }
        case .number:
            guard let x = tape.double(t) else { return false }
            if let m = n.minimum, x < m { return false }
            if let m = n.maximum, x > m { return false }
        default: break
        }
        if let d = n.dispatch, token.kind == .object, let v = tape.member(t, d.key) {
            for c in d.cases where equal(tape, v, c.value) { if !valid(tape, t, c.then) { return false } }
            for sub in n.allOfRest where !valid(tape, t, sub) { return false }
        } else {
            for sub in n.allOf where !valid(tape, t, sub) { return false }
        }
        if let subs = n.anyOf, !subs.contains(where: { valid(tape, t, $0) }) { return false }
        if let subs = n.oneOf {
            var passed = 0
            for sub in subs where valid(tape, t, sub) { passed += 1; if passed > 1 { return false } }
            if passed != 1 { return false }
        }
        if let not = n.not, valid(tape, t, not) { return false }
        if let (i, th, e) = n.condition {
            if valid(tape, t, i) { if let th, !valid(tape, t, th) { return false } }
            else if let e, !valid(tape, t, e) { return false }
        }
        return true
    }

    /// JSON equality of a tape value and a schema's value, as `JSONSchema.equal`.
    private func equal(_ tape: JSONTape, _ t: Int, _ v: JSONValue) -> Bool {
        let token = tape.tokens[t]
        switch (token.kind, v) {
        case (.string, .string(let s)):
            if token.flag { return tape.string(t) == s }
            var s = s
            return s.withUTF8 { tape.stringEquals(t, UnsafeRawBufferPointer($0)) }
        case (.number, _):
            guard let y = v.number, let x = tape.double(t) else { return false }
            return x == y
        case (.bool, .bool(let b)): return token.flag == b
        case (.null, .null): return true
        case (.array, .array), (.object, .object): return JSONSchema.equal(tape.value(t), v)
        default: return false
        }
    }
}

fileprivate extension CompiledSchema.TypeSet {
    func admits(_ tape: JSONTape, _ t: Int) -> Bool {
        let token = tape.tokens[t]
        switch token.kind {
        case .null: return contains(.null)
        case .bool: return contains(.boolean)
        case .number:
            if contains(.number) { return true }
            guard contains(.integer) else { return false }
            if token.flag { return true }
            guard let d = tape.double(t) else { return false }
            return d.isFinite && d.rounded() == d
        case .string: return contains(.string)
        case .array: return contains(.array)
        case .object: return contains(.object)
        }
    }

    func admits(_ value: JSONValue) -> Bool {
        switch value {
        case .null: contains(.null)
        case .bool: contains(.boolean)
        case .int: contains(.integer) || contains(.number)
        case .double(let d): contains(.number) || (contains(.integer) && d.isFinite && d.rounded() == d)
        case .string: contains(.string)
        case .array: contains(.array)
        case .object: contains(.object)
        }
    }
}
