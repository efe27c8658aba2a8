import Foundation
import Annotate

/// Validates JSON against a JSON Schema (draft 2020-12), for the keywords our documents use:
/// type, enum, const, properties, required, additionalProperties, items, minItems,
/// uniqueItems, minimum, maximum, minLength, pattern, $ref to local $defs, allOf, anyOf,
/// oneOf, not, if/then/else. An unsupported keyword is refused when the schema is loaded, so
/// the schema can never silently check less than it says. The test suite checks the same
/// files with Python's `jsonschema` package and expects the same verdicts.
public struct JSONSchema: Sendable {
    public struct Failure: Sendable, Equatable, CustomStringConvertible {
        /// JSON Pointer to the offending value ("" is the whole document).
        public var pointer: String
        public var message: String
        public var description: String { pointer.isEmpty ? message : "\(pointer): \(message)" }
    }

    static let supported: Set<String> = [
        "$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default", "format",
        "type", "enum", "const", "properties", "required", "additionalProperties", "items", "minItems",
        "uniqueItems", "minimum", "maximum", "minLength", "pattern", "$ref", "allOf", "anyOf", "oneOf",
        "not", "if", "then", "else",
    ]

    let root: JSONValue
    /// Each `pattern` of the schema compiled once: the reader checks every line of every
    /// transcript, and compiling a regular expression per string cost more than the rest.
    private let patterns: [String: Pattern]
    /// Each `$ref` of the schema resolved once, for the same reason.
    private let refs: [String: JSONValue]

    typealias Pattern = ICUPattern
    /// The schema compiled for `isValid`, the question asked of every line.
    private let compiled: CompiledSchema

    public init(data: Data) throws {
        root = try JSONValue.parse(data)
        try Self.checkKeywords(root, at: "#")
        var compiled: [String: Pattern] = [:]
        func collect(_ v: JSONValue) {
            switch v {
            case .object(let o):
                if case .string(let p)? = o["pattern"], compiled[p] == nil, let re = try? NSRegularExpression(pattern: p) {
                    compiled[p] = Pattern(regex: re, pattern: p)
                }
                o.values.forEach(collect)
            case .array(let a): a.forEach(collect)
            default: break
            }
        }
        collect(root)
        patterns = compiled
        var resolved: [String: JSONValue] = [:]
        let schemaRoot = root
        func walk(_ v: JSONValue) {
            switch v {
            case .object(let o):
                if case .string(let r)? = o["$ref"], resolved[r] == nil, let target = Self.resolve(r, in: schemaRoot) { resolved[r] = target }
                o.values.forEach(walk)
            case .array(let a): a.forEach(walk)
            default: break
            }
        }
        walk(root)
        self.refs = resolved
        self.compiled = CompiledSchema(root: root, patterns: compiled)
    }

    private static func checkKeywords(_ schema: JSONValue, at path: String) throws {
        guard case .object(let o) = schema else { return }
        for (k, v) in o {
            guard supported.contains(k) else {
                throw SchemaError("unsupported keyword '\(k)' at \(path)")
            }
            switch k {
            case "properties", "$defs":
                if case .object(let subs) = v { for (name, s) in subs { try checkKeywords(s, at: "\(path)/\(k)/\(name)") } }
            case "allOf", "anyOf", "oneOf":
                if case .array(let subs) = v { for (i, s) in subs.enumerated() { try checkKeywords(s, at: "\(path)/\(k)/\(i)") } }
            case "items", "additionalProperties", "not", "if", "then", "else":
                try checkKeywords(v, at: "\(path)/\(k)")
            default: break
            }
        }
    }

    public struct SchemaError: Error, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    /// Whether `value` is valid: the same verdict as `validate(_:).isEmpty`, without building
    /// the messages, so a study's valid lines cost little.
    public func isValid(_ value: JSONValue) -> Bool { compiled.isValid(value) }

    /// The same verdict for a parsed line, without building its value.
    func isValid(_ tape: JSONTape) -> Bool { compiled.isValid(tape) }

    /// Every failure found in `value`; empty when it is valid.
    public func validate(_ value: JSONValue) -> [Failure] {
        if compiled.isValid(value) { return [] }
        return diagnose(value)
    }

    /// Every failure, found by walking the schema's JSON itself (no compiled shortcut): the
    /// reference the compiled checks are tested against.
    func diagnose(_ value: JSONValue) -> [Failure] {
        var failures: [Failure] = []
        check(value, against: root, at: "", into: &failures)
        return failures
    }

    private func resolve(_ ref: String) -> JSONValue? { refs[ref] ?? Self.resolve(ref, in: root) }

