/// The optimizer passes over a ``FlatTape``, with scratch buffers reused from pass to pass (and
/// from tape to tape when the optimizer is kept): each pass is one linear sweep that allocates
/// nothing per instruction.
///
/// Every pass but dead code rebuilds the tape instruction by instruction: it looks at each
/// instruction, with its operands already renamed to registers of the new tape, and either
/// emits instructions or maps the old register onto an existing new one. Emitting a constant
/// that is already there (same bits) reuses it. Outputs follow the mapping.
struct FlatOptimizer {
    private var out: [FlatInstruction] = []
    private var map: [Int32] = []
    private var constants = FlatInstructionSet()
    private var seen = FlatInstructionSet()
    private var uses: [Int32] = []
    private var flags: [Bool] = []

    init() {}

    /// Runs the passes in a fixed order (folding, identities, constant operands, common
    /// subexpressions, multiply-add, squared difference, dead code), twice so that each pass
    /// sees the others' results.
    mutating func optimize(_ tape: inout FlatTape, _ passes: OptimizationPasses) {
        if passes.isEmpty { return }
        for _ in 0..<2 {
            if passes.contains(.constantFolding) { rewrite(&tape, .constantFolding) }
            if passes.contains(.identities) { rewrite(&tape, .identities) }
            if passes.contains(.constantOperands) { rewrite(&tape, .constantOperands) }
            if passes.contains(.commonSubexpressions) { rewrite(&tape, .commonSubexpressions) }
            if passes.contains(.multiplyAdd) { rewrite(&tape, .multiplyAdd) }
            if passes.contains(.squaredDifference) { rewrite(&tape, .squaredDifference) }
            if passes.contains(.deadCode) { removeDeadCode(&tape) }
        }
    }

    /// Appends an instruction to the new tape (a constant already there is reused).
    @inline(__always) private mutating func emit(_ x: FlatInstruction) -> Int32 {
        if x.opcode == .const, let r = constants.find(x, in: out) { return r }
        out.append(x)
        let r = Int32(out.count - 1)
        if x.opcode == .const { constants.insert(r, in: out) }
        return r
    }

    /// The constant value of new register `r`, if it is a `const`.
    @inline(__always) private func constantValue(_ r: Int32) -> Double? {
        let x = out[Int(r)]
        return x.opcode == .const ? x.immediate : nil
    }

    /// Whether new register `r` is a constant with exactly these bits.
    @inline(__always) private func isConstant(_ r: Int32, _ bits: Double) -> Bool {
        let x = out[Int(r)]
        return x.opcode == .const && x.immediate.bitPattern == bits.bitPattern
    }

    private mutating func rewrite(_ tape: inout FlatTape, _ pass: OptimizationPasses) {
        let n = tape.instructions.count
        out.removeAll(keepingCapacity: true)
        out.reserveCapacity(n)
        map.removeAll(keepingCapacity: true)
        map.reserveCapacity(n)
        constants.reset(for: n)
        if pass == .commonSubexpressions { seen.reset(for: n) }
        if pass == .multiplyAdd || pass == .squaredDifference {
            tape.useCounts(into: &uses)
            flags.removeAll(keepingCapacity: true)
            flags.append(contentsOf: repeatElement(false, count: n))
        }
        for i in 0..<n {
            var x = tape.instructions[i]
            let arity = x.opcode.flatArity
            if arity > 0 { x.a = map[Int(x.a)] }
            if arity > 1 { x.b = map[Int(x.b)] }
            if arity > 2 { x.c = map[Int(x.c)] }
            let r: Int32
            switch pass {
            case .constantFolding: r = foldConstants(x, arity)
            case .identities: r = removeIdentity(x)
            case .constantOperands: r = fuseConstantOperand(x, arity)
            case .commonSubexpressions: r = mergeCommonSubexpression(x)
            case .multiplyAdd: r = fuseMultiplyAdd(x, source: i)
            default: r = fuseSquaredDifference(x, source: i)
            }
            map.append(r)
        }
        for k in tape.outputs.indices { tape.outputs[k] = map[Int(tape.outputs[k])] }
        swap(&tape.instructions, &out)
    }

