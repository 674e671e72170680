import Foundation
import StackCore
import StackLive
import Testing

/// The decision `run --target live` makes from what each store holds: pure, no servers needed.
@Suite("Dataset plan")
struct DatasetPlanTests {
    let want = DatasetIdentity(fingerprint: "abc", description: "seed 42, 6 organizations")
    let now = Date(timeIntervalSince1970: 1_000)

    func marker(_ dataset: String?, runs: Int = 0) -> DatasetMarker {
        var marker = DatasetMarker(dataset: dataset, description: dataset.map { "dataset \($0)" }, anchor: Date(timeIntervalSince1970: 500))
        marker.runs = runs
        return marker
    }

    func decide(_ holdings: [StoreKind: StoreHolding]) -> DatasetPlan {
        DatasetPlan.decide(holdings, want: want, places: [:], anchor: now)
    }

    @Test func emptyStoresAreLoadedAsOfNow() {
        let plan = decide([.relational: .empty, .document: .empty, .cache: .empty])
        #expect(plan.refusals.isEmpty && plan.load == Set(StoreKind.allCases) && plan.marker.anchor == now)
    }

    @Test func matchingMarkersAreReusedWithTheirAnchorAndRunCount() {
        let plan = decide([.relational: .stacksim(marker("abc", runs: 3)), .document: .stacksim(marker("abc", runs: 3)),
                           .cache: .stacksim(marker("abc", runs: 2))])
        #expect(plan.reuses && plan.refusals.isEmpty)
        #expect(plan.marker.runs == 3 && plan.marker.anchor == Date(timeIntervalSince1970: 500))
    }

    @Test func aStoreThatLostItsPartIsReloadedAlone() {
        let plan = decide([.relational: .stacksim(marker("abc")), .document: .stacksim(marker("abc")), .cache: .empty])
        #expect(plan.load == [.cache] && plan.refusals.isEmpty && plan.marker.anchor == Date(timeIntervalSince1970: 500))
    }

    @Test func anythingStacksimDidNotCreateIsRefusedAndNamed() {
        let plan = decide([.relational: .foreign("2 table(s) (users, organizations)"), .document: .empty, .cache: .empty])
        #expect(plan.refusals.count == 1)
        #expect(plan.refusals[0].contains("users, organizations") && plan.refusals[0].contains("--postgres-schema"))
    }

    @Test func anotherDatasetIsRefusedSayingWhatToDo() {
        let plan = decide([.relational: .stacksim(marker("zzz")), .document: .stacksim(marker("zzz")), .cache: .stacksim(marker("zzz"))])
        #expect(plan.refusals.count == 3 && plan.refusals.allSatisfy { $0.contains("db seed") && $0.contains("db reset --yes") })
    }

    @Test func markersRoundTripAndOnlyStacksimsAreRead() {
        var original = marker("abc", runs: 4)
        original.writes = 17
        #expect(DatasetMarker.parse(original.text) == original)
        #expect(DatasetMarker.parse(#"{"created_by":"someone-else","layout":2,"runs":0,"writes":0}"#) == nil)
        #expect(DatasetMarker.parse("not json") == nil)
    }
}
