import Annotate
import Foundation
import Yams

/// The study's scoring configuration: `--scoring FILE`, else `scoring.yaml` in the current
/// folder, else the defaults of DESIGN.md.
public enum ScoringFile {
    public static let defaultName = "scoring.yaml"
    static let keys: Set<String> = ["weights", "ties", "challenge_patterns"]

    /// The configuration and where it came from ("defaults" when no file was read).
    public static func load(_ path: String?) throws(LocatedErrors) -> (ScoringConfiguration, source: String) {
        let file = path ?? (FileManager.default.fileExists(atPath: defaultName) ? defaultName : nil)
        guard let file else { return (.default, "defaults") }
        func fail(_ message: String) -> LocatedErrors { LocatedErrors([LocatedError(file: file, line: 1, column: 1, message: message)]) }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw fail("cannot read the scoring configuration") }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw fail("not valid YAML: \(error)") }
        if let mapping = node?.mapping {
            for (k, v) in mapping {
                guard let key = k.string, keys.contains(key) else {
                    let mark = k.mark
                    throw LocatedErrors([LocatedError(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1,
                                                      message: "unknown key '\(k.string ?? "?")' (expected \(keys.sorted().joined(separator: ", ")))")])
                }
                _ = v
            }
        }
        let config: ScoringConfiguration
        do { config = try YAMLDecoder().decode(ScoringConfiguration.self, from: text) } catch {
            throw fail("\(error)")
        }
        do { _ = try config.weights.validated() } catch { throw fail(error.description) }
        // Where each pattern is written, for its errors.
        let marks = (node?["challenge_patterns"]?.sequence.map { Array($0) } ?? []).map(\.mark)
        var errors: [LocatedError] = []
        for (i, p) in config.challengePatterns.enumerated() {
            let mark = i < marks.count ? marks[i] : nil
            func located(_ message: String) -> LocatedError {
                LocatedError(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message)
            }
            if (try? NSRegularExpression(pattern: p)) == nil {
                errors.append(located("challenge pattern '\(p)' is not a valid regular expression"))
            } else if let problem = PatternSafety.problem(in: p) {
                errors.append(located("challenge pattern '\(p)' refused: \(problem.message)"))
            }
        }
        guard errors.isEmpty else { throw LocatedErrors(errors) }
        return (config, file)
    }
}
