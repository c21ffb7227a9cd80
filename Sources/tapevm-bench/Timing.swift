import Dispatch

/// Monotonic nanoseconds.
@inline(__always) func nowNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Seconds taken by `body`.
func seconds(_ body: () -> Void) -> Double {
    let t0 = nowNanoseconds()
    body()
    return Double(nowNanoseconds() - t0) * 1e-9
}

/// How long to measure.
struct TimingPolicy {
    /// Upper bound on timed repeats per system.
    var repeats: Int
    /// Lower bound on timed repeats per system (when run at all).
    var minRepeats = 3
    /// Each timed sample runs the whole batch this long at least (calls are repeated inside).
    var minSampleSeconds = 0.01
    /// Warm-up per system before timing.
    var warmupSeconds = 0.02
    /// Target for all timed samples of one case and batch size, all systems together;
    /// repeats are cut down (to no fewer than `minRepeats`) to fit.
    var budgetSeconds: Double
    /// A system whose estimated time for one call over the batch exceeds this is skipped.
    var maxCallSeconds: Double
}

/// One system's timing at one case and batch size.
struct Timing {
    /// Median over repeats, ns per point.
    var nsPerPoint: Double
    /// Fastest and slowest repeat, ns per point.
    var minNs: Double
    var maxNs: Double
    var repeats: Int
    /// Calls per timed sample.
    var callsPerSample: Int
}

/// Times `runners` (already warmed by the caller or not) interleaved: a warm-up of each, then
/// rounds of A B C ... A B C ..., each sample repeating its call enough times to last
/// `minSampleSeconds`. Returns the median ns/point per runner.
func measureInterleaved(_ runners: [() -> Void], points: Int, policy: TimingPolicy) -> [Timing] {
    // Warm-up: at least one call; keep calling until the warm-up time is spent. The per-call
    // estimate leaves out the first call (cold caches, lazy set-up) when there were others.
    var perCall: [Double] = []
    for run in runners {
        var calls = 0
        var first = 0.0, total = 0.0
        repeat {
            let t = seconds(run)
            if calls == 0 { first = t } else { total += t }
            calls += 1
        } while first + total < policy.warmupSeconds && calls < 1_000_000
        perCall.append(calls > 1 ? total / Double(calls - 1) : first)
    }
    let callsPerSample = perCall.map { Swift.max(1, Int((policy.minSampleSeconds / Swift.max($0, 1e-9)).rounded(.up))) }
    let roundCost = zip(perCall, callsPerSample).map { $0 * Double($1) }.reduce(0, +)
    let rounds = Swift.max(policy.minRepeats, Swift.min(policy.repeats, Int(policy.budgetSeconds / Swift.max(roundCost, 1e-9))))
    var samples = [[Double]](repeating: [], count: runners.count)
    for _ in 0..<rounds {
        for (s, run) in runners.enumerated() {
            let k = callsPerSample[s]
            let t = seconds { for _ in 0..<k { run() } }
            samples[s].append(t * 1e9 / Double(k * Swift.max(1, points)))
        }
    }
    return samples.enumerated().map { s, xs in
        let sorted = xs.sorted()
        let mid = sorted.count / 2
        let median = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        return Timing(nsPerPoint: median, minNs: sorted.first!, maxNs: sorted.last!, repeats: rounds,
                      callsPerSample: callsPerSample[s])
    }
}
