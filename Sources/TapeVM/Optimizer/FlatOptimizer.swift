/// The optimizer passes over a ``FlatTape``, with scratch buffers reused from pass to pass (and
/// from tape to tape when the optimizer is kept): each pass is one linear sweep that allocates
/// nothing per instruction.
///
/// Every pass but dead code rebuilds the tape instruction by instruction: it looks at each
/// instruction, with its operands already renamed to registers of the new tape, and either
/// emits an instruction or maps the old register onto an existing new one. Emitting a constant
/// that is already there (same bits) reuses it. Outputs follow the mapping.
///
/// A pass first scans the tape without copying it, as long as it keeps every instruction as
/// it is: most passes change nothing on most tapes (the second round especially), and then
/// cost one read of the tape. From the first change on, it writes the new tape.
struct FlatOptimizer {
    /// The buffers: ping-pong tapes, the register map, use counts and flags. Their owner frees
    /// them; the optimizer itself is a struct so that its hot loops touch no class properties
    /// (which Swift would check for exclusive access at run time).
    private final class Storage {
        let capacity: Int
        let a: UnsafeMutablePointer<FlatInstruction>
        let b: UnsafeMutablePointer<FlatInstruction>
        let map: UnsafeMutablePointer<Int32>
        let uses: UnsafeMutablePointer<Int32>
        let flags: UnsafeMutablePointer<Bool>

        init(capacity: Int) {
            self.capacity = capacity
            a = .allocate(capacity: capacity)
            b = .allocate(capacity: capacity)
            map = .allocate(capacity: capacity)
            uses = .allocate(capacity: capacity)
            flags = .allocate(capacity: capacity)
        }

        deinit {
            a.deallocate()
            b.deallocate()
            map.deallocate()
            uses.deallocate()
            flags.deallocate()
        }
    }

    private var storage = Storage(capacity: 64)
    /// The tape being rewritten and the new one (`storage.a` and `storage.b`, in turns).
    private var source: UnsafeMutablePointer<FlatInstruction>
    private var out: UnsafeMutablePointer<FlatInstruction>
    /// Where the new tape's instructions are read: `source` while the pass has changed nothing
    /// (the new tape is then the same as the old one so far), `out` after.
    private var prefix: UnsafeMutablePointer<FlatInstruction>
    private var outCount = 0
    private var map: UnsafeMutablePointer<Int32>
    private var uses: UnsafeMutablePointer<Int32>
    private var flags: UnsafeMutablePointer<Bool>
    private var constants = FlatInstructionSet()
    private var seen = FlatInstructionSet()
    /// The arity table, loaded once (``Opcode/flatArity`` reads a global, which Swift checks
    /// for initialization at every read).
    private let arities = OpcodeFacts.shared.arity

    /// Whether passes that cannot change the tape are skipped (they are, but for tests, which
    /// check that skipping them gives the same tape as running them).
    var skipsIdlePasses = true

    init() {
        source = storage.a
        out = storage.b
        prefix = source
        map = storage.map
        uses = storage.uses
        flags = storage.flags
    }

    private mutating func reserve(_ n: Int) {
        if n > storage.capacity { storage = Storage(capacity: Swift.max(n, 2 * storage.capacity)) }
        source = storage.a
        out = storage.b
        prefix = source
        map = storage.map
        uses = storage.uses
        flags = storage.flags
    }

