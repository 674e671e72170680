import ArgumentParser
import StackIO
import StackLive
import StackSim

/// Where the live servers are, shared by `run` and `db`.
struct LiveOptions: ParsableArguments {
    @Option(help: "Where to run: embedded (in-process stack) or live (PostgreSQL, MongoDB and Redis at the URLs below).")
    var target = "embedded"

    @Option(name: .customLong("postgres-url"), help: "PostgreSQL URL (default: $STACKSIM_POSTGRES_URL, else make services-up's server).")
    var postgresURL: String?

    @Option(name: .customLong("mongo-url"), help: "MongoDB URL (default: $STACKSIM_MONGO_URL, else make services-up's test server).")
    var mongoURL: String?

    @Option(name: .customLong("redis-url"), help: "Redis URL (default: $STACKSIM_REDIS_URL, else make services-up's server).")
    var redisURL: String?

    func validateTarget() throws {
        guard ["embedded", "live"].contains(target) else {
            throw CommandFailure(status: .badInput, message: "--target: expected embedded or live, got '\(target)'")
        }
    }

    /// Connects to the live servers and checks each answers; exit 69 naming any that does not.
    func connect(pool: PoolSpec) async throws -> LiveStack {
        let stack: LiveStack
        do {
            stack = try LiveStack(urls: LiveURLs(postgres: postgresURL, mongo: mongoURL, redis: redisURL), pool: PoolSettings(max: pool.max, connectTimeout: pool.connectTimeout, idleTimeout: pool.idleTimeout))
        } catch let error as StoreError {
            throw CommandFailure(status: .targetUnreachable, message: "\(error.store.rawValue): \(error.detail)")
        }
        let problems = await stack.healthProblems()
        guard problems.isEmpty else {
            stack.shutdown()
            throw CommandFailure(status: .targetUnreachable, message: problems.joined(separator: "; ")
                                 + " (start throwaway servers with `make services-up`)")
        }
        return stack
    }
}
