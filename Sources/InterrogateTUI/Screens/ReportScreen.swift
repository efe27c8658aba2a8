import Annotate
import Foundation
import Sessions

/// `interrogate report --tui`: the per-group table with bars drawn in block characters;
/// Enter drills down to a group's transcripts, and from there to a transcript's replay.
struct ReportScreenState: Sendable {
    struct ReplayLine: Sendable, Equatable {
        var text: String
        var role: Role
    }

    enum Level: Sendable, Equatable {
        case groups
        case transcripts
        case replay(title: String, lines: [ReplayLine])
    }

    var report: StudyReport
    var level: Level = .groups
    var group = 0
    var line = 0
    var scroll = 0
    var width: Int
    var height: Int
    var status: String?
    var quitting = false
    /// The replay wrapped to the screen, kept by `update`: scrolling draws from it.
    var replayLayout: ReplayLayout?

    /// A transcript's replay wrapped once per width.
    struct ReplayLayout: Sendable {
        var lines: [ReplayLine]
        var width: Int
        var wrapped: [(String, Role)]

        func fits(_ lines: [ReplayLine], width: Int) -> Bool { self.width == width && self.lines == lines }
    }

    init(report: StudyReport, width: Int, height: Int) {
        self.report = report
        self.width = width
        self.height = height
    }

    var currentGroup: StudyReport.Group? { report.groups.indices.contains(group) ? report.groups[group] : nil }
}

enum ReportScreenUpdate {
    enum Input: Sendable {
        case key(Key)
        case resize(Int, Int)
        case replayLoaded(title: String, lines: [ReportScreenState.ReplayLine])
        case replayFailed(String)
    }

    /// Returns the folder of a transcript to load for its replay, if one was asked for.
    static func update(_ s: inout ReportScreenState, _ input: Input) -> String? {
        let folder = apply(&s, input)
        if case let .replay(_, lines) = s.level, !(s.replayLayout?.fits(lines, width: s.width) ?? false) {
            s.replayLayout = .init(lines: lines, width: s.width, wrapped: ReportScreenView.wrap(lines, width: s.width))
        }
        return folder
    }

    private static func apply(_ s: inout ReportScreenState, _ input: Input) -> String? {
        switch input {
        case let .resize(w, h):
            s.width = w
            s.height = h
        case let .replayLoaded(title, lines):
            s.level = .replay(title: title, lines: lines)
            s.scroll = 0
        case .replayFailed(let m):
            s.status = m
        case .key(let key):
            s.status = nil
            switch (s.level, key) {
            case (_, .ctrl("q")), (_, .ctrl("c")), (.groups, .char("q")), (.groups, .escape):
                s.quitting = true
            case (.groups, .up), (.groups, .char("k")): s.group = max(0, s.group - 1)
            case (.groups, .down), (.groups, .char("j")): s.group = min(max(0, s.report.groups.count - 1), s.group + 1)
            case (.groups, .enter):
                if s.currentGroup != nil { s.level = .transcripts; s.line = 0 }
            case (.transcripts, .up), (.transcripts, .char("k")): s.line = max(0, s.line - 1)
            case (.transcripts, .down), (.transcripts, .char("j")): s.line = min(max(0, (s.currentGroup?.lines.count ?? 1) - 1), s.line + 1)
            case (.transcripts, .escape), (.transcripts, .backspace), (.transcripts, .char("q")): s.level = .groups
            case (.transcripts, .enter):
                if let g = s.currentGroup, g.lines.indices.contains(s.line) { return g.lines[s.line].folder }
            case (.replay, .up), (.replay, .char("k")): s.scroll = max(0, s.scroll - 1)
            case (.replay, .down), (.replay, .char("j")): s.scroll += 1
            case (.replay, .pageUp): s.scroll = max(0, s.scroll - max(1, s.height - 4))
            case (.replay, .pageDown), (.replay, .char(" ")): s.scroll += max(1, s.height - 4)
            case (.replay, .escape), (.replay, .backspace), (.replay, .char("q")): s.level = .transcripts
            default: break
            }
        }
        return nil
    }
}

enum ReportScreenView {
    /// A bar of `width` cells for a value in 0...maximum, in eighths of a cell.
    static func bar(_ value: Double, maximum: Double, width: Int) -> String {
        let eighths = Int((min(max(value / maximum, 0), 1) * Double(width * 8)).rounded())
        let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"][eighths % 8]
        return String(repeating: "█", count: eighths / 8) + partial
    }

    static func view(_ s: ReportScreenState) -> Screen {
        if s.width < AppState.minimumWidth || s.height < AppState.minimumHeight { return Screen.tooSmall(width: s.width, height: s.height) }
        var screen = Screen(width: s.width, height: s.height)
        screen.fill(row: 0, role: .header)
        let hints: [(String, String)]
        switch s.level {
        case .groups:
            screen.put(" REPORT · \(s.report.transcripts) transcript(s) by \(s.report.by.map(\.rawValue).joined(separator: " × "))", row: 0, column: 0, role: .header, maxWidth: s.width)
            groups(s, &screen)
            hints = [("↑/↓", "group"), ("Enter", "its transcripts"), ("q", "quit")]
        case .transcripts:
            let name = s.currentGroup.map { ReportText.groupName(s.report, $0) } ?? ""
            screen.put(" REPORT · \(name) · \(s.currentGroup?.transcripts ?? 0) transcript(s)", row: 0, column: 0, role: .header, maxWidth: s.width)
            transcripts(s, &screen)
            hints = [("↑/↓", "transcript"), ("Enter", "replay"), ("Esc", "back")]
        case let .replay(title, lines):
            screen.put(" REPLAY · \(title)", row: 0, column: 0, role: .header, maxWidth: s.width)
            replay(s, lines, &screen)
            hints = [("↑/↓ PgUp/PgDn", "scroll"), ("Esc", "back")]
        }
        if let status = s.status {
            screen.fill(row: s.height - 1, role: .error)
            screen.put(" " + status, row: s.height - 1, column: 0, role: .error, maxWidth: s.width)
        } else {
            screen.putHints(hints, row: s.height - 1)
        }
        return screen
    }

