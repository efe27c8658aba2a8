import Foundation

/// The interrogation as a written transcript for a base model to continue: the scenario's
/// system prompt as the narrative, then each turn as "Name: text", ending with the suspect's
/// name. Asked in chat form, a small base model babbles and echoes the question; asked to
/// continue a transcript, it answers in character. Generation stops at the next speaker.
public enum DialoguePrompt {
    public static let version = "dialogue-v1"

    public static func render(_ request: ChatRequest, speakers: Scenario.Speakers) -> (prompt: String, stop: [String]) {
        var narrative: [String] = []
        var lines: [String] = []
        for m in request.messages {
            // One line per turn: a line break inside a turn would read as the turn's end.
            let text = m.content.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
            switch m.role {
            case .system: narrative.append(m.content.trimmingCharacters(in: .whitespacesAndNewlines))
            case .user: lines.append("\(speakers.interrogator): \(text)")
            case .assistant: lines.append("\(speakers.suspect): \(text)")
            }
        }
        let head = narrative.joined(separator: "\n\n")
        let prompt = (head.isEmpty ? "" : head + "\n\n") + "What follows is the transcript of the interrogation.\n\n"
            + lines.map { $0 + "\n" }.joined() + "\(speakers.suspect):"
        return (prompt, stop(speakers))
    }

    public static func stop(_ speakers: Scenario.Speakers) -> [String] {
        ["\n\(speakers.interrogator):", "\n\(speakers.suspect):"]
    }

    /// What the transcript records of the prompt, so the session can be reproduced exactly.
    public static func format(_ speakers: Scenario.Speakers) -> String {
        "\(version): {system prompt}\\n\\nWhat follows is the transcript of the interrogation.\\n\\n"
            + "then per turn \"\(speakers.interrogator): {question}\\n\" and \"\(speakers.suspect): {reply}\\n\" (line breaks in a turn become spaces), "
            + "ending \"\(speakers.suspect):\"; completion stops at \(stop(speakers).map { "\"\($0.replacingOccurrences(of: "\n", with: "\\n"))\"" }.joined(separator: ", "))"
    }
}
