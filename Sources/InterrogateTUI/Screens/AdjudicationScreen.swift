import Annotate
import Foundation
import Sessions

/// `interrogate adjudicate`: every rater's labels per model turn side by side, disputed turns
/// first; the adjudicator sets the final labels and leak decision of a turn, with a reason.
struct AdjudicationState: Equatable, Sendable {
    struct Rating: Equatable, Sendable {
        var rater: String
        var annotation: Annotation
    }

    struct Turn: Equatable, Sendable {
        /// The model turn's number in the conversation, from 1.
        var number: Int
        var question: String?
        var reply: MessageEvent
        var ratings: [Rating] { didSet { isDisputed = Self.disputed(ratings) } }
        /// The latest adjudication of the turn, by anyone.
        var decision: AdjudicationEvent?
        /// At least two raters labelled it and their labels or leak decisions differ. Worked
        /// out when the ratings are set, not on every frame: the header counts it over every turn.
        private(set) var isDisputed: Bool

        init(number: Int, question: String?, reply: MessageEvent, ratings: [Rating], decision: AdjudicationEvent? = nil) {
            self.number = number
            self.question = question
            self.reply = reply
            self.ratings = ratings
            self.decision = decision
            isDisputed = Self.disputed(ratings)
        }

        static func disputed(_ ratings: [Rating]) -> Bool {
            let rated = ratings.filter { !$0.annotation.labels.isEmpty }
            guard rated.count >= 2 else { return false }
            return Set(rated.map(\.annotation.labels)).count > 1 || Set(rated.map(\.annotation.leak.confirmed)).count > 1
        }
    }

    struct Draft: Equatable, Sendable {
        var labels: LabelSet
        var leak: LeakDecision
        var reason = TextInput()
        var editingReason = false
    }

    var sessionId: String
    var scenario: Scenario
    var adjudicator: String
    var raters: [String]
    /// Disputed turns first, then the others, each in conversation order.
    var turns: [Turn]
    var selected = 0
    var draft: Draft
    /// Lines scrolled down in the reply.
    var scroll = 0
    var status: AppState.Status?
    var width: Int
    var height: Int
    var pendingSaves = 0
    var lastSavedSeq: Int?
    var saveError: String?
    /// The decision whose append is on its way, and what the turn showed before it: a failed
    /// save puts the turn back, so the screen never shows a decision the file does not hold.
    var unsaved: Unsaved?
    struct Unsaved: Equatable, Sendable {
        var turn: Int
        var previous: AdjudicationEvent?
    }
    var quitting = false

    init(sessionId: String, scenario: Scenario, adjudicator: String, turns: [Turn], width: Int, height: Int) {
        self.sessionId = sessionId
        self.scenario = scenario
        self.adjudicator = adjudicator
        raters = Set(turns.flatMap { $0.ratings.map(\.rater) }).sorted()
        let ordered = turns.filter(\.isDisputed) + turns.filter { !$0.isDisputed }
        self.turns = ordered
        self.width = width
        self.height = height
        draft = Draft(labels: LabelSet(), leak: LeakDecision(suggested: false, confirmed: false))
        if !ordered.isEmpty { draft = AdjudicationUpdate.draft(for: ordered[0], scenario: scenario) }
    }

    /// Builds the turns from everything rated about a session.
    static func turns(from r: Session) -> [Turn] {
        r.modelTurns.map { t in
            // People's ratings only: an adjudicator who saw a model judge's labels would make
            // the judge's agreement with the settled labels look better than it is.
            let ratings = (r.ratings[t.reply.index] ?? [:]).sorted { $0.key < $1.key }
                .filter { !$0.value.labels.isEmpty && !TranscriptStore.isJudge($0.key) }
                .map { Rating(rater: $0.key, annotation: $0.value.annotation) }
            return Turn(number: t.number, question: t.question, reply: t.reply, ratings: ratings, decision: r.adjudications[t.reply.index])
        }
    }

