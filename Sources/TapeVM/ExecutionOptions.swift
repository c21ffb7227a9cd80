import CTapeKernels

/// How a ``Program`` runs: threads, tile size and code path.
///
/// None of these change results: values and gradients are identical, bit for bit, whatever the
/// thread count. The tile size fixes the order in which parameter gradients are summed over a
/// batch, so sums can differ in the last bits between tile sizes (never between thread counts).
public struct ExecutionOptions: Sendable, Hashable {
    /// Worker threads; `nil` uses every core.
    public var threads: Int?
    /// Points per tile (rounded up to a multiple of 8); `nil` lets the program choose. Every
    /// register plane of a tile stays in cache while the whole tape runs over it.
    public var tileSize: Int?
    /// The SIMD code path.
    public var instructionSet: InstructionSet
    /// The optimizer passes run on the tape before planning (see ``OptimizationPasses`` for
    /// which ones keep gradients bit-identical).
    public var optimization: OptimizationPasses

    /// Options; the defaults use every core, a tile size chosen per program, the fastest
    /// supported path and every optimizer pass.
    public init(threads: Int? = nil, tileSize: Int? = nil, instructionSet: InstructionSet = .preferred,
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

    /// The tile size for a workspace of `planes` register planes: the one asked for, rounded up
    /// to a multiple of 8; otherwise the largest power of two from 64 to 512 points whose
    /// workspace fits in 256 KiB (half a typical L2). Measured on AVX-512: 512 points for small
    /// tapes, 128 for a tape with 200 live planes, within a few percent of the best fixed size.
    func resolvedTileSize(planes: Int) -> Int {
        if let tileSize { return (Swift.min(Swift.max(8, tileSize), 1 << 20) + 7) / 8 * 8 }
        var tile = 512
        while tile > 64 && planes * tile * MemoryLayout<Double>.stride > 256 * 1024 { tile /= 2 }
        return tile
    }

    /// Cores available to this process (its CPU affinity on Linux).
    public static var coreCount: Int { Swift.max(1, Int(tv_cpu_count())) }
}
