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
/// A class, shared rather than copied by each run; it is never changed after `init`.
final class SweepPlan: @unchecked Sendable {
    var forward = CodeBuffer<tv_instr>([])
    var valuePlaneCount = 0
    /// Value planes loaded per tile, by input slot.
    var inputPlanes: [[Int]]
    /// Value planes filled once per workspace, by parameter slot.
    var parameterPlanes: [[Int]]
    /// Value planes filled once per workspace with a constant.
    var constants: [(plane: Int, value: Double)] = []
    /// The value plane of each output.
    var outputPlanes: [Int] = []
    /// Whether each value plane holds a leaf (input, parameter or constant) for the whole tile.
    var isLeafPlane: [Bool] = []
    /// The reverse sweep when every output is seeded (empty for a forward-only plan).
    var reverse: ReversePlan
    /// Value plane of each register, and whether a gradient can flow from it to a leaf.
    private var valuePlane: [Int] = []
    private var active: [Bool] = []
    private let tape: Tape

    /// Plans `tape` for a forward-only run (`gradients: false`) or a forward and reverse run.
    init(_ tape: Tape, gradients: Bool) {
        let ins = tape.instructions
        let n = ins.count
        inputPlanes = Array(repeating: [], count: tape.inputs.count)
        parameterPlanes = Array(repeating: [], count: tape.parameters.count)
        self.tape = tape
        reverse = ReversePlan(inputs: tape.inputs.count, parameters: tape.parameters.count)

        // Which instructions run in reverse when every output is seeded.
        if gradients {
            active = Self.active(tape)
        } else {
            active = [Bool](repeating: false, count: n)
        }
        let runsReverse = gradients ? Self.runsReverse(tape, active, seeded: tape.outputs.map { _ in true }) : active
        // Value liveness: the last forward reader, or the end when an output or a reverse rule reads it.
        let end = n
        var lastUse = [Int](repeating: -1, count: n)
        for (i, x) in ins.enumerated() { for r in x.operands { lastUse[r.index] = i } }
        for o in tape.outputs { lastUse[o.register.index] = end }
        for (i, x) in ins.enumerated() where runsReverse[i] {
            let reads = x.opcode.reverseReads
            if reads.contains(.y) { lastUse[i] = end }
            if reads.contains(.a) { lastUse[x.operands[0].index] = end }
            if reads.contains(.b) { lastUse[x.operands[1].index] = end }
            if reads.contains(.c) { lastUse[x.operands[2].index] = end }
        }

        // Value planes. Leaves first: inputs are loaded together at the start of each tile, and
        // parameters and constants are filled once, so none of their planes is ever reused.
        var valuePlane = [Int](repeating: -1, count: n)
        var pool = PlanePool()
        for (i, x) in ins.enumerated() {
            switch x.opcode {
            case .input: valuePlane[i] = pool.take(); inputPlanes[Int(x.immediate)].append(valuePlane[i])
            case .param: valuePlane[i] = pool.take(); parameterPlanes[Int(x.immediate)].append(valuePlane[i])
            case .const: valuePlane[i] = pool.take(); constants.append((valuePlane[i], x.immediate))
            default: break
            }
        }
        var forwardCode: [tv_instr] = []
        for (i, x) in ins.enumerated() where x.opcode.arity > 0 {
            // Operands read for the last time here may give their plane to the result:
            // the kernels read a block of every operand before writing that block.
            // Input planes are never reused: on full tiles they are the caller's own columns.
            for r in Set(x.operands.map(\.index)) where lastUse[r] == i && ins[r].opcode.arity > 0 {
                pool.give(valuePlane[r])
            }
            valuePlane[i] = pool.take()
            if lastUse[i] < i { pool.give(valuePlane[i]) }  // dead result: the plane is free again
            let o = x.operands.map { Int32(valuePlane[$0.index]) }
            forwardCode.append(tv_instr(op: Int32(x.opcode.rawValue), dst: Int32(valuePlane[i]),
                                    a: o.count > 0 ? o[0] : 0, b: o.count > 1 ? o[1] : 0, c: o.count > 2 ? o[2] : 0,
                                    reserved: 0, imm: x.immediate))
        }
        forward = CodeBuffer(forwardCode)
        valuePlaneCount = Swift.max(1, pool.count)
        isLeafPlane = [Bool](repeating: false, count: valuePlaneCount)
        for p in inputPlanes.joined() { isLeafPlane[p] = true }
        for p in parameterPlanes.joined() { isLeafPlane[p] = true }
        for (p, _) in constants { isLeafPlane[p] = true }
        outputPlanes = tape.outputs.map { valuePlane[$0.register.index] }
        self.valuePlane = valuePlane
        if gradients { reverse = reversePlan(seeded: tape.outputs.map { _ in true }) }
    }

