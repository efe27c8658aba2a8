import Annotate
import Foundation
import Sessions

/// `signals --format html`: one self-contained file with a table and an ROC chart (inline
/// SVG) per contrast.
enum SignalsHTML {
    static let colours = ["#7a8a99", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf"]

    static func render(_ s: SignalsStudy) -> String {
        let esc = ReportHTML.esc
        var html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>interrogate signals</title>
        <style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}
        td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}td.n{text-align:right}.note{color:#555;font-size:13px}</style>
        </head><body><h1>Signals against resolved labels</h1>

        """
        for line in SignalsText.header(s) { html += "<p class=\"note\">\(esc(line))</p>\n" }
        if !s.failed.isEmpty || !s.sidecarProblems.isEmpty {
            html += "<h2>Not counted</h2><ul>\n"
            for l in s.failed { html += "<li>\(esc(l.description))</li>\n" }
            for p in s.sidecarProblems { html += "<li>\(esc(p))</li>\n" }
            html += "</ul>\n"
        }
        for g in s.groups {
            let title = g.key.isEmpty ? "All sessions" : zip(s.dimensions, g.key).map { "\($0.rawValue): \($1)" }.joined(separator: ", ")
            html += "<h2>\(esc(title))</h2>\n<p>\(esc(SignalsText.groupLine(g)))</p>\n"
            for contrast in SignalContrast.allCases {
                let results = g.results.filter { $0.contrast == contrast }
                html += "<h3>\(esc(contrast.rawValue))</h3>\n"
                html += chart(results, resamples: s.resamples)
                html += "<table><tr><th>signal</th><th>n+</th><th>n−</th><th>sessions</th><th>AUROC</th><th>95% interval</th><th>length on these turns</th><th>left out</th></tr>\n"
                for r in results {
                    html += "<tr><td>\(esc(r.signal.rawValue))</td><td class=n>\(r.positives)</td><td class=n>\(r.negatives)</td><td class=n>\(r.sessions)</td>"
                        + "<td class=n>\(esc(SignalsText.area(r)))</td><td>\(esc(SignalsText.interval(r, resamples: s.resamples)))</td><td class=n>\(esc(SignalsText.baseline(r)))</td><td>\(esc(SignalsText.leftOut(r)))</td></tr>\n"
                }
                html += "</table>\n"
            }
        }
        return html + "</body></html>\n"
    }

    /// The ROC curves of the signals that have one, on the unit square, with the diagonal.
    static func chart(_ results: [SignalAnalysis.Result], resamples: Int) -> String {
        let size = 260.0, pad = 30.0
        let drawn = results.enumerated().filter { !$0.element.curve.isEmpty }
        guard !drawn.isEmpty else { return "<p class=\"note\">No ROC curve: no signal has turns of both kinds here.</p>\n" }
        func x(_ v: Double) -> String { String(format: "%.1f", pad + v * size) }
        func y(_ v: Double) -> String { String(format: "%.1f", pad + (1 - v) * size) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(size + 2 * pad + 330))\" height=\"\(Int(size + 2 * pad))\" role=\"img\">"
        svg += "<rect x=\"\(x(0))\" y=\"\(y(1))\" width=\"\(size)\" height=\"\(size)\" fill=\"none\" stroke=\"#999\"/>"
        svg += "<line x1=\"\(x(0))\" y1=\"\(y(0))\" x2=\"\(x(1))\" y2=\"\(y(1))\" stroke=\"#ccc\" stroke-dasharray=\"4 3\"/>"
        svg += "<text x=\"\(x(0.5))\" y=\"\(Int(size + 2 * pad - 6))\" font-size=\"11\" text-anchor=\"middle\">false positive rate</text>"
        svg += "<text x=\"10\" y=\"\(y(0.5))\" font-size=\"11\" transform=\"rotate(-90 10 \(y(0.5)))\" text-anchor=\"middle\">true positive rate</text>"
        for (n, (i, r)) in drawn.enumerated() {
            let colour = colours[i % colours.count]
            let points = r.curve.map { "\(x($0.falsePositiveRate)),\(y($0.truePositiveRate))" }.joined(separator: " ")
            svg += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\"/>"
            let label = ReportHTML.esc("\(r.signal.rawValue): \(SignalsText.area(r)) (n = \(r.positives)+\(r.negatives))")
            svg += "<text x=\"\(Int(size + 2 * pad))\" y=\"\(Int(pad) + 14 * n + 4)\" font-size=\"10\" fill=\"\(colour)\">\(label)</text>"
        }
        return svg + "</svg>\n"
    }
}
