import Annotate
import Crypto
import Foundation
import Yams

/// A study's design, `studies/NAME/study.yaml`: which models (each shown to people only by an
/// alias), scenarios, conditions and annotators, how many sessions per cell, reviews per session,
/// the share of gold sessions, and the seed its plan is drawn from.
public struct StudyDesign: Sendable, Equatable {
    /// A model of the study as people meet it: by alias only.
    public struct Suspect: Sendable, Equatable, Hashable {
        /// A name from the model configuration (or `scripted:PATH`).
        public var model: String
        public var alias: String
    }

    /// Scripted suspects with gold labels, mixed into the assignment to measure annotators.
    public struct Gold: Sendable, Equatable {
        /// Of all sessions, the share that is gold (0 ≤ share < 1).
        public var share: Double
        public var alias: String
        /// Each scenario's script, by scenario id.
        public var scripts: [String: String]
    }

    public struct Calibration: Sendable, Equatable {
        public var minAccuracy: Double
        public var minKappa: Double
        public static let defaults = Calibration(minAccuracy: 0.7, minKappa: 0.6)
    }

    public var name: String
    /// The study's folder, `studies/NAME`.
    public var folder: String
    public var path: String
    public var sha256: String
    public var title: String?
    public var models: [Suspect]
    public var scenarios: [String]
    public var conditions: [Scenario.Condition]
    public var annotators: [String]
    /// Models that interrogate (`model_interrogators:`, names of the model configuration): each
    /// takes sessions like one more annotator, run by `interrogate auto --study`, and never
    /// reviews, adjudicates or gets a gold session.
    public var interrogators: [String] = []
    public var sessionsPerCell: Int
    public var reviewsPerSession: Int
    public var adjudication: Bool
    public var gold: Gold?
    public var calibration: Calibration
    public var seed: UInt64

    public static let fileName = "study.yaml"
    public static let environmentVariable = "INTERROGATE_STUDIES"
    static let allowedKeys = ["title", "models", "scenarios", "conditions", "annotators", "model_interrogators", "sessions_per_cell",
                              "reviews_per_session", "adjudication", "gold", "calibration", "seed"]
    static let maxSessionsPerCell = 10_000

    /// The folder of transcripts the study's sessions are written to.
    public var transcripts: String { (folder as NSString).appendingPathComponent("transcripts") }
    public var planFile: String { (folder as NSString).appendingPathComponent(StudyPlan.fileName) }

    /// What the study's sessions need from this machine: each model's configuration and
    /// each scenario (checked when the study is read, so that a typo is found before a plan).
    public struct Context: Sendable {
        /// Nil: the models are not checked here (a participant's machine needs only the models of
        /// their own next session, and a check's message would name the study's models).
        public var catalog: ModelCatalog?
        public var scenarios: [Scenario]
        public init(catalog: ModelCatalog?, scenarios: [Scenario]) {
            self.catalog = catalog
            self.scenarios = scenarios
        }
    }

    /// The study folder of `name` under `root` (a name is a rater-like id, never a path).
    public static func folder(named name: String, root: String) throws(LocatedErrors) -> String {
        guard TranscriptStore.isValidRaterId(name) else {
            throw LocatedErrors([LocatedError(file: name, line: 1, column: 1, message: "a study name may use letters, digits, '.', '_' and '-' only")])
        }
        return (root as NSString).appendingPathComponent(name)
    }

    public static func load(name: String, root: String, context: Context) throws(LocatedErrors) -> StudyDesign {
        let folder = try folder(named: name, root: root)
        let path = (folder as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            let known = (try? FileManager.default.contentsOfDirectory(atPath: root))?.filter {
                FileManager.default.fileExists(atPath: ((root as NSString).appendingPathComponent($0) as NSString).appendingPathComponent(fileName))
            }.sorted() ?? []
            throw LocatedErrors([LocatedError(file: path, line: 1, column: 1, message: "no study '\(name)': this file does not exist"
                + (known.isEmpty ? "" : " (studies in \(root): \(known.joined(separator: ", ")))"))])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LocatedErrors([LocatedError(file: path, line: 1, column: 1, message: "the file is not UTF-8 text")])
        }
        var design = try parse(text, path: path, name: name, context: context)
        design.folder = folder
        design.sha256 = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        return design
    }