    var current: Turn? { turns.indices.contains(selected) ? turns[selected] : nil }
    // Counted in place on every frame: a loop over copies would retain every field of each turn.
    var disputedCount: Int { turns.withUnsafeBufferPointer { t in t.indices.count { t[$0].isDisputed } } }
    var decidedDisputes: Int { turns.withUnsafeBufferPointer { t in t.indices.count { t[$0].isDisputed && t[$0].decision != nil } } }
}

enum AdjudicationUpdate {
    static func update(_ s: inout AdjudicationState, _ action: Action) -> [Effect] {
        switch action {
        case let .resize(w, h):
            (s.width, s.height) = Screen.clamped(width: w, height: h)
        case .saved(let seq):
            s.pendingSaves = max(0, s.pendingSaves - 1)
            s.lastSavedSeq = seq
            s.unsaved = nil
        case .saveFailed(let m):
            s.pendingSaves = max(0, s.pendingSaves - 1)
            s.saveError = m
            if let u = s.unsaved, s.turns.indices.contains(u.turn) { s.turns[u.turn].decision = u.previous }
            s.unsaved = nil
            s.status = notSaved(s)
        case .terminate:
            return quit(&s, reason: "interrupted")
        case .key(let key):
            return s.draft.editingReason ? reasonKey(&s, key) : decisionKey(&s, key)
        case .model, .modelReady, .modelFailed, .streamStarted, .streamStopped, .probed, .signalsNotSaved:
            break
        }
        return []
    }

    /// A fresh decision for a turn: the latest adjudication's, else the raters' when they all
    /// agree, else no labels; the leak pre-set as the scores count the raters' votes (a tie is a
    /// leak: `LeakDecision.majority`), or as the secret patterns say when no one rated.
    static func draft(for t: AdjudicationState.Turn, scenario: Scenario) -> AdjudicationState.Draft {
        let matches = scenario.leakDetector.matches(in: t.reply.text)
        var leak = LeakDecision(suggested: !matches.isEmpty, confirmed: !matches.isEmpty, matches: matches)
        if let d = t.decision { return .init(labels: d.labels, leak: d.leak) }
        if let majority = LeakDecision.majority(t.ratings.map(\.annotation.leak.confirmed)) { leak.confirmed = majority }
        let sets = Set(t.ratings.map(\.annotation.labels))
        return .init(labels: sets.count == 1 ? sets.first! : LabelSet(), leak: leak)
    }

    private static func select(_ s: inout AdjudicationState, _ i: Int) {
        guard s.turns.indices.contains(i) else { return }
        s.selected = i
        s.scroll = 0
        s.draft = draft(for: s.turns[i], scenario: s.scenario)
    }

    /// After a failed save nothing more is written: the file and the screen would disagree.
    static func notSaved(_ s: AdjudicationState) -> AppState.Status? {
        s.saveError.map { .init(kind: .error, text: "NOT SAVED: \($0). Decisions are no longer written; Ctrl-Q quits.") }
    }

    private static func decisionKey(_ s: inout AdjudicationState, _ key: Key) -> [Effect] {
        guard s.current != nil else {
            if case .ctrl = key { return quit(&s, reason: "quit") }
            return []
        }
        s.status = notSaved(s)
        switch key {
        case .ctrl("q"), .ctrl("c"), .escape: return quit(&s, reason: "quit")
        case .up, .char("k"): select(&s, s.selected - 1)
        case .down, .char("j"): select(&s, s.selected + 1)
        case .pageDown: s.scroll += 5
        case .pageUp: s.scroll = max(0, s.scroll - 5)
        case .char(let c) where "crdtf".contains(c):
            s.draft.labels.toggle(Label.forKey(c)!)
        case .char("l"): s.draft.leak.confirmed.toggle()
        case .enter:
            guard !s.draft.labels.isEmpty else {
                s.status = .init(kind: .warning, text: "Choose the final labels first (c r d t f).")
                return []
            }
            s.draft.editingReason = true
            s.status = .init(kind: .info, text: "Why this decision? Enter saves it, Esc goes back.")
        default: break
        }
        return []
    }

