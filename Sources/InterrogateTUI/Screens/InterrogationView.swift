import Annotate
import Foundation
import Sessions

/// Draws the interrogation screen from state. Pure: the same state gives the same screen.
enum InterrogationView {
    static let sidePanelWidth = 42
    static let sidePanelFrom = 120

    /// Where the conversation goes: below the header (and the brief on narrow screens),
    /// above the tag bar, left of the side panel.
    struct Frame {
        var side: Bool
        var width: Int
        var top: Int
        var bottom: Int
        /// The width its messages are wrapped to.
        var textWidth: Int { width - 2 }
    }

    static func frame(_ s: AppState) -> Frame {
        let side = s.showPanel && s.width >= sidePanelFrom
        let bottomRows = inputHeight(s) + 2 // tag/separator line + status line
        return Frame(side: side, width: side ? s.width - sidePanelWidth - 1 : s.width,
                     top: s.showPanel && !side ? topPanelRows + 1 : 1, bottom: s.height - bottomRows)
    }

    /// `rebuilt`: draw the conversation as it was drawn before its layout was kept, every
    /// message and the scenario panel wrapped on every frame. The tests compare the two; the
    /// benchmarks time both.
    static func view(_ s: AppState, rebuilt: Bool = false) -> Screen {
        var screen = Screen(width: s.width, height: s.height)
        if s.isTooSmall { return tooSmall(s, screen) }
        header(s, &screen)
        let f = frame(s)
        if s.showPanel && !f.side { _ = topPanel(s, &screen, rebuilt: rebuilt) }
        if rebuilt {
            conversationRebuilt(s, &screen, top: f.top, bottom: f.bottom, width: f.width)
        } else {
            conversation(s, &screen, top: f.top, bottom: f.bottom, width: f.width)
        }
        if f.side { sidePanel(s, &screen, top: 1, bottom: f.bottom, left: f.width + 1, rebuilt: rebuilt) }
        bottom(s, &screen, from: f.bottom)
        switch s.overlay {
        case .help?: help(s, &screen)
        case .confirmQuit(let n)?: confirm(s, &screen, untagged: n)
        case nil: break
        }
        return screen
    }

    // MARK: Header

    static func header(_ s: AppState, _ screen: inout Screen) {
        screen.fill(row: 0, role: .header)
        let saved: String
        if s.saveError != nil { saved = "NOT SAVED" } else if s.pendingSaves > 0 { saved = "saving…" } else if s.lastSavedSeq != nil { saved = "saved ✓" } else { saved = "" }
        let model: String = switch s.modelStatus {
        case .starting: "\(s.info.suspect) (starting…)"
        case .ready: s.info.suspect
        case .failed: "\(s.info.suspect) (unavailable)"
        }
        let condition = s.info.condition == .control ? " [control]" : ""
        var left = " \(s.info.scenario.id)\(condition) · \(model) · \(s.info.annotator) · \(s.info.sessionId)"
        var right = "Q \(s.questionsAsked)/\(s.info.scenario.turnLimit)  \(saved) "
        if s.review != nil {
            // Blind: the model and the condition could sway a reviewer, so neither is shown.
            left = " BLIND REVIEW · \(s.info.scenario.id) · \(s.info.annotator) · \(s.info.sessionId)"
            let done = s.countTurns { s.isTaggable(at: $0) && s.isTagged(at: $0) }
            right = "reviewed \(done)/\(s.taggableCount)  \(saved) "
        }
        let rightWidth = DisplayWidth.of(right)
        screen.put(left, row: 0, column: 0, role: .header, maxWidth: s.width - rightWidth - 1)
        screen.put(right, row: 0, column: s.width - rightWidth, role: s.saveError != nil ? .error : .header)
    }

    // MARK: Brief and secret

    static let topPanelRows = 4

    /// Three rows under the header on narrow terminals; returns the first free row.
    static func topPanel(_ s: AppState, _ screen: inout Screen, rebuilt: Bool = false) -> Int {
        let panel = rebuilt ? ScenarioPanel(s, width: s.width - 2, side: false) : s.layout.panel(of: s, width: s.width - 2, side: false)
        screen.put(panel.sections[0].lines[0], row: 1, column: 1, role: .leak, maxWidth: s.width - 2)
        let brief = panel.sections[1].lines
        for (i, line) in brief.prefix(2).enumerated() {
            let shown = (i == 1 && brief.count > 2) ? DisplayWidth.prefix(line, fitting: s.width - 4) + " …" : line
            screen.put(shown, row: 2 + i, column: 1, role: .dim)
        }
        screen.fill(row: 4, with: "─", role: .dim)
        return 5
    }

