import Sessions

/// Everything that can happen to the app; `update` is the only place state changes.
enum Action: Equatable, Sendable {
    case key(Key)
    case resize(width: Int, height: Int)
    /// An event of the reply stream `streamId`; events of a stream no longer current are dropped.
    case model(streamId: Int, ChatEvent)
    case modelReady(ModelDescription)
    case modelFailed(String)
    /// An append reached the disk (written and fsync'd) as event `seq`.
    case saved(seq: Int)
    case saveFailed(String)
    /// The process was told to end (SIGTERM, SIGHUP): close the session without asking.
    case terminate
}

/// Work `update` asks for; the runtime does it and reports back with actions.
enum Effect: Equatable, Sendable {
    case append(EventBody)
    case startStream(id: Int, ChatRequest)
    case cancelStream(id: Int)
    case prepareModel
    case quit
}
