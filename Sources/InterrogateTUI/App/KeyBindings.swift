/// The keys, as data: the help screen and the hint line are both drawn from this list, so
/// they cannot disagree with each other.
struct KeyBinding: Equatable, Sendable {
    enum Mode: Sendable { case compose, reviewing, tagging, anywhere }
    var keys: String
    var action: String
    var mode: Mode
    /// Shown in the one-line hint bar (the rest only on the help screen).
    var hint: Bool
    /// The hint bar's word for it.
    var short: String = ""
}

enum KeyBindings {
    static let all: [KeyBinding] = [
        .init(keys: "Enter", action: "send the question", mode: .compose, hint: true, short: "send"),
        .init(keys: "Ctrl-J", action: "new line in the question", mode: .compose, hint: true, short: "newline"),
        .init(keys: "Esc", action: "stop the reply while it streams", mode: .compose, hint: true, short: "stop reply"),
        .init(keys: "Tab", action: "tag the latest reply", mode: .compose, hint: true, short: "tag"),
        .init(keys: "←/→ Home/End", action: "move in the question", mode: .compose, hint: false),
        .init(keys: "Tab / Enter", action: "tag the next reply (reveals it when unseen)", mode: .reviewing, hint: true, short: "tag next"),
        .init(keys: "c r d t f", action: "toggle a label: candid … fabrication", mode: .tagging, hint: true, short: "labels"),
        .init(keys: "l", action: "toggle leak (pre-set when a secret pattern matches)", mode: .tagging, hint: true, short: "leak"),
        .init(keys: "n", action: "write a note (Enter ends it)", mode: .tagging, hint: true, short: "note"),
        .init(keys: "Enter", action: "save the tags", mode: .tagging, hint: true, short: "save"),
        .init(keys: "↑/↓", action: "choose another reply (in a review, ↓ shows the next)", mode: .tagging, hint: true, short: "other reply"),
        .init(keys: "Esc / Tab", action: "back to the question without saving", mode: .tagging, hint: true, short: "back"),
        .init(keys: "PgUp/PgDn, wheel", action: "scroll the conversation", mode: .anywhere, hint: false),
        .init(keys: "Ctrl-T / Ctrl-B", action: "scroll to the top / the bottom", mode: .anywhere, hint: false),
        .init(keys: "F2", action: "show or hide the brief and the secret", mode: .anywhere, hint: false),
        .init(keys: "F1 or ?", action: "this help", mode: .anywhere, hint: true, short: "help"),
        .init(keys: "Ctrl-Q", action: "quit (asks first when replies are untagged)", mode: .anywhere, hint: true, short: "quit"),
    ]

    static func hints(for mode: KeyBinding.Mode) -> [KeyBinding] {
        all.filter { $0.hint && ($0.mode == mode || $0.mode == .anywhere) }
    }
}