    /// The width of the side panel's text when the panel's left edge is `left`.
    static func sidePanelTextWidth(_ s: AppState, left: Int) -> Int { s.width - left - 1 }

    static func sidePanel(_ s: AppState, _ screen: inout Screen, top: Int, bottom: Int, left: Int, rebuilt: Bool = false) {
        let width = sidePanelTextWidth(s, left: left)
        let panel = rebuilt ? ScenarioPanel(s, width: width, side: true) : s.layout.panel(of: s, width: width, side: true)
        for r in top..<bottom { screen.put("│", row: r, column: left - 1, role: .dim) }
        var row = top
        for section in panel.sections {
            guard row < bottom else { break }
            screen.put(section.title, row: row, column: left, role: .key); row += 1
            for line in section.lines where row < bottom {
                screen.put(line, row: row, column: left, role: section.role); row += 1
            }
            row += 1
        }
    }

    // MARK: Conversation

    static func conversation(_ s: AppState, _ screen: inout Screen, top: Int, bottom: Int, width: Int) {
        let height = bottom - top
        guard height > 0 else { return }
        if s.visibleTurns.isEmpty {
            emptyHint(s, &screen, top: top, width: width)
            return
        }
        // Made once a frame, and only if a message must be wrapped here (update wraps them).
        var detector = ConversationLayout.LazyLeakDetector(s)
        func leaks() -> LeakDetector { detector.get() }
        let window = ConversationLayout.window(of: s, height: height) { s.layout.message($0, of: s, width: width - 2, leaks: leaks) }
        // Model replies are numbered from 1 in the whole conversation.
        var number = window.messages.last.map { first in s.countTurns(0..<first.turn) { s.isModel(at: $0) } } ?? 0
        for (turn, message, below) in window.messages.reversed() {
            let t = s.turns[turn]
            if t.isModel { number += 1 }
            // The message's line k is this many lines above the window's last row.
            let lastRow = top + window.rows - 1 + window.scroll - below
            let headRow = lastRow - (message.lineCount - 1)
            if headRow >= top && headRow < top + window.rows {
                var col = 0
                for (text, role) in head(s, t, number: number, suggestsLeak: message.suggestsLeak) {
                    col = screen.put(text, row: headRow, column: col, role: role, maxWidth: width - col)
                }
            }
            let role: Role = t.message.role == .interrogator ? .interrogator : .text
            for (k, line) in message.lines.enumerated() {
                let row = headRow + 1 + k
                guard row >= top else { continue }
                guard row < top + window.rows else { break }
                screen.put(line, row: row, column: 2, role: role, maxWidth: width - 2)
            }
        }
        if window.scroll > 0 { moreBelow(window.scroll, &screen, bottom: bottom, width: width) }
    }

    /// A message's first line: who speaks, and for a model reply its number and tags.
    static func head(_ s: AppState, _ turn: AppState.Turn, number: Int, suggestsLeak: Bool) -> [(String, Role)] {
        let m = turn.message
        if m.role == .interrogator { return [("You", .interrogator)] }
        let selected = s.taggedIndex == m.index
        var head: [(String, Role)] = [("Model #\(number)", selected ? .selected : .model)]
        if turn.isStreaming {
            head.append(("  streaming… (Esc stops)", .dim))
            return head
        }
        if let a = turn.annotation, !a.labels.isEmpty {
            for l in a.labels.sorted { head.append((" ", .text)); head.append(("[\(l.rawValue.uppercased())]", Role.badge(l))) }
            if a.leak.confirmed { head.append((" ", .text)); head.append(("LEAK", .leak)) }
            if let note = a.note, !note.isEmpty { head.append(("  ✎ " + oneLine(note), .dim)) }
        } else {
            head.append((" ", .text)); head.append(("[untagged]", .untagged))
            if suggestsLeak { head.append((" leak?", .warning)) }
        }
        if m.status == .cancelled { head.append(("  (stopped)", .dim)) }
        if m.status == .error { head.append(("  (failed: \(m.error ?? "error"))", .error)) }
        return head
    }