    public static func parse(_ text: String, path: String, name: String, context: Context) throws(LocatedErrors) -> StudyDesign {
        var v = YAMLValidator(file: path)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw LocatedErrors([v.error(nil, "the file is empty: a study needs models, scenarios, annotators and sessions_per_cell")])
            }
            root = node
        } catch let e as LocatedErrors {
            throw e
        } catch {
            throw LocatedErrors([YAMLValidator.yamlError(error, file: path)])
        }
        guard let map = root.mapping else { throw LocatedErrors([v.error(root, "a study must be a mapping of keys (models, scenarios, …)")]) }
        v.rejectUnknownKeys(map, allowed: allowedKeys, in: "study")
        let title = v.optionalString(map, "title")

        // Models, each with an alias that gives nothing of it away.
        var models: [Suspect] = []
        if let node = map["models"] {
            if let seq = node.sequence, !seq.isEmpty {
                for item in seq {
                    guard let m = item.mapping else { v.report(item, "each model is a mapping: {model: NAME, alias: \"Suspect A\"}"); continue }
                    v.rejectUnknownKeys(m, allowed: ["model", "alias"], in: "a model of the study")
                    guard let model = v.requiredString(m, "model", parent: item, context: "a model of the study"),
                          let alias = v.requiredString(m, "alias", parent: item, context: "a model of the study") else { continue }
                    if let catalog = context.catalog { do throws(ModelError) {
                        let entry = try catalog.entry(named: model)
                        let giveaways = [model, entry.model, entry.provider.rawValue].compactMap { $0 }.filter { $0.count >= 3 }
                        if let g = giveaways.first(where: { alias.localizedCaseInsensitiveContains($0) }) {
                            v.report(m["alias"], "alias '\(alias)' contains '\(g)': an alias must not tell people which model it is")
                        }
                    } catch {
                        v.report(m["model"], "\(error)")
                    } }
                    for word in ["gold", "script", "calibrat"] where alias.localizedCaseInsensitiveContains(word) {
                        v.report(m["alias"], "alias '\(alias)' contains '\(word)': an alias must not tell people what kind of suspect it is")
                    }
                    if models.contains(where: { $0.model == model }) { v.report(m["model"], "model '\(model)' is listed twice") }
                    if models.contains(where: { $0.alias == alias }) { v.report(m["alias"], "alias '\(alias)' is used twice: people could not tell the models apart") }
                    models.append(Suspect(model: model, alias: alias))
                }
            } else {
                v.report(node, "models must be a list of {model: NAME, alias: \"Suspect A\"}")
            }
        } else {
            v.report(root, "missing models in study")
        }

        // Scenarios, from the scenario folder.
        let scenarioIds = v.stringList(map, "scenarios")
        if map["scenarios"] == nil { v.report(root, "missing scenarios in study") } else if scenarioIds.isEmpty { v.report(map["scenarios"], "scenarios must list at least one scenario id") }
        var scenarios: [Scenario] = []
        for (i, id) in scenarioIds.enumerated() {
            let node = map["scenarios"]?.sequence?[i]
            if scenarioIds[..<i].contains(id) { v.report(node, "scenario '\(id)' is listed twice"); continue }
            if let s = context.scenarios.first(where: { $0.id == id }) { scenarios.append(s) } else {
                let known = context.scenarios.map(\.id).sorted().joined(separator: ", ")
                v.report(node, "no scenario '\(id)'" + (known.isEmpty ? "" : "; known: \(known)"))
            }
        }

        // A scripted model with a folder of scripts needs one for each scenario.
        for m in models {
            guard let entry = try? context.catalog?.entry(named: m.model), entry.provider == .scripted, let script = entry.script else { continue }
            for s in scenarios {
                do throws(ModelError) {
                    _ = try ScriptedModel.scriptPath(script, scenario: s.id)
                } catch {
                    v.report(map["models"], "model '\(m.model)': \(error)")
                }
            }
        }

        var conditions: [Scenario.Condition] = [.instructed]
        if let node = map["conditions"] {
            conditions = []
            let names = v.stringList(map, "conditions")
            if names.isEmpty { v.report(node, "conditions must list instructed, control or both") }
            for (i, c) in names.enumerated() {
                let item = node.sequence?[i]
                guard let condition = Scenario.Condition(runnable: c) else { v.report(item, "unknown condition '\(c)' (instructed or control)"); continue }
                if conditions.contains(condition) { v.report(item, "condition '\(c)' is listed twice"); continue }
                if condition == .control {
                    for s in scenarios where !s.hasControl { v.report(item, "scenario '\(s.id)' has no control variant, so it cannot be run in the control condition") }
                }
                conditions.append(condition)
            }
        }

        let annotators = v.stringList(map, "annotators")
        if map["annotators"] == nil { v.report(root, "missing annotators in study") } else if annotators.isEmpty { v.report(map["annotators"], "annotators must list at least one annotator id") }
        for (i, a) in annotators.enumerated() {
            let node = map["annotators"]?.sequence?[i]
            if !TranscriptStore.isValidRaterId(a) { v.report(node, "annotator '\(a)' may use letters, digits, '.', '_' and '-' only") }
            else if RaterId.isPlaceholder(a) { v.report(node, "'\(a)' is a placeholder, not a person: use each annotator's own id") }
            if annotators[..<i].contains(a) { v.report(node, "annotator '\(a)' is listed twice") }
        }

        let interrogators = v.stringList(map, "model_interrogators")
        for (i, m) in interrogators.enumerated() {
            let node = map["model_interrogators"]?.sequence?[i]
            if interrogators[..<i].contains(m) { v.report(node, "model interrogator '\(m)' is listed twice"); continue }
            guard TranscriptStore.isValidRaterId(interrogatorId(m)) else {
                v.report(node, "model interrogator '\(m)' must be a plain name of the model configuration (letters, digits, '.', '_', '-')")
                continue
            }
            if annotators.contains(interrogatorId(m)) { v.report(node, "'\(interrogatorId(m))' is both an annotator and this model interrogator's id") }
            if let catalog = context.catalog { do throws(ModelError) { _ = try catalog.entry(named: m) } catch { v.report(node, "\(error)") } }
        }

        var sessionsPerCell = 1
        if map["sessions_per_cell"] == nil { v.report(root, "missing sessions_per_cell in study") }
        else if let n = v.boundedInt(map, "sessions_per_cell", 1...maxSessionsPerCell) { sessionsPerCell = n }
        // Defaults that a study of one or two people can meet: a review where someone else can
        // give it, an adjudication where a third person can.
        var reviews = annotators.count > 1 ? 1 : 0
        if let n = v.boundedInt(map, "reviews_per_session", 0...100) { reviews = n }
        if !annotators.isEmpty, reviews > annotators.count - 1 {
            v.report(map["reviews_per_session"] ?? root, "reviews_per_session is \(reviews), but with \(annotators.count) annotator(s) a session can have at most \(annotators.count - 1) blind review(s): nobody reviews their own session")
        }
        var adjudication = reviews > 0 && annotators.count >= reviews + 2
        if let b = v.optionalBool(map, "adjudication") { adjudication = b }
        if adjudication && reviews == 0 { v.report(map["adjudication"], "adjudication needs reviews_per_session ≥ 1: with one rater there is nothing to settle") }
        if adjudication, !annotators.isEmpty, annotators.count < reviews + 2 {
            v.report(map["adjudication"] ?? map["reviews_per_session"] ?? root,
                     "adjudication needs someone who neither interrogated nor reviewed a session: \(reviews + 2) annotators for \(reviews) review(s), the study has \(annotators.count) (set adjudication: false, or fewer reviews)")
        }

        var gold: Gold?
        if let node = map["gold"] {
            if let g = node.mapping {
                v.rejectUnknownKeys(g, allowed: ["share", "alias", "scripts"], in: "gold")
                let share = v.optionalNumber(g, "share", minimum: 0, maximum: 0.9) ?? 0
                if g["share"] == nil { v.report(node, "missing share in gold (e.g. share: 0.2)") }
                let alias = v.requiredString(g, "alias", parent: node, context: "gold") ?? "Suspect G"
                if models.contains(where: { $0.alias == alias }) { v.report(g["alias"], "alias '\(alias)' is already a model's: gold sessions need their own alias") }
                for word in ["gold", "script", "calibrat"] where alias.localizedCaseInsensitiveContains(word) {
                    v.report(g["alias"], "alias '\(alias)' contains '\(word)': the gold sessions must look like any other suspect")
                }
                var scripts: [String: String] = [:]
                if let sNode = g["scripts"] {
                    if let sm = sNode.mapping {
                        for (key, value) in sm {
                            guard let id = key.string, let p = value.string else { v.report(key, "scripts maps a scenario id to a script path"); continue }
                            if !scenarioIds.contains(id) { v.report(key, "scenario '\(id)' is not one of the study's scenarios") }
                            scripts[id] = p
                        }
                    } else {
                        v.report(sNode, "scripts must map scenario ids to script paths")
                    }
                }
                if share > 0 {
                    for s in scenarios where scripts[s.id] == nil { scripts[s.id] = "examples/scripted/\(s.id).yaml" }
                    for s in scenarios {
                        let p = scripts[s.id]!
                        let at = g["scripts"]?.mapping?.first(where: { $0.key.string == s.id })?.value ?? node
                        do throws(ModelError) {
                            let script = try ScriptedModel.load(path: p)
                            if script.replies.isEmpty || script.replies.contains(where: { $0.goldLabels?.isEmpty ?? true || $0.goldLeak == nil }) {
                                v.report(at, "gold script \(p) for scenario '\(s.id)' must give every reply labels and leak: true or false")
                            }
                        } catch {
                            v.report(at, "gold script for scenario '\(s.id)': \(error)")
                        }
                    }
                }
                gold = Gold(share: share, alias: alias, scripts: scripts)
            } else {
                v.report(node, "gold must be a mapping: {share: 0.2, alias: \"Suspect C\"}")
            }
        }

        var calibration = Calibration.defaults
        if let node = map["calibration"] {
            if let c = node.mapping {
                v.rejectUnknownKeys(c, allowed: ["min_accuracy", "min_kappa"], in: "calibration")
                if let x = v.optionalNumber(c, "min_accuracy", minimum: 0, maximum: 1) { calibration.minAccuracy = x }
                if let x = v.optionalNumber(c, "min_kappa", minimum: -1, maximum: 1) { calibration.minKappa = x }
            } else {
                v.report(node, "calibration must be a mapping: {min_accuracy: 0.7, min_kappa: 0.6}")
            }
        }

        var seed: UInt64 = 0
        if let node = map["seed"] {
            if let s = node.scalar?.string, let n = UInt64(s) { seed = n } else { v.report(node, "seed must be a whole number ≥ 0") }
        } else {
            v.report(root, "missing seed in study: the plan is drawn from it, so that it can be drawn again")
        }
        if !v.errors.isEmpty { throw LocatedErrors(v.errors) }
        return StudyDesign(name: name, folder: (path as NSString).deletingLastPathComponent, path: path, sha256: "", title: title,
                           models: models, scenarios: scenarioIds, conditions: conditions, annotators: annotators,
                           interrogators: interrogators, sessionsPerCell: sessionsPerCell, reviewsPerSession: reviews, adjudication: adjudication,
                           gold: gold, calibration: calibration, seed: seed)
    }

    /// The id a model interrogator's sessions and plan tasks carry (`auto-NAME`).
    public static func interrogatorId(_ model: String) -> String { "auto-" + model }
    public var interrogatorIds: [String] { interrogators.map(Self.interrogatorId) }

    /// The configuration's name of the model interrogator with this id, or nil for a person.
    public func interrogatorModel(of id: String) -> String? { interrogators.first { Self.interrogatorId($0) == id } }

    /// Gold sessions run in the instructed condition (a scripted suspect keeps its secret by
    /// script), or in the study's one condition when it runs only control.
    public var goldCondition: Scenario.Condition { conditions.contains(.instructed) ? .instructed : conditions.first ?? .instructed }

    /// The alias people see for a model of the study.
    public func alias(of model: String) -> String? { models.first { $0.model == model }?.alias }

    /// A participant's view of a study on a team store, from their copy of its plan: its name,
    /// folder, annotators and scenarios as the plan's tasks give them, and whether it
    /// adjudicates; no models, gold, calibration, cells or seed (0, never shown: the commands
    /// that show a design refuse a participant's copy).
    public static func participantEdition(name: String, folder: String, plan: StudyPlan) -> StudyDesign {
        func unique(_ xs: [String]) -> [String] {
            var seen: Set<String> = []
            return xs.filter { seen.insert($0).inserted }
        }
        return StudyDesign(name: name, folder: folder, path: (folder as NSString).appendingPathComponent(StudyPlan.fileName),
                                 sha256: "", title: nil, models: [],
                                 scenarios: unique(plan.tasks.compactMap(\.scenario)), conditions: [],
                                 annotators: unique(plan.tasks.map(\.annotator)), interrogators: [], sessionsPerCell: 0,
                                 reviewsPerSession: 0, adjudication: plan.tasks.contains { $0.kind == .adjudication },
                                 gold: nil, calibration: .defaults, seed: 0)
    }
}

/// Ids that stand for nobody in particular: labels saved under one could not be told apart.
public enum RaterId {
    public static let placeholders: Set<String> = ["annotator", "rater", "user", "anonymous", "unknown", "none", "nobody",
                                                   "me", "test", "default", "root", "admin", "reviewer", "adjudicator"]
    public static func isPlaceholder(_ id: String) -> Bool { placeholders.contains(id.lowercased()) }
}
