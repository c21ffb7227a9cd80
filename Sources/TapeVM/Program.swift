import CTapeKernels
import Synchronization

/// An executable plan for a ``Tape``: what the SIMD executor runs.
///
/// Making a program runs the optimizer passes chosen in ``ExecutionOptions/optimization``. The
/// tile workspace is planned on the first run that needs it: for runs that only evaluate
/// (registers reused as soon as they are dead), and for runs with gradients (values the
/// reverse sweep reads kept, adjoints only where they can be non-zero). Optimizing and
/// planning are linear in the tape's length.
/// Make one per tape and reuse it: it is immutable and `Sendable`, so many threads may run it
/// at once; each thread's workspace is kept with the program and reused by its next run.
public final class Program: Sendable {
    /// The tape as given (its names and slots define the program's interface).
    public let tape: Tape
    /// How it runs.
    public let options: ExecutionOptions
    /// The code path it runs: ``ExecutionOptions/instructionSet`` when this CPU supports it,
    /// otherwise the fastest path it does support (a binary never dies of an illegal
    /// instruction because an option named a path the CPU lacks).
    public let instructionSet: InstructionSet

    /// The optimized tape in flat form.
    let flat: FlatTape
    /// The number of input columns a run takes: the tape's (or more, for programs made
    /// internally from an extended flat tape: the population's loss mode).
    public let inputCount: Int
    /// The number of parameter values a run takes: the tape's.
    public let parameterCount: Int
    /// The number of outputs a run computes: the tape's (or more, as ``inputCount``).
    public let outputCount: Int
    private let valuePlan = LazyReference<SweepPlan>()
    private let gradientPlan = LazyReference<SweepPlan>()
    private let parameterGradientPlan = LazyReference<SweepPlan>()
    /// Reverse plans for requests that seed only some outputs, made on first use.
    private let partialReverse = Mutex<[[Bool]: ReversePlan]>([:])
    /// Tangent plans by active input and parameter slots, made on first use (forward mode).
    let tangentPlans = Mutex<[[Bool]: TangentPlan]>([:])
    /// Programs over the gradient tape of each output, made on first use (second order).
    let gradientPrograms = Mutex<[Int: Program]>([:])
    private let optimizedTapeCache = Mutex<Tape?>(nil)
    /// Workspaces of finished runs, taken by the next ones (no allocation per run once warm).
    let workspaces = Mutex<[Workspace]>([])
    /// One more pooled workspace, taken and given back without a lock (a single-threaded
    /// caller's run after run); held retained while here.
    let spareWorkspace = Atomic<Unmanaged<Workspace>?>(nil)

    deinit {
        spareWorkspace.exchange(nil, ordering: .acquiring)?.release()
    }

    /// Optimizes and plans `tape` for execution.
    public convenience init(_ tape: Tape, options: ExecutionOptions = ExecutionOptions()) {
        var optimizer = FlatOptimizer()
        self.init(tape, flat: FlatTape(tape), options: options, optimizer: &optimizer)
    }

    /// Optimizes and plans `flat` (the flat form of `tape`, possibly extended with more inputs
    /// and outputs), with the caller's optimizer scratch.
    init(_ tape: Tape, flat: FlatTape, inputs: Int? = nil, outputs: Int? = nil,
         options: ExecutionOptions, optimizer: inout FlatOptimizer) {
        self.tape = tape
        self.options = options
        inputCount = inputs ?? tape.inputs.count
        parameterCount = tape.parameters.count
        outputCount = outputs ?? tape.outputs.count
        instructionSet = options.instructionSet.isSupported ? options.instructionSet : .best
        var flat = flat
        optimizer.optimize(&flat, options.optimization)
        self.flat = flat
    }

    /// The tape after the optimizer: what actually runs.
    public var optimizedTape: Tape {
        optimizedTapeCache.withLock { cached in
            if let cached { return cached }
            let t = flat.tape(names: tape)
            cached = t
            return t
        }
    }