    /// Which registers a gradient can flow into: inputs, parameters, and differentiable
    /// instructions reading an active register.
    static func active(_ tape: Tape) -> [Bool] {
        var active: [Bool] = []
        active.reserveCapacity(tape.instructions.count)
        for x in tape.instructions {
            active.append(x.opcode == .input || x.opcode == .param
                || (x.opcode.info.isDifferentiable && x.operands.contains { active[$0.index] }))
        }
        return active
    }

    /// The instructions a reverse sweep seeded at the given outputs runs: those with a
    /// differentiable path from an input or parameter to a seeded output. An output seeded with
    /// zero is left out entirely, as a symbolic zero in JAX: the instructions only it reads
    /// contribute nothing, not even 0·∞ = NaN.
    static func runsReverse(_ tape: Tape, _ active: [Bool], seeded: [Bool]) -> [Bool] {
        let ins = tape.instructions
        var runs = [Bool](repeating: false, count: ins.count)
        var needed = [Bool](repeating: false, count: ins.count)
        for (k, o) in tape.outputs.enumerated() where seeded[k] { needed[o.register.index] = true }
        for i in stride(from: ins.count - 1, through: 0, by: -1) where needed[i] && active[i] && ins[i].opcode.arity > 0 {
            runs[i] = true
            for r in ins[i].operands { needed[r.index] = true }
        }
        return runs
    }

