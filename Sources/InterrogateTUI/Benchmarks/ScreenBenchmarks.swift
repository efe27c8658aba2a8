import Foundation

/// What one frame costs on a long session, headless: `update`, `view` and the cell diff the
/// terminal draws from, for the live, review, adjudication and report screens; and the same
/// frames drawn the old way (every message wrapped again, every cell pushed), for the ratio.
/// Prints figures and asserts nothing: `swift run -c release InterrogateBenchmarks screen`.
package enum ScreenBenchmarks {
    struct Figure {
        var milliseconds: Double
        /// The frame's parts: update, view, cell diff.
        var parts: (update: Double, view: Double, diff: Double) = (0, 0, 0)
        /// Cells the terminal is asked to rewrite, per frame.
        var cells: Int
        var frames: Int
    }

    package static func main(_ arguments: [String]) {
        guard arguments.dropFirst().first.map({ $0 == "screen" || $0.hasPrefix("--") }) ?? true else {
            print("usage: InterrogateBenchmarks screen [--pairs N] [--width W] [--height H] [--new-only]")
            return
        }
        // --new-only: the kept way alone (for a profiler).
        let newOnly = arguments.contains("--new-only")
        let pairs = value("--pairs", in: arguments) ?? 2000
        let width = value("--width", in: arguments) ?? 200
        let height = value("--height", in: arguments) ?? 60
        #if DEBUG
        print("note: a debug build; release figures: swift run -c release InterrogateBenchmarks screen")
        #endif
        let clock = ContinuousClock()
        var session: LongSession!
        let made = clock.measure { session = LongSession(pairs: pairs) }
        print("Screen benchmarks: \(pairs) questions and \(pairs) replies (\(2 * pairs) messages), \(width)×\(height), "
              + "\(width * height) cells; session made in \(format(made))")
        print("Each figure: one frame = update + view + cell diff, mean over the frames timed; old = every message wrapped and every cell pushed.")
        print("")

        // The live screen.
        var live = session.interrogation(width: width, height: height)
        let opened = clock.measure { Update.keepLayout(&live) }
        print("interrogation (live), opening the session: wrapping what the first frame shows \(format(opened))")
        let interrogation = Timed<AppState>(
            update: { s, a in _ = Update.update(&s, a) },
            view: { InterrogationView.view($0) },
            oldView: { InterrogationView.view($0, rebuilt: true) }, newOnly: newOnly)
        report("interrogation", [
            ("keystroke", live, interrogation.run { s, i in interrogation.update(&s, i % 2 == 0 ? .key(.char("x")) : .key(.backspace)) }),
            ("streamed token", streaming(live), interrogation.run(maxFrames: 400) { s, _ in
                interrogation.update(&s, .model(streamId: s.streaming?.id ?? 0, .text("word "), at: .now))
            }),
            // A token into a long reply: it is wrapped again from the last line the token changes,
            // not from its start (the reply's words and lines are still copied).
            ("token, 20,000-char reply", streaming(live, already: longReply(paragraphs: 40)), interrogation.run(maxFrames: 400) { s, _ in
                interrogation.update(&s, .model(streamId: s.streaming?.id ?? 0, .text("word "), at: .now))
            }),
            ("token, 1 paragraph of 20,000", streaming(live, already: longReply(paragraphs: 1)), interrogation.run(maxFrames: 400) { s, _ in
                interrogation.update(&s, .model(streamId: s.streaming?.id ?? 0, .text("word "), at: .now))
            }),
            ("scroll (PgUp/PgDn)", live, interrogation.run { s, i in interrogation.update(&s, i % 8 < 4 ? .key(.pageUp) : .key(.pageDown)) }),
            ("resize (±1 column)", live, interrogation.run { s, i in interrogation.update(&s, .resize(width: width - i % 2, height: height)) }),
        ])

        // The blind review of the same session.
        let reviewing = session.review(width: width, height: height)
        report("review", [
            ("keystroke (label)", reviewing, interrogation.run { s, _ in interrogation.update(&s, .key(.char("d"))) }),
            ("move to a reply (↑/↓)", reviewing, interrogation.run { s, i in interrogation.update(&s, i % 2 == 0 ? .key(.up) : .key(.down)) }),
            ("scroll (PgUp/PgDn)", reviewing, interrogation.run { s, i in interrogation.update(&s, i % 8 < 4 ? .key(.pageUp) : .key(.pageDown)) }),
            ("resize (±1 column)", reviewing, interrogation.run { s, i in interrogation.update(&s, .resize(width: width - i % 2, height: height)) }),
        ])

        let adjudicating = session.adjudication(width: width, height: height)
        let adjudication = Timed<AdjudicationState>(
            update: { s, a in _ = AdjudicationUpdate.update(&s, a) },
            view: { AdjudicationView.view($0) },
            oldView: { AdjudicationView.view($0, rebuilt: true) }, newOnly: newOnly)
        report("adjudication", [
            ("keystroke (label)", adjudicating, adjudication.run { s, _ in adjudication.update(&s, .key(.char("d"))) }),
            ("move to a turn (↑/↓)", adjudicating, adjudication.run { s, i in adjudication.update(&s, i % 2 == 0 ? .key(.down) : .key(.up)) }),
            ("scroll the reply (PgDn/PgUp)", adjudicating, adjudication.run { s, i in adjudication.update(&s, i % 2 == 0 ? .key(.pageDown) : .key(.pageUp)) }),
            ("resize (±1 column)", adjudicating, adjudication.run { s, i in adjudication.update(&s, .resize(width: width - i % 2, height: height)) }),
        ])

        let replaying = session.reportReplay(width: width, height: height)
        let reportScreen = Timed<ReportScreenState>(
            update: { s, a in
                switch a {
                case .key(let k): _ = ReportScreenUpdate.update(&s, .key(k))
                case let .resize(w, h): _ = ReportScreenUpdate.update(&s, .resize(w, h))
                default: break
                }
            },
            view: { ReportScreenView.view($0) },
            oldView: { ReportScreenView.view($0, rebuilt: true) }, newOnly: newOnly)
        report("report (a transcript's replay)", [
            ("keystroke (↓/↑ a line)", replaying, reportScreen.run { s, i in reportScreen.update(&s, i % 2 == 0 ? .key(.down) : .key(.up)) }),
            ("scroll (PgDn/PgUp)", replaying, reportScreen.run { s, i in reportScreen.update(&s, i % 8 < 4 ? .key(.pageDown) : .key(.pageUp)) }),
            ("resize (±1 column)", replaying, reportScreen.run { s, i in reportScreen.update(&s, .resize(width: width - i % 2, height: height)) }),
        ])
    }

    /// A screen's update and its two views, the kept one and the old one.
    struct Timed<State> {
        var update: (inout State, Action) -> Void
        var view: (State) -> Screen
        var oldView: (State) -> Screen
        var newOnly: Bool

        typealias Step = (inout State, Int) -> Void

        func run(maxFrames: Int = 2000, _ step: @escaping Step) -> (State) -> (new: Figure, old: Figure) {
            { start in
                (time(start, maxFrames: maxFrames, budget: .milliseconds(600), step: step, view: view, pushEverything: false),
                 newOnly ? Figure(milliseconds: 0, cells: 0, frames: 0)
                    : time(start, maxFrames: maxFrames, budget: .milliseconds(1500), step: step, view: oldView, pushEverything: true))
            }
        }
    }

    /// Frames of `step` then a draw, until `maxFrames` or the time budget is spent.
    static func time<State>(_ start: State, maxFrames: Int, budget: Duration, step: (inout State, Int) -> Void,
                            view: (State) -> Screen, pushEverything: Bool) -> Figure {
        var s = start
        var shown = view(s)
        var cells = 0
        var frames = 0
        let clock = ContinuousClock()
        var spent = Duration.zero
        var parts: (update: Duration, view: Duration, diff: Duration) = (.zero, .zero, .zero)
        while frames < maxFrames && (frames < 3 || spent < budget) {
            let t0 = clock.now
            step(&s, frames)
            let t1 = clock.now
            let screen = view(s)
            let t2 = clock.now
            let spans = pushEverything ? ScreenDiff.everything(screen) : ScreenDiff.spans(from: shown, to: screen)
            // The old renderer visited every cell to push it; the new one visits the spans.
            var visited = 0
            for span in spans { for col in span.columns where ScreenDiff.text(screen, row: span.row, column: col) != nil { visited += 1 } }
            let t3 = clock.now
            spent += t3 - t0
            parts.update += t1 - t0
            parts.view += t2 - t1
            parts.diff += t3 - t2
            cells += visited
            shown = screen
            frames += 1
        }
        let n = Double(frames)
        return Figure(milliseconds: milliseconds(spent) / n,
                      parts: (milliseconds(parts.update) / n, milliseconds(parts.view) / n, milliseconds(parts.diff) / n),
                      cells: cells / max(1, frames), frames: frames)
    }

    /// A reply streaming in at the end of the session, with `already` streamed.
    static func streaming(_ s: AppState, already: String = "") -> AppState {
        var s = s
        for c in "And the code?" { _ = Update.update(&s, .key(.char(c))) }
        _ = Update.update(&s, .key(.enter))
        if let id = s.streaming?.id {
            _ = Update.update(&s, .streamStarted(streamId: id, at: .now))
            if !already.isEmpty { _ = Update.update(&s, .model(streamId: id, .text(already), at: .now)) }
        }
        return s
    }

    /// About 20,000 characters of words, in `paragraphs` paragraphs.
    static func longReply(paragraphs: Int) -> String {
        let words = ["the", "code", "is", "not", "something", "I", "can", "share", "with", "you,", "but", "maintenance", "records", "show", "nothing."]
        let perParagraph = 20_000 / paragraphs / 6
        return (0..<paragraphs).map { p in (0..<perParagraph).map { words[($0 * 7 + p) % words.count] }.joined(separator: " ") }
            .joined(separator: "\n\n") + " "
    }

    static func report<State>(_ title: String, _ rows: [(String, State, (State) -> (new: Figure, old: Figure))]) {
        print(title)
        for (name, state, run) in rows {
            let (new, old) = run(state)
            let ratio = old.milliseconds / max(new.milliseconds, 1e-9)
            let parts = "update \(format(ms: new.parts.update)), view \(format(ms: new.parts.view)), diff \(format(ms: new.parts.diff))"
            print("  " + DisplayWidth.padded(name, toAtLeast: 30)
                  + " \(format(ms: new.milliseconds)) (\(parts); \(new.cells) cells rewritten)"
                  + (old.frames == 0 ? "" : "   old: \(format(ms: old.milliseconds)) (\(old.cells) cells), ×\(String(format: ratio >= 10 ? "%.0f" : "%.1f", ratio))"))
        }
        print("")
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    static func format(_ d: Duration) -> String { format(ms: milliseconds(d)) }

    static func format(ms: Double) -> String {
        ms >= 100 ? String(format: "%.0f ms", ms) : ms >= 1 ? String(format: "%.1f ms", ms) : String(format: "%.3f ms", ms)
    }

    static func value(_ name: String, in arguments: [String]) -> Int? {
        arguments.firstIndex(of: name).flatMap { arguments.indices.contains($0 + 1) ? Int(arguments[$0 + 1]) : nil }
    }
}
