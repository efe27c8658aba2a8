import CNCurses
import Foundation

/// The only code that talks to curses. It draws a `Screen` and turns key codes into `Key`s;
/// it is used from one thread only (curses is not thread-safe).
final class CursesTerminal {
    private var rolesToAttributes: [Role: attr_t] = [:]
    private(set) var isOpen = false
    /// What the terminal shows now, so that a frame rewrites only the cells that changed.
    private var shown: Screen?
    private var shownCursor: (row: Int, column: Int)?? = .none
    /// Written to by the SIGWINCH handler, so that a resize wakes a sleeping loop.
    private let resized = Wakeup()

    init() {
        cn_setlocale_utf8()
        CrashGuard.saveTerminalMode()
        // Esc must feel immediate; the default 1 s wait for an escape sequence does not.
        setenv("ESCDELAY", "25", 0)
        _ = initscr()
        isOpen = true
        raw()
        noecho()
        nonl()
        keypad(cn_stdscr(), true)
        // Never block inside curses: `read` waits in poll(2), for keys and wake-ups alike.
        wtimeout(cn_stdscr(), 0)
        _ = mousemask(cn_wheel_up() | cn_wheel_down(), nil)
        setUpColours()
        CrashGuard.install(mouse: true)
        _ = cn_winch_install(resized.writeEnd)
    }

    var size: (width: Int, height: Int) { (Int(cn_cols()), Int(cn_lines())) }

    func close() {
        guard isOpen else { return }
        isOpen = false
        cn_winch_uninstall()
        CrashGuard.uninstall()
        endwin()
    }

    // MARK: Colours

