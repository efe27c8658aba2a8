import CNCurses
import Foundation

/// The only code that talks to curses. It draws a `Screen` and turns key codes into `Key`s;
/// it is used from one thread only (curses is not thread-safe).
final class CursesTerminal {
    private var rolesToAttributes: [Role: attr_t] = [:]
    private(set) var isOpen = false

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
        wtimeout(cn_stdscr(), 30)
        _ = mousemask(cn_wheel_up() | cn_wheel_down(), nil)
        setUpColours()
        CrashGuard.install(mouse: true)
    }

    var size: (width: Int, height: Int) { (Int(cn_cols()), Int(cn_lines())) }

    func close() {
        guard isOpen else { return }
        isOpen = false
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

    func draw(_ screen: Screen) {
        let win = cn_stdscr()
        werase(win)
        for row in 0..<min(screen.height, Int(cn_lines())) {
            for col in 0..<min(screen.width, Int(cn_cols())) {
                let cell = screen[row, col]
                if cell.text.isEmpty { continue } // the right half of a wide character
                wattrset(win, Int32(bitPattern: rolesToAttributes[cell.role] ?? cn_a_normal()))
                _ = mvwaddstr(win, Int32(row), Int32(col), cell.text)
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
        #if DEBUG
        CrashGuard.crashForTestingIfAsked()
        #endif
    }

    // MARK: Keys

    enum Input: Equatable { case key(Key), resize(Int, Int) }

    /// The next key, or nil when none arrived within the poll interval.
    func read() -> Input? {
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
            wtimeout(cn_stdscr(), 0)
            let r2 = wget_wch(cn_stdscr(), &next)
            wtimeout(cn_stdscr(), 30)
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