    static func emptyHint(_ s: AppState, _ screen: inout Screen, top: Int, width: Int) {
        let panel = !s.showPanel ? "F2 shows the brief and the secret."
            : s.width >= sidePanelFrom ? "The brief and the secret are shown on the right; F2 hides them."
            : "The brief and the secret are shown above; F2 hides them."
        let hint = s.modelStatus == .starting ? "Starting the model… you can type your first question meanwhile."
            : "Ask your first question below. " + panel
        screen.put(hint, row: top + 1, column: 2, role: .dim, maxWidth: width - 4)
    }

    static func moreBelow(_ scroll: Int, _ screen: inout Screen, bottom: Int, width: Int) {
        let more = " ↓ \(scroll) more line\(scroll == 1 ? "" : "s") (PgDn) "
        screen.put(more, row: bottom - 1, column: max(0, width - DisplayWidth.of(more)), role: .warning)
    }

    struct Line { var segments: [(String, Role)]; var turn: Int?; var indent = 0 }

    /// Every line of the conversation, every message wrapped anew: the way frames were drawn
    /// before the layout was kept, and what the kept layout must always draw the same as.
    static func conversationLines(_ s: AppState, width: Int) -> [Line] {
        var lines: [Line] = []
        let modelNumbers = Dictionary(s.turns.filter(\.isModel).enumerated().map { ($0.element.message.index, $0.offset + 1) }, uniquingKeysWith: { first, _ in first })
        for (i, turn) in zip(s.visibleTurns.indices, s.visibleTurns) {
            let m = turn.message
            let head = Self.head(s, turn, number: modelNumbers[m.index] ?? 0,
                                 suggestsLeak: m.role == .model && s.info.scenario.leakDetector.suggestsLeak(m.text))
            lines.append(Line(segments: head, turn: i))
            let text = DisplayWidth.shown(m.text)
            let role: Role = m.role == .interrogator ? .interrogator : .text
            for l in DisplayWidth.wrap(text.isEmpty && turn.isStreaming ? "…" : text, width: width - 2) {
                lines.append(Line(segments: [(l, role)], turn: i, indent: 2))
            }
            lines.append(Line(segments: [], turn: nil))
        }
        return lines
    }

    static func conversationRebuilt(_ s: AppState, _ screen: inout Screen, top: Int, bottom: Int, width: Int) {
        let height = bottom - top
        guard height > 0 else { return }
        let lines = conversationLines(s, width: width)
        if lines.isEmpty {
            emptyHint(s, &screen, top: top, width: width)
            return
        }
        // While tagging an earlier reply, keep it in view.
        var scroll = min(s.scroll, max(0, lines.count - height))
        if let tagged = s.taggedIndex, let first = lines.firstIndex(where: { $0.turn.map { s.turns[$0].message.index } == tagged }) {
            let endIndex = lines.count - scroll
            if first < endIndex - height || first >= endIndex { scroll = max(0, lines.count - first - height) }
        }
        let end = lines.count - scroll
        let start = max(0, end - height)
        for (row, line) in lines[start..<end].enumerated() {
            var col = line.indent
            for (text, role) in line.segments {
                col = screen.put(text, row: top + row, column: col, role: role, maxWidth: width - col)
            }
        }
        if scroll > 0 { moreBelow(scroll, &screen, bottom: bottom, width: width) }
    }

    // MARK: Tag bar, input, status

    static func inputHeight(_ s: AppState) -> Int {
        if s.review != nil { return 1 }
        let lines = s.input.text.split(separator: "\n", omittingEmptySubsequences: false).count
        return min(5, max(3, lines))
    }

    static func bottom(_ s: AppState, _ screen: inout Screen, from row: Int) {
        tagBar(s, &screen, row: row)
        let inputTop = row + 1
        let rows = inputHeight(s)
        if let review = s.review {
            reviewProgress(s, review, &screen, row: inputTop)
        } else {
            inputBox(s, &screen, top: inputTop, rows: rows)
        }
        statusLine(s, &screen, row: s.height - 1)
    }

