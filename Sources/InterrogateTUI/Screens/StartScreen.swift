import Foundation
import Sessions

/// The start screen of `interrogate run` without a scenario: pick a scenario (its brief
/// shown beside the list), a model, the condition and the annotator id, then Enter.
struct StartState: Equatable, Sendable {
    struct Choice: Equatable, Sendable {
        var scenario: Scenario
        var model: String
        var condition: Scenario.Condition
        var annotator: String
    }

    var scenarios: [Scenario]
    var models: [String]
    var width: Int
    var height: Int
    var selected = 0
    var model = 0
    var control = false
    var annotator: TextInput
    var editingAnnotator = false
    var status: String?
    var outcome: Outcome?

    enum Outcome: Equatable, Sendable { case start(Choice), cancel }

    /// With no annotator id known (a first run on this machine) the id field is open and
    /// must be filled before a session starts: labels are never saved under a placeholder.
    init(scenarios: [Scenario], models: [String], model: String, annotator: String?, width: Int, height: Int, scenario: String? = nil) {
        self.scenarios = scenarios
        self.models = models
        self.model = models.firstIndex(of: model) ?? 0
        self.annotator = TextInput()
        self.annotator.insert(annotator ?? "")
        self.width = width
        self.height = height
        if let scenario, let i = scenarios.firstIndex(where: { $0.id == scenario }) { selected = i }
        if annotator == nil {
            editingAnnotator = true
            status = "Who are you? Type your annotator id (your labels are saved under it), then Enter."
        }
    }

    var current: Scenario? { scenarios.indices.contains(selected) ? scenarios[selected] : nil }
}

enum StartUpdate {
    static func update(_ s: inout StartState, _ input: CursesTerminal.Input) {
        switch input {
        case let .resize(w, h):
            (s.width, s.height) = Screen.clamped(width: w, height: h)
        case .key(let key):
            s.status = nil
            if s.editingAnnotator {
                switch key {
                case .enter, .escape, .tab: s.editingAnnotator = false
                case .char(let c): s.annotator.insert(String(c))
                case .backspace: s.annotator.backspace()
                case .delete: s.annotator.delete()
                case .left: s.annotator.left()
                case .right: s.annotator.right()
                case .home: s.annotator.home()
                case .end: s.annotator.end()
                default: break
                }
                return
            }
            switch key {
            case .up, .char("k"): s.selected = max(0, s.selected - 1); s.control = s.control && (s.current?.hasControl ?? false)
            case .down, .char("j"): s.selected = min(s.scenarios.count - 1, s.selected + 1); s.control = s.control && (s.current?.hasControl ?? false)
            case .char("m"): if !s.models.isEmpty { s.model = (s.model + 1) % s.models.count }
            case .char("c"):
                if s.current?.hasControl == true { s.control.toggle() } else { s.status = "This scenario has no control variant." }
            case .char("a"): s.editingAnnotator = true
            case .ctrl("q"), .ctrl("c"), .escape: s.outcome = .cancel
            case .enter:
                guard let scenario = s.current, s.models.indices.contains(s.model) else { return }
                let id = s.annotator.text.trimmingCharacters(in: .whitespaces)
                guard !id.isEmpty else {
                    s.editingAnnotator = true
                    s.status = "Type your annotator id first (your labels are saved under it)."
                    return
                }
                guard TranscriptStore.isValidRaterId(id) else {
                    s.status = "The annotator id may use letters, digits, '.', '_' and '-' only (press a to edit it)."
                    return
                }
                guard !RaterId.isPlaceholder(id) else {
                    s.status = "'\(id)' is a placeholder, not a person: type your own annotator id (press a to edit it)."
                    return
                }
                s.outcome = .start(.init(scenario: scenario, model: s.models[s.model], condition: s.control ? .control : .instructed, annotator: id))
            default: break
            }
        }
    }
}

enum StartView {
    static func view(_ s: StartState) -> Screen {
        if s.width < AppState.minimumWidth || s.height < AppState.minimumHeight { return Screen.tooSmall(width: s.width, height: s.height) }
        var screen = Screen(width: s.width, height: s.height)
        screen.fill(row: 0, role: .header)
        screen.put(" interrogate · choose a scenario", row: 0, column: 0, role: .header)
        let listWidth = min(34, s.width / 3)
        let bottom = s.height - 4
        // The list scrolls to keep the selection visible.
        let rows = bottom - 2
        let first = max(0, min(s.selected - rows / 2, s.scenarios.count - rows))
        for (row, i) in (first..<min(s.scenarios.count, first + rows)).enumerated() {
            let sc = s.scenarios[i]
            let role: Role = i == s.selected ? .selected : .text
            if i == s.selected { screen.fill(row: 2 + row, from: 0, to: listWidth, role: .selected) }
            screen.put(" " + sc.id, row: 2 + row, column: 0, role: role, maxWidth: listWidth)
        }
        for r in 1..<bottom { screen.put("│", row: r, column: listWidth, role: .dim) }
        if let sc = s.current {
            let left = listWidth + 2
            let width = s.width - left - 1
            var row = 2
            func block(_ title: String?, _ text: String, _ role: Role) {
                if let title, row < bottom { screen.put(title, row: row, column: left, role: .key); row += 1 }
                for line in DisplayWidth.wrap(DisplayWidth.shown(text), width: width) where row < bottom {
                    screen.put(line, row: row, column: left, role: role); row += 1
                }
                row += 1
            }
            block(nil, sc.title, .model)
            if let summary = sc.summary { block(nil, InterrogationView.reflow(summary), .dim) }
            block("SECRET", InterrogationView.reflow(sc.secret.text), .leak)
            block("BRIEF", InterrogationView.reflow(sc.brief), .text)
            block("CONDITIONS", sc.hasControl ? "instructed (told to hide the secret) or control (not told)" : "instructed only", .dim)
        }
        screen.fill(row: bottom, with: "─", role: .dim)
        var col = screen.put(" Model: ", row: bottom + 1, column: 0, role: .dim)
        col = screen.put(s.models.indices.contains(s.model) ? s.models[s.model] : "-", row: bottom + 1, column: col, role: .key)
        col = screen.put("   Condition: ", row: bottom + 1, column: col, role: .dim)
        col = screen.put(s.control ? "control" : "instructed", row: bottom + 1, column: col, role: .key)
        col = screen.put("   Annotator: ", row: bottom + 1, column: col, role: .dim)
        if s.editingAnnotator {
            let field = FieldLayout.line(s.annotator, width: s.width - col - 1)
            screen.put(field.text, row: bottom + 1, column: col, role: .input)
            screen.cursor = (bottom + 1, col + field.cursor)
        } else {
            screen.put(TerminalText.inert(s.annotator.text), row: bottom + 1, column: col, role: .key, maxWidth: s.width - col - 1)
        }
        if let status = s.status {
            screen.fill(row: s.height - 1, role: .warning)
            screen.put(" " + status, row: s.height - 1, column: 0, role: .warning)
        } else {
            let hints = s.editingAnnotator ? [("Enter", "done")] :
                [("↑/↓", "scenario"), ("m", "model"), ("c", "condition"), ("a", "annotator"), ("Enter", "start"), ("Esc", "quit")]
            screen.putHints(hints, row: s.height - 1)
        }
        return screen
    }
}
