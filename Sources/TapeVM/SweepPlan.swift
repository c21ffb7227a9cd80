import CTapeKernels

/// How one kind of run lays a tape out in a tile workspace: the forward and reverse code with
/// plane numbers, and where leaves, outputs and gradients live.
///
/// Planes are allocated by liveness. A value plane is reused once its register's last reader
/// has run, unless the reverse sweep reads it (then it lives to the end of the tile). An adjoint
/// plane is taken at the register's first contribution in the reverse sweep and freed after
/// its defining instruction's reverse rule has read it. Only instructions whose adjoint can be
/// non-zero run in reverse: those on a differentiable path from an input or parameter to an
/// output. Each reverse instruction knows which operand adjoints it touches first, and stores
/// rather than adds there, so no adjoint plane is zeroed per tile. A contribution that is the
/// incoming adjoint itself (`add`, `addk`, `sub`'s first operand, the addend of `muladd` and
/// `mulkadd`) to a register read nowhere else costs nothing: that register shares the plane.
/// Sum chains thus drop out of the reverse code, and rules left with fewer operands run as
/// cheaper opcodes (`muladd` as `mul`; see ``Opcode/reverseWithout(_:)``).
///
/// Planning is linear in the tape: a few passes over flat arrays, nothing allocated per
/// instruction. A class, shared rather than copied by each run; it is never changed after `init`.
final class SweepPlan: @unchecked Sendable {
    /// The whole forward sweep (what the tangent sweeps run per tile).
    let forward: CodeBuffer<tv_instr>
    /// The forward sweep of runs split in two: `uniform`, the instructions that read only
    /// parameters, constants and other such instructions, run once per workspace (every point
    /// of a tile gets the same bits, so once is enough); `perTile`, the rest, run on every tile.
    /// Planes of uniform instructions are never reused, so they hold their values for the run.
    let uniform: CodeBuffer<tv_instr>
    let perTile: CodeBuffer<tv_instr>
    let valuePlaneCount: Int
    /// The value planes a plan without uniform instructions would take: what tile sizes
    /// follow (the same tiles, so the same sums, as before uniform instructions were hoisted).
    let tilePlaneCount: Int
    /// Value planes loaded per tile: the input slot and plane of each `input` instruction.
    let inputPlanes: [LeafPlane]
    /// Value planes filled once per workspace: the parameter slot and plane of each `param`.
    let parameterPlanes: [LeafPlane]
    /// Value planes filled once per workspace with a constant.
    let constants: [(plane: Int, value: Double)]
    /// The value plane of each output.
    let outputPlanes: [Int]
    /// Whether each value plane holds a leaf (input, parameter or constant) or a uniform
    /// result for the whole tile.
    let isLeafPlane: [Bool]
    /// The reverse sweep when every output is seeded (empty for a forward-only plan).
    let reverse: ReversePlan
    /// Value plane of each register, and whether a gradient can flow from it to a leaf.
    private let valuePlane: [Int32]
    private let active: [Bool]
    private let tape: FlatTape
    /// Whether gradients flow into inputs: false for plans of runs that ask only for parameter
    /// gradients (a symbolic-regression population's), whose reverse sweeps then skip every
    /// instruction that reads no parameter, directly or through its operands.
    let inputsActive: Bool