    /// Roles become colour pairs on colour terminals and attributes on monochrome ones or
    /// when NO_COLOR is set.
    private func setUpColours() {
        let noColor = (ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty }) ?? false
        let bold = cn_a_bold(), reverse = cn_a_reverse(), dim = cn_a_dim(), underline = cn_a_underline()
        var mono: [Role: attr_t] = [
            .header: reverse, .selected: reverse, .untagged: underline | bold, .leak: bold | underline,
            .error: bold | reverse, .warning: bold, .ok: bold, .key: bold, .dim: dim, .model: bold,
            .candid: bold, .refusal: bold, .deflection: bold, .transformation: bold, .fabrication: bold | underline,
        ]
        guard !noColor, has_colors() else { rolesToAttributes = mono; return }
        start_color()
        use_default_colors()
        let palette: [(Role, Int16, Int16, attr_t)] = [
            (.header, Int16(COLOR_BLACK), Int16(COLOR_CYAN), 0),
            (.selected, Int16(COLOR_BLACK), Int16(COLOR_WHITE), 0),
            (.interrogator, Int16(COLOR_CYAN), -1, 0),
            (.model, -1, -1, bold),
            (.untagged, Int16(COLOR_YELLOW), -1, bold),
            (.candid, Int16(COLOR_GREEN), -1, bold),
            (.refusal, Int16(COLOR_BLUE), -1, bold),
            (.deflection, Int16(COLOR_YELLOW), -1, bold),
            (.transformation, Int16(COLOR_MAGENTA), -1, bold),
            (.fabrication, Int16(COLOR_RED), -1, bold),
            (.leak, Int16(COLOR_RED), -1, bold | reverse),
            (.error, Int16(COLOR_WHITE), Int16(COLOR_RED), bold),
            (.warning, Int16(COLOR_YELLOW), -1, bold),
            (.ok, Int16(COLOR_GREEN), -1, 0),
            (.key, Int16(COLOR_CYAN), -1, bold),
            (.dim, -1, -1, dim),
            (.input, -1, -1, 0),
        ]
        for (i, (role, fg, bg, extra)) in palette.enumerated() {
            let pair = Int16(i + 1)
            guard Int32(pair) < cn_color_pairs() else { break }
            init_pair(pair, fg, bg)
            mono[role] = cn_color_pair(pair) | extra
        }
        rolesToAttributes = mono
    }

    // MARK: Drawing

    /// Draws `screen`, rewriting only the cells that differ from the frame before (curses
    /// then sends the terminal only what changed). A frame like the last one costs nothing.
    func draw(_ screen: Screen) {
        let win = cn_stdscr()
        let spans: [ScreenDiff.Span]
        if let shown, shown.width == screen.width, shown.height == screen.height {
            spans = ScreenDiff.spans(from: shown, to: screen)
        } else {
            // Nothing known on the terminal at this size: start from blank.
            werase(win)
            spans = ScreenDiff.everything(screen)
        }
        let cursorMoved = shownCursor.map { old in old?.row != screen.cursor?.row || old?.column != screen.cursor?.column } ?? true
        guard !spans.isEmpty || cursorMoved else { return }
        let rows = min(screen.height, Int(cn_lines())), columns = min(screen.width, Int(cn_cols()))
        for span in spans where span.row < rows {
            for col in span.columns where col < columns {
                guard let text = ScreenDiff.text(screen, row: span.row, column: col) else { continue }
                wattrset(win, Int32(bitPattern: rolesToAttributes[screen[span.row, col].role] ?? cn_a_normal()))
                _ = mvwaddstr(win, Int32(span.row), Int32(col), text)
            }
        }
        wattrset(win, Int32(bitPattern: cn_a_normal()))
        if let cursor = screen.cursor {
            curs_set(1)
            wmove(win, Int32(cursor.row), Int32(cursor.column))
        } else {
            curs_set(0)
        }
        wrefresh(win)
        shown = screen
        shownCursor = .some(screen.cursor)
        #if DEBUG
        CrashGuard.crashForTestingIfAsked()
        #endif
    }

    // MARK: Keys

    enum Input: Equatable { case key(Key), resize(Int, Int) }

    /// The next key or resize, waiting for one at most `timeout` milliseconds (-1: no limit)
    /// or until `wake` becomes readable (the loop has messages). Nil when none came. The wait
    /// is in poll(2), so an idle screen sleeps instead of polling curses every few milliseconds.
    func read(waitingAtMost timeout: Int32, orUntil wake: Wakeup?) -> Input? {
        // Curses may hold keys it has read already (the rest of a paste, an escape sequence).
        if let input = readPending() { return input }
        guard timeout != 0 else { return nil }
        let fds = [STDIN_FILENO, resized.readEnd, wake?.readEnd ?? -1].filter { $0 >= 0 }
        _ = fds.withUnsafeBufferPointer { cn_wait_readable($0.baseAddress, Int32($0.count), timeout) }
        resized.drain()
        return readPending()
    }

    /// A key or resize curses has now, without waiting.
    func readPending() -> Input? {
        let input = decodeKey()
        // After a resize curses has changed its screen; the next frame is drawn whole.
        if case .resize? = input { shown = nil }
        return input
    }

    private func decodeKey() -> Input? {
        var ch: wint_t = 0
        let r = wget_wch(cn_stdscr(), &ch)
        if r == cn_err() { return nil }
        let code = Int32(truncatingIfNeeded: ch)
        if r == cn_key_code_yes() {
            switch code {
            case cn_key_resize(): return .resize(Int(cn_cols()), Int(cn_lines()))
            case KEY_UP: return .key(.up)
            case KEY_DOWN: return .key(.down)
            case KEY_LEFT: return .key(.left)
            case KEY_RIGHT: return .key(.right)
            case KEY_HOME: return .key(.home)
            case KEY_END: return .key(.end)
            case KEY_PPAGE: return .key(.pageUp)
            case KEY_NPAGE: return .key(.pageDown)
            case KEY_BACKSPACE: return .key(.backspace)
            case KEY_DC: return .key(.delete)
            case KEY_BTAB: return .key(.backTab)
            case KEY_ENTER: return .key(.enter)
            case cn_key_mouse():
                var event = MEVENT()
                guard getmouse(&event) == OK else { return nil }
                if event.bstate & cn_wheel_up() != 0 { return .key(.wheelUp) }
                if event.bstate & cn_wheel_down() != 0 { return .key(.wheelDown) }
                return nil
            default:
                if code >= KEY_F0 + 1 && code <= KEY_F0 + 12 { return .key(.function(Int(code - KEY_F0))) }
                return nil
            }
        }
        switch code {
        case 13: return .key(.enter)
        case 10: return .key(.newline)
        case 9: return .key(.tab)
        case 8, 127: return .key(.backspace)
        case 27:
            // Alt-Enter arrives as Esc then Enter.
            var next: wint_t = 0
            let r2 = wget_wch(cn_stdscr(), &next)
            if r2 != cn_err() && (next == 13 || next == 10) { return .key(.newline) }
            if r2 != cn_err() { unget_wch(wchar_t(truncatingIfNeeded: next)) }
            return .key(.escape)
        case 1...26: return .key(.ctrl(Character(Unicode.Scalar(UInt8(code) + 96))))
        case 0...31: return nil
        default:
            guard let scalar = Unicode.Scalar(UInt32(ch)) else { return nil }
            return .key(.char(Character(scalar)))
        }
    }
}
