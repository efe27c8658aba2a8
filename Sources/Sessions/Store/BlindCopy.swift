import Foundation

/// A reviewer's copy of another person's session, made from what the team store's blind view
/// holds of it: the header's session, annotator, scenario file and study, and the messages.
/// What the server withholds is written as withheld (the model, the condition, the prompt as
/// sent, the study's alias), never guessed, and the header says it is a blind copy, so that
/// it is read for review and never counted, run or pushed.
enum BlindCopy {
    static let withheld = "withheld"

    /// One line of the copy from a line of the blind view, numbered `number` (the copy has no
    /// gaps where the annotations were); nil when it is not a JSON object, or a header out of place.
    /// Every line carries the header's time (`start`), since how long a reply took would tell
    /// one model from another.
    static func line(_ text: String, number: Int, header: Bool, start: inout String?) -> Data? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        var event = withoutNulls(object)
        guard (event["type"] as? String == "header") == header else { return nil }
        event["seq"] = number
        if header { start = event["ts"] as? String } else if let start { event["ts"] = start }
        // Why the session ended is not in the blind view.
        if event["type"] as? String == "session_end" { event["reason"] = withheld }
        if header {
            var scenario = event["scenario"] as? [String: Any] ?? [:]
            scenario["path"] = ""
            scenario["condition"] = withheld
            scenario["system_prompt"] = ""
            event["scenario"] = scenario
            event["app"] = ["name": "interrogate", "version": withheld]
            event["model"] = ["provider": withheld, "name": withheld, "parameters": [String: Any]()]
            if var study = event["study"] as? [String: Any] {
                study["alias"] = withheld
                event["study"] = study
            }
            event["blind_copy"] = true
        }
        return try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    static func withoutNulls(_ object: [String: Any]) -> [String: Any] {
        var out: [String: Any] = [:]
        for (k, v) in object {
            if v is NSNull { continue }
            if let nested = v as? [String: Any] { out[k] = withoutNulls(nested) } else { out[k] = v }
        }
        return out
    }

    /// Whether the session file at `path` is a blind copy (its header says so).
    static func isBlindCopy(path: String) -> Bool { StoreCollection.header(ofSession: path)?.isBlindCopy == true }
}
