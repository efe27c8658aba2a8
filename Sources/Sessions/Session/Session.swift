import Annotate
import Foundation

/// One session as it stands on disk, read once: the header, the conversation, every rater's
/// annotations with where they came from (live tags in `session.jsonl`, reviews in
/// `reviews/`), the adjudications (`adjudications/`), and every problem found. Every command
/// that reads a session (run --resume, review, adjudicate, sessions, agree, report, export,
/// transcripts validate) reads it through `Session.load`, so that two commands can never
/// disagree about the same files.
public struct Session: Sendable {
    /// Where a rater's annotation was read.
    public enum Source: String, Sendable, Equatable, Codable {
        /// Tagged while interrogating, in `session.jsonl`.
        case live
        /// A blind review, in `reviews/<rater>.jsonl`.
        case review
    }

    /// One annotation as read, in reading order.
    public struct Rating: Sendable, Equatable {
        public var annotation: AnnotationEvent
        public var source: Source
        public var file: String
        public var line: Int
    }

    public var folder: String
    public var header: SessionHeader
    public var messages: [MessageEvent]
    /// Every annotation that refers to a ratable model turn, in reading order: `session.jsonl`
    /// first, then the reviewers' files sorted by name.
    public var log: [Rating]
    /// Model message index → rater → that rater's latest annotation. A rater's review
    /// supersedes their live tags (a forced review of their own session).
    public var ratings: [Int: [String: AnnotationEvent]]
    /// Model message index → rater → where that latest annotation came from.
    public var sources: [Int: [String: Source]]
    /// Model message index → the latest adjudication, whoever made it.
    public var adjudications: [Int: AdjudicationEvent]
    /// Raters who tagged in `session.jsonl` (the interrogator, and anyone who resumed it).
    public var liveRaters: Set<String>
    /// The reviewers' file headers, by rater.
    public var reviewers: [String: ReviewHeader]
    /// Everyone with an adjudication file: they have seen every rater's labels.
    public var adjudicators: Set<String>
    /// Model message index → judge → why that judge's last attempt gave no label (cleared by a
    /// later label from the same judge).
    public var judgementFailures: [Int: [String: JudgementFailedEvent]] = [:]
    /// The session was ended (quit or turn limit) and not resumed since.
    public var ended: Bool
    /// When the session's header was written.
    public var startedAt: Date?
    public var problems: [TranscriptProblem]

    public var sessionId: String { header.sessionId }
    public var sessionFile: String { Self.path(folder, TranscriptStore.sessionFileName) }

    /// Problems that mean saved data may be missing or wrong: a session with any of them is
    /// not counted in figures, and is listed with the first of them.
    public var errors: [TranscriptProblem] { problems.filter(\.isError) }

    /// Why this session cannot be counted, or nil when it can.
    public var whyNotCounted: String? {
        let errors = errors
        guard let first = errors.first else { return nil }
        return errors.count == 1 ? first.description : "\(first.description) (and \(errors.count - 1) more problem(s); see `interrogate transcripts validate`)"
    }

    /// Reads the session in `folder`. Throws only when there is no session to speak of (no
    /// readable `session.jsonl` starting with a header); everything else is a problem.
    public static func load(folder: String) throws(TranscriptError) -> Session {
        let sessionPath = Self.path(folder, TranscriptStore.sessionFileName)
        // Opened without a `stat` first: reading a study makes this call for every session.
        var read: TranscriptReadResult
        do { read = try TranscriptReader.read(path: sessionPath) } catch {
            // Not found: the file, unless it is the installation's schema that is missing.
            if case .notFound = error, TranscriptReader.schema != nil { throw .notFound("\(folder): no \(TranscriptStore.sessionFileName) here") }
            throw error
        }
        guard let header = read.header else {
            let why = read.problems.first.map { ": \($0)" } ?? (read.events.isEmpty ? ": the file is empty" : "")
            throw .invalid("\(sessionPath) does not start with a session header\(why)")
        }
        var s = Session(folder: folder, header: header, messages: [], log: [], ratings: [:], sources: [:], adjudications: [:],
                        liveRaters: [header.annotator], reviewers: [:], adjudicators: [], ended: false, problems: read.problems)
        s.startedAt = read.events.first?.timestamp
        if header.isBlindCopy {
            s.problems.append(.init(file: sessionPath, line: 1, kind: .blindCopy,
                                    message: "a blind copy from the team store (the model and condition are withheld from you): read for review, never counted"))
        } else if header.scenario.condition == .withheld {
            s.problems.append(.init(file: sessionPath, line: 1, kind: .inconsistent,
                                    message: "the header's condition is 'withheld', which only a blind copy from a team store has"))
        }
        let ratable = s.readSessionFile(&read)
        s.readRaterFiles(.review, ratable: ratable)
        s.readRaterFiles(.adjudication, ratable: ratable)
        s.problems.sort { ($0.file, $0.line) < ($1.file, $1.line) }
        return s
    }

