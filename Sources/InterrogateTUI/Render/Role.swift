import Annotate

/// What a piece of the screen is, in the user's terms; the renderer maps roles to colours
/// per terminal (256, 8 or no colours), so views never name a colour.
enum Role: Character, Sendable, CaseIterable {
    case text = " "
    case dim = "."
    case header = "H"
    case interrogator = "I"
    case model = "M"
    case selected = "S"
    case untagged = "U"
    case candid = "c"
    case refusal = "r"
    case deflection = "d"
    case transformation = "t"
    case fabrication = "f"
    case leak = "L"
    case error = "E"
    case warning = "W"
    case ok = "K"
    case input = "N"
    case key = "k"

    static func badge(_ label: Label) -> Role {
        switch label {
        case .candid: .candid
        case .refusal: .refusal
        case .deflection: .deflection
        case .transformation: .transformation
        case .fabrication: .fabrication
        }
    }
}
