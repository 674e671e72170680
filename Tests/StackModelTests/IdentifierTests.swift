import Foundation
import StackModel
import Testing

@Suite("Identifiers")
struct IdentifierTests {
    /// Foundation's UUID text of the same 128 bits: the reference the fast formatter must match.
    static func foundationText(_ id: UUIDValue) -> String {
        var bytes = [UInt8]()
        for word in [id.high, id.low] { bytes += (0..<8).map { UInt8(truncatingIfNeeded: word >> UInt64(56 - 8 * $0)) } }
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return uuid.uuidString.lowercased()
    }

    @Test func printsAndReadsBackAsFoundationDoes() {
        var rng = SeededRandom(seed: 42)
        let ids = [UUIDValue(high: 0, low: 0), UUIDValue(high: .max, low: .max), UUIDValue(high: 1, low: 0xF)]
            + (0..<1000).map { _ in UUIDValue(high: rng.next(), low: rng.next()) }
        for id in ids {
            #expect(id.description == Self.foundationText(id))
            #expect(UUIDValue(id.description) == id)
            #expect(UUIDValue(id.description.uppercased().replacingOccurrences(of: "-", with: "")) == id)
        }
    }

    /// Keys and lines written in one allocation read as the interpolations they replace, with
    /// prefixes of any length (small and large strings) and non-ASCII text.
    @Test func textAfterAPrefixReadsAsItsInterpolation() {
        let user = UUIDValue(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210), org = UUIDValue(high: 7, low: .max)
        #expect(user.text(after: "dashboard", separator: UInt8(ascii: ":"), then: org) == "dashboard:\(user):\(org)")
        #expect(org.text(after: "task_stats", separator: UInt8(ascii: ":")) == "task_stats:\(org)")
        for prefix in ["", "a", "task.status_changed", "작업 완료 알림"] {
            #expect(user.text(after: prefix, separator: UInt8(ascii: " ")) == "\(prefix) \(user)")
        }
    }

    /// The hash that dictionaries of ids use spreads both kinds of id — drawn ones and the
    /// numbered ids of many tenants (which differ in few bits) — over a table's buckets at least
    /// as evenly as chance would: with 2^16 ids in 2^16 buckets, a random hash leaves ~e^-1 of
    /// them empty and none fuller than about eight. Another seed places them elsewhere (a
    /// dictionary's seed is what keeps copying one into another in its order from going quadratic).
    @Test func hashesSpreadOverATablesBuckets() {
        var drawn = SeededRandom(seed: 7)
        let numbered = (0..<UInt64(16_384)).flatMap { tenant in
            var rng = SeededRandom(seed: 3).identifying(tenant: tenant)
            return (0..<4).map { _ in rng.uuid() }
        }
        let sets = [(0..<65_536).map { _ in drawn.uuid() }, numbered, (0..<UInt64(65_536)).map { UUIDValue(high: 0, low: $0) }]
        for (ids, seed) in zip(sets, [0, 12_345, -1]) {
            Self.expectSpread(ids, seed: seed) { $0._rawHashValue(seed: $1) }
        }
    }

    /// Strings hashed from their bytes (the embedded cache's keys) spread as well: the keys a
    /// task write deletes (every member's dashboard, 2^16 over 512 organizations, differing in
    /// one id) and keys that differ in a few digits in their middle.
    @Test func stringHashesSpreadOverATablesBuckets() {
        var rng = SeededRandom(seed: 11)
        let organizations = (0..<512).map { _ in rng.uuid() }
        let dashboards = (0..<65_536).map { "dashboard:\(rng.uuid()):\(organizations[$0 % 512])" }
        let numbered = (0..<65_536).map { "ratelimit:user-\($0):29000000" }
        for (texts, seed) in zip([dashboards, numbered], [0, 12_345]) {
            Self.expectSpread(texts.map(TableHash.bytes(of:)), seed: seed) { TableHash.forTable($0, seed: $1) }
        }
        #expect(TableHash.bytes(of: "abcdefgh") != TableHash.bytes(of: "abcdefgh\0"), "the length counts")
    }