    // MARK: - Reading

    private mutating func problem(_ file: String, _ line: Int, _ message: String) {
        problems.append(.init(file: file, line: line, kind: .inconsistent, message: message))
    }

    /// The last component of a folder's path; Foundation works out "." and ".." (reading a study
    /// asks this of every session, and the common case needs no URL).
    static func folderName(_ folder: String) -> String {
        let bytes = folder.utf8
        var end = bytes.endIndex
        while end > bytes.startIndex, bytes[bytes.index(before: end)] == UInt8(ascii: "/") { end = bytes.index(before: end) }
        let start = bytes[..<end].lastIndex(of: UInt8(ascii: "/")).map { bytes.index(after: $0) } ?? bytes.startIndex
        let last = String(Substring(folder.utf8[start..<end]))
        if last.isEmpty || last == "." || last == ".." {
            return URL(fileURLWithPath: folder.isEmpty ? "." : folder).standardizedFileURL.lastPathComponent
        }
        return last
    }

    /// `name` in `folder`, as swift-corelibs-foundation's appendingPathComponent gives it for a
    /// name that is not empty, without bridging (every file of a study is named so). Every path
    /// a session's problems name is spelled by this.
    static func path(_ folder: String, _ name: String) -> String {
        if folder.isEmpty { return name }
        return folder.utf8.last == UInt8(ascii: "/") ? folder + name : folder + "/" + name
    }

    /// Takes the events out of `read` (each is moved into the session, not copied); returns the
    /// indices of the ratable model turns.
    private mutating func readSessionFile(_ read: inout TranscriptReadResult) -> Set<Int> {
        let path = read.path
        // The folder's own name, also when it was named "." or by a relative path.
        let folderName = Self.folderName(folder)
        if header.sessionId != folderName {
            problem(path, 1, "the header's session_id '\(header.sessionId)' differs from its folder '\(folderName)': the session was renamed or copied over another")
        }
        var ratable = Set<Int>()
        // Live tags are the interrogator's, and of anyone a `resumed` event let in before them.
        var interrogators: Set<String> = [header.annotator]
        var (events, lines) = Self.takeAfterHeader(&read)
        while let event = events.popLast(), let line = lines.popLast() {
            switch event.body {
            case .header:
                problem(path, line, "a second session header: a header may only be the first event")
            case .message(let m):
                if m.index != messages.count {
                    problem(path, line, "message index \(m.index), expected \(messages.count): messages are missing or out of order")
                }
                messages.append(m)
                if m.isRatable { ratable.insert(m.index) }
            case .annotation(let a):
                guard interrogators.contains(a.rater) else {
                    problem(path, line, "an annotation by '\(a.rater)' in \(TranscriptStore.sessionFileName), where only its annotator '\(header.annotator)' (or someone who resumed it) tags; it is not counted")
                    continue
                }
                guard checkAnnotation(a, ratable: ratable, file: path, line: line, what: "an earlier model reply") else { continue }
                liveRaters.insert(a.rater)
                record(a, .live, path, line)
            case .sessionEnd: ended = true
            case .resumed(let r):
                ended = false
                interrogators.insert(r.annotator)
                // Whoever resumed a session saw its labels on screen.
                liveRaters.insert(r.annotator)
            case .review, .adjudication, .judgementFailed:
                problem(path, line, "a '\(event.body.type)' event belongs in a reviewer's or adjudicator's file, not in \(TranscriptStore.sessionFileName)")
            case .recovery, .unknown: break
            }
        }
        return ratable
    }

    /// The events after a file's header and their line numbers, last first, taken out of `read`:
    /// the caller pops them in order, each moved rather than copied (a copy of an event retains
    /// each of its strings).
    private static func takeAfterHeader(_ read: inout TranscriptReadResult) -> (events: [TranscriptEvent], lines: [Int]) {
        func take<T>(_ list: inout [T]) -> [T] {
            var taken: [T] = []
            swap(&taken, &list)
            taken.reverse()
            _ = taken.popLast()
            return taken
        }
        return (take(&read.events), take(&read.lines))
    }

