import Annotate
import Foundation
import Sessions

/// A study's design as a report states it: blinding, assignment, cells, calibration.
enum StudySummary {
    /// What a study report counts: the finished sessions of its planned session tasks, one per
    /// task (gold is left out by every report). Anything else in its folder is left out with why.
    static func counted(_ status: StudyStatus) -> @Sendable (Session) -> String? {
        let design = status.design
        var why: [String: String] = [:]
        var counted = Set<String>()
        for t in status.tasks where t.task.kind == .session {
            guard let s = t.session else { continue }
            if t.state == .done { counted.insert(s.folder) } else { why[s.folder] = "not finished yet (task \(t.task.id) is \(t.state.word))" }
        }
        for l in status.leftOut { why[l.path] = l.reason }
        let name = design.name
        return { [counted, why] session in
            if counted.contains(session.folder) { return nil }
            if let reason = why[session.folder] { return reason }
            return session.header.study?.name == name ? "answers no planned session task" : "not a session of study \(name)"
        }
    }

    static func provenance(_ status: StudyStatus) -> [String: String] {
        let (design, plan) = (status.design, status.plan)
        let calibration = StudyCalibration.build(status)
        var cells: [StudyPlan.Cell: (done: Int, planned: Int)] = [:]
        for t in status.tasks where t.task.kind == .session {
            guard let c = t.task.cell else { continue }
            cells[c, default: (0, 0)].planned += 1
            if t.state == .done { cells[c, default: (0, 0)].done += 1 }
        }
        let aliases = design.models.map { "\($0.alias) = \($0.model)" } + (design.gold.map { ["\($0.alias) = gold (scripted)"] } ?? [])
        return [
            "name": design.name + " (study.yaml sha256 \(design.sha256))",
            "blinding": "interrogators, reviewers and adjudicators saw each model only by its alias (\(aliases.joined(separator: ", "))); the model's name, provider, parameters and the condition were recorded in each transcript and never drawn on their screens",
            "assignment": "balanced and randomised by `interrogate study plan`: seed \(design.seed), \(plan.rounds.count) round(s) (round seeds \(plan.rounds.map { $0.seed.map(String.init) ?? "withheld" }.joined(separator: ", "))), \(plan.tasks.count) task(s) in \(design.planFile); nobody reviewed or adjudicated their own session",
            "cells": cells.keys.sorted().map { c in "\(c): \(cells[c]!.done)/\(cells[c]!.planned) done" }.joined(separator: "; "),
            "calibration": calibration.annotators.map { a in
                "\(a.id) accuracy \(ReportText.fmt(a.figures.accuracy)) kappa \(ReportText.fmt(a.figures.kappa.value)) (n=\(a.figures.n))" + (a.flag.map { " FLAGGED: \($0)" } ?? "")
            }.joined(separator: "; ") + " on \(calibration.goldSessions) gold session(s)",
        ]
    }
}