    static func groups(_ s: ReportScreenState, _ screen: inout Screen) {
        let r = s.report
        guard !r.groups.isEmpty else {
            screen.put(" No transcripts to report.", row: 2, column: 0, role: .dim)
            return
        }
        let nameWidth = min(28, max(12, r.groups.map { DisplayWidth.of(ReportText.groupName(r, $0)) }.max() ?? 12))
        let barWidth = max(8, (s.width - nameWidth - 50) / 2)
        let maxWeight = max(1, Label.allCases.map { r.configuration.weights.weight(of: $0) }.max() ?? 3)
        var col = screen.put(" " + "GROUP".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "   N ", row: 2, column: 0, role: .key)
        col = screen.put(" " + "DECEPTION RATE [95% CI]".padding(toLength: barWidth + 20, withPad: " ", startingAt: 0), row: 2, column: col, role: .key)
        screen.put(" SEVERITY", row: 2, column: col, role: .key)
        let rows = s.height - 8
        let first = max(0, min(s.group - rows / 2, r.groups.count - rows))
        for (i, gi) in (first..<min(r.groups.count, first + rows)).enumerated() {
            let g = r.groups[gi]
            let y = 3 + i
            let on = gi == s.group
            if on { screen.fill(row: y, role: .selected) }
            let base: Role = on ? .selected : .text
            var c = screen.put(" " + DisplayWidth.prefix(ReportText.groupName(r, g), fitting: nameWidth).padding(toLength: nameWidth, withPad: " ", startingAt: 0), row: y, column: 0, role: base)
            c = screen.put(String(format: "%4d ", g.transcripts), row: y, column: c, role: base)
            for (score, maximum) in [(Score.deceptionRate, 1.0), (.severity, maxWeight)] {
                let f = g.scores[score]!
                let b = f.mean.map { bar($0, maximum: maximum, width: barWidth) } ?? ""
                c = screen.put(" " + b.padding(toLength: barWidth, withPad: " ", startingAt: 0), row: y, column: c, role: on ? .selected : .model)
                c = screen.put(" " + ReportText.withInterval(f).padding(toLength: 19, withPad: " ", startingAt: 0), row: y, column: c, role: base, maxWidth: s.width - c)
            }
        }
        var y = s.height - 4
        for line in ReportText.footer(r).prefix(3) {
            screen.put(" " + line, row: y, column: 0, role: .dim, maxWidth: s.width)
            y += 1
        }
    }

    static func transcripts(_ s: ReportScreenState, _ screen: inout Screen) {
        guard let g = s.currentGroup else { return }
        let idx = { (score: Score) in Score.all.firstIndex(of: score)! }
        let header = ["SESSION", "TURNS", "RATERS", "DECEPTION", "SEVERITY", "KEPT", "LEAK AT"]
        let rows = g.lines.map { l in
            [l.sessionId, String(l.turns), l.raters.joined(separator: ","), ReportText.fmt(l.scores[idx(.deceptionRate)], 2),
             ReportText.fmt(l.scores[idx(.severity)], 2), l.scores[idx(.secretKept)].map { $0 == 1 ? "yes" : "no" } ?? "—",
             l.scores[idx(.turnsToLeak)].map { "#\(Int($0))" } ?? "—"]
        }
        screen.putTable(header: header, rows: rows, selected: s.line, top: 2, visible: s.height - 5)
    }

    /// Each line of a replay wrapped to the screen, messages indented under who speaks.
    static func wrap(_ content: [ReportScreenState.ReplayLine], width: Int) -> [(String, Role)] {
        var wrapped: [(String, Role)] = []
        for l in content {
            let indent = l.role == .text || (l.role == .interrogator && l.text != "You") ? 2 : 0
            for w in DisplayWidth.wrap(TerminalText.inert(l.text), width: width - 2 - indent) { wrapped.append((String(repeating: " ", count: indent) + w, l.role)) }
            if l.role == .text { wrapped.append(("", .text)) }
        }
        return wrapped
    }

    static func replay(_ s: ReportScreenState, _ content: [ReportScreenState.ReplayLine], _ screen: inout Screen) {
        let wrapped = s.replayLayout.flatMap { $0.fits(content, width: s.width) ? $0.wrapped : nil } ?? wrap(content, width: s.width)
        let rows = s.height - 3
        let top = min(s.scroll, max(0, wrapped.count - rows))
        for (i, (text, role)) in wrapped.dropFirst(top).prefix(rows).enumerated() {
            screen.put(" " + text, row: 2 + i, column: 0, role: role, maxWidth: s.width)
        }
    }
}
