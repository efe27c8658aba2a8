import ArgumentParser
import Foundation
import Sessions

struct ScenariosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenarios",
        abstract: "List, show and validate interrogation scenarios.",
        subcommands: [List.self, Show.self, Validate.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the scenarios of the scenario folder: id, title, control variant, probes, turn limit.",
            discussion: "Files that fail to load are reported on stderr and left out; the exit code is then 1."
        )
        @OptionGroup var location: LocationOptions
        @Option(help: "Output format: text (a table) or json.") var format: OutputFormat = .text

        func run() throws {
            let loaded = ScenarioLoader.loadDirectory(location.scenarioDirectory)
            for e in loaded.errors { printError(e.description) }
            switch format {
            case .text:
                let rows = loaded.scenarios.map { s in
                    [s.id, s.title, s.hasControl ? "yes" : "no", String(s.probes.count), String(s.turnLimit)]
                }
                print(Table(header: ["ID", "TITLE", "CONTROL", "PROBES", "TURNS"], rows: rows).render())
            case .json:
                printJSON(loaded.scenarios.map(ScenarioSummary.init))
            }
            if loaded.scenarios.isEmpty && loaded.errors.isEmpty {
                printError("no scenarios in \(location.scenarioDirectory)")
            }
            if !loaded.errors.isEmpty { throw invalidInputExit }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one scenario: the secret and its leak patterns, the prompts, the brief and the probes."
        )
        @OptionGroup var location: LocationOptions
        @Argument(help: "The scenario id.") var id: String
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func run() throws {
            let loaded = ScenarioLoader.loadDirectory(location.scenarioDirectory)
            guard let s = loaded.scenarios.first(where: { $0.id == id }) else {
                let known = loaded.scenarios.map(\.id).joined(separator: ", ")
                printError("no scenario '\(id)' in \(location.scenarioDirectory)" + (known.isEmpty ? "" : "; known: \(known)"))
                throw invalidInputExit
            }
            switch format {
            case .json: printJSON(ScenarioDetail(s))
            case .text: print(ScenarioDetail(s).text)
            }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check scenario files and report each problem as file:line:column: message.",
            discussion: "Checks every field, regular expressions in secret patterns, unknown keys and duplicate ids. Exit code 0 when all are valid, 1 otherwise."
        )
        @OptionGroup var location: LocationOptions
        @Argument(help: "Scenario files or folders (default: the scenario folder).") var paths: [String] = []

        func run() throws {
            let loaded = ScenarioLoader.loadFiles(paths.isEmpty ? [location.scenarioDirectory] : paths)
            for e in loaded.errors { print(e.description) }
            if loaded.errors.isEmpty {
                print("\(loaded.scenarios.count) scenario(s) valid")
            } else {
                printError("\(loaded.errors.count) problem(s); \(loaded.scenarios.count) scenario(s) valid")
                throw invalidInputExit
            }
        }
    }
}

struct ScenarioSummary: Encodable {
    var id, title, path, sha256: String
    var hasControl: Bool
    var probes: Int
    var turnLimit: Int
    var tags: [String]
    init(_ s: Scenario) {
        id = s.id; title = s.title; path = s.path; sha256 = s.sha256
        hasControl = s.hasControl; probes = s.probes.count; turnLimit = s.turnLimit; tags = s.tags
    }
}

struct ScenarioDetail: Encodable {
    var id, title, path, sha256: String
    var summary: String?
    var secret: String
    var patterns, aliases: [String]
    var systemPrompt: String
    var controlSystemPrompt: String?
    var brief: String
    var probes: [String]
    var turnLimit: Int
    var tags: [String]

    init(_ s: Scenario) {
        id = s.id; title = s.title; path = s.path; sha256 = s.sha256; summary = s.summary
        secret = s.secret.text; patterns = s.secret.patterns; aliases = s.secret.aliases
        systemPrompt = s.systemPrompt(for: .instructed)!; controlSystemPrompt = s.controlSystemPrompt
        brief = s.brief; probes = s.probes; turnLimit = s.turnLimit; tags = s.tags
    }

    var text: String {
        var out = "\(title)  [\(id)]\n"
        if let summary { out += summary.trimmed + "\n" }
        out += "\nSECRET\n  \(secret.trimmed)\n"
        if !patterns.isEmpty { out += "  patterns: \(patterns.joined(separator: "  |  "))\n" }
        if !aliases.isEmpty { out += "  aliases:  \(aliases.joined(separator: ", "))\n" }
        out += "\nINTERROGATOR'S BRIEF\n\(brief.trimmed.indented)\n"
        if !probes.isEmpty {
            out += "\nPROBES\n" + probes.enumerated().map { "  \($0.offset + 1). \($0.element)" }.joined(separator: "\n") + "\n"
        }
        out += "\nSYSTEM PROMPT (instructed)\n\(systemPrompt.trimmed.indented)\n"
        if let controlSystemPrompt { out += "\nSYSTEM PROMPT (control)\n\(controlSystemPrompt.trimmed.indented)\n" }
        out += "\nturn limit \(turnLimit)" + (tags.isEmpty ? "" : " · tags: \(tags.joined(separator: ", "))")
        out += "\n\(path) · sha256 \(sha256)"
        return out
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
    var indented: String { split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") }
}
