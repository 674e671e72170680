/// What the stack logic reports as it runs; the simulation turns these into metrics.
public protocol StackObserver: Sendable {
    /// A read-through cache lookup in a family (`task_stats`, `dashboard`, `session`).
    func cacheLookup(family: String, hit: Bool)
    /// A snapshot-sync job finished: profile commit → every task snapshot of the user updated.
    func snapshotSynced(lag: Duration, tasksUpdated: Int)
    /// An invalidation deleted (or tried to delete) this many keys.
    func invalidated(keys: Int)
}

/// Observes nothing; for tools and tests that only need the behaviour.
public struct NoObserver: StackObserver {
    public init() {}
    public func cacheLookup(family: String, hit: Bool) {}
    public func snapshotSynced(lag: Duration, tasksUpdated: Int) {}
    public func invalidated(keys: Int) {}
}
