import Annotate
import Foundation

/// Agreement of people and model judges measured apart: among people, among model judges
/// (several judges, or one judge sampled several times), between each person and each judge,
/// all raters pooled, and each judge against the adjudicated labels. A model judge's figures
/// say how far it can stand in for a person only when set beside the people's own.
public struct AgreementByKind: Sendable, Encodable {
    /// One person × one judge, on the turns both labelled.
    public struct CrossPair: Sendable, Encodable {
        public var person: String
        public var judge: String
        public var units: Int
        public var percentAgreement: Double?
        public var cohenKappa: Double?
        public var kappaUndefinedReason: String?
        enum CodingKeys: String, CodingKey {
            case person, judge, units, percentAgreement = "percent_agreement", cohenKappa = "cohen_kappa", kappaUndefinedReason = "kappa_undefined_reason"
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(person, forKey: .person)
            try c.encode(judge, forKey: .judge)
            try c.encode(units, forKey: .units)
            try c.encode(percentAgreement, forKey: .percentAgreement)
            try c.encode(cohenKappa, forKey: .cohenKappa)
            try c.encode(kappaUndefinedReason, forKey: .kappaUndefinedReason)
        }
    }

    /// A judge's primary labels against the adjudicated ones, on the turns both exist for.
    public struct AgainstAdjudication: Sendable, Encodable {
        public var judge: String
        public var units: Int
        public var accuracy: Double?
        public var cohenKappa: Double?
        public var kappaUndefinedReason: String?
        enum CodingKeys: String, CodingKey { case judge, units, accuracy, cohenKappa = "cohen_kappa", kappaUndefinedReason = "kappa_undefined_reason" }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(judge, forKey: .judge)
            try c.encode(units, forKey: .units)
            try c.encode(accuracy, forKey: .accuracy)
            try c.encode(cohenKappa, forKey: .cohenKappa)
            try c.encode(kappaUndefinedReason, forKey: .kappaUndefinedReason)
        }
    }

    public var group: String?
    public var people: AgreementReport
    public var models: AgreementReport
    /// Every person × judge pair that shares a turn.
    public var peopleModels: [CrossPair]
    /// The mean Cohen's kappa over the person × judge pairs where it is defined.
    public var peopleModelsMeanKappa: Double?
    public var pooled: AgreementReport
    public var judgesAgainstAdjudication: [AgainstAdjudication]

    enum CodingKeys: String, CodingKey {
        case group, people, models, peopleModels = "people_models", peopleModelsMeanKappa = "people_models_mean_kappa", pooled
        case judgesAgainstAdjudication = "judges_against_adjudication"
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(group, forKey: .group)
        try c.encode(people, forKey: .people)
        try c.encode(models, forKey: .models)
        try c.encode(peopleModels, forKey: .peopleModels)
        try c.encode(peopleModelsMeanKappa, forKey: .peopleModelsMeanKappa)
        try c.encode(pooled, forKey: .pooled)
        try c.encode(judgesAgainstAdjudication, forKey: .judgesAgainstAdjudication)
    }

    /// - Parameters:
    ///   - adjudicated: unit → the adjudicated primary label.
    public static func compute(ratings: [RatingMatrix.Rating], labelSets: [String: [String: Set<String>]], adjudicated: [String: String],
                               order: [String], group: String? = nil) throws -> AgreementByKind {
        let labels = Label.allCases.map(\.rawValue)
        // Each report's per-label figures from its own raters' label sets only.
        func report(_ rows: [RatingMatrix.Rating], _ name: String) throws -> AgreementReport {
            let raters = Set(rows.map(\.rater))
            let sets = labelSets.mapValues { $0.filter { raters.contains($0.key) } }
            return .compute(try RatingMatrix(ratings: rows, order: order), labelSets: sets, labels: labels, group: name)
        }
        let isJudge = { (r: RatingMatrix.Rating) in TranscriptStore.isJudge(r.rater) }
        let peopleRows = ratings.filter { !isJudge($0) }, modelRows = ratings.filter(isJudge)
        // Each rater's category per unit, for the pairs.
        var byRater: [String: [String: String]] = [:]
        for r in ratings { byRater[r.rater, default: [:]][r.unit] = r.category }
        let persons = Set(peopleRows.map(\.rater)).sorted(), judges = Set(modelRows.map(\.rater)).sorted()
        var pairs: [CrossPair] = []
        for p in persons {
            for j in judges {
                let a = byRater[p]!, b = byRater[j]!
                let shared = a.keys.filter { b[$0] != nil }.sorted()
                guard !shared.isEmpty else { continue }
                let rows = shared.flatMap { [RatingMatrix.Rating(unit: $0, rater: p, category: a[$0]!), .init(unit: $0, rater: j, category: b[$0]!)] }
                let m = try RatingMatrix(ratings: rows, order: order)
                let k = Agreement.cohenKappa(m, m.raters.firstIndex(of: p)!, m.raters.firstIndex(of: j)!)
                pairs.append(CrossPair(person: p, judge: j, units: shared.count, percentAgreement: Agreement.percentAgreement(m).value,
                                       cohenKappa: k.value, kappaUndefinedReason: k.undefinedReason))
            }
        }
        let kappas = pairs.compactMap(\.cohenKappa)
        var against: [AgainstAdjudication] = []
        for j in judges {
            var items: [Calibration.Item] = []
            for (unit, category) in byRater[j]!.sorted(by: { $0.key < $1.key }) {
                guard let settled = adjudicated[unit], let gold = Label(rawValue: settled), let given = Label(rawValue: category) else { continue }
                items.append(.init(gold: gold, given: given, goldLeak: false, givenLeak: false, order: items.count))
            }
            let c = Calibration(items)
            against.append(AgainstAdjudication(judge: j, units: c.n, accuracy: c.accuracy, cohenKappa: c.kappa.value,
                                               kappaUndefinedReason: c.n == 0 ? "no adjudicated turn that this judge labelled" : c.kappa.undefinedReason))
        }
        return AgreementByKind(group: group, people: try report(peopleRows, "people"), models: try report(modelRows, "model judges"),
                               peopleModels: pairs, peopleModelsMeanKappa: kappas.isEmpty ? nil : kappas.reduce(0, +) / Double(kappas.count),
                               pooled: try report(ratings, "pooled (people and model judges)"), judgesAgainstAdjudication: against)
    }
}