    /// Runs the passes in a fixed order (folding, identities, constant operands, common
    /// subexpressions, multiply-add, squared difference, dead code), twice so that each pass
    /// sees the others' results.
    mutating func optimize(_ tape: inout FlatTape, _ passes: OptimizationPasses) {
        if passes.isEmpty { return }
        var n = tape.instructions.count
        reserve(n)
        tape.instructions.withUnsafeBufferPointer { source.update(from: $0.baseAddress!, count: n) }
        var outputs = tape.outputs
        // A pass that changed nothing, run again on the same tape, changes nothing again: it is
        // skipped while no other pass has changed the tape since (`changes` counts the passes
        // that did; `unchangedAt[k]`: the count when pass k last ran and changed nothing).
        var changes = 0
        var unchangedAt = (-1, -1, -1, -1, -1, -1, -1)
        // The opcodes on the tape: a pass none of whose patterns' opcodes is there would scan
        // the tape and change nothing, so it is skipped (SR expressions have no constants, so
        // folding, identities and constant operands usually have nothing to look at).
        var present = OpcodeMask(source, n)
        // Common subexpressions leave no two instructions alike, and the fusions and dead code
        // cannot make two alike again (their renaming is one to one, and two equal fused
        // instructions would come from two equal products or differences, or from one used
        // twice, which is not fused), unless an equal fused instruction was on the tape
        // already. So after them alone, the pass is not run again.
        let fused: OpcodeMask = [.muladd, .mulkadd, .sqdiff, .sqdiffk]
        var distinct = false  // the tape has no two instructions alike
        @inline(__always) func run(_ k: Int, needs: OpcodeMask?, _ body: (inout FlatOptimizer) -> (Int, Bool)) {
            let skip = withUnsafeBytes(of: unchangedAt) { $0.load(fromByteOffset: k * MemoryLayout<Int>.stride, as: Int.self) } == changes
            if skip && skipsIdlePasses { return }
            var changed = false
            if !skipsIdlePasses || ((needs.map { present.intersects($0) } ?? true) && !(k == 3 && distinct)) {
                let (count, didChange) = body(&self)
                n = count
                changed = didChange
            }
            if k == 3 { distinct = !present.intersects(fused) }
            if changed {
                changes += 1
                present = OpcodeMask(source, n)
                if k < 3 { distinct = false }
            }
            withUnsafeMutableBytes(of: &unchangedAt) {
                $0.storeBytes(of: changed ? -1 : changes, toByteOffset: k * MemoryLayout<Int>.stride, as: Int.self)
            }
        }
        for _ in 0..<2 {
            // One specialization per pass: each pass's loop is compiled with its own rules inlined.
            if passes.contains(.constantFolding) {
                run(0, needs: [.const]) { $0.rewrite(n, &outputs, FoldConstants.self) }
            }
            if passes.contains(.identities) {
                run(1, needs: [.const, .mulk, .divk, .addk, .neg]) { $0.rewrite(n, &outputs, RemoveIdentities.self) }
            }
            if passes.contains(.constantOperands) {
                run(2, needs: [.const, .powi]) { $0.rewrite(n, &outputs, FuseConstantOperands.self) }
            }
            if passes.contains(.commonSubexpressions) {
                run(3, needs: nil) { $0.rewrite(n, &outputs, MergeCommonSubexpressions.self) }
            }
            // Fusions need both halves of their pattern.
            if passes.contains(.multiplyAdd) && (present.intersects([.mul, .mulk]) || !skipsIdlePasses) {
                run(4, needs: [.add]) { $0.rewrite(n, &outputs, FuseMultiplyAdd.self) }
            }
            if passes.contains(.squaredDifference) && (present.intersects([.sub, .rsubk]) || !skipsIdlePasses) {
                run(5, needs: [.square]) { $0.rewrite(n, &outputs, FuseSquaredDifference.self) }
            }
            if passes.contains(.deadCode) { run(6, needs: nil) { $0.removeDeadCode(n, &outputs) } }
        }
        tape.instructions = Array(UnsafeBufferPointer(start: source, count: n))
        tape.outputs = outputs
    }

    @inline(__always) private func arityOf(_ op: Opcode) -> Int { Int(arities[Int(op.rawValue)]) }

    /// What a pass does with one instruction (operands renamed).
    private enum Step {
        /// Emit this instruction (the same one keeps it).
        case emit(FlatInstruction)
        /// Map the register onto an existing register of the new tape.
        case alias(Int32)
    }

    /// The constant value of new register `r`, if it is a `const`.
    @inline(__always) private func constantValue(_ r: Int32) -> Double? {
        let x = prefix[Int(r)]
        return x.opcode == .const ? x.immediate : nil
    }

    /// Whether new register `r` is a constant with exactly these bits.
    @inline(__always) private func isConstant(_ r: Int32, _ bits: Double) -> Bool {
        let x = prefix[Int(r)]
        return x.opcode == .const && x.immediate.bitPattern == bits.bitPattern
    }