    /// Constant folding: an instruction whose operands are all constants becomes a constant,
    /// computed by the opcode table's forward rule, which is what every path computes. Exact.
    private mutating func foldConstants(_ x: FlatInstruction, _ arity: Int) -> Int32 {
        guard arity > 0, let a = constantValue(x.a) else { return emit(x) }
        var b = 0.0, c = 0.0
        if arity > 1 { guard let v = constantValue(x.b) else { return emit(x) }; b = v }
        if arity > 2 { guard let v = constantValue(x.c) else { return emit(x) }; c = v }
        return emit(FlatInstruction(.const, immediate: x.opcode.info.forward(a, b, c, x.immediate)))
    }

    /// Identities that hold bit for bit in IEEE arithmetic, signed zeros included: `x·1`, `1·x`,
    /// `x/1`, `x + (-0)`, `(-0) + x`, `x - (+0)`, `-(-x)` are all `x`. (`x + 0` is not:
    /// `-0 + 0 = +0`.)
    private mutating func removeIdentity(_ x: FlatInstruction) -> Int32 {
        switch x.opcode {
        case .mul where isConstant(x.b, 1): return x.a
        case .mul where isConstant(x.a, 1): return x.b
        case .div where isConstant(x.b, 1): return x.a
        case .add where isConstant(x.b, -0.0): return x.a
        case .add where isConstant(x.a, -0.0): return x.b
        case .sub where isConstant(x.b, 0.0): return x.a
        case .mulk where x.immediate == 1, .divk where x.immediate == 1: return x.a
        case .addk where x.immediate.bitPattern == (-0.0).bitPattern: return x.a
        case .neg where out[Int(x.a)].opcode == .neg: return out[Int(x.a)].a
        default: return emit(x)
        }
    }

    /// Folds a constant operand into the immediate of a fused opcode: `x + k → addk`,
    /// `x·k → mulk`, `k - x → rsubk`, `x/k → divk`, `k/x → rdivk` (`x - k` is `x + (-k)`
    /// exactly), and `powi(x, 2) → square(x)` (the same multiplications). Exact.
    private mutating func fuseConstantOperand(_ x: FlatInstruction, _ arity: Int) -> Int32 {
        let k0 = arity > 0 ? constantValue(x.a) : nil
        let k1 = arity > 1 ? constantValue(x.b) : nil
        switch x.opcode {
        case .add where k1 != nil: return emit(FlatInstruction(.addk, x.a, immediate: k1!))
        case .add where k0 != nil: return emit(FlatInstruction(.addk, x.b, immediate: k0!))
        case .sub where k1 != nil: return emit(FlatInstruction(.addk, x.a, immediate: -k1!))
        case .sub where k0 != nil: return emit(FlatInstruction(.rsubk, x.b, immediate: k0!))
        case .mul where k1 != nil: return emit(FlatInstruction(.mulk, x.a, immediate: k1!))
        case .mul where k0 != nil: return emit(FlatInstruction(.mulk, x.b, immediate: k0!))
        case .div where k1 != nil: return emit(FlatInstruction(.divk, x.a, immediate: k1!))
        case .div where k0 != nil: return emit(FlatInstruction(.rdivk, x.b, immediate: k0!))
        // powi by 2 computes 1·(a·a) and ∂ = g·(2·(1·a)): exactly square's a·a and g·(2·a).
        case .powi where x.immediate == 2: return emit(FlatInstruction(.square, x.a))
        default: return emit(x)
        }
    }

