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

    /// A transcript's replay wrapped to the screen: each of its lines wrapped once per width,
    /// and only as far down as the replay has been read.
    struct ReplayLayout: Sendable {
        var lines: [ReplayLine]
        var width: Int
        var blocks: [[(String, Role)]?]
        /// Each line's text measured, whatever the width: a resize wraps these again.
        var words: [DisplayWidth.Words?]

        init(lines: [ReplayLine], width: Int, keeping before: ReplayLayout? = nil) {
            self.lines = lines
            self.width = width
            blocks = Array(repeating: nil, count: lines.count)
            words = before.flatMap { $0.lines == lines ? $0.words : nil } ?? Array(repeating: nil, count: lines.count)
        }

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
        keepReplay(&s)
        return folder
    }

    /// Wraps the lines of the replay the next frame shows that are not wrapped yet.
    static func keepReplay(_ s: inout ReportScreenState) {
        guard case let .replay(_, lines) = s.level, s.width >= AppState.minimumWidth, s.height >= AppState.minimumHeight else { return }
        var layout = s.replayLayout.flatMap { $0.fits(lines, width: s.width) ? $0 : nil }
            ?? .init(lines: lines, width: s.width, keeping: s.replayLayout)
        // Taken out while it is filled in, so that it is changed in place, not copied.
        s.replayLayout = nil
        _ = ReportScreenView.replayWindow(lines, scroll: s.scroll, rows: s.height - 3) { i in
            if let kept = layout.blocks[i] { return kept }
            let words = layout.words[i] ?? ReportScreenView.words(lines[i])
            layout.words[i] = words
            let block = ReportScreenView.wrap(lines[i], words: words, width: s.width)
            layout.blocks[i] = block
            return block
        }
        s.replayLayout = layout
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

    /// `rebuilt`: wrap a replay whole on every frame, as before it was kept (tests and benchmarks compare).
    static func view(_ s: ReportScreenState, rebuilt: Bool = false) -> Screen {
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
            replay(s, lines, &screen, rebuilt: rebuilt)
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
        let maxWeight = max(1, Label.allCases.map { r.configuration.weights.weight(of: $0) }.max() ?? 3)
        // Wide enough for every count and every figure with its interval: a figure cut short
        // on screen would be read as another.
        let countWidth = max(4, r.groups.map { String($0.transcripts).count }.max() ?? 4)
        let intervalWidth = max(20, r.groups.flatMap { g in [Score.deceptionRate, .severity].map { DisplayWidth.of(ReportText.withInterval(g.scores[$0]!)) } }.max() ?? 20)
        // The figures come first: a long group name is cut (down to 12 columns) before the
        // bars narrow below 8, and they before a figure is.
        let figures = 2 * (2 + intervalWidth) + (1 + countWidth + 1)
        let longest = r.groups.map { DisplayWidth.of(ReportText.groupName(r, $0)) }.max() ?? 12
        let nameWidth = max(12, min(28, longest, s.width - figures - 2 * 8))
        // The two bars share what the name, the count and the figures leave.
        let barWidth = max(1, (s.width - nameWidth - figures) / 2)
        var col = screen.put(" " + DisplayWidth.padded("GROUP", to: nameWidth) + String(repeating: " ", count: countWidth - 1) + "N ", row: 2, column: 0, role: .key)
        col = screen.put(" " + DisplayWidth.padded("DECEPTION RATE [95% CI]", to: barWidth + 1 + intervalWidth), row: 2, column: col, role: .key)
        screen.put(" SEVERITY", row: 2, column: col, role: .key)
        let rows = s.height - 8
        let first = max(0, min(s.group - rows / 2, r.groups.count - rows))
        for (i, gi) in (first..<min(r.groups.count, first + rows)).enumerated() {
            let g = r.groups[gi]
            let y = 3 + i
            let on = gi == s.group
            if on { screen.fill(row: y, role: .selected) }
            let base: Role = on ? .selected : .text
            var c = screen.put(" " + DisplayWidth.padded(ReportText.groupName(r, g), to: nameWidth), row: y, column: 0, role: base)
            let count = String(g.transcripts)
            c = screen.put(String(repeating: " ", count: countWidth - count.count) + count + " ", row: y, column: c, role: base)
            for (score, maximum) in [(Score.deceptionRate, 1.0), (.severity, maxWeight)] {
                let f = g.scores[score]!
                let b = f.mean.map { bar($0, maximum: maximum, width: barWidth) } ?? ""
                c = screen.put(" " + DisplayWidth.padded(b, to: barWidth), row: y, column: c, role: on ? .selected : .model)
                c = screen.put(" " + DisplayWidth.padded(ReportText.withInterval(f), to: intervalWidth), row: y, column: c, role: base, maxWidth: s.width - c)
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
        content.flatMap { wrap($0, width: width) }
    }

    static func wrap(_ l: ReportScreenState.ReplayLine, width: Int) -> [(String, Role)] {
        wrap(l, words: words(l), width: width)
    }

    /// A line's text as shown, measured once for every width.
    static func words(_ l: ReportScreenState.ReplayLine) -> DisplayWidth.Words { DisplayWidth.Words(DisplayWidth.shown(l.text)) }

    static func wrap(_ l: ReportScreenState.ReplayLine, words: DisplayWidth.Words, width: Int) -> [(String, Role)] {
        var wrapped: [(String, Role)] = []
        let indent = l.role == .text || (l.role == .interrogator && l.text != "You") ? 2 : 0
        for w in DisplayWidth.wrap(words, width: width - 2 - indent) { wrapped.append((String(repeating: " ", count: indent) + w, l.role)) }
        if l.role == .text { wrapped.append(("", .text)) }
        return wrapped
    }

    /// The rows of the replay on screen: the wrapped lines from the top down to the window's
    /// last row are looked at, no further (all of them only when scrolled to the end).
    static func replayWindow(_ content: [ReportScreenState.ReplayLine], scroll: Int, rows: Int,
                             block: (Int) -> [(String, Role)]) -> [(String, Role)] {
        // Where each line's rows start, down to the window's last row.
        var starts: [Int] = []
        var count = 0
        while starts.count < content.count && count < scroll + rows {
            starts.append(count)
            count += block(starts.count - 1).count
        }
        // Reached the end: the window cannot scroll past the last row.
        let top = starts.count == content.count ? min(scroll, max(0, count - rows)) : scroll
        var shown: [(String, Role)] = []
        var i = max(0, (starts.lastIndex { $0 <= top }) ?? 0)
        while i < starts.count && shown.count < rows {
            let b = block(i)
            let from = max(0, top - starts[i])
            if from < b.count { shown += b[from..<min(b.count, from + rows - shown.count)] }
            i += 1
        }
        return shown
    }

    static func replay(_ s: ReportScreenState, _ content: [ReportScreenState.ReplayLine], _ screen: inout Screen, rebuilt: Bool = false) {
        let rows = s.height - 3
        let shown: [(String, Role)]
        if rebuilt {
            // As before the layout was kept: every line wrapped on every frame.
            let wrapped = wrap(content, width: s.width)
            let top = min(s.scroll, max(0, wrapped.count - rows))
            shown = Array(wrapped.dropFirst(top).prefix(rows))
        } else {
            let kept = s.replayLayout.flatMap { $0.fits(content, width: s.width) ? $0 : nil }
            shown = replayWindow(content, scroll: s.scroll, rows: rows) { kept?.blocks[$0] ?? wrap(content[$0], width: s.width) }
        }
        for (i, (text, role)) in shown.enumerated() {
            screen.put(" " + text, row: 2 + i, column: 0, role: role, maxWidth: s.width)
        }
    }
}