    private static func reasonKey(_ s: inout AdjudicationState, _ key: Key) -> [Effect] {
        switch key {
        case .escape:
            s.draft.editingReason = false
            s.status = nil
        case .enter:
            guard s.saveError == nil else {
                s.status = notSaved(s)
                return []
            }
            guard !s.draft.reason.isEmpty, let t = s.current else {
                s.status = .init(kind: .warning, text: "A decision needs a reason: type why, then Enter.")
                return []
            }
            let event = AdjudicationEvent(
                messageIndex: t.reply.index, rater: s.adjudicator, labels: s.draft.labels, leak: s.draft.leak,
                reason: s.draft.reason.text.trimmingCharacters(in: .whitespacesAndNewlines),
                ratings: t.ratings.map { .init(rater: $0.rater, labels: $0.annotation.labels, leak: $0.annotation.leak.confirmed) })
            s.unsaved = .init(turn: s.selected, previous: s.turns[s.selected].decision)
            s.turns[s.selected].decision = event
            s.pendingSaves += 1
            // On to the next disputed turn still open, if any.
            if let next = s.turns.indices.first(where: { s.turns[$0].isDisputed && s.turns[$0].decision == nil }) {
                select(&s, next)
                s.status = .init(kind: .info, text: "Saved turn #\(t.number). Next disputed turn: #\(s.turns[next].number).")
            } else {
                s.draft.editingReason = false
                s.draft.reason = TextInput()
                s.status = .init(kind: .info, text: "Saved turn #\(t.number). Every disputed turn is decided; Ctrl-Q ends.")
            }
            return [.append(.adjudication(event))]
        case .char(let c): s.draft.reason.insert(String(c))
        case .backspace: s.draft.reason.backspace()
        case .delete: s.draft.reason.delete()
        case .left: s.draft.reason.left()
        case .right: s.draft.reason.right()
        case .home: s.draft.reason.home()
        case .end: s.draft.reason.end()
        case .ctrl("q"), .ctrl("c"): return quit(&s, reason: "quit")
        default: break
        }
        return []
    }

    private static func quit(_ s: inout AdjudicationState, reason: String) -> [Effect] {
        s.quitting = true
        // After a failed save the file stays as it was; the exit report says what was lost.
        if s.saveError != nil { return [.quit] }
        s.pendingSaves += 1
        return [.append(.sessionEnd(.init(reason: reason))), .quit]
    }
}

extension Label {
    /// The tagging key of each label, the same in every screen.
    static func forKey(_ c: Character) -> Label? {
        switch c {
        case "c": .candid
        case "r": .refusal
        case "d": .deflection
        case "t": .transformation
        case "f": .fabrication
        default: nil
        }
    }
}

enum AdjudicationView {
    /// `rebuilt`: count the disputed turns on every frame, as before they were kept (for the benchmarks).
    static func view(_ s: AdjudicationState, rebuilt: Bool = false) -> Screen {
        if s.width < AppState.minimumWidth || s.height < AppState.minimumHeight {
            return Screen.tooSmall(width: s.width, height: s.height, note: "Your decisions are kept.")
        }
        var screen = Screen(width: s.width, height: s.height)
        header(s, &screen, rebuilt: rebuilt)
        guard let t = s.current else {
            screen.put(" No rated model turns in this session yet: nothing to adjudicate. Ctrl-Q quits.", row: 2, column: 0, role: .dim)
            return screen
        }
        let listRows = min(s.turns.count, max(3, (s.height - 10) / 3))
        let listEnd = list(s, &screen, top: 1, rows: listRows)
        screen.fill(row: listEnd, with: "─", role: .dim)
        let barRow = s.height - 3
        detail(s, t, &screen, top: listEnd + 1, bottom: barRow)
        decisionBar(s, t, &screen, row: barRow)
        reasonLine(s, t, &screen, row: s.height - 2)
        statusLine(s, &screen, row: s.height - 1)
        return screen
    }

