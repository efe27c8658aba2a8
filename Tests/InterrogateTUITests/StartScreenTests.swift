import Foundation
import Testing
import TestSupport
@testable import InterrogateTUI
@testable import Sessions

@Suite("Start screen")
struct StartScreenTests {
    static func state(width: Int = 80, height: Int = 24) -> StartState {
        // Fixed scenarios, so the snapshots do not change when the shipped ones are edited.
        let scenarios = ["vault", "vault-two", "vault-three"].map { id in
            try! ScenarioLoader.parse(UpdateTests.scenarioYAML.replacingOccurrences(of: "id: vault", with: "id: \(id)")
                .replacingOccurrences(of: "brief: Find out the vault code.", with: "brief: Find out the code of \(id).")
                .replacingOccurrences(of: "  system_prompt: The vault code is 4417.", with: "  system_prompt: You guard \(id).")
                , path: "\(id).yaml")
        }
        return StartState(scenarios: scenarios, models: ["local", "openai"], model: "local", annotator: "alice", width: width, height: height)
    }

    @Test("arrows choose the scenario, m the model, c the condition; Enter starts with the choice")
    func choose() throws {
        var s = Self.state()
        for k: Key in [.down, .down, .char("m"), .char("c"), .enter] { StartUpdate.update(&s, .key(k)) }
        guard case .start(let choice)? = s.outcome else { Issue.record("did not start"); return }
        #expect(choice.scenario.id == s.scenarios[2].id)
        #expect(choice.model == "openai")
        #expect(choice.condition == .control)
        #expect(choice.annotator == "alice")
    }

    @Test("an annotator id that cannot be a file name is refused with a hint")
    func badAnnotator() {
        var s = Self.state()
        StartUpdate.update(&s, .key(.char("a")))
        for c in " /x" { StartUpdate.update(&s, .key(.char(c))) }
        StartUpdate.update(&s, .key(.enter))
        StartUpdate.update(&s, .key(.enter))
        #expect(s.outcome == nil)
        #expect(s.status?.contains("annotator id") == true)
    }

    @Test("Esc leaves without starting anything")
    func cancel() {
        var s = Self.state()
        StartUpdate.update(&s, .key(.escape))
        #expect(s.outcome == .cancel)
    }

    @Test("snapshots at 80x24 and 160x48", arguments: [(80, 24), (160, 48)])
    func snapshots(width: Int, height: Int) throws {
        var s = Self.state(width: width, height: height)
        StartUpdate.update(&s, .key(.down))
        try ScreenSnapshotTests().assertSnapshot(StartView.view(s), "start-\(width)x\(height)")
    }
}