    /// 2^16 keys hashed for a table with `seed`, in 2^16 buckets: at most as many empty as a
    /// random hash leaves, none fuller than 10, and nearly all elsewhere under the next seed.
    static func expectSpread<Key>(_ keys: [Key], seed: Int, sourceLocation: SourceLocation = #_sourceLocation,
                                  _ hash: (Key, _ seed: Int) -> Int) {
        var buckets = [Int](repeating: 0, count: 65_536)
        for key in keys { buckets[hash(key, seed) & 0xFFFF] += 1 }
        let emptyShare = Double(buckets.count { $0 == 0 }) / 65_536
        #expect(emptyShare < exp(-1) + 0.01, "empty buckets \(emptyShare)", sourceLocation: sourceLocation)
        #expect(buckets.max()! <= 10, sourceLocation: sourceLocation)
        let unmoved = keys.count { hash($0, seed) & 0xFFFF == hash($0, seed &+ 1) & 0xFFFF }
        #expect(unmoved < keys.count / 100, "\(unmoved) keys keep their bucket under another seed", sourceLocation: sourceLocation)
    }

    @Test(arguments: ["", "not-a-uuid", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0",
                      "0123456789abcdef0123456789abcdeg", "+123456789abcdef0123456789abcdef"])
    func refusesWhatIsNotOne(_ text: String) {
        #expect(UUIDValue(text) == nil)
    }
}

@Suite("Identifiers unique by construction")
struct UniqueIdentifierTests {
    /// The ids of 100,000 tenants — each tenant's first, second, third and 80th id (a tenant's
    /// roles and grants take ~70), all from the same seed so that only the numbering tells them
    /// apart — are all different, and no drawn id equals a numbered one: ids come from
    /// (tenant, serial) through a bijection, not from luck.
    @Test func numberedIdsOfAHundredThousandTenantsNeverCollide() {
        var seen = Set<UUIDValue>()
        for tenant in 0..<UInt64(100_000) {
            var rng = SeededRandom(seed: 3).identifying(tenant: tenant)
            for serial in 0..<80 {
                let id = rng.uuid()
                if [0, 1, 2, 79].contains(serial) { #expect(seen.insert(id).inserted) }
            }
        }
        var drawn = SeededRandom(seed: 3)
        for _ in 0..<100_000 { #expect(!seen.contains(drawn.uuid())) }
        #expect(seen.count == 400_000)
    }

    /// Three thousand organizations of the default scenario's sizes: every key the seed's unique
    /// indexes cover is unique (OAuth uids used to be drawn from ten million values and collided).
    @Test func aDatasetOfThreeThousandOrganizationsHasUniqueKeys() {
        let spec = DatasetSpec(organizations: 3_000, usersPerOrganization: .zipf(min: 3, max: 150, s: 1.1),
                               tasksPerUser: .constant(1), sprintsPerOrganization: 2)
        var generator = DatasetGenerator(spec: spec, seed: 42, anchor: Date(timeIntervalSince1970: 1_760_000_000))
        let data = generator.generate()
        let uids = data.users.compactMap { user in user.provider.map { "\($0):\(user.uid ?? "")" } }
        #expect(uids.count > 10_000)
        #expect(Set(uids).count == uids.count)
        #expect(Set(data.users.map(\.email)).count == data.users.count)
        #expect(Set(data.organizations.map(\.subdomain)).count == 3_000)
        let ids = data.users.map(\.id) + data.organizations.map(\.id) + data.tasks.map(\.id) + data.memberships.map(\.id)
            + data.roles.map(\.id) + data.rolePermissions.map(\.id) + data.sprints.map(\.id) + data.activityLogs.map(\.id)
        #expect(Set(ids).count == ids.count)
    }
}
