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
            (s.width, s.height) = Screen.clamped(width: w, height: h)
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
        screen.putTable(header: columns, rows: rows, selected: s.selected, top: 2, visible: s.height - 6)
        if rows.isEmpty { screen.put(" Nothing to review: every session is yours, reviewed by you, or has no replies.", row: 4, column: 0, role: .dim) }
        screen.putHints([("↑/↓", "session"), ("Enter", "review it"), ("Esc", "quit")], row: s.height - 1)
        return screen
    }
}
