import CTapeKernels

/// How a ``Program`` runs: threads, tile size and code path.
///
/// None of these change results: values and gradients are identical, bit for bit, whatever the
/// thread count. The tile size fixes the order in which parameter gradients are summed over a
/// batch, so sums can differ in the last bits between tile sizes (never between thread counts).
public struct ExecutionOptions: Sendable, Hashable {
    /// Worker threads; `nil` uses every core.
    public var threads: Int?
    /// Points per tile (rounded up to a multiple of 8). Every register of a tile stays in cache
    /// while the whole tape runs over it.
    public var tileSize: Int
    /// The SIMD code path.
    public var instructionSet: InstructionSet
    /// The optimizer passes run on the tape before planning (see ``OptimizationPasses`` for
    /// which ones keep gradients bit-identical).
    public var optimization: OptimizationPasses

    /// Options; the defaults use every core, 256-point tiles, the fastest supported path and
    /// every optimizer pass.
    public init(threads: Int? = nil, tileSize: Int = 256, instructionSet: InstructionSet = .preferred,
                optimization: OptimizationPasses = .all) {
        self.threads = threads
        self.tileSize = tileSize
        self.instructionSet = instructionSet
        self.optimization = optimization
    }

    /// The number of worker threads these options resolve to.
    public var resolvedThreads: Int {
        Swift.max(1, threads ?? ExecutionOptions.coreCount)
    }

    /// The tile size rounded up to a multiple of 8, at least 8.
    public var resolvedTileSize: Int { Swift.max(8, (tileSize + 7) / 8 * 8) }

    /// Cores available to this process (its CPU affinity on Linux).
    public static var coreCount: Int { Swift.max(1, Int(tv_cpu_count())) }
}
