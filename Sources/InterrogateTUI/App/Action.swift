import Sessions

/// Everything that can happen to the app; `update` is the only place state changes.
enum Action: Equatable, Sendable {
    case key(Key)
    case resize(width: Int, height: Int)
    /// An event of the reply stream `streamId`, with the instant it arrived; events of a
    /// stream no longer current are dropped. `update` reads no clock: every time a reply
    /// records comes in an action, read by the runtime where the thing happened.
    case model(streamId: Int, ChatEvent, at: ContinuousClock.Instant)
    /// The runtime sent the request of stream `streamId` at `at`; the reply's times count from here.
    case streamStarted(streamId: Int, at: ContinuousClock.Instant)
    /// The runtime stopped stream `streamId` (asked by `cancelStream`) at `at`.
    case streamStopped(streamId: Int, at: ContinuousClock.Instant)
    /// The model is ready; the name the screen may show for it ("provider model", or an alias).
    case modelReady(String)
    case modelFailed(String)
    /// An append reached the disk (written and fsync'd) as event `seq`.
    case saved(seq: Int)
    case saveFailed(String)
    /// The probes after reply `messageIndex` were asked and saved (nil: the set was cut short, by
    /// a quit, and nothing was saved).
    case probed(messageIndex: Int, saved: Bool)
    /// A line of logprobs.jsonl or probes.jsonl could not be saved (the conversation was).
    case signalsNotSaved(String)
    /// The process was told to end (SIGTERM, SIGHUP): close the session without asking.
    case terminate
}

/// Work `update` asks for; the runtime does it and reports back with actions.
enum Effect: Equatable, Sendable {
    case append(EventBody)
    case startStream(id: Int, ChatRequest)
    case cancelStream(id: Int)
    case prepareModel
    /// Save a reply's token log-probabilities and ask the probes after it (`messages` ends
    /// with the reply): the session's sidecars, never its events.
    case recordSignals(messages: [MessageEvent], logprobs: [TokenLogprob])
    case quit
}
