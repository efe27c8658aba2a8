/// Model text is shown inert: control characters and escape sequences are never passed to
/// the terminal. Tabs and newlines survive; everything else below U+0020, DEL and the C1
/// controls become visible symbols.
public enum TerminalText {
    public static func inert(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            switch s.value {
            case 0x0A, 0x09: out.append(s)
            case 0x00...0x1F: out.append(Unicode.Scalar(0x2400 + s.value)!) // ␛ for ESC, ␍ for CR, …
            case 0x7F: out.append("\u{2421}")
            case 0x80...0x9F: out.append("\u{FFFD}")
            default: out.append(s)
            }
        }
        return String(out)
    }

    /// C0 controls, DEL and C1 controls.
    public static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F...0x9F).contains(s.value)
    }

    /// Text from a file, the environment or a transcript, for a one-line message: every
    /// control character written as an escape (`\r`, `\n`, `\t`, `\u{1B}`), so nothing in it
    /// acts on the terminal and a person sees exactly what is there.
    public static func escaped(_ text: String) -> String {
        var out = ""
        for s in text.unicodeScalars {
            switch s.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case _ where isControl(s): out += "\\u{\(String(s.value, radix: 16, uppercase: true))}"
            default: out.unicodeScalars.append(s)
            }
        }
        return out
    }
}
