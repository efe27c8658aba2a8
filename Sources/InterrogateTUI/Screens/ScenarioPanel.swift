import Sessions

/// The scenario's secret, brief and probes as the panel shows them, wrapped to its width.
/// Made once per width and kept in the layout, as the messages are: reflowing and wrapping
/// the brief on every frame was a third of a frame's cost.
struct ScenarioPanel: Sendable {
    struct Section: Sendable {
        var title: String
        var lines: [String]
        var role: Role
    }

    /// What it was made from: the panel is made again when any of it changes.
    var secret: String
    var brief: String
    var probes: [String]
    var width: Int
    var side: Bool
    /// Beside the conversation: SECRET, BRIEF and PROBES, each wrapped.
    /// Above it: the secret on one line, then the brief wrapped.
    var sections: [Section]

    init(_ s: AppState, width: Int, side: Bool) {
        let scenario = s.info.scenario
        (secret, brief, probes, self.width, self.side) = (scenario.secret.text, scenario.brief, scenario.probes, width, side)
        let secretLine = InterrogationView.oneLine(scenario.secret.text)
        if side {
            sections = [
                Section(title: "SECRET", lines: DisplayWidth.wrap(secretLine, width: width), role: .leak),
                Section(title: "BRIEF", lines: DisplayWidth.wrap(DisplayWidth.shown(InterrogationView.reflow(scenario.brief)), width: width), role: .text),
            ]
            if !scenario.probes.isEmpty {
                let probes = DisplayWidth.shown(scenario.probes.map { "• " + $0 }.joined(separator: "\n"))
                sections.append(Section(title: "PROBES", lines: DisplayWidth.wrap(probes, width: width), role: .dim))
            }
        } else {
            sections = [
                Section(title: "Secret", lines: ["Secret: " + secretLine], role: .leak),
                Section(title: "Brief", lines: DisplayWidth.wrap("Brief: " + InterrogationView.oneLine(scenario.brief), width: width), role: .dim),
            ]
        }
    }

    func fits(_ s: AppState, width: Int, side: Bool) -> Bool {
        self.width == width && self.side == side && secret == s.info.scenario.secret.text
            && brief == s.info.scenario.brief && probes == s.info.scenario.probes
    }
}