    /// Plans `tape` for a forward-only run (`gradients: false`) or a forward and reverse run;
    /// with `inputGradients: false` the reverse sweeps reach parameters only. Parameter
    /// adjoints are the same bits either way: a contribution to a register no parameter feeds
    /// never reaches a parameter, and the contributions to the others keep their order.
    init(_ tape: FlatTape, gradients: Bool, inputGradients: Bool = true) {
        let n = tape.instructions.count
        self.tape = tape
        inputsActive = inputGradients
        let facts = OpcodeFacts.shared
        // Scratch for the whole plan in one allocation: last uses, the reverse marks, the plane pool.
        let scratch = UnsafeMutablePointer<Int32>.allocate(capacity: 5 * n + 5)
        defer { scratch.deallocate() }
        let lastUse = scratch
        let isUniform = UnsafeMutableRawPointer(scratch + 2 * n + 2).bindMemory(to: Bool.self, capacity: n)
        // The planes the sweep would take with every plane reused, uniform results' too: the
        // tile size follows this count, so hoisting never changes a tile (nor a sum over tiles).
        var reusingPool = PlanePool(free: scratch + 3 * n + 3)
        let reusingPlane = scratch + 4 * n + 5
        var pool = PlanePool(free: scratch + n)
        var active = [Bool](repeating: false, count: n)
        var valuePlane = [Int32](repeating: -1, count: n)
        var inputPlanes: [LeafPlane] = [], parameterPlanes: [LeafPlane] = []
        var constants: [(plane: Int, value: Double)] = []
        var outputPlanes: [Int] = []
        var forwardCount = 0
        let code = UnsafeMutablePointer<tv_instr>.allocate(capacity: Swift.max(1, n))
        let uniformCode = UnsafeMutablePointer<tv_instr>.allocate(capacity: Swift.max(1, n))
        let perTileCode = UnsafeMutablePointer<tv_instr>.allocate(capacity: Swift.max(1, n))
        var uniformCount = 0, perTileCount = 0
        var isLeafPlane: [Bool] = []
        tape.instructions.withUnsafeBufferPointer { insBuffer in
          active.withUnsafeMutableBufferPointer { activeBuffer in
            valuePlane.withUnsafeMutableBufferPointer { planeBuffer in
                let ins = insBuffer.baseAddress!
                let active = activeBuffer.baseAddress!
                let valuePlane = planeBuffer.baseAddress!
                if gradients { Self.markActive(ins, n, active, facts, inputs: inputGradients) }

                // Value liveness: the last forward reader, or the end when an output or a reverse rule reads it.
                let end = Int32(n)
                lastUse.initialize(repeating: -1, count: n)
                var leaves = (inputs: 0, parameters: 0, constants: 0)
                for i in 0..<n {
                    let x = ins[i]
                    let arity = facts.arity[Int(x.opcode.rawValue)]
                    if arity > 0 { lastUse[Int(x.a)] = Int32(i) }
                    if arity > 1 { lastUse[Int(x.b)] = Int32(i) }
                    if arity > 2 { lastUse[Int(x.c)] = Int32(i) }
                    switch x.opcode {
                    case .input: leaves.inputs += 1
                    case .param: leaves.parameters += 1
                    case .const: leaves.constants += 1
                    default: break
                    }
                }
                for o in tape.outputs { lastUse[Int(o)] = end }
                if gradients {
                    // The reverse marks borrow the plane pool's storage, not yet in use.
                    let runs = UnsafeMutableRawPointer(scratch + n).bindMemory(to: Bool.self, capacity: 2 * n)
                    Self.markRunsReverse(ins, n, tape.outputs, active, seeded: nil, runs: runs, needed: runs + n, facts)
                    for i in 0..<n where runs[i] {
                        let x = ins[i]
                        let reads = facts.reverseReads[Int(x.opcode.rawValue)]
                        if reads & ReverseReads.y.rawValue != 0 { lastUse[i] = end }
                        if reads & ReverseReads.a.rawValue != 0 { lastUse[Int(x.a)] = end }
                        if reads & ReverseReads.b.rawValue != 0 { lastUse[Int(x.b)] = end }
                        if reads & ReverseReads.c.rawValue != 0 { lastUse[Int(x.c)] = end }
                    }
                    UnsafeMutableRawPointer(runs).bindMemory(to: Int32.self, capacity: n + 2)
                }

                // Value planes. Leaves first: inputs are loaded together at the start of each tile, and
                // parameters and constants are filled once, so none of their planes is ever reused.
                inputPlanes.reserveCapacity(leaves.inputs)
                parameterPlanes.reserveCapacity(leaves.parameters)
                constants.reserveCapacity(leaves.constants)
                for i in 0..<n {
                    let x = ins[i]
                    switch x.opcode {
                    case .input, .param, .const: _ = reusingPool.take()
                    default: break
                    }
                    switch x.opcode {
                    case .input:
                        valuePlane[i] = Int32(pool.take())
                        inputPlanes.append(LeafPlane(slot: Int(x.immediate), plane: Int(valuePlane[i])))
                    case .param:
                        valuePlane[i] = Int32(pool.take())
                        parameterPlanes.append(LeafPlane(slot: Int(x.immediate), plane: Int(valuePlane[i])))
                    case .const:
                        valuePlane[i] = Int32(pool.take())
                        constants.append((Int(valuePlane[i]), x.immediate))
                    default: break
                    }
                }
                for i in 0..<n {
                    let x = ins[i]
                    let arity = Int(facts.arity[Int(x.opcode.rawValue)])
                    if arity == 0 {
                        isUniform[i] = x.opcode != .input
                        continue
                    }
                    let uniform = isUniform[Int(x.a)] && (arity < 2 || isUniform[Int(x.b)]) && (arity < 3 || isUniform[Int(x.c)])
                    isUniform[i] = uniform
                    // Operands read for the last time here may give their plane to the result (each
                    // distinct operand once): the kernels read a block of every operand before writing
                    // that block. Input planes are never reused: on full tiles they are the caller's own
                    // columns; nor are uniform results' planes (they hold their value for the whole run).
                    let i32 = Int32(i)
                    @inline(__always) func release(_ r: Int32) {
                        if lastUse[Int(r)] == i32 && facts.arity[Int(ins[Int(r)].opcode.rawValue)] > 0 {
                            reusingPool.give(Int(reusingPlane[Int(r)]))
                            if !isUniform[Int(r)] { pool.give(Int(valuePlane[Int(r)])) }
                        }
                    }
                    release(x.a)
                    if arity > 1 && x.b != x.a { release(x.b) }
                    if arity > 2 && x.c != x.a && x.c != x.b { release(x.c) }
                    reusingPlane[i] = Int32(reusingPool.take())
                    if lastUse[i] < i32 { reusingPool.give(Int(reusingPlane[i])) }
                    if uniform {
                        // A plane no per-tile instruction has used or will use.
                        valuePlane[i] = Int32(pool.takeNew())
                    } else {
                        valuePlane[i] = Int32(pool.take())
                        if lastUse[i] < i32 { pool.give(Int(valuePlane[i])) }  // dead result: the plane is free again
                    }
                    let instruction = tv_instr(op: Int32(x.opcode.rawValue), dst: valuePlane[i],
                                               a: valuePlane[Int(x.a)], b: arity > 1 ? valuePlane[Int(x.b)] : 0,
                                               c: arity > 2 ? valuePlane[Int(x.c)] : 0, active: 0, imm: x.immediate)
                    code[forwardCount] = instruction
                    forwardCount += 1
                    if uniform {
                        uniformCode[uniformCount] = instruction
                        uniformCount += 1
                    } else {
                        perTileCode[perTileCount] = instruction
                        perTileCount += 1
                    }
                }
                outputPlanes.reserveCapacity(tape.outputs.count)
                for o in tape.outputs { outputPlanes.append(Int(valuePlane[Int(o)])) }
            }
          }
        }
        forward = CodeBuffer(adopting: code, count: forwardCount)
        uniform = CodeBuffer(adopting: uniformCode, count: uniformCount)
        perTile = CodeBuffer(adopting: perTileCode, count: perTileCount)
        valuePlaneCount = Swift.max(1, pool.count)
        tilePlaneCount = Swift.max(1, reusingPool.count)
        isLeafPlane = [Bool](repeating: false, count: valuePlaneCount)
        for p in inputPlanes { isLeafPlane[p.plane] = true }
        for p in parameterPlanes { isLeafPlane[p.plane] = true }
        for (p, _) in constants { isLeafPlane[p] = true }
        // Uniform results' planes are filled once, like the leaves (`isUniform`: parameters,
        // constants and instructions reading only those).
        valuePlane.withUnsafeBufferPointer { planes in
            for i in 0..<n where isUniform[i] && planes[i] >= 0 { isLeafPlane[Int(planes[i])] = true }
        }
        self.isLeafPlane = isLeafPlane
        self.inputPlanes = inputPlanes
        self.parameterPlanes = parameterPlanes
        self.constants = constants
        self.outputPlanes = outputPlanes
        self.valuePlane = valuePlane
        self.active = active
        reverse = gradients ? Self.reversePlan(tape, active: active, valuePlane: valuePlane, seeded: nil) : ReversePlan()
    }

