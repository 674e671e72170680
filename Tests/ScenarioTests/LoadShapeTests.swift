import Scenario
import Testing

@Suite("Load shapes in scenario files")
struct LoadShapeTests {
    @Test func everyShapeParses() throws {
        let scenario = try ScenarioLoader().parse("""
            name: shapes
            load:
              max_rate: 900/s
              max_late_fraction: 0.5%
              mix: { board: 1 }
              phases:
                - { name: c, duration: 10s, rate: 100/s }
                - { name: r, duration: 10s, rate: {ramp: {from: 0/s, to: 800/s}} }
                - { name: s, duration: 9s, rate: {steps: [100/s, 200/s, 400/s]}, mix: {search: 2, board: 1} }
                - { name: k, duration: 20s, rate: {spike: {baseline: 100/s, peak: 1000/s, at: 5s, for: 2s}} }
                - { name: w, duration: 60s, rate: {sine: {mean: 300/s, amplitude: 100/s, period: 30s}} }
            """, file: "shapes.yaml")
        let p = scenario.load.phases
        #expect(scenario.load.maxRate == 900 && scenario.load.maxLateFraction == 0.005)
        #expect(p[0].rate == .constant(100))
        #expect(p[1].rate == .ramp(from: 0, to: 800))
        #expect(p[2].rate == .steps([100, 200, 400]) && p[2].mix?.map(\.operation) == ["search", "board"])
        #expect(p[3].rate == .spike(baseline: 100, peak: 1000, at: .seconds(5), duration: .seconds(2)))
        #expect(p[4].rate == .sine(mean: 300, amplitude: 100, period: .seconds(30)))
        #expect(p[1].rate!.rate(at: 5, length: 10) == 400)
        #expect(p[2].rate!.rate(at: 4, length: 9) == 200)
        #expect(p[3].rate!.rate(at: 6, length: 20) == 1000 && p[3].rate!.rate(at: 8, length: 20) == 100)
        #expect(abs(p[3].rate!.mean(length: 20) - 190) < 1e-9)
        #expect(abs(p[4].rate!.mean(length: 60) - 300) < 1e-9)
    }

    @Test func closedUsersRamp() throws {
        let scenario = try ScenarioLoader().parse("""
            name: ramp
            load:
              model: closed
              think_time: {uniform: {min: 100ms, max: 300ms}}
              phases: [{ name: up, duration: 10s, users: {ramp: {from: 2, to: 12}} }]
            """, file: "ramp.yaml")
        let users = try #require(scenario.load.phases[0].users)
        #expect(users == .ramp(from: 2, to: 12) && users.maximum == 12)
        #expect(users.users(at: 0, length: 10) == 2 && users.users(at: 5, length: 10) == 7 && users.users(at: 10, length: 10) == 12)
        #expect(scenario.load.thinkTime == .uniform(min: .milliseconds(100), max: .milliseconds(300)))
    }

    static let badShapes: [(yaml: String, words: String)] = [
        ("{ name: a, duration: 10s, rate: {sine: {mean: 100/s, amplitude: 200/s, period: 10s}} }", "no larger than the mean"),
        ("{ name: a, duration: 10s, rate: {spike: {baseline: 1/s, peak: 9/s, at: 9s, for: 2s}} }", "end within the phase"),
        ("{ name: a, duration: 10s, rate: {wobble: {}} }", "unknown key 'wobble'"),
        ("{ name: a, duration: 10s, rate: {steps: []} }", "at least 1 item"),
        ("{ name: a, duration: 10s, rate: {ramp: {from: 1/s}} }", "missing required key 'to'"),
    ]

    @Test(arguments: badShapes.indices)
    func badShapesAreLocatedErrors(index: Int) {
        let bad = Self.badShapes[index]
        #expect {
            _ = try ScenarioLoader().parse("name: x\nload:\n  phases:\n    - \(bad.yaml)\n", file: "bad.yaml")
        } throws: { error in
            let e = error as? ScenarioError
            return e?.line == 4 && e?.description.contains(bad.words) == true
        }
    }
}
