import Foundation

/// Whose labels a figure counts: people (the default: model judges are measured against
/// people, not mixed into their figures), model judges (`judge:NAME`), or both.
public enum RaterKinds: String, Sendable, CaseIterable, Encodable {
    case people, models, all

    public func counts(_ rater: String) -> Bool {
        switch self {
        case .people: !TranscriptStore.isJudge(rater)
        case .models: TranscriptStore.isJudge(rater)
        case .all: true
        }
    }

    /// How a report states it.
    public var statement: String {
        switch self {
        case .people: "Raters: people only (model judges' labels left out; --raters models or all counts them)."
        case .models: "Raters: model judges only (people's labels and adjudications left out)."
        case .all: "Raters: people and model judges together."
        }
    }
}
