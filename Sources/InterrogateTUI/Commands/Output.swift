import Foundation

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("interrogate: " + message + "\n").utf8))
}

func printJSON<T: Encodable>(_ value: T) {
    let e = JSONEncoder()
    e.keyEncodingStrategy = .convertToSnakeCase
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    if let data = try? e.encode(value), let s = String(data: data, encoding: .utf8) { print(s) }
}

/// A plain text table for terminals and logs, columns padded to their widest cell.
struct Table {
    var header: [String]
    var rows: [[String]]

    func render() -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