    /// Rewrites the `n` instructions of `source` with pass `P`; returns the new count (the new
    /// tape in `source`) and whether anything changed.
    private mutating func rewrite<P: RewritePass>(_ n: Int, _ outputs: inout [Int32], _: P.Type) -> (Int, Bool) {
        let pass = P.pass
        constants.reset(for: n)
        if pass == .commonSubexpressions { seen.reset(for: n) }
        if pass == .multiplyAdd || pass == .squaredDifference {
            for i in 0..<n { uses[i] = 0 }
            for i in 0..<n {
                let x = source[i]
                let arity = arityOf(x.opcode)
                if arity > 0 { uses[Int(x.a)] += 1 }
                if arity > 1 { uses[Int(x.b)] += 1 }
                if arity > 2 { uses[Int(x.c)] += 1 }
            }
            for o in outputs { uses[Int(o)] += 1 }
            flags.update(repeating: false, count: n)
        }
        // Scan while every instruction is kept as it is and no constant repeats an earlier one
        // (emitting it would reuse the earlier one): up to there, the new tape is the old one.
        prefix = source
        var i = 0
        while i < n {
            let x = source[i]
            guard case .emit(let y) = step(x, i, pass), y == x else { break }
            if x.opcode == .const {
                if constants.find(x, in: source) != nil { break }
                constants.insert(Int32(i), in: source)
            }
            record(x, Int32(i), source: i, pass, appended: true)
            i += 1
        }
        if i == n { return (n, false) }
        // From the first change: the prefix as it is, then the rewritten rest.
        out.update(from: source, count: i)
        for k in 0..<i { map[k] = Int32(k) }
        outCount = i
        prefix = out
        while i < n {
            var x = source[i]
            let arity = arityOf(x.opcode)
            if arity > 0 { x.a = map[Int(x.a)] }
            if arity > 1 { x.b = map[Int(x.b)] }
            if arity > 2 { x.c = map[Int(x.c)] }
            switch step(x, i, pass) {
            case .alias(let r): map[i] = r
            case .emit(let y):
                let before = outCount
                let r = emit(y)
                map[i] = r
                record(x, r, source: i, pass, appended: outCount > before)
            }
            i += 1
        }
        for k in outputs.indices { outputs[k] = map[Int(outputs[k])] }
        swap(&source, &out)
        prefix = source
        return (outCount, true)
    }

    /// Appends an instruction to the new tape (a constant already there is reused).
    @inline(__always) private mutating func emit(_ x: FlatInstruction) -> Int32 {
        if x.opcode == .const, let r = constants.find(x, in: out) { return r }
        out[outCount] = x
        outCount += 1
        let r = Int32(outCount - 1)
        if x.opcode == .const { constants.insert(r, in: out) }
        return r
    }

    /// What a pass remembers of an instruction it emitted as register `r` of the new tape.
    @inline(__always) private mutating func record(_ x: FlatInstruction, _ r: Int32, source i: Int,
                                                   _ pass: OptimizationPasses, appended: Bool) {
        switch pass {
        case .commonSubexpressions:
            if appended { seen.insert(r, in: prefix) }
        case .multiplyAdd:
            // A product used once may be fused into the add that reads it.
            if (x.opcode == .mul || x.opcode == .mulk) && uses[i] == 1 { flags[Int(r)] = true }
        case .squaredDifference:
            // A difference used once may be fused into the square that reads it.
            if (x.opcode == .sub || x.opcode == .rsubk) && uses[i] == 1 { flags[Int(r)] = true }
        default: break
        }
    }

    @inline(__always) private func step(_ x: FlatInstruction, _ i: Int, _ pass: OptimizationPasses) -> Step {
        switch pass {
        case .constantFolding: foldConstants(x)
        case .identities: removeIdentity(x)
        case .constantOperands: fuseConstantOperand(x)
        case .commonSubexpressions: mergeCommonSubexpression(x)
        case .multiplyAdd: fuseMultiplyAdd(x)
        default: fuseSquaredDifference(x)
        }
    }

    /// Constant folding: an instruction whose operands are all constants becomes a constant,
    /// computed by the opcode table's forward rule, which is what every path computes. Exact.
    @inline(__always) private func foldConstants(_ x: FlatInstruction) -> Step {
        let arity = arityOf(x.opcode)
        guard arity > 0, let a = constantValue(x.a) else { return .emit(x) }
        var b = 0.0, c = 0.0
        if arity > 1 { guard let v = constantValue(x.b) else { return .emit(x) }; b = v }
        if arity > 2 { guard let v = constantValue(x.c) else { return .emit(x) }; c = v }
        return .emit(FlatInstruction(.const, immediate: x.opcode.evaluate(a, b, c, immediate: x.immediate)))
    }