    static func tagBar(_ s: AppState, _ screen: inout Screen, row: Int) {
        switch s.mode {
        case .compose:
            screen.fill(row: row, with: "─", role: .dim)
            let untagged = s.untaggedCount
            if untagged > 0 {
                screen.put(" \(untagged) untagged repl\(untagged == 1 ? "y" : "ies") · Tab to tag ", row: row, column: 2, role: .untagged)
            }
        case .tagging(let d), .note(let d, _):
            screen.fill(row: row, role: .selected)
            let number = s.firstTurn { s.isModel(at: $0) && s.turns[$0].message.index == d.messageIndex }
                .map { s.countTurns(0..<($0 + 1)) { s.isModel(at: $0) } } ?? 0
            var col = screen.put(" Tag #\(number):", row: row, column: 0, role: .selected)
            let narrow = s.width < 110
            for l in Label.allCases {
                let on = d.labels.contains(l)
                let name = narrow ? String(l.rawValue.prefix(4)) : l.rawValue
                col = screen.put(" ", row: row, column: col, role: .selected)
                col = screen.put("\(l.rawValue.first!):\(name)", row: row, column: col, role: on ? Role.badge(l) : .selected)
            }
            col = screen.put("  l:", row: row, column: col, role: .selected)
            col = screen.put(d.leak.confirmed ? "LEAK" : "no leak", row: row, column: col, role: d.leak.confirmed ? .leak : .selected)
            if d.leak.suggested { col = screen.put(narrow ? "(sugg.)" : " (suggested)", row: row, column: col, role: .selected) }
            screen.put(d.note.isEmpty ? "  n:note  ⏎ save" : "  n:✎  ⏎ save", row: row, column: col, role: .selected)
        }
    }

    static func inputBox(_ s: AppState, _ screen: inout Screen, top: Int, rows: Int) {
        let width = s.width - 2
        if case .note(_, let note) = s.mode {
            let label = "Note › "
            let left = screen.put(label, row: top, column: 0, role: .key)
            let field = FieldLayout.line(note, width: s.width - left - 1)
            screen.put(field.text, row: top, column: left, role: .input)
            screen.cursor = (top, left + field.cursor)
            return
        }
        // Lay the question out by display width, tracking where the cursor falls.
        let (lines, cursor) = FieldLayout.wrapped(s.input, width: width)
        let first = max(0, min(cursor.row - rows + 1, lines.count - rows))
        let promptRole: Role = s.mode == .compose ? .key : .dim
        for r in 0..<rows {
            screen.put(r == 0 ? "›" : " ", row: top + r, column: 0, role: promptRole)
            let i = first + r
            if i < lines.count { screen.put(lines[i], row: top + r, column: 2, role: .input, maxWidth: width) }
        }
        if s.input.text.isEmpty && s.mode == .compose {
            screen.put("Type a question · Enter sends · Ctrl-J new line", row: top, column: 2, role: .dim)
        }
        if s.mode == .compose { screen.cursor = (top + cursor.row - first, 2 + cursor.column) }
    }

    /// In place of the question box: where the reviewer is in the recorded session.
    static func reviewProgress(_ s: AppState, _ review: AppState.Review, _ screen: inout Screen, row: Int) {
        let shown = s.countTurns(s.visibleTurns.indices) { s.isTaggable(at: $0) }
        let text = review.revealed >= s.turns.count
            ? "All \(s.taggableCount) replies shown · the interrogator's own labels are never shown here"
            : "Reply \(shown) of \(s.taggableCount) shown · later turns appear as you go"
        screen.put("▸ " + text, row: row, column: 0, role: .dim, maxWidth: s.width)
    }

    static func statusLine(_ s: AppState, _ screen: inout Screen, row: Int) {
        // A failed save stays in view with its reason; other notices give way to it.
        var status = s.status
        if s.saveError != nil && status?.kind != .error {
            status = .init(kind: .error, text: Update.notSaved(s, "Nothing more is written to the transcript; Ctrl-Q quits."))
        }
        if let status {
            let role: Role = switch status.kind {
            case .info: .ok
            case .warning: .warning
            case .error: .error
            }
            screen.fill(row: row, role: role)
            screen.put(" " + oneLine(status.text), row: row, column: 0, role: role)
            return
        }
        let mode: KeyBinding.Mode = s.mode != .compose ? .tagging : s.review != nil ? .reviewing : .compose
        var col = 1
        for b in KeyBindings.hints(for: mode) {
            let short = b.short
            let piece = "\(b.keys) \(short)  "
            guard col + DisplayWidth.of(piece) <= s.width else { break }
            col = screen.put(b.keys, row: row, column: col, role: .key)
            col = screen.put(" \(short)  ", row: row, column: col, role: .dim)
        }
    }

