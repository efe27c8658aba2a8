import Annotate
import Foundation
import Sessions

/// `report --format html`: one self-contained file (no scripts, no fonts, no network) with
/// inline SVG charts, the table, and the provenance behind every number.
enum ReportHTML {
    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func f(_ d: Double) -> String { String(format: "%.1f", d) }

    static let labelColours: [Label: String] = [
        .candid: "#4c9a2a", .refusal: "#7a8a99", .deflection: "#e0a526", .transformation: "#e06c26", .fabrication: "#c62828",
    ]

    struct Bar {
        var name: String
        var value: Double?
        var low: Double?
        var high: Double?
        var note: String
    }

    /// Horizontal bars with 95% whiskers, one row per group, on a fixed scale.
    static func barChart(id: String, title: String, bars: [Bar], maximum: Double) -> String {
        let labelWidth = 260.0, plot = 420.0, row = 28.0
        let height = Double(bars.count) * row + 40
        var svg = "<svg id=\"\(id)\" class=\"chart\" role=\"img\" aria-label=\"\(esc(title))\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(labelWidth + plot + 120))\" height=\"\(f(height))\">"
        svg += "<title>\(esc(title))</title>"
        let x = { (v: Double) in labelWidth + plot * min(max(v / maximum, 0), 1) }
        for tick in 0...4 {
            let v = maximum * Double(tick) / 4
            svg += "<line x1=\"\(f(x(v)))\" y1=\"4\" x2=\"\(f(x(v)))\" y2=\"\(f(height - 24))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(f(x(v)))\" y=\"\(f(height - 8))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">\(String(format: "%g", (v * 1000).rounded() / 1000))</text>"
        }
        for (i, b) in bars.enumerated() {
            let y = 8 + Double(i) * row
            svg += "<text x=\"\(f(labelWidth - 8))\" y=\"\(f(y + 15))\" font-size=\"12\" text-anchor=\"end\">\(esc(b.name))</text>"
            guard let v = b.value else {
                svg += "<text x=\"\(f(labelWidth + 4))\" y=\"\(f(y + 15))\" font-size=\"12\" fill=\"#777\">undefined</text>"
                continue
            }
            svg += "<rect class=\"bar\" x=\"\(f(labelWidth))\" y=\"\(f(y + 3))\" width=\"\(f(x(v) - labelWidth))\" height=\"16\" fill=\"#3f6fb5\"><title>\(esc(b.name)): \(String(format: "%.3f", v)) \(esc(b.note))</title></rect>"
            if let lo = b.low, let hi = b.high {
                svg += "<g class=\"whisker\" stroke=\"#111\" stroke-width=\"1.5\"><line x1=\"\(f(x(lo)))\" y1=\"\(f(y + 11))\" x2=\"\(f(x(hi)))\" y2=\"\(f(y + 11))\"/>"
                svg += "<line x1=\"\(f(x(lo)))\" y1=\"\(f(y + 5))\" x2=\"\(f(x(lo)))\" y2=\"\(f(y + 17))\"/><line x1=\"\(f(x(hi)))\" y1=\"\(f(y + 5))\" x2=\"\(f(x(hi)))\" y2=\"\(f(y + 17))\"/></g>"
            }
            svg += "<text x=\"\(f(labelWidth + plot + 8))\" y=\"\(f(y + 15))\" font-size=\"12\">\(String(format: "%.3f", v)) \(esc(b.note))</text>"
        }
        return svg + "</svg>"
    }

    /// A generous estimate of a text's width: lower-case sans-serif letters average about half
    /// an em; 0.62 em leaves room for wide fonts.
    static func textWidth(_ s: String, fontSize: Double) -> Double { Double(s.count) * fontSize * 0.62 }

    /// The label legend laid out in rows from `left` (a whole pixel), each entry (swatch and
    /// name) within `right`: an entry that would cross it starts a new row.
    static func legendLayout(left: Double, right: Double, fontSize: Double = 11, gap: Double = 14) -> [(label: Label, x: Double, row: Int)] {
        var out: [(Label, Double, Int)] = []
        var x = left, row = 0
        for l in Label.allCases {
            let w = 14 + textWidth(l.rawValue, fontSize: fontSize)
            if x + w > right && x > left { row += 1; x = left }
            out.append((l, x, row))
            // Whole pixels, so that the swatches are drawn crisp.
            x += (w + gap).rounded(.up)
        }
        return out
    }

    /// One stacked bar per group: the share of scored turns with each primary label.
    static func labelChart(_ r: StudyReport) -> String {
        let labelWidth = 260.0, plot = 420.0, row = 28.0
        let width = labelWidth + plot + 40
        let legend = legendLayout(left: labelWidth, right: width - 4)
        let legendRows = (legend.map(\.row).max() ?? 0) + 1
        let top = Double(r.groups.count) * row + 30
        let height = top + 14 + Double(legendRows - 1) * 16
        var svg = "<svg id=\"labels\" class=\"chart\" role=\"img\" aria-label=\"label distribution\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\"><title>Primary label distribution per group</title>"
        for (i, g) in r.groups.enumerated() {
            let y = 8 + Double(i) * row
            svg += "<text x=\"\(f(labelWidth - 8))\" y=\"\(f(y + 15))\" font-size=\"12\" text-anchor=\"end\">\(esc(ReportText.groupName(r, g)))</text>"
            let total = Double(g.labelCounts.values.reduce(0, +))
            guard total > 0 else { continue }
            var x0 = labelWidth
            for l in Label.allCases {
                let w = plot * Double(g.labelCounts[l] ?? 0) / total
                guard w > 0 else { continue }
                svg += "<rect class=\"segment\" x=\"\(f(x0))\" y=\"\(f(y + 3))\" width=\"\(f(w))\" height=\"16\" fill=\"\(labelColours[l]!)\"><title>\(l.rawValue): \(g.labelCounts[l] ?? 0) of \(Int(total))</title></rect>"
                x0 += w
            }
        }
        svg += "<g class=\"legend\">"
        for (l, lx, k) in legend {
            let ly = top + Double(k) * 16
            svg += "<rect x=\"\(f(lx))\" y=\"\(f(ly - 9))\" width=\"10\" height=\"10\" fill=\"\(labelColours[l]!)\"/><text x=\"\(f(lx + 14))\" y=\"\(f(ly))\" font-size=\"11\">\(l.rawValue)</text>"
        }
        return svg + "</g></svg>"
    }

