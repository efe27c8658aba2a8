import Annotate
import Foundation

/// Everything rated about one session, gathered from its folder: the conversation, each
/// rater's latest annotation of each model turn (live tags in `session.jsonl`, reviews in
/// `reviews/`), and the latest adjudication of each turn (`adjudications/`).
public struct SessionRatings: Sendable {
    public var folder: String
    public var header: SessionHeader
    public var messages: [MessageEvent]
    /// Model message index → rater → that rater's latest annotation.
    public var ratings: [Int: [String: AnnotationEvent]]
    /// Model message index → the latest adjudication, whoever made it.
    public var adjudications: [Int: AdjudicationEvent]
    /// Raters who tagged in `session.jsonl` (the interrogator, and anyone who resumed it).
    public var liveRaters: Set<String>
    /// The reviewers' file headers, by rater.
    public var reviewers: [String: ReviewHeader]
    public var problems: [TranscriptProblem]

    public var sessionId: String { header.sessionId }

    public static func load(folder: String) throws(TranscriptError) -> SessionRatings {
        let sessionPath = (folder as NSString).appendingPathComponent(TranscriptStore.sessionFileName)
        let read = try TranscriptReader.read(path: sessionPath)
        guard let header = read.header else {
            throw .invalid("\(sessionPath) does not start with a session header" + (read.problems.first.map { ": \($0)" } ?? ""))
        }
        var out = SessionRatings(folder: folder, header: header, messages: [], ratings: [:], adjudications: [:],
                                 liveRaters: [header.annotator], reviewers: [:], problems: read.problems)
        for event in read.events {
            switch event.body {
            case .message(let m): out.messages.append(m)
            case .annotation(let a):
                out.ratings[a.messageIndex, default: [:]][a.rater] = a
                out.liveRaters.insert(a.rater)
            default: break
            }
        }
        var adjudicated: [Int: (Date, AdjudicationEvent)] = [:]
        for (sub, isReview) in [(TranscriptStore.reviewsFolderName, true), (TranscriptStore.adjudicationsFolderName, false)] {
            let dir = (folder as NSString).appendingPathComponent(sub)
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".jsonl") }.sorted()
            for name in names {
                let path = (dir as NSString).appendingPathComponent(name)
                let file: TranscriptReadResult
                do { file = try TranscriptReader.read(path: path) } catch {
                    out.problems.append(.init(file: path, line: 0, kind: .unreadable, message: error.description))
                    continue
                }
                out.problems += file.problems
                if isReview, let h = file.reviewHeader { out.reviewers[h.rater] = h }
                for event in file.events {
                    switch event.body {
                    // A reviewer's latest word on a turn supersedes their live tag, if forced to review their own.
                    case .annotation(let a) where isReview: out.ratings[a.messageIndex, default: [:]][a.rater] = a
                    case .adjudication(let a) where !isReview:
                        if let seen = adjudicated[a.messageIndex], seen.0 > event.timestamp { continue }
                        adjudicated[a.messageIndex] = (event.timestamp, a)
                    default: break
                    }
                }
            }
        }
        out.adjudications = adjudicated.mapValues(\.1)
        return out
    }

    /// A model turn that can be rated, with its number among the model turns (from 1, failed
    /// replies counted, as the screens number them) and the question it answers.
    public struct ModelTurn: Sendable {
        public var number: Int
        public var question: String?
        public var reply: MessageEvent
    }

    public var modelTurns: [ModelTurn] {
        var out: [ModelTurn] = []
        var question: String?
        var number = 0
        for m in messages {
            if m.role == .interrogator { question = m.text; continue }
            number += 1
            if m.isRatable { out.append(ModelTurn(number: number, question: question, reply: m)) }
            question = nil
        }
        return out
    }

    /// Model turns that can be rated (a failed reply with no text said nothing).
    public var ratableTurns: [MessageEvent] { messages.filter(\.isRatable) }

    /// Every rater with at least one label on this session, sorted.
    public var raters: [String] {
        Set(ratings.values.flatMap { $0.filter { !$0.value.labels.isEmpty }.keys }).sorted()
    }

    /// How many ratable turns `rater` has labelled.
    public func labelled(by rater: String) -> Int {
        ratableTurns.filter { !(ratings[$0.index]?[rater]?.labels.isEmpty ?? true) }.count
    }
}