    /// Common-subexpression elimination: an instruction identical to an earlier one (same
    /// opcode, operands and immediate bits; `add`/`mul` operands in either order) reuses it.
    private mutating func mergeCommonSubexpression(_ x: FlatInstruction) -> Int32 {
        if let r = seen.find(x, in: out) { return r }
        let before = out.count
        let r = emit(x)
        if out.count > before { seen.insert(r, in: out) }
        return r
    }

    /// Fuses `a·b + c` (and `c + a·b`) into one `muladd`, and `a·k + c` into `mulkadd`, where
    /// the product has no other use. `flags` marks new registers holding such a product.
    private mutating func fuseMultiplyAdd(_ x: FlatInstruction, source i: Int) -> Int32 {
        if x.opcode == .add && x.a != x.b {
            // The first operand is tried as the product first.
            let product = flags[Int(x.a)] ? x.a : (flags[Int(x.b)] ? x.b : -1)
            if product >= 0 {
                let m = out[Int(product)]
                let addend = product == x.a ? x.b : x.a
                if m.opcode == .mulk { return emit(FlatInstruction(.mulkadd, m.a, addend, immediate: m.immediate)) }
                return emit(FlatInstruction(.muladd, m.a, m.b, addend))
            }
        }
        let r = emit(x)
        if (x.opcode == .mul || x.opcode == .mulk) && uses[i] == 1 { flags[Int(r)] = true }
        return r
    }

    /// Fuses `square(a - b)` into `sqdiff` and `square(k - a)` into `sqdiffk` where the
    /// difference has no other use. `flags` marks new registers holding such a difference.
    private mutating func fuseSquaredDifference(_ x: FlatInstruction, source i: Int) -> Int32 {
        if x.opcode == .square, flags[Int(x.a)] {
            let d = out[Int(x.a)]
            if d.opcode == .rsubk { return emit(FlatInstruction(.sqdiffk, d.a, immediate: d.immediate)) }
            return emit(FlatInstruction(.sqdiff, d.a, d.b))
        }
        let r = emit(x)
        if (x.opcode == .sub || x.opcode == .rsubk) && uses[i] == 1 { flags[Int(r)] = true }
        return r
    }

    /// Dead-code elimination: keeps only the instructions some output depends on. Unused
    /// inputs and parameters keep their slots (and get a zero gradient).
    private mutating func removeDeadCode(_ tape: inout FlatTape) {
        let n = tape.instructions.count
        flags.removeAll(keepingCapacity: true)
        flags.append(contentsOf: repeatElement(false, count: n))
        for o in tape.outputs { flags[Int(o)] = true }
        for i in stride(from: n - 1, through: 0, by: -1) where flags[i] {
            let x = tape.instructions[i]
            let arity = x.opcode.flatArity
            if arity > 0 { flags[Int(x.a)] = true }
            if arity > 1 { flags[Int(x.b)] = true }
            if arity > 2 { flags[Int(x.c)] = true }
        }
        out.removeAll(keepingCapacity: true)
        map.removeAll(keepingCapacity: true)
        map.append(contentsOf: repeatElement(-1, count: n))
        for i in 0..<n where flags[i] {
            var x = tape.instructions[i]
            let arity = x.opcode.flatArity
            if arity > 0 { x.a = map[Int(x.a)] }
            if arity > 1 { x.b = map[Int(x.b)] }
            if arity > 2 { x.c = map[Int(x.c)] }
            out.append(x)
            map[i] = Int32(out.count - 1)
        }
        for k in tape.outputs.indices { tape.outputs[k] = map[Int(tape.outputs[k])] }
        swap(&tape.instructions, &out)
    }
}

extension Tape {
    /// This tape after the given passes, run in a fixed order (folding, identities, constant
    /// operands, common subexpressions, multiply-add, squared difference, dead code), twice so
    /// that each pass sees the others' results.
    public func optimized(_ passes: OptimizationPasses = .all) -> Tape {
        var flat = FlatTape(self)
        var optimizer = FlatOptimizer()
        optimizer.optimize(&flat, passes)
        return flat.tape(names: self)
    }
}
