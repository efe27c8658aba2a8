/// A problem in a file a person wrote (a scenario, a model configuration), located so an
/// editor can jump to it.
public struct LocatedError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`, the form compilers use.
    public var description: String { "\(file):\(line):\(column): \(message)" }
}

public typealias ScenarioError = LocatedError

/// All the errors found in one or more files.
public struct LocatedErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [LocatedError]
    public init(_ errors: [LocatedError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

public typealias ScenarioErrors = LocatedErrors
