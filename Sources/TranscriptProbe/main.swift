// A child process for the durability tests: appends events to a transcript and prints
// "saved SEQ" after each append returns, i.e. after the event is written and fsync'd. The
// tests kill it with SIGKILL and check that every reported event is on disk.
import Foundation
import Sessions

func header() -> EventBody {
    let yaml = "id: probe\ntitle: Probe\n"
    let record = SessionHeader.ScenarioRecord(
        id: "probe", title: "Probe", path: "probe.yaml",
        sha256: String(repeating: "0", count: 64), content: yaml, condition: .instructed, systemPrompt: "probe")
    return .header(SessionHeader(sessionId: "probe", annotator: "probe", scenario: record,
                                 model: .init(provider: "scripted", name: "probe")))
}

/// Unbuffered, so a line printed is a line the parent can read even after SIGKILL.
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
let args = CommandLine.arguments
guard args.count >= 3 else {
    FileHandle.standardError.write(Data("usage: transcript-probe create PATH | append PATH COUNT SIZE TAG\n".utf8))
    exit(64)
}
do {
    switch args[1] {
    case "create":
        _ = try TranscriptFile.create(path: args[2], first: header())
        say("created")
    case "append":
        let count = Int(args[3])!, size = Int(args[4])!, tag = args[5]
        let (file, recovered) = try TranscriptFile.openForAppend(path: args[2])
        if let recovered { say("recovered \(recovered.tornLine)") }
        let filler = String(repeating: "x", count: size)
        for i in 0..<count {
            let event = try file.append(.sessionEnd(SessionEndEvent(reason: "\(tag)-\(i)-\(filler)")))
            say("saved \(event.seq) \(tag)-\(i)")
        }
    default:
        exit(64)
    }
} catch {
    FileHandle.standardError.write(Data("transcript-probe: \(error)\n".utf8))
    exit(1)
}