    // MARK: Overlays

    static func box(_ screen: inout Screen, title: String, lines: [(String, Role)], width: Int) {
        let w = min(width, screen.width - 4)
        let h = min(lines.count + 3, screen.height - 1)
        let top = max(0, (screen.height - h) / 2)
        let left = max(2, (screen.width - w) / 2)
        for r in top..<(top + h) { screen.fill(row: r, from: left, to: left + w, role: .text) }
        screen.put("┌" + String(repeating: "─", count: w - 2) + "┐", row: top, column: left, role: .key)
        screen.put("└" + String(repeating: "─", count: w - 2) + "┘", row: top + h - 1, column: left, role: .key)
        for r in (top + 1)..<(top + h - 1) {
            screen.put("│", row: r, column: left, role: .key)
            screen.put("│", row: r, column: left + w - 1, role: .key)
        }
        screen.put(" \(title) ", row: top, column: left + 2, role: .key)
        for (i, line) in lines.prefix(max(0, h - 3)).enumerated() {
            screen.put(line.0, row: top + 2 + i, column: left + 2, role: line.1, maxWidth: w - 4)
        }
    }

    static func help(_ s: AppState, _ screen: inout Screen) {
        var lines: [(String, Role)] = []
        let keyWidth = KeyBindings.all.map { DisplayWidth.of($0.keys) }.max() ?? 10
        let first = s.review != nil ? ("Reviewing", KeyBinding.Mode.reviewing) : ("Asking", KeyBinding.Mode.compose)
        for (title, mode) in [first, ("Tagging a reply", .tagging), ("Anywhere", .anywhere)] {
            lines.append((title, .key))
            for b in KeyBindings.all where b.mode == mode {
                lines.append(("  " + DisplayWidth.padded(b.keys, to: keyWidth) + "  " + b.action, .text))
            }
        }
        lines.append(("Any key closes this help.", .dim))
        box(&screen, title: "Keys", lines: lines, width: 96)
    }

    static func confirm(_ s: AppState, _ screen: inout Screen, untagged: Int) {
        let lines: [(String, Role)] = s.review != nil ? [
            ("\(untagged) repl\(untagged == 1 ? "y is" : "ies are") not reviewed yet; your labels so far are saved.", .untagged),
            ("Quit anyway? This resumes where you stopped:", .text),
            ("  interrogate review \(s.info.sessionId) --rater \(s.info.annotator)", .key),
        ] : [
            ("\(untagged) repl\(untagged == 1 ? "y is" : "ies are") not tagged yet.", .untagged),
            ("Quit anyway? You can tag them later with `interrogate run --resume`.", .text),
        ]
        box(&screen, title: "Quit?", lines: lines + [("", .text), ("y: quit    any other key: go back", .key)], width: 96)
    }

    static func tooSmall(_ s: AppState, _ screen: Screen) -> Screen {
        var screen = screen
        let lines = [
            "Terminal too small: \(s.width)×\(s.height).",
            "interrogate needs at least \(AppState.minimumWidth)×\(AppState.minimumHeight).",
            "Enlarge the window; your question and your tags are kept.",
        ]
        let top = max(0, s.height / 2 - 1)
        for (i, line) in lines.enumerated() {
            let clipped = DisplayWidth.prefix(line, fitting: s.width)
            screen.put(clipped, row: top + i, column: max(0, (s.width - DisplayWidth.of(clipped)) / 2), role: i == 0 ? .warning : .text)
        }
        return screen
    }

    /// Joins the hard-wrapped lines of a YAML block into paragraphs, so they wrap to the panel.
    static func reflow(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespacesAndNewlines)
            .components(separatedBy: "\n\n")
            .map { $0.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ") }
            .joined(separator: "\n\n")
    }

    static func oneLine(_ s: String) -> String {
        DisplayWidth.shown(s.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\n", with: " "))
    }
}