    /// Marks the registers a gradient can flow into: parameters, inputs (when `inputs`), and
    /// differentiable instructions reading an active register.
    private static func markActive(_ ins: UnsafePointer<FlatInstruction>, _ n: Int, _ active: UnsafeMutablePointer<Bool>,
                                   _ facts: OpcodeFacts, inputs: Bool = true) {
        for i in 0..<n {
            let x = ins[i]
            let op = Int(x.opcode.rawValue)
            if x.opcode == .param {
                active[i] = true
            } else if x.opcode == .input {
                active[i] = inputs
            } else if facts.differentiable[op] {
                let arity = facts.arity[op]
                active[i] = (arity > 0 && active[Int(x.a)]) || (arity > 1 && active[Int(x.b)]) || (arity > 2 && active[Int(x.c)])
            } else {
                active[i] = false
            }
        }
    }

    /// Marks in `runs` the instructions a reverse sweep seeded at the given outputs runs
    /// (`needed`: scratch of `n`); see ``runsReverse(_:_:seeded:)-swift.type.method``.
    private static func markRunsReverse(_ ins: UnsafePointer<FlatInstruction>, _ n: Int, _ outputs: [Int32],
                                        _ active: UnsafePointer<Bool>, seeded: [Bool]?,
                                        runs: UnsafeMutablePointer<Bool>, needed: UnsafeMutablePointer<Bool>,
                                        _ facts: OpcodeFacts) {
        runs.initialize(repeating: false, count: n)
        needed.initialize(repeating: false, count: n)
        for (k, o) in outputs.enumerated() where seeded?[k] ?? true { needed[Int(o)] = true }
        for i in (0..<n).reversed() where needed[i] && active[i] {
            let x = ins[i]
            let arity = facts.arity[Int(x.opcode.rawValue)]
            if arity == 0 { continue }
            runs[i] = true
            needed[Int(x.a)] = true
            if arity > 1 { needed[Int(x.b)] = true }
            if arity > 2 { needed[Int(x.c)] = true }
        }
    }

