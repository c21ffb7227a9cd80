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
    let forward: CodeBuffer<tv_instr>
    let valuePlaneCount: Int
    /// Value planes loaded per tile: the input slot and plane of each `input` instruction.
    let inputPlanes: [LeafPlane]
    /// Value planes filled once per workspace: the parameter slot and plane of each `param`.
    let parameterPlanes: [LeafPlane]
    /// Value planes filled once per workspace with a constant.
    let constants: [(plane: Int, value: Double)]
    /// The value plane of each output.
    let outputPlanes: [Int]
    /// Whether each value plane holds a leaf (input, parameter or constant) for the whole tile.
    let isLeafPlane: [Bool]
    /// The reverse sweep when every output is seeded (empty for a forward-only plan).
    private(set) var reverse: ReversePlan
    /// Value plane of each register, and whether a gradient can flow from it to a leaf.
    private let valuePlane: [Int32]
    private let active: [Bool]
    private let tape: FlatTape

    /// Plans `tape` for a forward-only run (`gradients: false`) or a forward and reverse run.
    init(_ tape: FlatTape, gradients: Bool) {
        let ins = tape.instructions
        let n = ins.count
        self.tape = tape
        let active = gradients ? Self.active(tape) : [Bool](repeating: false, count: n)
        self.active = active

        // Value liveness: the last forward reader, or the end when an output or a reverse rule reads it.
        let end = Int32(n)
        var lastUse = [Int32](repeating: -1, count: n)
        for i in 0..<n {
            let x = ins[i]
            let arity = x.opcode.flatArity
            if arity > 0 { lastUse[Int(x.a)] = Int32(i) }
            if arity > 1 { lastUse[Int(x.b)] = Int32(i) }
            if arity > 2 { lastUse[Int(x.c)] = Int32(i) }
        }
        for o in tape.outputs { lastUse[Int(o)] = end }
        if gradients {
            let runsReverse = Self.runsReverse(tape, active, seeded: nil)
            for i in 0..<n where runsReverse[i] {
                let x = ins[i]
                let reads = x.opcode.reverseReads
                if reads.contains(.y) { lastUse[i] = end }
                if reads.contains(.a) { lastUse[Int(x.a)] = end }
                if reads.contains(.b) { lastUse[Int(x.b)] = end }
                if reads.contains(.c) { lastUse[Int(x.c)] = end }
            }
        }

        // Value planes. Leaves first: inputs are loaded together at the start of each tile, and
        // parameters and constants are filled once, so none of their planes is ever reused.
        var valuePlane = [Int32](repeating: -1, count: n)
        var pool = PlanePool()
        var inputPlanes: [LeafPlane] = [], parameterPlanes: [LeafPlane] = []
        var constants: [(plane: Int, value: Double)] = []
        for i in 0..<n {
            let x = ins[i]
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
        var forwardCode: [tv_instr] = []
        forwardCode.reserveCapacity(n)
        for i in 0..<n {
            let x = ins[i]
            let arity = x.opcode.flatArity
            if arity == 0 { continue }
            // Operands read for the last time here may give their plane to the result (each
            // distinct operand once): the kernels read a block of every operand before writing
            // that block. Input planes are never reused: on full tiles they are the caller's own columns.
            let i32 = Int32(i)
            func release(_ r: Int32) {
                if lastUse[Int(r)] == i32 && ins[Int(r)].opcode.flatArity > 0 { pool.give(Int(valuePlane[Int(r)])) }
            }
            release(x.a)
            if arity > 1 && x.b != x.a { release(x.b) }
            if arity > 2 && x.c != x.a && x.c != x.b { release(x.c) }
            valuePlane[i] = Int32(pool.take())
            if lastUse[i] < i32 { pool.give(Int(valuePlane[i])) }  // dead result: the plane is free again
            forwardCode.append(tv_instr(op: Int32(x.opcode.rawValue), dst: valuePlane[i],
                                        a: arity > 0 ? valuePlane[Int(x.a)] : 0, b: arity > 1 ? valuePlane[Int(x.b)] : 0,
                                        c: arity > 2 ? valuePlane[Int(x.c)] : 0, active: 0, imm: x.immediate))
        }
        forward = CodeBuffer(forwardCode)
        valuePlaneCount = Swift.max(1, pool.count)
        var isLeafPlane = [Bool](repeating: false, count: valuePlaneCount)
        for p in inputPlanes { isLeafPlane[p.plane] = true }
        for p in parameterPlanes { isLeafPlane[p.plane] = true }
        for (p, _) in constants { isLeafPlane[p] = true }
        self.isLeafPlane = isLeafPlane
        self.inputPlanes = inputPlanes
        self.parameterPlanes = parameterPlanes
        self.constants = constants
        outputPlanes = tape.outputs.map { Int(valuePlane[Int($0)]) }
        self.valuePlane = valuePlane
        reverse = ReversePlan()
        if gradients { reverse = reversePlan(seeded: nil) }
    }

    /// Which registers a gradient can flow into: inputs, parameters, and differentiable
    /// instructions reading an active register.
    static func active(_ tape: FlatTape) -> [Bool] {
        var active = [Bool](repeating: false, count: tape.instructions.count)
        let differentiable = OpcodeFacts.isDifferentiable
        for (i, x) in tape.instructions.enumerated() {
            if x.opcode == .input || x.opcode == .param {
                active[i] = true
            } else if differentiable[Int(x.opcode.rawValue)] {
                let arity = x.opcode.flatArity
                active[i] = (arity > 0 && active[Int(x.a)]) || (arity > 1 && active[Int(x.b)]) || (arity > 2 && active[Int(x.c)])
            }
        }
        return active
    }

    /// ``active(_:)-swift.type.method`` of a ``Tape``.
    static func active(_ tape: Tape) -> [Bool] { active(FlatTape(tape)) }

    /// The instructions a reverse sweep seeded at the given outputs (`nil`: all) runs: those
    /// with a differentiable path from an input or parameter to a seeded output. An output
    /// seeded with zero is left out entirely, as a symbolic zero in JAX: the instructions only
    /// it reads contribute nothing, not even 0·∞ = NaN.
    static func runsReverse(_ tape: FlatTape, _ active: [Bool], seeded: [Bool]?) -> [Bool] {
        let ins = tape.instructions
        var runs = [Bool](repeating: false, count: ins.count)
        var needed = [Bool](repeating: false, count: ins.count)
        for (k, o) in tape.outputs.enumerated() where seeded?[k] ?? true { needed[Int(o)] = true }
        for i in stride(from: ins.count - 1, through: 0, by: -1) where needed[i] && active[i] {
            let x = ins[i]
            let arity = x.opcode.flatArity
            if arity == 0 { continue }
            runs[i] = true
            needed[Int(x.a)] = true
            if arity > 1 { needed[Int(x.b)] = true }
            if arity > 2 { needed[Int(x.c)] = true }
        }
        return runs
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
        let ins = tape.instructions
        let n = ins.count
        let runsReverse = Self.runsReverse(tape, active, seeded: seeded)
        var adjoints = PlanePool()
        let sink = Int32(adjoints.take())
        var adjointPlane = [Int32](repeating: -1, count: n)
        // Inputs and parameters that receive a gradient get planes of their own, never shared
        // with other registers: on full tiles they are the caller's gradient columns.
        var leafPlane = [Int32](repeating: -1, count: n)
        do {
            var touched = [Bool](repeating: false, count: n)
            for (k, o) in tape.outputs.enumerated() where seeded?[k] ?? true { touched[Int(o)] = true }
            for i in 0..<n where runsReverse[i] {
                let x = ins[i]
                let arity = x.opcode.flatArity
                touched[Int(x.a)] = true
                if arity > 1 { touched[Int(x.b)] = true }
                if arity > 2 { touched[Int(x.c)] = true }
            }
            for i in 0..<n where touched[i] && (ins[i].opcode == .input || ins[i].opcode == .param) {
                leafPlane[i] = Int32(adjoints.take())
            }
        }
        // How many registers' adjoints each plane holds: pass-through contributions below let
        // several registers share their consumer's plane, which is freed when the last is read.
        var holders = [Int32](repeating: 0, count: n + 2)
        func assign(_ r: Int32, _ p: Int32) {
            adjointPlane[Int(r)] = p
            if leafPlane[Int(r)] < 0 { holders[Int(p)] += 1 }
        }
        func newPlane() -> Int32 {
            let p = adjoints.take()
            if p >= holders.count { holders.append(contentsOf: repeatElement(0, count: p + 1 - holders.count)) }
            return Int32(p)
        }
        for (k, o) in tape.outputs.enumerated() where (seeded?[k] ?? true) && adjointPlane[Int(o)] < 0 {
            assign(o, leafPlane[Int(o)] >= 0 ? leafPlane[Int(o)] : newPlane())
        }
        var plan = ReversePlan()
        plan.seedPlanes = tape.outputs.enumerated().map { k, o in (seeded?[k] ?? true) ? Int(adjointPlane[Int(o)]) : -1 }
        var uses: [Int32] = []
        tape.useCounts(into: &uses)
        var reversed: [tv_rinstr] = []
        reversed.reserveCapacity(n)
        for i in stride(from: n - 1, through: 0, by: -1) where runsReverse[i] {
            let x = ins[i]
            let arity = x.opcode.flatArity
            let gdst = adjointPlane[i]
            precondition(gdst >= 0, "reverse instruction r\(i) has no adjoint")
            holders[Int(gdst)] -= 1  // this instruction reads r_i's adjoint for the last time
            var first: Int32 = 0
            var g: (Int32, Int32, Int32) = (-1, -1, -1)
            func get(_ k: Int) -> Int32 { k == 0 ? g.0 : (k == 1 ? g.1 : g.2) }
            func set(_ k: Int, _ p: Int32) { if k == 0 { g.0 = p } else if k == 1 { g.1 = p } else { g.2 = p } }
            // Contributions that go nowhere: to constants (inactive), or passed through
            // unchanged (g itself) to a result read only here, which then simply shares the
            // plane holding g instead of receiving a copy.
            for k in 0..<arity {
                let r = x.operand(k)
                if !active[Int(r)] {
                    set(k, sink); first |= 1 << k
                } else if adjointPlane[Int(r)] < 0, x.opcode.passesAdjointThrough(operand: k),
                          uses[Int(r)] == 1, ins[Int(r)].opcode.flatArity > 0 {
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
                    let p = leafPlane[Int(r)] >= 0 ? leafPlane[Int(r)] : newPlane()
                    assign(r, p)
                    set(k, p); first |= 1 << k
                }
            }
            // Nothing left to compute: every contribution was to a constant or passed through.
            if skipped == (1 << arity) - 1 { continue }
            // Or less: a cheaper rule making the same contributions to the operands that remain.
            var op = x.opcode
            var kept: (Int, Int, Int) = (0, 1, 2)
            var keptCount = arity
            if skipped != 0, let cheaper = x.opcode.reverseWithout(Set((0..<arity).filter { skipped & (1 << $0) != 0 })) {
                op = cheaper.opcode
                keptCount = cheaper.operands.count
                kept = (keptCount > 0 ? cheaper.operands[0] : 0, keptCount > 1 ? cheaper.operands[1] : 0, keptCount > 2 ? cheaper.operands[2] : 0)
            }
            func keptIndex(_ position: Int) -> Int { position == 0 ? kept.0 : (position == 1 ? kept.1 : kept.2) }
            var keptFirst: Int32 = 0
            for position in 0..<keptCount where first & (1 << keptIndex(position)) != 0 { keptFirst |= 1 << position }
            func v(_ position: Int) -> Int32 { position < keptCount ? valuePlane[Int(x.operand(keptIndex(position)))] : 0 }
            func a(_ position: Int) -> Int32 { position < keptCount ? get(keptIndex(position)) : 0 }
            reversed.append(tv_rinstr(op: Int32(op.rawValue), first: keptFirst,
                                      vdst: valuePlane[i], va: v(0), vb: v(1),
                                      gdst: gdst, ga: a(0), gb: a(1), gc: a(2), vc: v(2), imm: x.immediate))
        }
        plan.code = CodeBuffer(reversed.reversed())  // the kernel runs it last to first
        plan.adjointPlaneCount = adjoints.count
        for i in 0..<n where adjointPlane[i] >= 0 {
            let x = ins[i]
            if x.opcode == .input { plan.inputAdjointPlanes.append(LeafPlane(slot: Int(x.immediate), plane: Int(adjointPlane[i]))) }
            if x.opcode == .param { plan.parameterAdjointPlanes.append(LeafPlane(slot: Int(x.immediate), plane: Int(adjointPlane[i]))) }
        }
        return plan
    }
}

/// A leaf's slot (input or parameter number) and the plane holding its value or adjoint.
struct LeafPlane: Sendable {
    let slot: Int
    let plane: Int
}

/// One reverse sweep's code and adjoint layout, for one set of seeded outputs.
struct ReversePlan: Sendable {
    var code = CodeBuffer<tv_rinstr>([])
    var adjointPlaneCount = 0
    /// The adjoint plane each output's seed goes to; -1 for outputs left out (seed 0).
    var seedPlanes: [Int] = []
    /// Adjoint planes summed into the input slots' gradients, in tape order (a slot with
    /// none: the gradient is 0).
    var inputAdjointPlanes: [LeafPlane] = []
    /// Adjoint planes summed into the parameter slots' gradients, in tape order.
    var parameterAdjointPlanes: [LeafPlane] = []
}

/// Plane numbers: freed planes are reused last-freed first (still warm in cache).
struct PlanePool {
    private(set) var count = 0
    private var free: [Int] = []

    mutating func take() -> Int {
        if let p = free.popLast() { return p }
        count += 1
        return count - 1
    }

    mutating func give(_ plane: Int) { free.append(plane) }
}
