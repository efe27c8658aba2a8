import Annotate
import ArgumentParser
import Foundation
import Sessions

struct AgreeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agree",
        abstract: "Inter-rater agreement on the model turns of transcripts, or on ratings from a CSV file.",
        discussion: """
        A unit is one model turn; each rater's latest annotation of it counts, and its category is \
        the primary label. Prints percent agreement, Cohen's kappa for each rater pair (with its \
        confusion matrix), Fleiss' kappa (units rated by every rater), Krippendorff's alpha \
        (nominal and ordinal, missing ratings allowed), Gwet's AC1, per-label presence alpha and \
        kappa, and the most disputed turns. A figure that cannot be computed is shown as \
        undefined with the reason. --ratings reads long-format CSV (unit,rater,label) as used \
        with R's irr or Python's krippendorff; --order gives the category order for the ordinal \
        alpha. Definitions: docs/agreement.md.
        """
    )

    enum Format: String, ExpressibleByArgument { case table, json, csv }
    enum Grouping: String, ExpressibleByArgument { case model, scenario }

    @OptionGroup var location: LocationOptions
    @OptionGroup var team: TeamStoreOption
    @Argument(help: "Transcript files or folders (default: the sessions directly in the transcripts folder; a study kept inside it, such as transcripts/examples, counts only when named).") var paths: [String] = []
    @Option(help: "Read ratings from a CSV file with the columns unit, rater, label instead.") var ratings: String?
    @Option(help: "Category order, comma-separated, each category once and every category of the ratings (default: the label severity order; for --ratings, sorted).") var order: String?
    @Option(help: "One set of figures per model or per scenario.") var by: Grouping?
    @Option(help: "Output format: table, json or csv.") var format: Format = .table

    /// The categories of --order: each named once, none empty.
    static func categoryOrder(_ order: String) throws -> [String] {
        let names = order.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var seen: Set<String> = []
        for (i, n) in names.enumerated() {
            guard !n.isEmpty else { throw ValidationError("--order has an empty entry (entry \(i + 1) of \(names.count)): give each category once, comma-separated") }
            guard seen.insert(n).inserted else { throw ValidationError("--order names '\(n)' twice: give each category once") }
        }
        return names
    }

    func validate() throws {
        if ratings != nil && by != nil { throw ValidationError("--by groups transcripts; it does not apply to --ratings") }
        if let order { _ = try Self.categoryOrder(order) }
    }

    mutating func run() async throws {
        let work = try await team.begin(folders: [location.transcripts, ratings] + paths.map { Optional($0) }, writes: false)
        if let work {
            location.transcripts = work.transcriptsRoot
        }
        try await TeamStoreWork.around(work) { [self] in try await perform() }
    }

    func perform() async throws {
        let categoryOrder = try order.map(Self.categoryOrder)
        var reports: [AgreementReport] = []
        var leftOutFails = false
        do {
            if let ratings {
                reports.append(.compute(try RatingSources.csvMatrix(path: ratings, order: categoryOrder), ordered: categoryOrder != nil))
            } else {
                let source = RatingSources.transcripts(paths.isEmpty ? location.store.defaultPaths : paths,
                                                       progress: ProgressLine.onTerminal("sessions"))
                leftOutFails = LeftOutNotice.print(source.leftOut, counted: source.counted)
                let labels = Label.allCases.map(\.rawValue)
                let groups: [(String?, [RatingMatrix.Rating])]
                if let by {
                    var grouped: [String: [RatingMatrix.Rating]] = [:]
                    for r in source.ratings {
                        let session = String(r.unit.split(separator: "#").first ?? "")
                        let info = source.sessions[session]
                        grouped[(by == .model ? info?.model : info?.scenario) ?? "unknown", default: []].append(r)
                    }
                    groups = grouped.keys.sorted().map { ($0, grouped[$0]!) }
                } else {
                    groups = [(nil, source.ratings)]
                }
                // With model judges among the raters, people and models are measured apart.
                if source.ratings.contains(where: { TranscriptStore.isJudge($0.rater) }) {
                    var kinds: [AgreementByKind] = []
                    for (name, rows) in groups {
                        kinds.append(try AgreementByKind.compute(ratings: rows, labelSets: source.labelSets, adjudicated: source.adjudicated,
                                                                 order: categoryOrder ?? labels, group: name))
                    }
                    try Self.write(kinds, format: format, by: by)
                    if leftOutFails { throw invalidInputExit }
                    return
                }
                for (name, rows) in groups {
                    let m = try RatingMatrix(ratings: rows, order: categoryOrder ?? labels)
                    reports.append(.compute(m, labelSets: source.labelSets, labels: labels, group: name))
                }
            }
        } catch let e as LocatedErrors {
            printError(e.description); throw invalidInputExit
        } catch let e as RatingMatrix.BuildError {
            if case .categoriesNotInOrder = e, order != nil { printError("--order: " + e.description) } else { printError(e.description) }
            throw invalidInputExit
        }
        do {
            let out = OutputSink.standardOutput()
            switch format {
            case .json:
                if let by { try out.write(jsonText(Grouped(by: by.rawValue, groups: reports))) } else { try out.write(jsonText(reports[0])) }
            case .csv:
                try out.write(Self.csv(reports))
            case .table:
                for r in reports { try out.write(Self.table(r) + "\n") }
            }
            try out.finish()
        } catch {
            printError("\(error)")
            throw outputFailedExit
        }
        if leftOutFails { throw invalidInputExit }
    }

    /// Agreement by kind of rater: people, model judges, people × judges, pooled, and judges
    /// against adjudicated labels.
    static func write(_ kinds: [AgreementByKind], format: Format, by: Grouping?) throws {
        let out = OutputSink.standardOutput()
        do {
            switch format {
            case .json:
                struct ByKind: Encodable { var by: String?; var groups: [AgreementByKind] }
                try out.write(jsonText(ByKind(by: by?.rawValue, groups: kinds)))
            case .csv:
                var rows: [AgreementReport] = []
                for k in kinds {
                    for var r in [k.people, k.models, k.pooled] {
                        r.group = [k.group, r.group].compactMap { $0 }.joined(separator: " · ")
                        rows.append(r)
                    }
                }
                var text = csv(rows)
                text += CSVText.row(["group", "person", "judge", "units", "percent_agreement", "cohen_kappa"])
                for k in kinds {
                    for p in k.peopleModels {
                        text += CSVText.row([k.group ?? "all", p.person, p.judge, String(p.units), p.percentAgreement.map { String($0) } ?? "", p.cohenKappa.map { String($0) } ?? ""])
                    }
                }
                text += CSVText.row(["group", "judge", "adjudicated_units", "accuracy", "cohen_kappa"])
                for k in kinds {
                    for a in k.judgesAgainstAdjudication {
                        text += CSVText.row([k.group ?? "all", a.judge, String(a.units), a.accuracy.map { String($0) } ?? "", a.cohenKappa.map { String($0) } ?? ""])
                    }
                }
                try out.write(text)
            case .table:
                for k in kinds {
                    if let g = k.group { try out.write("#### \(g)\n\n") }
                    for r in [k.people, k.models] { try out.write(table(r) + "\n") }
                    var t = "== people × model judges\n"
                    t += Table(header: ["PERSON", "JUDGE", "TURNS", "PERCENT AGREEMENT", "COHEN'S KAPPA"], rows: k.peopleModels.map { p in
                        [p.person, p.judge, String(p.units), p.percentAgreement.map { String(format: "%.4f", $0) } ?? "undefined",
                         p.cohenKappa.map { String(format: "%.4f", $0) } ?? "undefined (\(p.kappaUndefinedReason ?? ""))"]
                    }).render()
                    if k.peopleModels.isEmpty { t += "\n(no turn was labelled by both a person and a model judge)" }
                    t += "\nmean Cohen's kappa over person × judge pairs: " + (k.peopleModelsMeanKappa.map { String(format: "%.4f", $0) } ?? "undefined (no pair with a defined kappa)") + "\n\n"
                    try out.write(t)
                    try out.write(table(k.pooled) + "\n")
                    var a = "== model judges against adjudicated labels (primary label)\n"
                    a += Table(header: ["JUDGE", "TURNS", "ACCURACY", "COHEN'S KAPPA"], rows: k.judgesAgainstAdjudication.map { j in
                        [j.judge, String(j.units), j.accuracy.map { String(format: "%.4f", $0) } ?? "undefined",
                         j.cohenKappa.map { String(format: "%.4f", $0) } ?? "undefined (\(j.kappaUndefinedReason ?? ""))"]
                    }).render()
                    try out.write(a + "\n\n")
                }
            }
            try out.finish()
        } catch {
            printError("\(error)")
            throw outputFailedExit
        }
    }

    static func csv(_ reports: [AgreementReport]) -> String {
        var text = CSVText.row(["group", "units", "raters", "percent_agreement", "fleiss_kappa", "krippendorff_alpha_nominal", "krippendorff_alpha_ordinal", "gwet_ac1"])
        for r in reports {
            text += CSVText.row([r.group ?? "all", String(r.units), String(r.raters.count)]
                + [r.percentAgreement, r.fleissKappa, r.krippendorffAlphaNominal, r.krippendorffAlphaOrdinal, r.gwetAC1].map { $0.value.map { String($0) } ?? "" })
        }
        return text
    }

    struct Grouped: Encodable { var by: String; var groups: [AgreementReport] }

    static func show(_ f: AgreementFigure) -> String {
        f.value.map { String(format: "%.4f", $0) } ?? "undefined (\(f.undefinedReason ?? ""))"
    }

    static func table(_ r: AgreementReport) -> String {
        var out = r.group.map { "== \($0)\n" } ?? ""
        out += "\(r.units) turns, \(r.raters.count) raters (\(r.raters.joined(separator: ", ")))\n"
        out += Table(header: ["FIGURE", "VALUE", "UNITS"], rows: [
            ["percent agreement", show(r.percentAgreement), String(r.percentAgreement.units)],
            ["Fleiss' kappa", show(r.fleissKappa), String(r.fleissKappa.units)],
            ["Krippendorff's alpha (nominal)", show(r.krippendorffAlphaNominal), String(r.krippendorffAlphaNominal.units)],
            ["Krippendorff's alpha (ordinal)", show(r.krippendorffAlphaOrdinal), String(r.krippendorffAlphaOrdinal.units)],
            ["Gwet's AC1", show(r.gwetAC1), String(r.gwetAC1.units)],
        ] + r.cohenKappa.map { p in
            ["Cohen's kappa \(p.raters[0]) × \(p.raters[1])", p.kappa.map { String(format: "%.4f", $0) } ?? "undefined (\(p.kappaUndefinedReason ?? ""))", String(p.units)]
        } + r.labelPresence.map { l in
            ["\(l.label) present (alpha)", l.krippendorffAlpha.map { String(format: "%.4f", $0) } ?? "undefined (\(l.undefinedReason ?? ""))", ""]
        }).render()
        if !r.mostDisputed.isEmpty {
            out += "\n\nmost disputed turns:\n" + r.mostDisputed.map { d in
                "  \(d.unit)  \(String(format: "%.2f", d.agreement))  " + d.ratings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            }.joined(separator: "\n")
        }
        return out + "\n"
    }
}