    /// Which registers a gradient can flow into: inputs, parameters, and differentiable
    /// instructions reading an active register.
    static func active(_ tape: FlatTape) -> [Bool] {
        let n = tape.instructions.count
        return [Bool](unsafeUninitializedCapacity: n) { active, count in
            tape.instructions.withUnsafeBufferPointer { ins in
                if n > 0 { markActive(ins.baseAddress!, n, active.baseAddress!, OpcodeFacts.shared) }
            }
            count = n
        }
    }

    /// ``active(_:)-swift.type.method`` of a ``Tape``.
    static func active(_ tape: Tape) -> [Bool] { active(FlatTape(tape)) }

    /// The instructions a reverse sweep seeded at the given outputs (`nil`: all) runs: those
    /// with a differentiable path from an input or parameter to a seeded output. An output
    /// seeded with zero is left out entirely, as a symbolic zero in JAX: the instructions only
    /// it reads contribute nothing, not even 0·∞ = NaN.
    static func runsReverse(_ tape: FlatTape, _ active: [Bool], seeded: [Bool]?) -> [Bool] {
        let n = tape.instructions.count
        let needed = UnsafeMutablePointer<Bool>.allocate(capacity: Swift.max(1, n))
        defer { needed.deallocate() }
        return [Bool](unsafeUninitializedCapacity: n) { runs, count in
            tape.instructions.withUnsafeBufferPointer { ins in
                active.withUnsafeBufferPointer { active in
                    if n > 0 {
                        markRunsReverse(ins.baseAddress!, n, tape.outputs, active.baseAddress!, seeded: seeded,
                                        runs: runs.baseAddress!, needed: needed, OpcodeFacts.shared)
                    }
                }
            }
            count = n
        }
    }

