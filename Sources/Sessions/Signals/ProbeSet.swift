import Crypto
import Foundation
import Yams

/// The fixed yes/no questions asked after each reply on a fork of the conversation
/// (`prompts/probes-v1.yaml`). Its sha256 goes with every answer recorded, so that a figure
/// can be traced to the exact questions.
public struct ProbeSet: Sendable, Equatable {
    public static let defaultPath = "prompts/probes-v1.yaml"
    /// Fewer would not make a detector; more would multiply the requests per reply.
    public static let sizeRange = 1...50

    public struct Probe: Sendable, Equatable {
        public var id: String
        public var text: String
    }

    public var file: PromptFile
    /// Said after each question (how to answer).
    public var instruction: String
    public var probes: [Probe]

    /// The question as the model is asked it.
    public func question(_ p: Probe) -> String { instruction.isEmpty ? p.text : "\(p.text) \(instruction)" }

    public static func load(path: String) throws(LocatedErrors) -> ProbeSet {
        let (data, root) = try YAMLValidator.compose(path: path, what: "the probe file")
        var v = YAMLValidator(file: path)
        guard let map = root.mapping else { throw LocatedErrors([v.error(root, "expected a mapping with version, instruction and questions")]) }
        v.rejectUnknownKeys(map, allowed: ["version", "instruction", "questions"], in: "the probe file")
        let version = v.optionalString(map, "version")
        if version == nil || version?.isEmpty == true { v.report(map["version"] ?? root, "the probe file needs a version (e.g. probes-v1)") }
        let instruction = v.optionalString(map, "instruction") ?? ""
        var probes: [Probe] = []
        if let list = map["questions"]?.sequence {
            var ids: Set<String> = []
            for item in list {
                guard let m = item.mapping else { v.report(item, "each question is a mapping with id and text"); continue }
                v.rejectUnknownKeys(m, allowed: ["id", "text"], in: "a question")
                guard let id = v.requiredString(m, "id", parent: item, context: "question"),
                      let text = v.requiredString(m, "text", parent: item, context: "question") else { continue }
                if !id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
                    v.report(m["id"], "a question's id is letters, digits, - and _")
                } else if !ids.insert(id).inserted {
                    v.report(m["id"], "the id \(id) is used twice")
                }
                probes.append(.init(id: id, text: text.trimmingCharacters(in: .whitespacesAndNewlines)))
            }
            if !sizeRange.contains(probes.count), v.errors.isEmpty {
                v.report(map["questions"], "a probe set has \(sizeRange.lowerBound) to \(sizeRange.upperBound) questions, not \(probes.count)")
            }
        } else {
            v.report(map["questions"] ?? root, "the probe file needs questions: a list of {id, text}")
        }
        if !v.errors.isEmpty { throw LocatedErrors(v.errors) }
        let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        return ProbeSet(file: PromptFile(path: path, version: version ?? "", sha256: digest), instruction: instruction, probes: probes)
    }
}