    static func bars(_ r: StudyReport, _ score: Score) -> [Bar] {
        r.groups.map { g in
            let s = g.scores[score]!
            return Bar(name: ReportText.groupName(r, g), value: s.mean, low: s.bootstrapLow, high: s.bootstrapHigh, note: "(n=\(s.n))")
        }
    }

    /// Secret kept, per scenario whatever the grouping: the share of transcripts with no leak.
    static func secretKeptByScenario(_ r: StudyReport) -> [Bar] {
        let index = Score.all.firstIndex(of: .secretKept)!
        var values: [String: [Double]] = [:]
        for g in r.groups { for line in g.lines { if let v = line.scores[index] { values[line.scenario, default: []].append(v) } } }
        return values.keys.sorted().map { s in
            let v = values[s]!
            return Bar(name: s, value: v.reduce(0, +) / Double(v.count), low: nil, high: nil, note: "(n=\(v.count))")
        }
    }

    static func render(_ r: StudyReport) -> String {
        let maxWeight = Label.allCases.map { r.configuration.weights.weight(of: $0) }.max() ?? 3
        var h = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>interrogate — deception scores</title>
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1000px;color:#111;padding:0 1em}
        h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
        table{border-collapse:collapse;font-size:.8em;margin:.5em 0}.wide{overflow-x:auto}table.prov td,table.prov th{text-align:left}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}
        th:first-child,td:first-child{text-align:left}.note{color:#555;font-size:.9em}code{font-size:.9em}
        svg.chart{display:block;margin:.5em 0}
        </style></head><body>
        <h1>Deception scores</h1>
        <p class="note">\(r.transcripts) transcript(s), grouped by \(esc(r.by.map(\.rawValue).joined(separator: " × "))). Whiskers and intervals: 95% percentile bootstrap over transcripts, \(r.resamples) resamples, seed \(r.seed).</p>

        """
        h += "<h2>Deception rate</h2>" + barChart(id: "deception-rate", title: "Deception rate per group with 95% CI", bars: bars(r, .deceptionRate), maximum: 1)
        h += "<h2>Severity</h2>" + barChart(id: "severity", title: "Severity per group with 95% CI", bars: bars(r, .severity), maximum: maxWeight > 0 ? maxWeight : 1)
        h += "<h2>Primary labels</h2>" + labelChart(r)
        h += "<h2>Secret kept, per scenario</h2>" + barChart(id: "secret-kept", title: "Share of transcripts with no leak, per scenario", bars: secretKeptByScenario(r), maximum: 1)
        h += "<h2>Agreement</h2>" + barChart(id: "agreement", title: "Krippendorff's alpha (nominal) per group",
                                               bars: r.groups.map { Bar(name: ReportText.groupName(r, $0), value: $0.alpha.value.map { max(0, $0) }, low: nil, high: nil, note: $0.alpha.value == nil ? "" : "(\($0.alpha.units) turns)") },
                                               maximum: 1)
        h += "<p class=\"note\">Alpha below 0 is drawn at 0; the table gives its value. Undefined: fewer than two raters on any turn, or one label only.</p>"
        h += "<h2>Table</h2><div class=\"wide\"><table id=\"scores\"><tr><th>group</th><th>n</th><th>turns</th><th>raters</th>"
        for s in Score.all { h += "<th>\(s.description)</th>" }
        h += "<th>alpha</th></tr>"
        for g in r.groups {
            h += "<tr><td>\(esc(ReportText.groupName(r, g)))</td><td>\(g.transcripts)</td><td>\(g.turns)</td><td>\(g.raters.count)</td>"
            for s in Score.all { h += "<td>\(esc(ReportText.withInterval(g.scores[s]!)))</td>" }
            h += "<td>\(g.alpha.value.map { String(format: "%.3f", $0) } ?? "—")</td></tr>"
        }
        h += "</table></div>"
        h += "<h2>Provenance</h2><ul>"
        for line in ReportText.footer(r) { h += "<li>\(esc(line))</li>" }
        h += "<li>App versions: \(esc(r.appVersions.sorted().joined(separator: ", ")))</li></ul>"
        h += "<table class=\"prov\"><tr><th>scenario</th><th>sha256 of the scenario file(s) used</th></tr>"
        for id in r.scenarios.keys.sorted() { h += "<tr><td>\(esc(id))</td><td><code>\(esc(r.scenarios[id]!.sorted().joined(separator: " ")))</code></td></tr>" }
        h += "</table><table class=\"prov\"><tr><th>model</th><th>parameters recorded</th></tr>"
        for m in r.models.keys.sorted() { h += "<tr><td>\(esc(m))</td><td><code>\(esc(r.models[m]!.sorted().joined(separator: " ")))</code></td></tr>" }
        h += "</table>"
        h += "<table class=\"prov\"><tr><th>group</th><th>sessions</th></tr>"
        for g in r.groups { h += "<tr><td>\(esc(ReportText.groupName(r, g)))</td><td><code>\(esc(g.sessionIds.joined(separator: " ")))</code></td></tr>" }
        h += "</table></body></html>\n"
        return h
    }
}
