import Foundation

/// Why a capacity search ended.
public enum SearchStop: String, Sendable, Codable {
    /// The highest load that held and the lowest that did not are within the precision, and a
    /// longer run at the answer confirmed it.
    case converged
    /// Every probe held, up to the highest load the search may try: the capacity is at least that.
    case maxLoad = "max_load"
    /// Even the lowest load the search may try broke the SLO.
    case failsAtMinimum = "fails_at_minimum"
    /// The probe budget ran out before the search converged: a lower bound only.
    case budgetSpent = "probe_budget_spent"
    /// A probe's load could not be driven by the harness: a lower bound only.
    case harnessLimit = "harness_limit"
    case interrupted
}

/// The search as a pure state machine, Nighthawk's adaptive controller style: grow the load
/// geometrically while probes hold, bisect between the highest that held and the lowest that did
/// not, repeat a probe whose verdict is within noise, and confirm the answer with a longer run.
/// It asks for probes with `next()` and is told their verdicts with `record(_:)`; it never
/// runs anything itself, so it is tested with made-up verdicts.
public struct CapacitySearch: Sendable {
    public struct Settings: Sendable {
        public var start: Double
        public var minimum: Double
        public var maximum: Double
        public var growth: Double
        public var precision: Double
        public var maxProbes: Int
        public var repeats: Int
        /// Loads are whole numbers (users, organizations).
        public var whole: Bool
        /// A confirmation that fails sends the search back to bisecting this many times at most.
        public var maxConfirmations = 3

        public init(start: Double, minimum: Double, maximum: Double, growth: Double, precision: Double, maxProbes: Int, repeats: Int,
                    whole: Bool) {
            self.start = start; self.minimum = minimum; self.maximum = maximum; self.growth = growth; self.precision = precision
            self.maxProbes = maxProbes; self.repeats = repeats; self.whole = whole
        }
    }

    public enum Purpose: String, Sendable, Codable {
        /// Growing (or, before anything held, shrinking) geometrically.
        case grow
        case bisect
        /// The same load again, its samples pooled with the earlier ones.
        case `repeat`
        case confirm
    }

    public enum Step: Sendable, Equatable {
        case probe(load: Double, purpose: Purpose)
        case finished(SearchStop)
    }

    public let settings: Settings
    /// The highest load that held (clear pass), and the lowest that did not (clear fail, or still
    /// within noise after its repeats).
    public private(set) var held: Double?
    public private(set) var notHeld: Double?
    /// Search probes run, repeats included; confirmations apart.
    public private(set) var probes = 0
    public private(set) var confirmations = 0
    private var passes: [Double] = []
    private var pending: Step?
    private var repeatsDone = 0
    private var confirmed = false
    private var stopped: SearchStop?

    public init(_ settings: Settings) { self.settings = settings }

    /// The probe to run next, or why the search is over. Asking twice without `record` gives the same step.
    public mutating func next() -> Step {
        if let pending { return pending }
        let step = decide()
        if case .probe = step { pending = step }
        return step
    }

    private func decide() -> Step {
        if let stopped { return .finished(stopped) }
        if let held, let notHeld, converged(held, notHeld) {
            return confirmed ? .finished(.converged) : .probe(load: held, purpose: .confirm)
        }
        if probes >= settings.maxProbes { return .finished(.budgetSpent) }
        switch (held, notHeld) {
        case (nil, nil):
            return .probe(load: settings.start, purpose: .grow)
        case (nil, let notHeld?):
            guard notHeld > settings.minimum else { return .finished(.failsAtMinimum) }
            return .probe(load: max(rounded(notHeld / settings.growth), settings.minimum), purpose: .grow)
        case (let held?, nil):
            guard held < settings.maximum else { return .finished(.maxLoad) }
            return .probe(load: min(rounded(held * settings.growth), settings.maximum), purpose: .grow)
        case (let held?, let notHeld?):
            return .probe(load: settings.whole ? ((held + notHeld) / 2).rounded(.down) : (held + notHeld) / 2, purpose: .bisect)
        }
    }

    private func converged(_ held: Double, _ notHeld: Double) -> Bool {
        notHeld <= held || (notHeld - held) / held <= settings.precision || (settings.whole && notHeld - held <= 1)
    }

    private func rounded(_ load: Double) -> Double { settings.whole ? max(1, load.rounded()) : load }

    /// The verdict of the probe `next()` asked for last (for a repeat: of the pooled samples).
    public mutating func record(_ verdict: ProbeVerdict) {
        guard case .probe(let load, let purpose)? = pending else { return }
        pending = nil
        switch verdict {
        case .notDriven:
            stopped = .harnessLimit
            return
        case .interrupted:
            stopped = .interrupted
            return
        default: break
        }
        if purpose == .confirm {
            confirmations += 1
            if verdict == .fail {
                // The longer run broke the SLO: the answer was noise; bisect below it again.
                passes.removeAll { $0 >= load }
                notHeld = load
                held = passes.max()
                if confirmations >= settings.maxConfirmations { stopped = .budgetSpent }
            } else {
                confirmed = true
            }
            return
        }
        probes += 1
        switch verdict {
        case .pass:
            repeatsDone = 0
            passes.append(load)
            held = max(held ?? load, load)
            if let notHeld, notHeld <= load { self.notHeld = nil }
        case .fail:
            repeatsDone = 0
            notHeld = min(notHeld ?? load, load)
            if let held, held >= load { self.held = passes.filter { $0 < load }.max() }
        default:
            if repeatsDone < settings.repeats, probes < settings.maxProbes {
                repeatsDone += 1
                pending = .probe(load: load, purpose: .repeat)
            } else {
                repeatsDone = 0
                notHeld = min(notHeld ?? load, load)
            }
        }
    }
}
