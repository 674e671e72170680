import ArgumentParser
import Redaction
import Scenario
import StackCore
import StackIO
import StackLive
import StackSim

/// Where the live servers are, and the places in them stacksim owns; shared by `run`, `db` and `bench`.
struct LiveOptions: ParsableArguments {
    @Option(help: "Where to run: embedded (in-process stack) or live (PostgreSQL, MongoDB and Redis at the URLs below).")
    var target = "embedded"

    @Option(name: .customLong("postgres-url"), help: "PostgreSQL URL or conninfo (default: $STACKSIM_POSTGRES_URL, else make services-up's server).")
    var postgresURL: String?

    @Option(name: .customLong("mongo-url"), help: "MongoDB URL; its database is stacksim's (default: $STACKSIM_MONGO_URL, else make services-up's test server).")
    var mongoURL: String?

    @Option(name: .customLong("redis-url"), help: "Redis URL (default: $STACKSIM_REDIS_URL, else make services-up's server).")
    var redisURL: String?

    @Option(name: .customLong("postgres-schema"), help: "The PostgreSQL schema stacksim owns (default: $STACKSIM_POSTGRES_SCHEMA, else stacksim).")
    var postgresSchema: String?

    @Option(name: .customLong("redis-prefix"), help: "The prefix of every Redis key stacksim owns (default: $STACKSIM_REDIS_PREFIX, else 'stacksim:').")
    var redisPrefix: String?

    @Option(name: .customLong("wait-for-places"), help: "How long to wait for another stacksim using the same places (seeding, resetting or running on them) before giving up (default: 5m).")
    var waitForPlaces = "5m"

    func validateTarget(for scenario: Scenario) throws {
        guard ["embedded", "live"].contains(target) else {
            throw CommandFailure(status: .badInput, message: "--target: expected embedded or live, got '\(target)'")
        }
        if target == "live", scenario.clock == .virtual {
            throw CommandFailure(status: .badInput, message: "--target live: the scenario runs in virtual time (clock: virtual or --clock virtual), "
                                 + "which only the embedded stack can; use --clock wall against live servers")
        }
    }

    /// Checks the addresses (exit 64 for a malformed one), connects, checks each server answers
    /// (exit 69 naming any that does not) and takes stacksim's places in `mode` against other
    /// stacksims: exclusively to change them (`db`), shared to run on them.
    func connect(pool spec: PoolSpec, places mode: PlacesMode = .shared) async throws -> LiveStack {
        let stack: LiveStack
        do {
            let urls = LiveURLs(postgres: postgresURL, mongo: mongoURL, redis: redisURL, postgresSchema: postgresSchema, redisPrefix: redisPrefix)
            stack = try LiveStack(urls: urls, pool: PoolSettings(max: spec.max, connectTimeout: spec.connectTimeout, idleTimeout: spec.idleTimeout,
                                                                 waitTimeout: spec.waitTimeout, callTimeout: spec.callTimeout))
        } catch let error as StoreConfigurationError {
            let flag = switch error.store {
            case .relational: "--postgres-url/--postgres-schema"
            case .document: "--mongo-url"
            case .cache: "--redis-url/--redis-prefix"
            }
            throw CommandFailure(status: .badInput, message: "\(flag): \(error.message)")
        }
        let problems = await stack.healthProblems()
        guard problems.isEmpty else {
            stack.shutdown()
            throw CommandFailure(status: .targetUnreachable, message: problems.joined(separator: "; ")
                                 + " (start throwaway servers with `make services-up`)")
        }
        do {
            try await stack.lockPlaces(mode, wait: ScenarioOverrides.duration(waitForPlaces, flag: "--wait-for-places")) { Output.line($0) }
        } catch {
            stack.shutdown()
            throw error
        }
        return stack
    }
}
