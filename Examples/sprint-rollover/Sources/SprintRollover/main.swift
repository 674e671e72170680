import Foundation
import StackSim

// A custom action, built from port calls: carry every unfinished task of the requester's active
// sprint over to the next planned sprint — what a team lead does at sprint planning.
let carryOver = ActionDefinition(name: "carry-over", resource: "sprint", permission: "update") { ctx, who, _ in
    guard let active = await who.sprints.activeSprintID, let next = await who.sprints.nextSprintID else { return }
    let now = ctx.time.now()
    // Copied out first: each move writes to the store, and a write made while a task list is held
    // copies the part of the embedded store's table it changes (see `TaskList`).
    for task in Array(try await ctx.stores.documents.sprintTasks(sprintID: active)) where task.status != .done {
        _ = try await ctx.stores.documents.moveTask(taskID: task.id, toSprint: next, at: now)
    }
    try await ctx.cache.invalidateTasks(organizationID: who.organizationID)
}

// A dataset step: one tenant in ten gets a long backlog of unsprinted tasks.
let backlog = DatasetStep("long-backlog") { dataset, rng in
    for index in dataset.tasks.indices where rng.unit() < 0.1 { dataset.tasks[index].sprintID = nil }
}

// A custom arrival shape: a working day squeezed into the phase — quiet, a morning peak, lunch, an
// afternoon peak.
let workingDay = CustomRate("working-day") { t, length in
    let x = t / length
    return 40 + 160 * exp(-pow((x - 0.3) / 0.1, 2)) + 120 * exp(-pow((x - 0.75) / 0.12, 2))
}

let scenario = ScenarioScript("sprint-rollover") {
    Description("Sprint planning day: boards and carry-overs on a working-day curve.")
    Seed(2026)
    carryOver
    backlog
    Configure(\.dataset) { $0.organizations = 8; $0.usersPerOrganization = .zipf(min: 3, max: 40, s: 1.1); $0.tasksPerUser = .constant(8) }
    Phase(name: "warmup", duration: .seconds(3), rate: .constant(50), record: false)
    Phase(name: "day", duration: .seconds(12), rate: .custom(workingDay))
    Mix(["board": 10, "sprint-board": 4, "update-status": 4, "my-tasks": 4, "carry-over": 1])
    Threshold.latency("carry-over", .p99, below: .milliseconds(250))
    Threshold.errorRate(below: 0.001)
}

let directory = URL(fileURLWithPath: CommandLine.arguments.dropFirst().first ?? "Reports/sprint-rollover")
let report = try await scenario.run(reportsTo: directory)
print(TextReports.summary(report))
guard let carried = report.operations.first(where: { $0.name == "carry-over" }), carried.count > 0 else {
    print("carry-over never ran")
    exit(1)
}
print("\ncarry-over: \(carried.count) runs, store calls " + carried.stores.map { "\($0.store) \($0.calls)" }.joined(separator: ", ")
      + "; reports in \(directory.path)")
exit(report.verdict == .pass ? 0 : 10)
