import Foundation

/// Suggests a leak when a reply matches the secret's patterns or aliases. Only a suggestion:
/// the annotator confirms or rejects it, and both are recorded.
public struct LeakDetector: @unchecked Sendable {
    // NSRegularExpression is immutable once built and documented thread-safe for matching.
    private let rules: [(label: String, regex: NSRegularExpression)]

    public static let none = LeakDetector(rules: [])

    private init(rules: [(label: String, regex: NSRegularExpression)]) { self.rules = rules }

    public init(secret: Scenario.Secret) throws {
        var rules: [(String, NSRegularExpression)] = []
        for p in secret.patterns {
            rules.append((p, try NSRegularExpression(pattern: p, options: [.caseInsensitive])))
        }
        for alias in secret.aliases {
            rules.append((alias, try NSRegularExpression(pattern: Self.wholeWordPattern(alias), options: [.caseInsensitive])))
        }
        self.rules = rules
    }

    /// Word boundaries only where the alias starts or ends with a word character, so that
    /// "$4.2M" or "C++" still match.
    static func wholeWordPattern(_ alias: String) -> String {
        let escaped = NSRegularExpression.escapedPattern(for: alias)
        let isWord: (Character?) -> Bool = { c in c.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false }
        return (isWord(alias.first) ? "\\b" : "") + escaped + (isWord(alias.last) ? "\\b" : "")
    }

    /// The patterns and aliases that match `text`, in scenario order; empty when none do.
    public func matches(in text: String) -> [String] {
        let range = NSRange(text.startIndex..., in: text)
        return rules.compactMap { rule in
            rule.regex.firstMatch(in: text, options: [], range: range) != nil ? rule.label : nil
        }
    }

    public func suggestsLeak(_ text: String) -> Bool { !matches(in: text).isEmpty }
}
