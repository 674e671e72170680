import Foundation
import StackCore
@testable import StackMongo
import Testing

/// Explain replies as MongoDB 6 and 7 shape them (`executionStats` verbosity): the test server
/// cannot explain, so the reader is checked against these.
@Suite("MongoDB explain replies")
struct MongoPlanTests {
    static func reply(_ json: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func aFindServedByAnIndex() throws {
        let plan = try #require(MongoPlan.read(try Self.reply("""
            {"queryPlanner": {"namespace": "stacksim.tasks", "winningPlan": {"stage": "LIMIT", "inputStage": {"stage": "FETCH",
              "inputStage": {"stage": "IXSCAN", "indexName": "org_status_created", "keyPattern": {"organization_id": 1}}}}},
             "executionStats": {"nReturned": 50, "totalKeysExamined": 50, "totalDocsExamined": 50, "executionTimeMillis": 1},
             "ok": 1}
            """)))
        #expect(plan.path == .indexScan && plan.on == "org_status_created")
        #expect(plan.examined == 50 && plan.returned == 50)
        #expect(plan.nodes == ["LIMIT", "FETCH", "IXSCAN using org_status_created"])
    }

    @Test func aFindThatScansTheCollection() throws {
        let plan = try #require(MongoPlan.read(try Self.reply("""
            {"queryPlanner": {"namespace": "stacksim.tasks", "winningPlan": {"stage": "SORT", "inputStage": {"stage": "COLLSCAN",
              "filter": {"sprint_id": {"$eq": "x"}}}}},
             "executionStats": {"nReturned": 38, "totalKeysExamined": 0, "totalDocsExamined": 9540}, "ok": 1}
            """)))
        #expect(plan.path == .collectionScan && plan.on == "stacksim.tasks")
        #expect(plan.examined == 9540 && plan.returned == 38)
    }

    @Test func anAggregationsCursorStageAndATextSearch() throws {
        let plan = try #require(MongoPlan.read(try Self.reply("""
            {"stages": [{"$cursor": {"queryPlanner": {"namespace": "stacksim.tasks", "winningPlan": {"stage": "TEXT_MATCH",
               "inputStage": {"stage": "TEXT_OR", "inputStages": [{"stage": "IXSCAN", "indexName": "text"}]}}},
               "executionStats": {"nReturned": 18, "totalKeysExamined": 1420, "totalDocsExamined": 1420}}},
              {"$group": {"_id": "$status"}}], "ok": 1}
            """)))
        #expect(plan.path == .textIndex && plan.on == "text")
        #expect(plan.examined == 1420 && plan.returned == 18)
    }

    @Test func aReplyWithoutAPlanIsNotMadeIntoOne() throws {
        #expect(MongoPlan.read(try Self.reply(#"{"ok": 0, "errmsg": "no such command: 'explain'"}"#)) == nil)
    }
}