    /// ``runsReverse(_:_:seeded:)-swift.type.method`` of a ``Tape``.
    static func runsReverse(_ tape: Tape, _ active: [Bool], seeded: [Bool]) -> [Bool] {
        runsReverse(FlatTape(tape), active, seeded: seeded)
    }

    /// Plans the reverse sweep for the outputs marked in `seeded` (`nil`: all; a subset of the
    /// outputs this plan keeps values for). Adjoint planes are allocated in reverse-sweep
    /// order; contributions to operands whose adjoint can never matter (constants) go to one
    /// shared sink plane, always stored, never read.
    func reversePlan(seeded: [Bool]?) -> ReversePlan {
        Self.reversePlan(tape, active: active, valuePlane: valuePlane, seeded: seeded)
    }

    private static func reversePlan(_ tape: FlatTape, active: [Bool], valuePlane: [Int32], seeded: [Bool]?) -> ReversePlan {
        let n = tape.instructions.count
        let facts = OpcodeFacts.shared
        // Scratch in one allocation: per register its adjoint plane, leaf plane, use count and
        // flags; per plane its holders and the pool's free list; the code in sweep order.
        let words = 6 * n + 6
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: words * 4 + n * MemoryLayout<tv_rinstr>.stride,
                                                       alignment: 16)
        defer { scratch.deallocate() }
        let reversedCode = (scratch + words * 4).bindMemory(to: tv_rinstr.self, capacity: n)
        let word = scratch.bindMemory(to: Int32.self, capacity: words)
        let adjointPlane = word, leafPlane = word + n, uses = word + 2 * n
        let holders = word + 3 * n  // n + 2: at most the sink plus one plane per register
        var adjoints = PlanePool(free: word + 4 * n + 2)  // n + 2 entries
        let flags = UnsafeMutableRawPointer(word + 5 * n + 4).bindMemory(to: Bool.self, capacity: 2 * n)
        let runsReverse = flags, touched = flags + n
        var seedPlanes: [Int] = [], inputAdjointPlanes: [LeafPlane] = [], parameterAdjointPlanes: [LeafPlane] = []
        var reversedCount = 0
        tape.instructions.withUnsafeBufferPointer { insBuffer in
          active.withUnsafeBufferPointer { activeBuffer in
            valuePlane.withUnsafeBufferPointer { planeBuffer in
                let ins = insBuffer.baseAddress!, active = activeBuffer.baseAddress!, valuePlane = planeBuffer.baseAddress!
                // `touched` is the `needed` scratch here; it is recomputed below.
                markRunsReverse(ins, n, tape.outputs, active, seeded: seeded, runs: runsReverse, needed: touched, facts)
                let sink = Int32(adjoints.take())
                adjointPlane.initialize(repeating: -1, count: n)
                // Inputs and parameters that receive a gradient get planes of their own, never shared
                // with other registers: on full tiles they are the caller's gradient columns.
                leafPlane.initialize(repeating: -1, count: n)
                touched.initialize(repeating: false, count: n)
                for (k, o) in tape.outputs.enumerated() where seeded?[k] ?? true { touched[Int(o)] = true }
                for i in 0..<n where runsReverse[i] {
                    let x = ins[i]
                    let arity = facts.arity[Int(x.opcode.rawValue)]
                    touched[Int(x.a)] = true
                    if arity > 1 { touched[Int(x.b)] = true }
                    if arity > 2 { touched[Int(x.c)] = true }
                }
                for i in 0..<n where touched[i] && (ins[i].opcode == .input || ins[i].opcode == .param) {
                    leafPlane[i] = Int32(adjoints.take())
                }
                // How many registers' adjoints each plane holds: pass-through contributions below let
                // several registers share their consumer's plane, which is freed when the last is read.
                holders.initialize(repeating: 0, count: n + 2)
                @inline(__always) func assign(_ r: Int32, _ p: Int32) {
                    adjointPlane[Int(r)] = p
                    if leafPlane[Int(r)] < 0 { holders[Int(p)] += 1 }
                }
                for (k, o) in tape.outputs.enumerated() where (seeded?[k] ?? true) && adjointPlane[Int(o)] < 0 {
                    assign(o, leafPlane[Int(o)] >= 0 ? leafPlane[Int(o)] : Int32(adjoints.take()))
                }
                seedPlanes.reserveCapacity(tape.outputs.count)
                for (k, o) in tape.outputs.enumerated() {
                    seedPlanes.append((seeded?[k] ?? true) ? Int(adjointPlane[Int(o)]) : -1)
                }
                uses.initialize(repeating: 0, count: n)
                for i in 0..<n {
                    let x = ins[i]
                    let arity = facts.arity[Int(x.opcode.rawValue)]
                    if arity > 0 { uses[Int(x.a)] += 1 }
                    if arity > 1 { uses[Int(x.b)] += 1 }
                    if arity > 2 { uses[Int(x.c)] += 1 }
                }
                for o in tape.outputs { uses[Int(o)] += 1 }
                for i in (0..<n).reversed() where runsReverse[i] {
                    let x = ins[i]
                    let op = Int(x.opcode.rawValue)
                    let arity = Int(facts.arity[op])
                    let gdst = adjointPlane[i]
                    precondition(gdst >= 0, "reverse instruction r\(i) has no adjoint")
                    holders[Int(gdst)] -= 1  // this instruction reads r_i's adjoint for the last time
                    var first: Int32 = 0
                    var g: (Int32, Int32, Int32) = (-1, -1, -1)
                    @inline(__always) func get(_ k: Int) -> Int32 { k == 0 ? g.0 : (k == 1 ? g.1 : g.2) }
                    @inline(__always) func set(_ k: Int, _ p: Int32) { if k == 0 { g.0 = p } else if k == 1 { g.1 = p } else { g.2 = p } }
                    // Contributions that go nowhere: to constants (inactive), or passed through
                    // unchanged (g itself) to a result read only here, which then simply shares the
                    // plane holding g instead of receiving a copy.
                    let through = facts.passesThrough[op]
                    for k in 0..<arity {
                        let r = x.operand(k)
                        if !active[Int(r)] {
                            set(k, sink); first |= 1 << k
                        } else if adjointPlane[Int(r)] < 0, through & (1 << k) != 0,
                                  uses[Int(r)] == 1, facts.arity[Int(ins[Int(r)].opcode.rawValue)] > 0 {
                            assign(r, gdst)
                            set(k, sink); first |= 1 << k
                        }
                    }
                    if holders[Int(gdst)] == 0 { adjoints.give(Int(gdst)) }  // an operand's first contribution may take it
                    var skipped = 0
                    for k in 0..<arity {
                        if get(k) == sink { skipped |= 1 << k; continue }
                        let r = x.operand(k)
                        if adjointPlane[Int(r)] >= 0 {
                            set(k, adjointPlane[Int(r)])
                        } else {
                            let p = leafPlane[Int(r)] >= 0 ? leafPlane[Int(r)] : Int32(adjoints.take())
                            assign(r, p)
                            set(k, p); first |= 1 << k
                        }
                    }
                    // Nothing left to compute: every contribution was to a constant or passed through.
                    if skipped == (1 << arity) - 1 { continue }
                    // Or less: a cheaper rule making the same contributions to the operands that remain.
                    var opcode = Int32(op)
                    var kept: (Int, Int, Int) = (0, 1, 2)
                    var keptCount = arity
                    if skipped != 0 {
                        let cheaper = facts.cheaper[8 * op + skipped]
                        if cheaper.opcode >= 0 {
                            opcode = Int32(cheaper.opcode)
                            keptCount = Int(cheaper.count)
                            kept = (Int(cheaper.operands.0), Int(cheaper.operands.1), Int(cheaper.operands.2))
                        }
                    }
                    @inline(__always) func keptIndex(_ position: Int) -> Int { position == 0 ? kept.0 : (position == 1 ? kept.1 : kept.2) }
                    var keptFirst: Int32 = 0
                    for position in 0..<keptCount where first & (1 << keptIndex(position)) != 0 { keptFirst |= 1 << position }
                    @inline(__always) func v(_ position: Int) -> Int32 {
                        position < keptCount ? valuePlane[Int(x.operand(keptIndex(position)))] : 0
                    }
                    @inline(__always) func a(_ position: Int) -> Int32 { position < keptCount ? get(keptIndex(position)) : 0 }
                    reversedCode[reversedCount] = tv_rinstr(op: opcode, first: keptFirst,
                                                            vdst: valuePlane[i], va: v(0), vb: v(1),
                                                            gdst: gdst, ga: a(0), gb: a(1), gc: a(2), vc: v(2), imm: x.immediate)
                    reversedCount += 1
                }
                var inputs = 0, parameters = 0
                for i in 0..<n where adjointPlane[i] >= 0 {
                    if ins[i].opcode == .input { inputs += 1 }
                    if ins[i].opcode == .param { parameters += 1 }
                }
                inputAdjointPlanes.reserveCapacity(inputs)
                parameterAdjointPlanes.reserveCapacity(parameters)
                for i in 0..<n where adjointPlane[i] >= 0 {
                    let x = ins[i]
                    if x.opcode == .input { inputAdjointPlanes.append(LeafPlane(slot: Int(x.immediate), plane: Int(adjointPlane[i]))) }
                    if x.opcode == .param { parameterAdjointPlanes.append(LeafPlane(slot: Int(x.immediate), plane: Int(adjointPlane[i]))) }
                }
            }
          }
        }
        // The kernel runs the code last to first: reverse-sweep order backwards.
        let code = UnsafeMutablePointer<tv_rinstr>.allocate(capacity: Swift.max(1, reversedCount))
        for k in 0..<reversedCount { code[k] = reversedCode[reversedCount - 1 - k] }
        return ReversePlan(code: CodeBuffer(adopting: code, count: reversedCount), adjointPlaneCount: adjoints.count,
                           seedPlanes: seedPlanes, inputAdjointPlanes: inputAdjointPlanes,
                           parameterAdjointPlanes: parameterAdjointPlanes)
    }
}