    /// Plans the reverse sweep for the outputs marked in `seeded` (a subset of the outputs
    /// this plan keeps values for). Adjoint planes are allocated in reverse-sweep order;
    /// contributions to operands whose adjoint can never matter (constants) go to one shared
    /// sink plane, always stored, never read.
    func reversePlan(seeded: [Bool]) -> ReversePlan {
        let ins = tape.instructions
        let runsReverse = Self.runsReverse(tape, active, seeded: seeded)
        var plan = ReversePlan(inputs: tape.inputs.count, parameters: tape.parameters.count)
        var adjoints = PlanePool()
        let sink = adjoints.take()
        var adjointPlane = [Int?](repeating: nil, count: ins.count)
        // Inputs and parameters that receive a gradient get planes of their own, never shared
        // with other registers: on full tiles they are the caller's gradient columns.
        var touched = [Bool](repeating: false, count: ins.count)
        for (k, o) in tape.outputs.enumerated() where seeded[k] { touched[o.register.index] = true }
        for (i, x) in ins.enumerated() where runsReverse[i] { for r in x.operands { touched[r.index] = true } }
        var leafPlanes = [Int: Int]()
        for (i, x) in ins.enumerated() where touched[i] && (x.opcode == .input || x.opcode == .param) {
            leafPlanes[i] = adjoints.take()
        }
        // How many registers' adjoints each plane holds: pass-through contributions below let
        // several registers share their consumer's plane, which is freed when the last is read.
        var holders = [Int](repeating: 0, count: ins.count + 2)
        func assign(_ r: Int, _ p: Int) {
            adjointPlane[r] = p
            if leafPlanes[r] == nil { holders[p] += 1 }
        }
        func newPlane() -> Int {
            let p = adjoints.take()
            if p >= holders.count { holders += [Int](repeating: 0, count: p + 1 - holders.count) }
            return p
        }
        for (k, o) in tape.outputs.enumerated() where seeded[k] && adjointPlane[o.register.index] == nil {
            assign(o.register.index, leafPlanes[o.register.index] ?? newPlane())
        }
        plan.seedPlanes = tape.outputs.enumerated().map { k, o in seeded[k] ? adjointPlane[o.register.index] : nil }
        let uses = TapeRewriter.useCounts(tape)
        var reversed: [tv_rinstr] = []
        for i in stride(from: ins.count - 1, through: 0, by: -1) where runsReverse[i] {
            let x = ins[i]
            guard let gdst = adjointPlane[i] else { preconditionFailure("reverse instruction r\(i) has no adjoint") }
            holders[gdst] -= 1  // this instruction reads r_i's adjoint for the last time
            var first: Int32 = 0
            var g: [Int32?] = [nil, nil, nil]
            // Contributions that go nowhere: to constants (inactive), or passed through
            // unchanged (g itself) to a result read only here, which then simply shares the
            // plane holding g instead of receiving a copy.
            for (k, r) in x.operands.enumerated() {
                if !active[r.index] {
                    g[k] = Int32(sink); first |= 1 << k
                } else if adjointPlane[r.index] == nil, x.opcode.passesAdjointThrough(operand: k),
                          uses[r.index] == 1, ins[r.index].opcode.arity > 0 {
                    assign(r.index, gdst)
                    g[k] = Int32(sink); first |= 1 << k
                }
            }
            if holders[gdst] == 0 { adjoints.give(gdst) }  // an operand's first contribution may take it
            for (k, r) in x.operands.enumerated() where g[k] == nil {
                if let p = adjointPlane[r.index] {
                    g[k] = Int32(p)
                } else {
                    let p = leafPlanes[r.index] ?? newPlane()
                    assign(r.index, p)
                    g[k] = Int32(p); first |= 1 << k
                }
            }
            // Nothing left to compute: every contribution was to a constant or passed through.
            let skipped = Set(x.operands.indices.filter { g[$0] == Int32(sink) })
            if skipped.count == x.operands.count { continue }
            // Or less: a cheaper rule making the same contributions to the operands that remain.
            var op = x.opcode
            var kept = Array(x.operands.indices)
            if !skipped.isEmpty, let cheaper = x.opcode.reverseWithout(skipped) {
                op = cheaper.opcode
                kept = cheaper.operands
            }
            let v = kept.map { Int32(valuePlane[x.operands[$0].index]) }
            let a = kept.map { g[$0] ?? 0 }
            var keptFirst: Int32 = 0
            for (position, k) in kept.enumerated() where first & (1 << k) != 0 { keptFirst |= 1 << position }
            reversed.append(tv_rinstr(op: Int32(op.rawValue), first: keptFirst,
                                      vdst: Int32(valuePlane[i]), va: v.count > 0 ? v[0] : 0, vb: v.count > 1 ? v[1] : 0,
                                      gdst: Int32(gdst), ga: a.count > 0 ? a[0] : 0, gb: a.count > 1 ? a[1] : 0,
                                      gc: a.count > 2 ? a[2] : 0, vc: v.count > 2 ? v[2] : 0, imm: x.immediate))
        }
        plan.code = CodeBuffer(reversed.reversed())  // the kernel runs it last to first
        plan.adjointPlaneCount = adjoints.count
        for (i, x) in ins.enumerated() {
            guard let p = adjointPlane[i] else { continue }
            if x.opcode == .input { plan.inputAdjointPlanes[Int(x.immediate)].append(p) }
            if x.opcode == .param { plan.parameterAdjointPlanes[Int(x.immediate)].append(p) }
        }
        return plan
    }
}

/// One reverse sweep's code and adjoint layout, for one set of seeded outputs.
struct ReversePlan: Sendable {
    var code = CodeBuffer<tv_rinstr>([])
    var adjointPlaneCount = 0
    /// The adjoint plane each output's seed goes to; nil for outputs left out (seed 0).
    var seedPlanes: [Int?] = []
    /// Adjoint planes summed into each input slot's gradient (empty: the gradient is 0).
    var inputAdjointPlanes: [[Int]]
    /// Adjoint planes summed into each parameter slot's gradient.
    var parameterAdjointPlanes: [[Int]]

    init(inputs: Int, parameters: Int) {
        inputAdjointPlanes = Array(repeating: [], count: inputs)
        parameterAdjointPlanes = Array(repeating: [], count: parameters)
    }
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