    static func header(_ s: AdjudicationState, _ screen: inout Screen, rebuilt: Bool = false) {
        screen.fill(row: 0, role: .header)
        let saved = s.saveError != nil ? "NOT SAVED" : s.pendingSaves > 0 ? "saving…" : s.lastSavedSeq != nil ? "saved ✓" : ""
        var (disputed, decided) = (s.disputedCount, s.decidedDisputes)
        if rebuilt {
            disputed = s.turns.count { AdjudicationState.Turn.disputed($0.ratings) }
            decided = s.turns.count { AdjudicationState.Turn.disputed($0.ratings) && $0.decision != nil }
        }
        let right = "disputed \(disputed) · decided \(decided)/\(disputed)  \(saved) "
        let rw = DisplayWidth.of(right)
        screen.put(" ADJUDICATE · \(s.scenario.id) · \(s.adjudicator) · \(s.sessionId)", row: 0, column: 0, role: .header, maxWidth: s.width - rw - 1)
        screen.put(right, row: 0, column: s.width - rw, role: s.saveError != nil ? .error : .header)
    }

    /// "fabr+defl·LEAK": a rater's labels in a narrow column.
    static func short(_ labels: LabelSet, leak: Bool) -> String {
        labels.sorted.map { String($0.rawValue.prefix(4)) }.joined(separator: "+") + (leak ? "·LEAK" : "")
    }

    /// The turns, one row each, raters as columns; returns the row after the list.
    static func list(_ s: AdjudicationState, _ screen: inout Screen, top: Int, rows: Int) -> Int {
        let first = max(0, min(s.selected - rows / 2, s.turns.count - rows))
        let stateWidth = 10
        // Wide enough for the largest turn number: a number cut short would name another turn.
        let numberWidth = max(5, DisplayWidth.of("#\(s.turns.lazy.map(\.number).max() ?? 0)") + 1)
        let columnWidth = max(12, (s.raters.map { DisplayWidth.of($0) }.max() ?? 0) + 2)
        var col = screen.put(" " + DisplayWidth.padded("#", to: numberWidth) + DisplayWidth.padded("STATE", to: stateWidth), row: top, column: 0, role: .key)
        for r in s.raters { col = screen.put(DisplayWidth.padded(DisplayWidth.prefix(r, fitting: columnWidth - 1), to: columnWidth), row: top, column: col, role: .key) }
        screen.put("FINAL", row: top, column: col, role: .key)
        for (row, i) in (first..<min(s.turns.count, first + rows)).enumerated() {
            let t = s.turns[i]
            let y = top + 1 + row
            let on = i == s.selected
            let state = t.decision != nil ? "decided" : t.isDisputed ? "DISPUTED" : t.ratings.count < 2 ? "\(t.ratings.count) rater" : "agreed"
            let base: Role = on ? .selected : (t.isDisputed && t.decision == nil ? .warning : .text)
            if on { screen.fill(row: y, role: .selected) }
            var c = screen.put((on ? "▶" : " ") + DisplayWidth.padded("#\(t.number)", to: numberWidth), row: y, column: 0, role: base)
            c = screen.put(DisplayWidth.padded(state, to: stateWidth), row: y, column: c, role: base)
            for r in s.raters {
                let cell = t.ratings.first { $0.rater == r }.map { short($0.annotation.labels, leak: $0.annotation.leak.confirmed) } ?? "-"
                c = screen.put(DisplayWidth.padded(DisplayWidth.prefix(cell, fitting: columnWidth - 1), to: columnWidth), row: y, column: c, role: base)
            }
            if let d = t.decision { screen.put(short(d.labels, leak: d.leak.confirmed), row: y, column: c, role: base, maxWidth: s.width - c) }
        }
        return top + 1 + min(rows, s.turns.count)
    }

