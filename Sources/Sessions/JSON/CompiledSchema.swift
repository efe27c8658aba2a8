import Foundation

/// A JSON Schema turned into typed nodes once, answering only "is this valid?". Looking up
/// keywords in the schema's own JSON for every value, and building a pointer and a message for
/// every branch tried, was most of the time of reading a study; messages are built only for the
/// rare invalid line, by `JSONSchema.validate`, which must reach the same verdict (a test
/// checks both on generated values).
struct CompiledSchema: Sendable {
    struct TypeSet: OptionSet, Sendable {
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
    fileprivate final class Node: @unchecked Sendable {
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

    private let nodes: [Node]
    private let root: Int
    private let flat: FlatSchema

    init(root schema: JSONValue, patterns: [String: JSONSchema.Pattern]) {
        var builder = Builder(root: schema, patterns: patterns)
        root = builder.node(schema)
        nodes = builder.nodes
        flat = FlatSchema(nodes: builder.nodes)
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
    func isValid(_ tape: JSONTape) -> Bool {
        withExtendedLifetime(flat) { flat.program.valid(tape, 0, Int32(root)) }
    }
}

/// The compiled nodes again, as plain values in buffers that live as long as the schema: every
/// line of a study is checked against them from every core at once, and reading a node or one
/// of its lists then touches no reference count (a shared count is a cache line the cores pass
/// back and forth; with class nodes and arrays that was most of the check's time).
final class FlatSchema: @unchecked Sendable {
    // @unchecked: written in init, read-only afterwards, freed in deinit.
    struct Span { var start: Int32 = 0, count: Int32 = -1 }
    struct Key { var bytes: UnsafeRawBufferPointer; var hash: UInt32 }
    /// A schema constant (`const`, `enum`, a discriminator) as a tape value is compared with it.
    struct Constant {
        var kind: JSONTape.Kind
        var bytes: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
        var number = 0.0
        var flag = false
        /// Arrays and objects: an index into `values`, compared the slow way.
        var value: Int32 = -1
    }
    struct Node {
        var always: Int8 = -1
        var brokenRef = false
        var uniqueItems = false
        var types: UInt8 = 0
        var hasTypes = false
        var ref: Int32 = -1, additional: Int32 = -1, items: Int32 = -1, not: Int32 = -1
        var conditionIf: Int32 = -1, conditionThen: Int32 = -1, conditionElse: Int32 = -1
        var pattern: Int32 = -1
        var constant: Int32 = -1
        var dispatchKey: Int32 = -1
        /// Into `ints`: constant indices (enumeration), node indices (the rest).
        var enumeration = Span(), allOf = Span(), allOfRest = Span(), anyOf = Span(), oneOf = Span()
        /// Into `pairs`: (key, constant) for discriminators, (key, node) for properties,
        /// (constant, node) for dispatch cases.
        var discriminators = Span(), properties = Span(), dispatch = Span()
        /// Into `keys`.
        var required = Span()
        /// The required keys as bits of `properties` (bit p: the p-th property), when every
        /// required key is one of at most 64 properties: found while the properties are checked.
        var requiredMask: UInt64 = 0
        var requiredByMask = false
        var minItems = Double.nan, minimum = Double.nan, maximum = Double.nan
        /// In scalars (a count is below `minLength` exactly when below its ceiling); -1 for none.
        var minLength = -1
        /// Only checks of the value itself (type, enum, const, length, pattern, bounds): most
        /// values of a line meet such a node, and checking them needs none of the rest.
        var leaf = false

        /// Whether every keyword outside a leaf's is absent.
        var isLeaf: Bool {
            always < 0 && !brokenRef && !uniqueItems && ref < 0 && additional < 0 && items < 0 && not < 0
                && conditionIf < 0 && dispatchKey < 0 && allOf.count <= 0 && allOfRest.count <= 0
                && anyOf.count < 0 && oneOf.count < 0 && discriminators.count <= 0 && properties.count <= 0
                && required.count <= 0 && minItems.isNaN
        }

        /// Whether this node is a `$ref` and nothing else, so that it holds exactly where its target holds.
        var isOnlyRef: Bool {
            var bare = self
            bare.ref = -1
            return ref >= 0 && bare.isLeaf && !bare.hasTypes && bare.enumeration.count < 0 && bare.constant < 0
                && bare.pattern < 0 && bare.minLength < 0 && bare.minimum.isNaN && bare.maximum.isNaN
        }
    }

    struct Program {
        let nodes: UnsafeMutableBufferPointer<Node>
        let ints: UnsafeMutableBufferPointer<Int32>
        let pairs: UnsafeMutableBufferPointer<(Int32, Int32)>
        let keys: UnsafeMutableBufferPointer<Key>
        let constants: UnsafeMutableBufferPointer<Constant>
        let patterns: UnsafeMutableBufferPointer<JSONSchema.Pattern>
        /// The same patterns, kept alive by `patterns`.
        let patternRefs: UnsafeMutableBufferPointer<Unmanaged<JSONSchema.Pattern>>
        let values: UnsafeMutableBufferPointer<JSONValue>
    }

    let program: Program

    fileprivate init(nodes source: [CompiledSchema.Node]) {
        var nodes: [Node] = [], ints: [Int32] = [], pairs: [(Int32, Int32)] = [], keys: [Key] = []
        var constants: [Constant] = [], patterns: [JSONSchema.Pattern] = [], values: [JSONValue] = []
        // Keys and string constants point into `StaticBytes`, which are never freed.
        func key(_ b: StaticBytes) -> Int32 {
            keys.append(Key(bytes: b.bytes, hash: b.hash))
            return Int32(keys.count - 1)
        }
        func constant(_ v: JSONValue) -> Int32 {
            switch v {
            case .string(let s): constants.append(Constant(kind: .string, bytes: StaticBytes(s).bytes))
            case .int, .double: constants.append(Constant(kind: .number, number: v.number!))
            case .bool(let b): constants.append(Constant(kind: .bool, flag: b))
            case .null: constants.append(Constant(kind: .null))
            case .array, .object:
                values.append(v)
                constants.append(Constant(kind: { if case .array = v { .array } else { .object } }(), value: Int32(values.count - 1)))
            }
            return Int32(constants.count - 1)
        }
        func list(_ xs: [Int32]) -> Span {
            defer { ints += xs }
            return Span(start: Int32(ints.count), count: Int32(xs.count))
        }
        func pairList(_ xs: [(Int32, Int32)]) -> Span {
            defer { pairs += xs }
            return Span(start: Int32(pairs.count), count: Int32(xs.count))
        }
        for n in source {
            var f = Node()
            if let a = n.always { f.always = a ? 1 : 0 }
            f.brokenRef = n.brokenRef
            f.uniqueItems = n.uniqueItems
            if let t = n.types { f.types = t.rawValue; f.hasTypes = true }
            f.ref = n.ref.map(Int32.init) ?? -1
            f.additional = n.additional.map(Int32.init) ?? -1
            f.items = n.items.map(Int32.init) ?? -1
            f.not = n.not.map(Int32.init) ?? -1
            if let c = n.condition {
                f.conditionIf = Int32(c.if)
                f.conditionThen = c.then.map(Int32.init) ?? -1
                f.conditionElse = c.else.map(Int32.init) ?? -1
            }
            if let p = n.pattern { patterns.append(p); f.pattern = Int32(patterns.count - 1) }
            if let c = n.constant { f.constant = constant(c) }
            if let e = n.enumeration { f.enumeration = list(e.map(constant)) }
            f.discriminators = pairList(n.tapeDiscriminators.map { (key($0.0), constant($0.1)) })
            f.properties = pairList(n.tapeProperties.map { (key($0.0), Int32($0.1)) })
            f.required = Span(start: Int32(keys.count), count: Int32(n.tapeRequired.count))
            for r in n.tapeRequired { _ = key(r) }
            // Matched by their bytes, as keys on a tape are.
            let propertyNames = n.tapeProperties.map { Array($0.0.bytes) }
            if propertyNames.count <= 64, n.tapeRequired.allSatisfy({ r in propertyNames.contains(Array(r.bytes)) }) {
                f.requiredByMask = true
                for r in n.tapeRequired { f.requiredMask |= 1 << UInt64(propertyNames.firstIndex(of: Array(r.bytes))!) }
            }
            f.allOf = list(n.allOf.map(Int32.init))
            f.allOfRest = list(n.allOfRest.map(Int32.init))
            if let d = n.dispatch {
                f.dispatchKey = key(d.key)
                f.dispatch = pairList(d.cases.map { (constant($0.value), Int32($0.then)) })
            }
            if let a = n.anyOf { f.anyOf = list(a.map(Int32.init)) }
            if let o = n.oneOf { f.oneOf = list(o.map(Int32.init)) }
            f.minItems = n.minItems ?? .nan
            if let m = n.minLength { f.minLength = m <= 0 ? 0 : m >= 1e15 ? Int(1e15) : Int(m.rounded(.up)) }
            f.minimum = n.minimum ?? .nan
            f.maximum = n.maximum ?? .nan
            nodes.append(f)
        }
        // A node that is only a `$ref` (as `"ts": {"$ref": "#/$defs/timestamp"}`) is replaced by
        // its target wherever it is referred to: one node fewer checked per value.
        func target(_ index: Int32) -> Int32 {
            var i = index
            for _ in 0..<nodes.count {
                guard i >= 0, nodes[Int(i)].isOnlyRef else { return i }
                i = nodes[Int(i)].ref
            }
            return index  // refs in a cycle: left as they are
        }
        var nodeLists: [Span] = []
        for i in nodes.indices {
            nodes[i].ref = target(nodes[i].ref)
            nodes[i].additional = target(nodes[i].additional)
            nodes[i].items = target(nodes[i].items)
            nodes[i].not = target(nodes[i].not)
            nodes[i].conditionIf = target(nodes[i].conditionIf)
            nodes[i].conditionThen = target(nodes[i].conditionThen)
            nodes[i].conditionElse = target(nodes[i].conditionElse)
            nodeLists += [nodes[i].allOf, nodes[i].allOfRest, nodes[i].anyOf, nodes[i].oneOf]
            for s in [nodes[i].properties, nodes[i].dispatch] where s.count > 0 {
                for j in Int(s.start)..<Int(s.start + s.count) { pairs[j].1 = target(pairs[j].1) }
            }
            nodes[i].leaf = nodes[i].isLeaf
        }
        for s in nodeLists where s.count > 0 {
            for j in Int(s.start)..<Int(s.start + s.count) { ints[j] = target(ints[j]) }
        }
        func buffer<T>(_ xs: [T]) -> UnsafeMutableBufferPointer<T> {
            let b = UnsafeMutableBufferPointer<T>.allocate(capacity: max(1, xs.count))
            _ = b.initialize(from: xs)
            return UnsafeMutableBufferPointer(rebasing: b[0..<xs.count])
        }
        program = Program(nodes: buffer(nodes), ints: buffer(ints), pairs: buffer(pairs), keys: buffer(keys),
                          constants: buffer(constants), patterns: buffer(patterns), patternRefs: buffer(patterns.map { Unmanaged.passUnretained($0) }),
                          values: buffer(values))
    }

    deinit {
        func free<T>(_ b: UnsafeMutableBufferPointer<T>) {
            b.deinitialize()
            UnsafeMutableRawPointer(b.baseAddress)?.deallocate()
        }
        free(program.nodes); free(program.ints); free(program.pairs); free(program.keys)
        free(program.constants); free(program.patterns); free(program.patternRefs); free(program.values)
    }
}

extension FlatSchema.Program {
    @inline(__always) private func member(_ tape: JSONTape, _ t: Int, _ key: Int32) -> Int? {
        let k = keys[Int(key)]
        return tape.member(t, k.bytes, hash: k.hash)
    }

    @inline(__always) func valid(_ tape: JSONTape, _ t: Int, _ index: Int32) -> Bool {
        let n = nodes.baseAddress! + Int(index)
        if n.pointee.leaf { return validValue(tape, t, n, tape.tokens[t]) }
        if n.pointee.always >= 0 { return n.pointee.always == 1 }
        return validNode(tape, t, n)
    }

    /// The checks a leaf has: of the value alone, not of its members or of other schemas.
    @inline(__always) private func validValue(_ tape: JSONTape, _ t: Int, _ n: UnsafeMutablePointer<FlatSchema.Node>, _ token: JSONTape.Token) -> Bool {
        if n.pointee.hasTypes, !CompiledSchema.TypeSet(rawValue: n.pointee.types).admits(tape, t) { return false }
        let e = n.pointee.enumeration
        if e.count >= 0 {
            var found = false
            for i in 0..<Int(e.count) where equal(tape, t, ints[Int(e.start) + i]) { found = true; break }
            if !found { return false }
        }
        if n.pointee.constant >= 0, !equal(tape, t, n.pointee.constant) { return false }
        switch token.kind {
        case .string:
            let m = n.pointee.minLength
            if m > 0, tape.scalarCount(t, atMost: m) < m { return false }
            if n.pointee.pattern >= 0 {
                // Borrowed, not retained: a pattern is checked on most strings of every line.
                let matched = patternRefs[Int(n.pointee.pattern)]._withUnsafeGuaranteedRef { p in
                    (token.flag ? nil : p.matches(utf8: tape.raw(t).assumingMemoryBound(to: UInt8.self))) ?? p.matches(tape.string(t))
                }
                if !matched { return false }
            }
        case .number:
            guard let x = tape.double(t) else { return false }
            if !n.pointee.minimum.isNaN, x < n.pointee.minimum { return false }
            if !n.pointee.maximum.isNaN, x > n.pointee.maximum { return false }
        default: break
        }
        return true
    }

    private func validNode(_ tape: JSONTape, _ t: Int, _ n: UnsafeMutablePointer<FlatSchema.Node>) -> Bool {
        if n.pointee.brokenRef { return false }
        if n.pointee.ref >= 0, !valid(tape, t, n.pointee.ref) { return false }
        let token = tape.tokens[t]
        if !validValue(tape, t, n, token) { return false }
        switch token.kind {
        case .object:
            let d = n.pointee.discriminators
            for i in 0..<Int(max(0, d.count)) {
                let (key, c) = pairs[Int(d.start) + i]
                if let v = member(tape, t, key), !equal(tape, v, c) { return false }
            }
            let props = n.pointee.properties
            let byMask = n.pointee.requiredByMask
            if !byMask {
                let r = n.pointee.required
                for i in 0..<Int(max(0, r.count)) where member(tape, t, r.start + Int32(i)) == nil { return false }
            }
            // One pass over the object's keys: each is matched to its property (and checked
            // against it, or against `additionalProperties`), and the required ones are ticked off.
            var present: UInt64 = 0
            let extra = n.pointee.additional
            let propertyCount = Int(max(0, props.count))
            // Properties are in key order, as writers of events sort keys: the search for a
            // key starts after the last one found, where the next usually is.
            var from = 0
            var k = t + 1
            for _ in 0..<token.count {
                let v = k + 1
                var node: Int32 = -1
                var i = from
                for _ in 0..<propertyCount {
                    if i >= propertyCount { i = 0 }
                    let (key, p) = pairs[Int(props.start) + i]
                    let kb = keys[Int(key)]
                    if tape.keyEquals(k, kb.bytes, hash: kb.hash) {
                        node = p
                        if i < 64 { present |= 1 << UInt64(i) }
                        from = i + 1
                        break
                    }
                    i += 1
                }
                if node < 0 { node = extra }
                if node >= 0, !valid(tape, v, node) { return false }
                k = Int(tape.tokens[v].next)
            }
            if byMask, present & n.pointee.requiredMask != n.pointee.requiredMask { return false }
        case .array:
            var count = 0
            var i = t + 1
            let itemNode = n.pointee.items
            for _ in 0..<token.count {
                if itemNode >= 0, !valid(tape, i, itemNode) { return false }
                count += 1
                i = Int(tape.tokens[i].next)
            }
            if !n.pointee.minItems.isNaN, Double(count) < n.pointee.minItems { return false }
            if n.pointee.uniqueItems, count > 1 {
                let values = tape.items(t).map { tape.value($0) }
                for i in values.indices { for j in values.indices where j > i && JSONSchema.equal(values[i], values[j]) { return false } }
            }
        default: break
        }
        if n.pointee.dispatchKey >= 0, token.kind == .object, let v = member(tape, t, n.pointee.dispatchKey) {
            let d = n.pointee.dispatch
            for i in 0..<Int(max(0, d.count)) {
                let (c, then) = pairs[Int(d.start) + i]
                if equal(tape, v, c), !valid(tape, t, then) { return false }
            }
            let rest = n.pointee.allOfRest
            for i in 0..<Int(max(0, rest.count)) where !valid(tape, t, ints[Int(rest.start) + i]) { return false }
        } else {
            let all = n.pointee.allOf
            for i in 0..<Int(max(0, all.count)) where !valid(tape, t, ints[Int(all.start) + i]) { return false }
        }
        let any = n.pointee.anyOf
        if any.count >= 0 {
            var found = false
            for i in 0..<Int(any.count) where valid(tape, t, ints[Int(any.start) + i]) { found = true; break }
            if !found { return false }
        }
        let one = n.pointee.oneOf
        if one.count >= 0 {
            var passed = 0
            for i in 0..<Int(one.count) where valid(tape, t, ints[Int(one.start) + i]) { passed += 1; if passed > 1 { return false } }
            if passed != 1 { return false }
        }
        if n.pointee.not >= 0, valid(tape, t, n.pointee.not) { return false }
        if n.pointee.conditionIf >= 0 {
            if valid(tape, t, n.pointee.conditionIf) {
                if n.pointee.conditionThen >= 0, !valid(tape, t, n.pointee.conditionThen) { return false }
            } else if n.pointee.conditionElse >= 0, !valid(tape, t, n.pointee.conditionElse) { return false }
        }
        return true
    }

    /// JSON equality of a tape value and a schema constant, as `JSONSchema.equal`.
    private func equal(_ tape: JSONTape, _ t: Int, _ constant: Int32) -> Bool {
        let c = constants[Int(constant)]
        let token = tape.tokens[t]
        switch (token.kind, c.kind) {
        case (.string, .string):
            // Written with escapes: compared as strings, as `JSONSchema.equal` does.
            if token.flag { return tape.string(t) == String(decoding: c.bytes, as: UTF8.self) }
            return tape.stringEquals(t, c.bytes)
        case (.number, .number):
            guard let x = tape.double(t) else { return false }
            return x == c.number
        case (.bool, .bool): return token.flag == c.flag
        case (.null, .null): return true
        case (.array, .array), (.object, .object): return JSONSchema.equal(tape.value(t), values[Int(c.value)])
        default: return false
        }
    }
}

extension CompiledSchema.TypeSet {
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
