@testable import Simulation
import Testing

/// What a key may hold after concurrent writes: every write not certainly followed by a later
/// acknowledged one; a write with unknown outcome may always be the last.
@Suite("Write ledger")
struct WriteLedgerTests {
    typealias Attempt = WriteLedger.Attempt<String>

    @Test func aWriteAcknowledgedBeforeAnotherStartedIsSuperseded() {
        let finals = WriteLedger.possibleFinals([Attempt(start: 0, end: 10, value: "a"), Attempt(start: 20, end: 30, value: "b")])
        #expect(finals == ["b"])
    }

    @Test func overlappingWritesMayEitherBeLast() {
        let finals = WriteLedger.possibleFinals([Attempt(start: 0, end: 25, value: "a"), Attempt(start: 20, end: 30, value: "b")])
        #expect(Set(finals) == ["a", "b"])
    }

    @Test func aWriteWithUnknownOutcomeWidensButNeverNarrows() {
        let finals = WriteLedger.possibleFinals([Attempt(start: 0, end: 10, value: "a"), Attempt(start: 5, end: nil, value: "x"),
                                                 Attempt(start: 20, end: 30, value: "b")])
        #expect(Set(finals) == ["b", "x"])
    }

    @Test func nothingAcknowledgedNothingToCheck() {
        #expect(WriteLedger.possibleFinals([Attempt(start: 0, end: nil, value: "x")]).isEmpty)
    }
}