    /// The plan for runs without gradients (unretained: it lives as long as the program).
    var valuesOnlyPlan: Unmanaged<SweepPlan> { valuePlan.get { SweepPlan(flat, gradients: false) } }

    /// The plan for runs with gradients.
    var gradientsPlan: Unmanaged<SweepPlan> { gradientPlan.get { SweepPlan(flat, gradients: true) } }

    /// The plan for runs whose gradient requests ask for no input gradient: their reverse
    /// sweeps skip the instructions that read no parameter (in a random expression, about
    /// half of the small subtrees read inputs only).
    var parameterGradientsPlan: Unmanaged<SweepPlan> {
        parameterGradientPlan.get { SweepPlan(flat, gradients: true, inputGradients: false) }
    }

    /// The plan for runs without gradients.
    var valuesOnly: SweepPlan { valuesOnlyPlan.takeUnretainedValue() }

    /// The plan for runs with gradients.
    var withGradients: SweepPlan { gradientsPlan.takeUnretainedValue() }

    /// The plan for runs that ask for parameter gradients only.
    var withParameterGradients: SweepPlan { parameterGradientsPlan.takeUnretainedValue() }

    /// The tile of a run with gradients over `count` points with `sweep` (``withGradients`` or
    /// ``withParameterGradients``): always ``tileSize``'s when it could change a sum. Sums over
    /// a batch depend on the tile only through the chunks (16 tiles each, lanes summed in point
    /// order within one), so a smaller plan may keep its own tile when the batch is one chunk
    /// at any tile (at most 1024 points: tiles have at least 64) or when the full plan's tile
    /// is the largest anyway (at most 64 planes: the full plan has at most one value and one
    /// adjoint plane per instruction, and a sink).
    func gradientTile(_ sweep: SweepPlan, count: Int) -> Int {
        let own = options.resolvedTileSize(planes: sweep.tilePlaneCount + sweep.reverse.adjointPlaneCount)
        if sweep.inputsActive || options.tileSize != nil || count <= 1024 || own == 64
            || own == options.resolvedTileSize(planes: 2 * flat.instructions.count + 1) {
            return own
        }
        return tileSize
    }

    /// Points per tile of runs with gradients (sums over a batch depend on it in the last
    /// bits, never on the thread count). Runs that only evaluate may use other tiles: values
    /// do not depend on the tile.
    public var tileSize: Int {
        let plan = withGradients
        return options.resolvedTileSize(planes: plan.tilePlaneCount + plan.reverse.adjointPlaneCount)
    }

    /// Points per tile of runs without gradients.
    var valuesTileSize: Int { options.resolvedTileSize(planes: valuesOnly.tilePlaneCount) }

    /// The reverse plan for a request: only outputs with a non-zero seed are differentiated.
    /// `full`: the sweep plan of the run (``withGradients`` unless given).
    func reversePlan(seeds: [Double], full: SweepPlan? = nil) -> ReversePlan {
        let full = full ?? withGradients
        if !seeds.contains(0) { return full.reverse }
        // The key: the seeded outputs, then whether the plan's inputs are active.
        let seeded = seeds.map { $0 != 0 } + [full.inputsActive]
        return partialReverse.withLock { cache in
            if let plan = cache[seeded] { return plan }
            let plan = full.reversePlan(seeded: Array(seeded.dropLast()))
            cache[seeded] = plan
            return plan
        }
    }

    /// Bytes of one worker's workspace for a run with gradients (value and adjoint planes of one tile).
    public var workspaceBytes: Int {
        let plan = withGradients
        return (plan.valuePlaneCount + plan.reverse.adjointPlaneCount) * tileSize * MemoryLayout<Double>.stride
    }

    /// Sizes of the plans, for reports: instructions and planes of each sweep.
    public var statistics: (forwardInstructions: Int, reverseInstructions: Int, valuePlanes: Int, adjointPlanes: Int) {
        let plan = withGradients
        return (plan.forward.count, plan.reverse.code.count, plan.valuePlaneCount, plan.reverse.adjointPlaneCount)
    }
}