/// A leaf's slot (input or parameter number) and the plane holding its value or adjoint.
struct LeafPlane: Sendable {
    let slot: Int
    let plane: Int
}

/// One reverse sweep's code and adjoint layout, for one set of seeded outputs. A class: a run
/// holds it by one reference (never changed after `init`).
final class ReversePlan: Sendable {
    let code: CodeBuffer<tv_rinstr>
    let adjointPlaneCount: Int
    /// The adjoint plane each output's seed goes to; -1 for outputs left out (seed 0).
    let seedPlanes: [Int]
    /// Adjoint planes summed into the input slots' gradients, in tape order (a slot with
    /// none: the gradient is 0).
    let inputAdjointPlanes: [LeafPlane]
    /// Adjoint planes summed into the parameter slots' gradients, in tape order.
    let parameterAdjointPlanes: [LeafPlane]

    init(code: CodeBuffer<tv_rinstr> = CodeBuffer([]), adjointPlaneCount: Int = 0, seedPlanes: [Int] = [],
         inputAdjointPlanes: [LeafPlane] = [], parameterAdjointPlanes: [LeafPlane] = []) {
        self.code = code
        self.adjointPlaneCount = adjointPlaneCount
        self.seedPlanes = seedPlanes
        self.inputAdjointPlanes = inputAdjointPlanes
        self.parameterAdjointPlanes = parameterAdjointPlanes
    }
}

/// Plane numbers: freed planes are reused last-freed first (still warm in cache). The free
/// list lives in the caller's scratch, room for every plane the caller may give back.
struct PlanePool {
    private(set) var count = 0
    private let free: UnsafeMutablePointer<Int32>
    private var freeCount = 0

    init(free: UnsafeMutablePointer<Int32>) { self.free = free }

    @inline(__always) mutating func take() -> Int {
        if freeCount > 0 {
            freeCount -= 1
            return Int(free[freeCount])
        }
        count += 1
        return count - 1
    }

    /// A plane never taken before.
    @inline(__always) mutating func takeNew() -> Int {
        count += 1
        return count - 1
    }

    @inline(__always) mutating func give(_ plane: Int) {
        free[freeCount] = Int32(plane)
        freeCount += 1
    }
}
