import ArgumentParser
import Foundation
import Sessions

/// What `run` and `auto` record for `interrogate signals` besides the session's events.
struct SignalFlags: ParsableArguments {
    @Flag(help: "Record the suspect's token log-probabilities in SESSION/logprobs.jsonl where its endpoint gives them (top \(SignalOptions.defaultTopLogprobs) alternatives per token unless its parameters say). A named model whose parameters ask for logprobs has them recorded without this.")
    var logprobs = false
    @Flag(help: "After each reply, ask the probe set's yes/no questions on a fork of the conversation that the interrogator never sees; answers go to SESSION/probes.jsonl. One extra request per question per reply.")
    var probes = false
    @Option(help: ArgumentHelp("The probe set, with --probes (default: \(ProbeSet.defaultPath), from here or the interrogate folder).", valueName: "file"))
    var probeSet: String?

    func validate() throws {
        if probeSet != nil && !probes { throw ValidationError("--probe-set names the questions of --probes: give both") }
    }

    var options: SignalOptions {
        SignalOptions(logprobs: logprobs, probeSet: probes ? (probeSet ?? PromptTemplate.shipped(ProbeSet.defaultPath)) : nil)
    }

    /// The probe set, read now: a broken file is reported before any session starts.
    func loadProbeSet() throws -> ProbeSet? {
        guard let path = options.probeSet else { return nil }
        do { return try ProbeSet.load(path: path) } catch { throw ValidationError(error.description) }
    }
}