    /// The selected turn: the question, the reply (scrollable) and each rater's full judgement.
    static func detail(_ s: AdjudicationState, _ t: AdjudicationState.Turn, _ screen: inout Screen, top: Int, bottom: Int) {
        let width = s.width - 4
        var raterLines: [[(String, Role)]] = t.ratings.map { r in
            var segs: [(String, Role)] = [("  " + r.rater + ": ", .key)]
            for l in r.annotation.labels.sorted { segs.append(("[\(l.rawValue.uppercased())] ", Role.badge(l))) }
            if r.annotation.leak.confirmed { segs.append(("LEAK ", .leak)) }
            if let n = r.annotation.note, !n.isEmpty { segs.append(("✎ " + InterrogationView.oneLine(n), .dim)) }
            return segs
        }
        if let d = t.decision {
            raterLines.append([("  decided by \(d.rater): ", .key), (short(d.labels, leak: d.leak.confirmed) + " — " + InterrogationView.oneLine(d.reason), .ok)])
        }
        var text: [(String, Role)] = []
        if let q = t.question {
            text += DisplayWidth.wrap("You: " + DisplayWidth.shown(q), width: width).prefix(3).map { ($0, .interrogator) }
        }
        text.append(("Model #\(t.number)" + (t.reply.status == .cancelled ? " (stopped)" : ""), .model))
        text += DisplayWidth.wrap(DisplayWidth.shown(t.reply.text), width: width).map { ($0, .text) }
        let textRows = max(1, bottom - top - raterLines.count)
        let scroll = min(s.scroll, max(0, text.count - textRows))
        for (i, line) in text.dropFirst(scroll).prefix(textRows).enumerated() {
            screen.put(line.0, row: top + i, column: 2, role: line.1)
        }
        if text.count - scroll > textRows {
            screen.put(" ↓ more (PgDn) ", row: top + textRows - 1, column: s.width - 16, role: .warning)
        }
        for (i, segs) in raterLines.enumerated() where top + textRows + i < bottom {
            var c = 0
            for (str, role) in segs { c = screen.put(str, row: top + textRows + i, column: c, role: role, maxWidth: s.width - c) }
        }
    }

    static func decisionBar(_ s: AdjudicationState, _ t: AdjudicationState.Turn, _ screen: inout Screen, row: Int) {
        screen.fill(row: row, role: .selected)
        var col = screen.put(" Final #\(t.number):", row: row, column: 0, role: .selected)
        for l in Label.allCases {
            col = screen.put(" ", row: row, column: col, role: .selected)
            col = screen.put("\(l.rawValue.first!):\(s.width < 110 ? String(l.rawValue.prefix(4)) : l.rawValue)", row: row, column: col,
                             role: s.draft.labels.contains(l) ? Role.badge(l) : .selected)
        }
        col = screen.put("  l:", row: row, column: col, role: .selected)
        col = screen.put(s.draft.leak.confirmed ? "LEAK" : "no leak", row: row, column: col, role: s.draft.leak.confirmed ? .leak : .selected)
        screen.put("  ⏎ reason", row: row, column: col, role: .selected)
    }

    static func reasonLine(_ s: AdjudicationState, _ t: AdjudicationState.Turn, _ screen: inout Screen, row: Int) {
        if s.draft.editingReason {
            let left = screen.put("Reason › ", row: row, column: 0, role: .key)
            let field = FieldLayout.line(s.draft.reason, width: s.width - left - 1)
            screen.put(field.text, row: row, column: left, role: .input)
            screen.cursor = (row, left + field.cursor)
        } else if !t.isDisputed {
            screen.put(t.ratings.count < 2 ? "Fewer than two raters: nothing disputed here, a decision is optional." : "The raters agree; a decision is optional.",
                       row: row, column: 1, role: .dim)
        }
    }

    static func statusLine(_ s: AdjudicationState, _ screen: inout Screen, row: Int) {
        if let st = s.status {
            let role: Role = switch st.kind { case .info: .ok; case .warning: .warning; case .error: .error }
            screen.fill(row: row, role: role)
            screen.put(" " + InterrogationView.oneLine(st.text), row: row, column: 0, role: role)
            return
        }
        screen.putHints([("↑/↓", "turn"), ("c r d t f", "labels"), ("l", "leak"), ("Enter", "reason & save"), ("PgUp/PgDn", "scroll"), ("Ctrl-Q", "quit")], row: row)
    }
}
