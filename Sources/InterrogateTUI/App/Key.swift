/// A key press as the app understands it, independent of curses key codes.
enum Key: Equatable, Sendable {
    case char(Character)
    case enter
    /// Ctrl-J or Alt-Enter: a line break in the question.
    case newline
    case backspace, delete
    case left, right, up, down, home, end, pageUp, pageDown
    case tab, backTab
    case escape
    case ctrl(Character)
    case function(Int)
    case wheelUp, wheelDown
}
