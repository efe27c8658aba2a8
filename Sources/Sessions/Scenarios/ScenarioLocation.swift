import Foundation

public enum ScenarioLocation {
    public static let environmentVariable = "INTERROGATE_SCENARIOS"

    /// `--scenarios DIR`, else `$INTERROGATE_SCENARIOS`, else `./Scenarios`.
    public static func resolve(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        option ?? environment[environmentVariable] ?? "Scenarios"
    }
}
