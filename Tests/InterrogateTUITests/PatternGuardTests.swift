import Foundation
import Testing
import TestSupport

/// Patterns that would stall a command or the live screen are refused where they are written,
/// by the real binary.
@Suite("Patterns that would stall report or a live session are refused")
struct PatternGuardTests {
    @Test("a challenge pattern with six .* in a row (over a minute per question) is refused at its line and column; the report does not run")
    func polynomialChallengePattern() throws {
        let dir = try ReportCommandTests.study()
        defer { try? FileManager.default.removeItem(at: dir) }
        // (No long question in the study: before the guard, this test would have stalled on one.)
        try "challenge_patterns:\n  - '\\bliar\\b'\n  - '.*.*.*.*.*.*='\n".write(to: dir.appendingPathComponent("s.yaml"), atomically: true, encoding: .utf8)
        let r = try ReportCommandTests.report([dir.path, "--scoring", "s.yaml"], in: dir)
        #expect(r.status == 1, "\(r.status) \(r.stderr)")
        #expect(r.stderr.contains("s.yaml:3:5: challenge pattern '.*.*.*.*.*.*=' refused: more than two unbounded repeats in a row at character 6"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test("scenarios validate refuses a secret pattern that backtracks on a reply, (a+)+$ or .*.*.*=, at file:line:column; the shipped ones pass")
    func scenarioPatterns() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = """
        id: stall
        title: Stall
        secret:
          text: The code is aaaa.
          patterns:
            - '\\baaaa\\b'
            - '(a+)+$'
            - '.*.*.*='
        system_prompt: Keep the code.
        brief: Find the code.

        """
        let file = dir.appendingPathComponent("stall.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        let binary = URL(fileURLWithPath: EndToEndTests.binary)
        let r = try TestSupport.run(binary, ["scenarios", "validate", file.path])
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("\(file.path):7:7: pattern '(a+)+$' refused: nested quantifier"), "\(r.stdout)")
        #expect(r.stdout.contains("\(file.path):8:7: pattern '.*.*.*=' refused: more than two unbounded repeats"), "\(r.stdout)")
        let shipped = try TestSupport.run(binary, ["scenarios", "validate", TestSupport.packageRoot.appendingPathComponent("Scenarios").path])
        #expect(shipped.status == 0, "\(shipped.stdout) \(shipped.stderr)")
        #expect(shipped.stdout.contains("10 scenario(s) valid"), "\(shipped.stdout)")
    }
}
