import Foundation
import Sessions

/// `interrogate review --rater ID` without a session: the sessions this rater may review,
/// fewest reviews first; Enter opens the chosen one.
struct ReviewQueueState: Equatable, Sendable {
    var rater: String
    var entries: [ReviewQueue.Entry]
    var width: Int
    var height: Int
    var selected = 0
    var outcome: Outcome?

    enum Outcome: Equatable, Sendable { case review(String), cancel }
}

enum ReviewQueueUpdate {
    static func update(_ s: inout ReviewQueueState, _ input: CursesTerminal.Input) {
        switch input {
        case let .resize(w, h):
            s.width = w
            s.height = h
        case .key(let key):
            switch key {
            case .up, .char("k"): s.selected = max(0, s.selected - 1)
            case .down, .char("j"): s.selected = min(s.entries.count - 1, s.selected + 1)
            case .enter: if s.entries.indices.contains(s.selected) { s.outcome = .review(s.entries[s.selected].sessionId) }
            case .ctrl("q"), .ctrl("c"), .escape, .char("q"): s.outcome = .cancel
            default: break
            }
        }
    }
}

enum ReviewQueueView {
    static func view(_ s: ReviewQueueState) -> Screen {
        if s.width < AppState.minimumWidth || s.height < AppState.minimumHeight { return Screen.tooSmall(width: s.width, height: s.height) }
        var screen = Screen(width: s.width, height: s.height)
        screen.fill(row: 0, role: .header)
        screen.put(" interrogate · sessions for \(s.rater) to review (fewest reviews first; never your own)", row: 0, column: 0, role: .header, maxWidth: s.width)
        let columns = ["SESSION", "SCENARIO", "REPLIES", "REVIEWS", "YOURS"]
        let rows = s.entries.map { e in
            [e.sessionId, e.scenario, String(e.replies), String(e.reviews), e.reviewedByYou == 0 ? "-" : "\(e.reviewedByYou)/\(e.replies) (resume)"]
        }
        let lines = Table(header: columns, rows: rows).render().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        screen.put(" " + lines[0], row: 2, column: 0, role: .key, maxWidth: s.width)
        let visible = s.height - 6
        let first = max(0, min(s.selected - visible / 2, rows.count - visible))
        for (row, i) in (first..<min(rows.count, first + visible)).enumerated() {
            let on = i == s.selected
            if on { screen.fill(row: 3 + row, role: .selected) }
            screen.put(" " + lines[i + 1], row: 3 + row, column: 0, role: on ? .selected : .text, maxWidth: s.width)
        }
        if rows.isEmpty { screen.put(" Nothing to review: every session is yours, reviewed by you, or has no replies.", row: 4, column: 0, role: .dim) }
        screen.putHints([("↑/↓", "session"), ("Enter", "review it"), ("Esc", "quit")], row: s.height - 1)
        return screen
    }
}