    /// Identities that hold bit for bit in IEEE arithmetic, signed zeros included: `x·1`, `1·x`,
    /// `x/1`, `x + (-0)`, `(-0) + x`, `x - (+0)`, `-(-x)` are all `x`. (`x + 0` is not:
    /// `-0 + 0 = +0`.) And two that merge constant factors, which gradient tapes are full of
    /// (`-(2·x)`, `100·(2·x)` from the rules' local derivatives): `-(x·k) = x·(-k)` (negation is
    /// exact), and `(x·a)·b = x·(a·b)` where `a = ±2ⁿ` (n ≥ 0: `x·a` is exact or overflows) and
    /// `1 ≤ |b| < ∞` (so `x·a` overflows only where `x·a·b` does).
    @inline(__always) private func removeIdentity(_ x: FlatInstruction) -> Step {
        if x.opcode == .neg || x.opcode == .mulk, case let m = prefix[Int(x.a)], m.opcode == .mulk {
            if x.opcode == .neg { return .emit(FlatInstruction(.mulk, m.a, immediate: -m.immediate)) }
            let (a, b) = (m.immediate, x.immediate)
            if a != 0, a.significandBitPattern == 0, a.exponent >= 0, Swift.abs(b) >= 1, b.isFinite, (a * b).isFinite {
                return .emit(FlatInstruction(.mulk, m.a, immediate: a * b))
            }
        }
        return switch x.opcode {
        case .mul where isConstant(x.b, 1): .alias(x.a)
        case .mul where isConstant(x.a, 1): .alias(x.b)
        case .div where isConstant(x.b, 1): .alias(x.a)
        case .add where isConstant(x.b, -0.0): .alias(x.a)
        case .add where isConstant(x.a, -0.0): .alias(x.b)
        case .sub where isConstant(x.b, 0.0): .alias(x.a)
        case .mulk where x.immediate == 1, .divk where x.immediate == 1: .alias(x.a)
        case .addk where x.immediate.bitPattern == (-0.0).bitPattern: .alias(x.a)
        case .neg where prefix[Int(x.a)].opcode == .neg: .alias(prefix[Int(x.a)].a)
        default: .emit(x)
        }
    }

    /// Folds a constant operand into the immediate of a fused opcode: `x + k → addk`,
    /// `x·k → mulk`, `k - x → rsubk`, `x/k → divk`, `k/x → rdivk` (`x - k` is `x + (-k)`
    /// exactly), and `powi(x, 2) → square(x)` (the same multiplications). Exact.
    @inline(__always) private func fuseConstantOperand(_ x: FlatInstruction) -> Step {
        let arity = arityOf(x.opcode)
        let k0 = arity > 0 ? constantValue(x.a) : nil
        let k1 = arity > 1 ? constantValue(x.b) : nil
        switch x.opcode {
        case .add where k1 != nil: return .emit(FlatInstruction(.addk, x.a, immediate: k1!))
        case .add where k0 != nil: return .emit(FlatInstruction(.addk, x.b, immediate: k0!))
        case .sub where k1 != nil: return .emit(FlatInstruction(.addk, x.a, immediate: -k1!))
        case .sub where k0 != nil: return .emit(FlatInstruction(.rsubk, x.b, immediate: k0!))
        case .mul where k1 != nil: return .emit(FlatInstruction(.mulk, x.a, immediate: k1!))
        case .mul where k0 != nil: return .emit(FlatInstruction(.mulk, x.b, immediate: k0!))
        case .div where k1 != nil: return .emit(FlatInstruction(.divk, x.a, immediate: k1!))
        case .div where k0 != nil: return .emit(FlatInstruction(.rdivk, x.b, immediate: k0!))
        // powi by 2 computes 1·(a·a) and ∂ = g·(2·(1·a)): exactly square's a·a and g·(2·a).
        case .powi where x.immediate == 2: return .emit(FlatInstruction(.square, x.a))
        default: return .emit(x)
        }
    }

    /// Common-subexpression elimination: an instruction identical to an earlier one (same
    /// opcode, operands and immediate bits; `add`/`mul` operands in either order) reuses it.
    @inline(__always) private func mergeCommonSubexpression(_ x: FlatInstruction) -> Step {
        if let r = seen.find(x, in: prefix) { return .alias(r) }
        return .emit(x)
    }

