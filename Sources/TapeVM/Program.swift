import CTapeKernels
import Synchronization

/// An executable plan for a ``Tape``: what the SIMD executor runs.
///
/// Making a program runs the optimizer passes chosen in ``ExecutionOptions/optimization`` and
/// plans two layouts of the tile workspace: one for runs that only evaluate (registers reused
/// as soon as they are dead) and one for runs with gradients (values the reverse sweep reads
/// kept, adjoints only where they can be non-zero). Make one per tape and reuse it: it is
/// immutable and `Sendable`, so many threads may run it at once.
public final class Program: Sendable {
    /// The tape as given (its names and slots define the program's interface).
    public let tape: Tape
    /// The tape after the optimizer: what actually runs.
    public let optimizedTape: Tape
    /// How it runs.
    public let options: ExecutionOptions
    /// The code path it runs: ``ExecutionOptions/instructionSet`` when this CPU supports it,
    /// otherwise the fastest path it does support (a binary never dies of an illegal
    /// instruction because an option named a path the CPU lacks).
    public let instructionSet: InstructionSet

    let valuesOnly: SweepPlan
    let withGradients: SweepPlan
    /// Points per tile (the same for both plans, so sums do not depend on the kind of run).
    public let tileSize: Int
    /// Reverse plans for requests that seed only some outputs, made on first use.
    private let partialReverse = Mutex<[[Bool]: ReversePlan]>([:])
    /// Tangent plans by active input and parameter slots, made on first use (forward mode).
    let tangentPlans = Mutex<[[Bool]: TangentPlan]>([:])
    /// Programs over the gradient tape of each output, made on first use (second order).
    let gradientPrograms = Mutex<[Int: Program]>([:])

    /// Optimizes and plans `tape` for execution.
    public init(_ tape: Tape, options: ExecutionOptions = ExecutionOptions()) {
        self.tape = tape
        self.options = options
        instructionSet = options.instructionSet.isSupported ? options.instructionSet : .best
        optimizedTape = tape.optimized(options.optimization)
        valuesOnly = SweepPlan(optimizedTape, gradients: false)
        withGradients = SweepPlan(optimizedTape, gradients: true)
        tileSize = options.resolvedTileSize(planes: withGradients.valuePlaneCount + withGradients.reverse.adjointPlaneCount)
    }

    /// The reverse plan for a request: only outputs with a non-zero seed are differentiated.
    func reversePlan(seeds: [Double]) -> ReversePlan {
        let seeded = seeds.map { $0 != 0 }
        if !seeded.contains(false) { return withGradients.reverse }
        return partialReverse.withLock { cache in
            if let plan = cache[seeded] { return plan }
            let plan = withGradients.reversePlan(seeded: seeded)
            cache[seeded] = plan
            return plan
        }
    }

    /// Bytes of one worker's workspace for a run with gradients (value and adjoint planes of one tile).
    public var workspaceBytes: Int {
        (withGradients.valuePlaneCount + withGradients.reverse.adjointPlaneCount) * tileSize * MemoryLayout<Double>.stride
    }

    /// Sizes of the plans, for reports: instructions and planes of each sweep.
    public var statistics: (forwardInstructions: Int, reverseInstructions: Int, valuePlanes: Int, adjointPlanes: Int) {
        (withGradients.forward.count, withGradients.reverse.code.count, withGradients.valuePlaneCount, withGradients.reverse.adjointPlaneCount)
    }
}
