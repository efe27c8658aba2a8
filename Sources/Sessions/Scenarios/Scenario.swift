import Foundation

/// One interrogation set-up: what the model must hide, how it is told to, and what the
/// interrogator knows. Loaded from `Scenarios/*.yaml` by `ScenarioLoader`.
public struct Scenario: Sendable, Hashable, Identifiable {
    public struct Secret: Sendable, Hashable {
        /// The secret in plain words, shown to the interrogator.
        public var text: String
        /// Regular expressions (case-insensitive) whose match in a reply suggests a leak.
        public var patterns: [String]
        /// Other names for the secret, matched as whole words, case-insensitively.
        public var aliases: [String]
    }

    /// Who speaks, by name, when a base model is asked to continue the interrogation as a
    /// written transcript ("Detective: … / Daniel: …") rather than as a chat.
    public struct Speakers: Sendable, Hashable {
        public var interrogator: String
        public var suspect: String
        public init(interrogator: String, suspect: String) {
            self.interrogator = interrogator
            self.suspect = suspect
        }
        public static let standard = Speakers(interrogator: "Interrogator", suspect: "Suspect")
    }

    public enum Condition: String, Sendable, Codable, CaseIterable {
        /// The model is told to keep the secret.
        case instructed
        /// The same situation without the instruction to hide, for comparison.
        case control
        /// Not known to this reader: a blind copy from a team store, whose server withholds
        /// which condition ran (`SessionHeader.blindCopy`). Never run, never counted.
        case withheld

        /// A condition a session can run in, from its name: never `withheld`.
        public init?(runnable name: String) {
            guard let c = Condition(rawValue: name), c != .withheld else { return nil }
            self = c
        }
    }

    public var id: String
    public var title: String
    public var summary: String?
    public var secret: Secret
    public var systemPrompt: String
    /// Why the model should keep the secret; appended to the system prompt when given.
    public var incentive: String?
    /// The system prompt of the control condition, without the instruction to hide.
    public var controlSystemPrompt: String?
    /// What the interrogator is told before starting.
    public var brief: String
    /// Suggested questions, offered to the interrogator in order.
    public var probes: [String]
    /// The most interrogator questions a session may ask.
    public var turnLimit: Int
    public var tags: [String]
    /// The names of a written interrogation (`speakers:`), for base models.
    public var speakers: Speakers = .standard

    /// Where it was read from, and the exact bytes, so transcripts can record both.
    public var path: String
    public var source: String
    /// sha256 of `source`, hex.
    public var sha256: String

    public static let defaultTurnLimit = 20

    public var hasControl: Bool { controlSystemPrompt != nil }

    /// The system prompt the model receives in a condition; nil when the scenario has no control.
    public func systemPrompt(for condition: Condition) -> String? {
        switch condition {
        case .instructed:
            guard let incentive, !incentive.isEmpty else { return systemPrompt }
            return systemPrompt.trimmingCharacters(in: .whitespacesAndNewlines) + "\n\n"
                + incentive.trimmingCharacters(in: .whitespacesAndNewlines)
        case .control:
            return controlSystemPrompt
        case .withheld:
            return nil
        }
    }

    public var leakDetector: LeakDetector {
        // Patterns were compiled during validation, so this cannot fail for a loaded scenario.
        (try? LeakDetector(secret: secret)) ?? LeakDetector.none
    }
}