    /// Fuses `a·b + c` (and `c + a·b`) into one `muladd`, and `a·k + c` into `mulkadd`, where
    /// the product has no other use (`flags` marks new registers holding such a product).
    @inline(__always) private func fuseMultiplyAdd(_ x: FlatInstruction) -> Step {
        if x.opcode == .add && x.a != x.b {
            // The first operand is tried as the product first.
            let product = flags[Int(x.a)] ? x.a : (flags[Int(x.b)] ? x.b : -1)
            if product >= 0 {
                let m = prefix[Int(product)]
                let addend = product == x.a ? x.b : x.a
                if m.opcode == .mulk { return .emit(FlatInstruction(.mulkadd, m.a, addend, immediate: m.immediate)) }
                return .emit(FlatInstruction(.muladd, m.a, m.b, addend))
            }
        }
        return .emit(x)
    }

    /// Fuses `square(a - b)` into `sqdiff` and `square(k - a)` into `sqdiffk` where the
    /// difference has no other use (`flags` marks new registers holding such a difference).
    @inline(__always) private func fuseSquaredDifference(_ x: FlatInstruction) -> Step {
        if x.opcode == .square, flags[Int(x.a)] {
            let d = prefix[Int(x.a)]
            if d.opcode == .rsubk { return .emit(FlatInstruction(.sqdiffk, d.a, immediate: d.immediate)) }
            return .emit(FlatInstruction(.sqdiff, d.a, d.b))
        }
        return .emit(x)
    }

    /// Dead-code elimination: keeps only the instructions some output depends on. Unused
    /// inputs and parameters keep their slots (and get a zero gradient).
    private mutating func removeDeadCode(_ n: Int, _ outputs: inout [Int32]) -> (Int, Bool) {
        flags.update(repeating: false, count: n)
        for o in outputs { flags[Int(o)] = true }
        var live = 0
        var i = n
        while i > 0 {
            i -= 1
            if !flags[i] { continue }
            live += 1
            let x = source[i]
            let arity = arityOf(x.opcode)
            if arity > 0 { flags[Int(x.a)] = true }
            if arity > 1 { flags[Int(x.b)] = true }
            if arity > 2 { flags[Int(x.c)] = true }
        }
        if live == n { return (n, false) }
        outCount = 0
        for i in 0..<n where flags[i] {
            var x = source[i]
            let arity = arityOf(x.opcode)
            if arity > 0 { x.a = map[Int(x.a)] }
            if arity > 1 { x.b = map[Int(x.b)] }
            if arity > 2 { x.c = map[Int(x.c)] }
            out[outCount] = x
            map[i] = Int32(outCount)
            outCount += 1
        }
        for k in outputs.indices { outputs[k] = map[Int(outputs[k])] }
        swap(&source, &out)
        return (outCount, true)
    }
}

/// A set of opcodes as bits (raw values below 128; a tape with a higher one counts as holding
/// every opcode, so no pass is ever skipped for it).
struct OpcodeMask: ExpressibleByArrayLiteral {
    private var low: UInt64 = 0, high: UInt64 = 0

    init(arrayLiteral opcodes: Opcode...) {
        for op in opcodes { insert(op) }
    }

    /// The opcodes of the first `n` instructions.
    init(_ instructions: UnsafePointer<FlatInstruction>, _ n: Int) {
        for i in 0..<n { insert(instructions[i].opcode) }
    }

    @inline(__always) mutating func insert(_ op: Opcode) {
        let raw = Int(op.rawValue)
        if raw < 64 { low |= 1 << UInt64(raw) } else if raw < 128 { high |= 1 << UInt64(raw - 64) } else { low = ~0; high = ~0 }
    }

    @inline(__always) func intersects(_ other: OpcodeMask) -> Bool { low & other.low != 0 || high & other.high != 0 }
}

/// A rewriting pass of ``FlatOptimizer``, as a type: `rewrite` is specialized for each.
private protocol RewritePass { static var pass: OptimizationPasses { get } }
private enum FoldConstants: RewritePass { static var pass: OptimizationPasses { .constantFolding } }
private enum RemoveIdentities: RewritePass { static var pass: OptimizationPasses { .identities } }
private enum FuseConstantOperands: RewritePass { static var pass: OptimizationPasses { .constantOperands } }
private enum MergeCommonSubexpressions: RewritePass { static var pass: OptimizationPasses { .commonSubexpressions } }
private enum FuseMultiplyAdd: RewritePass { static var pass: OptimizationPasses { .multiplyAdd } }
private enum FuseSquaredDifference: RewritePass { static var pass: OptimizationPasses { .squaredDifference } }

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