    /// An annotation names a ratable model turn and its primary label is its most severe one.
    private mutating func checkAnnotation(_ a: AnnotationEvent, ratable: Set<Int>, file: String, line: Int, what: String) -> Bool {
        guard ratable.contains(a.messageIndex) else {
            problem(file, line, "annotation of message \(a.messageIndex), which is not \(what); it is not counted")
            return false
        }
        if let p = a.primary, p != a.labels.primary {
            problem(file, line, "primary label '\(p.rawValue)' is not the most severe of the labels [\(a.labels.description)]")
            return false
        }
        guard TranscriptStore.isValidAnyRaterId(a.rater) else {
            problem(file, line, "rater id '\(a.rater)' is not a valid rater id")
            return false
        }
        return true
    }

    private mutating func record(_ a: AnnotationEvent, _ source: Source, _ file: String, _ line: Int) {
        log.append(Rating(annotation: a, source: source, file: file, line: line))
        // A reviewer's latest word on a turn supersedes their live tag, whatever the order read
        // (a review is recorded only after its file's header is in `reviewers`).
        if source == .live, !reviewers.isEmpty, sources[a.messageIndex]?[a.rater] == .review { return }
        // Room for a few raters from the start: a turn's table grown rater by rater was
        // copied at the second.
        ratings[a.messageIndex, default: Dictionary(minimumCapacity: 3)][a.rater] = a
        sources[a.messageIndex, default: Dictionary(minimumCapacity: 3)][a.rater] = source
    }

    private mutating func readRaterFiles(_ purpose: ReviewHeader.Purpose, ratable: Set<Int>) {
        let sub = purpose == .review ? TranscriptStore.reviewsFolderName : TranscriptStore.adjudicationsFolderName
        let dir = Self.path(folder, sub)
        // Listed without a `stat` first: most sessions have no adjudications/ at all.
        let names: [String]
        do { names = try StudyReader.names(in: dir).filter { $0.hasSuffix(".jsonl") }.sorted() } catch {
            switch error {
            case .notFound: return
            case .system(_, ENOTDIR): problem(dir, 0, "'\(sub)' should be a folder of rater files; nothing in it is counted")
            default: problem(dir, 0, "\(error.description); nothing in it is counted")
            }
            return
        }
        var adjudicated: [Int: Date] = [:]
        for name in names {
            let path = Self.path(dir, name)
            var read: TranscriptReadResult
            do { read = try TranscriptReader.read(path: path) } catch {
                problems.append(.init(file: path, line: 0, kind: .unreadable, message: error.description))
                continue
            }
            problems += read.problems
            let fileRater = String(name.dropLast(".jsonl".count))
            guard let h = read.reviewHeader else {
                problem(path, 1, read.events.isEmpty && read.problems.isEmpty ? "the file is empty: a rater file starts with its review header"
                        : "the first event must be the file's review header; nothing in this file is counted")
                continue
            }
            guard h.purpose == purpose else {
                problem(path, 1, "a file of purpose '\(h.purpose.rawValue)' in \(sub)/; nothing in this file is counted")
                continue
            }
            guard h.rater == fileRater else {
                problem(path, 1, "the file's rater is '\(h.rater)' but its name says '\(fileRater)'; nothing in this file is counted")
                continue
            }
            guard h.sessionId == header.sessionId else {
                problem(path, 1, "the file belongs to session '\(h.sessionId)', not '\(header.sessionId)'; nothing in this file is counted")
                continue
            }
            // A model's labels are never taken for a person's, nor a person's for a model's.
            guard (h.judge != nil) == TranscriptStore.isJudge(h.rater), h.judge == nil || purpose == .review else {
                problem(path, 1, h.judge != nil ? "the file describes a model judge but its rater '\(h.rater)' is not judge:NAME; nothing in this file is counted"
                        : "the rater '\(h.rater)' is named as a model judge but the file does not describe one; nothing in this file is counted")
                continue
            }
            if purpose == .review { reviewers[h.rater] = h } else { adjudicators.insert(h.rater) }
            // A review by someone who had seen the labels (forced with --force, marked
            // own_session) is not an independent rating: a live rater's replaces their own live
            // tag; anyone else's (an adjudicator's) is kept in the log but counted nowhere.
            let counts = purpose == .adjudication || !h.ownSession || liveRaters.contains(h.rater)
            var (events, lines) = Self.takeAfterHeader(&read)
            while let event = events.popLast(), let line = lines.popLast() {
                switch event.body {
                case .annotation(let a) where purpose == .review:
                    guard a.rater == h.rater else {
                        problem(path, line, "an annotation by '\(a.rater)' in \(h.rater)'s review file; it is not counted")
                        continue
                    }
                    guard checkAnnotation(a, ratable: ratable, file: path, line: line, what: "a model reply of this session") else { continue }
                    if counts { record(a, .review, path, line) } else { log.append(Rating(annotation: a, source: .review, file: path, line: line)) }
                    if !a.labels.isEmpty { judgementFailures[a.messageIndex]?[a.rater] = nil }
                case .judgementFailed(let f) where purpose == .review && h.judge != nil:
                    guard f.rater == h.rater, ratable.contains(f.messageIndex) else {
                        problem(path, line, "a failed judgement of message \(f.messageIndex) by '\(f.rater)' that does not belong in this file; it is not counted")
                        continue
                    }
                    judgementFailures[f.messageIndex, default: [:]][f.rater] = f
                case .adjudication(let a) where purpose == .adjudication:
                    guard a.rater == h.rater else {
                        problem(path, line, "an adjudication by '\(a.rater)' in \(h.rater)'s file; it is not counted")
                        continue
                    }
                    guard ratable.contains(a.messageIndex) else {
                        problem(path, line, "adjudication of message \(a.messageIndex), which is not a model reply of this session; it is not counted")
                        continue
                    }
                    if let p = a.primary, p != a.labels.primary {
                        problem(path, line, "primary label '\(p.rawValue)' is not the most severe of the labels [\(a.labels.description)]")
                        continue
                    }
                    // The latest decision on a turn wins, across adjudicators; on equal times the later file.
                    if let seen = adjudicated[a.messageIndex], seen > event.timestamp { continue }
                    adjudicated[a.messageIndex] = event.timestamp
                    adjudications[a.messageIndex] = a
                case .resumed, .recovery, .sessionEnd, .unknown: break
                default:
                    problem(path, line, "a '\(event.body.type)' event does not belong in a\(purpose == .review ? " review" : "n adjudication") file; it is not counted")
                }
            }
        }
    }