    /// A key as a JSON Pointer token; keys hardly ever hold '~' or '/', so the common case
    /// costs no search-and-replace (which was most of the time of reading a study).
    static func escapedPointerToken(_ key: String) -> String {
        var plain = true
        for byte in key.utf8 where byte == 0x7E || byte == 0x2F { plain = false; break }
        if plain { return key }
        return key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    private static func resolve(_ ref: String, in root: JSONValue) -> JSONValue? {
        guard ref.hasPrefix("#/") else { return nil }
        var node: JSONValue? = root
        for part in ref.dropFirst(2).split(separator: "/") {
            node = node?[String(part).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")]
        }
        return node
    }

    private func check(_ value: JSONValue, against schema: JSONValue, at pointer: String, into failures: inout [Failure]) {
        if case .bool(let b) = schema {
            if !b { failures.append(.init(pointer: pointer, message: "not allowed here")) }
            return
        }
        guard case .object(let s) = schema else { return }
        func fail(_ m: String) { failures.append(.init(pointer: pointer, message: m)) }

        if case .string(let ref)? = s["$ref"] {
            if let target = resolve(ref) { check(value, against: target, at: pointer, into: &failures) }
            else { fail("schema reference \(ref) not found") }
        }
        if let t = s["type"] {
            let allowed: [String] = switch t {
            case .string(let one): [one]
            case .array(let many): many.compactMap(\.string)
            default: []
            }
            if value.schemaTypes.isDisjoint(with: allowed) {
                fail("expected \(allowed.joined(separator: " or ")), found \(value.schemaTypes.contains("integer") ? "number" : value.schemaTypes.first!)")
                return
            }
        }
        if case .array(let options)? = s["enum"], !options.contains(where: { Self.equal($0, value) }) {
            fail("\(value.jsonText) is not one of \(options.map(\.jsonText).joined(separator: ", "))")
        }
        if let c = s["const"], !Self.equal(c, value) { fail("must be \(c.jsonText), found \(value.jsonText)") }

        switch value {
        case .object(let o):
            if case .array(let req)? = s["required"] {
                for name in req.compactMap(\.string) where o[name] == nil { fail("missing required property '\(name)'") }
            }
            let props: [String: JSONValue] = if case .object(let p)? = s["properties"] { p } else { [:] }
            // Keys in any order (sorting every object cost more than checking it); the rare
            // failures are then put in key order, so messages come out the same every time.
            let start = failures.count
            for (k, v) in o {
                let child = pointer + "/" + Self.escapedPointerToken(k)
                if let ps = props[k] { check(v, against: ps, at: child, into: &failures) }
                else if let extra = s["additionalProperties"] {
                    if case .bool(false) = extra { failures.append(.init(pointer: child, message: "unknown property '\(k)'")) }
                    else { check(v, against: extra, at: child, into: &failures) }
                }
            }
            if failures.count - start > 1 {
                let prefix = pointer.count + 1
                func key(_ f: Failure) -> Substring { f.pointer.dropFirst(prefix).prefix { $0 != "/" } }
                let block = failures[start...].enumerated().sorted { (key($0.element), $0.offset) < (key($1.element), $1.offset) }.map(\.element)
                failures.replaceSubrange(start..., with: block)
            }
        case .array(let a):
            if let items = s["items"] {
                for (i, v) in a.enumerated() { check(v, against: items, at: "\(pointer)/\(i)", into: &failures) }
            }
            if let m = s["minItems"]?.number, Double(a.count) < m { fail("needs at least \(Int(m)) item(s)") }
            if case .bool(true)? = s["uniqueItems"] {
                for i in a.indices { for j in a.indices where j > i && Self.equal(a[i], a[j]) { fail("items \(i) and \(j) are the same") } }
            }
        case .string(let str):
            // JSON Schema counts code points, not grapheme clusters.
            if let m = s["minLength"]?.number, Double(str.unicodeScalars.count) < m { fail("must be at least \(Int(m)) character(s)") }
            if case .string(let p)? = s["pattern"], let pattern = patterns[p], !pattern.matches(str) {
                fail("\(value.jsonText) does not match \(p)")
            }
        case .int, .double:
            let x = value.number!
            if let m = s["minimum"]?.number, x < m { fail("must be ≥ \(s["minimum"]!.jsonText)") }
            if let m = s["maximum"]?.number, x > m { fail("must be ≤ \(s["maximum"]!.jsonText)") }
        default: break
        }

        if case .array(let subs)? = s["allOf"] {
            for sub in subs { check(value, against: sub, at: pointer, into: &failures) }
        }
        if case .array(let subs)? = s["anyOf"] {
            if !subs.contains(where: { passes(value, $0, pointer) }) { fail("matches none of the allowed forms") }
        }
        if case .array(let subs)? = s["oneOf"] {
            let n = subs.filter { passes(value, $0, pointer) }.count
            if n != 1 { fail(n == 0 ? "matches none of the allowed forms" : "matches more than one of the exclusive forms") }
        }
        if let not = s["not"], passes(value, not, pointer) { fail("matches a form that is not allowed") }
        if let cond = s["if"] {
            if passes(value, cond, pointer) {
                if let then = s["then"] { check(value, against: then, at: pointer, into: &failures) }
            } else if let els = s["else"] {
                check(value, against: els, at: pointer, into: &failures)
            }
        }
    }

    private func passes(_ value: JSONValue, _ schema: JSONValue, _ pointer: String) -> Bool {
        var f: [Failure] = []
        check(value, against: schema, at: pointer, into: &f)
        return f.isEmpty
    }

    /// JSON equality: 1 and 1.0 are the same number.
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.number, let y = b.number { return x == y }
        switch (a, b) {
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { k, v in y[k].map { equal(v, $0) } ?? false }
        default: return a == b
        }
    }
}
