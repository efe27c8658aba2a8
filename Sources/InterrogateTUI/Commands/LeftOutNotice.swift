import Foundation
import Sessions

/// What `report`, `agree` and `export` say about the sessions they did not count: each on
/// stderr with its reason, then one summary line, like `git fsck` or pytest's last line.
enum LeftOutNotice {
    /// Prints the notice; true when the command must exit non-zero: a named path that does
    /// not exist, or nothing counted while something was left out.
    static func print(_ leftOut: [LeftOut], counted: Int, verb: String = "counted") -> Bool {
        for l in leftOut { printError("not \(verb): \(l.path): \(l.reason)") }
        if !leftOut.isEmpty { printError("\(counted) session(s) \(verb), \(leftOut.count) left out") }
        let missing = leftOut.contains(where: \.isMissingPath)
        return missing || (counted == 0 && !leftOut.isEmpty)
    }
}