    // MARK: - Views of the session

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

    public var modelMessages: [MessageEvent] { messages.filter { $0.role == .model } }
    public var questions: Int { messages.filter { $0.role == .interrogator }.count }

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

    /// The latest annotation of each model turn by `rater` from one source.
    public func annotations(by rater: String, from source: Source) -> [Int: AnnotationEvent] {
        var out: [Int: AnnotationEvent] = [:]
        for r in log where r.annotation.rater == rater && r.source == source { out[r.annotation.messageIndex] = r.annotation }
        return out
    }

    /// Ratable model turns `rater` has not labelled in `source`.
    public func untagged(by rater: String, from source: Source) -> [Int] {
        let mine = annotations(by: rater, from: source)
        return ratableTurns.map(\.index).filter { mine[$0].map { $0.labels.isEmpty } ?? true }
    }

    /// Whether `rater` has seen other raters' labels of this session or labelled it live, so
    /// that a review by them would not be independent.
    public func hasSeenLabels(_ rater: String) -> Bool { liveRaters.contains(rater) || adjudicators.contains(rater) }

    /// The session as `rater` may see it in a blind review: the conversation and their own
    /// review labels, nothing of any other rater (no labels, notes, leak decisions or
    /// adjudications). Blindness is what the screen is given, not what it chooses to draw.
    public func blind(for rater: String) -> Session {
        var s = self
        s.log = log.filter { $0.source == .review && $0.annotation.rater == rater }
        s.ratings = [:]
        s.sources = [:]
        for r in s.log {
            s.ratings[r.annotation.messageIndex, default: [:]][rater] = r.annotation
            s.sources[r.annotation.messageIndex, default: [:]][rater] = .review
        }
        s.adjudications = [:]
        s.judgementFailures = [:]
        s.adjudicators = []
        s.liveRaters = []
        s.reviewers = reviewers.filter { $0.key == rater }
        // Spelled as `load` spelled the paths of its problems.
        let own = Self.path(Self.path(folder, TranscriptStore.reviewsFolderName), "\(rater).jsonl")
        s.problems = problems.filter { $0.file == sessionFile || $0.file == own }
        return s
    }
}
