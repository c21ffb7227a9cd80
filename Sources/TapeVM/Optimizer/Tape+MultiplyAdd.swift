extension Tape {
    /// Fuses `a·b + c` (and `c + a·b`) into one `muladd`, and `a·k + c` into `mulkadd`, where
    /// the product has no other use:
    /// one instruction and one register plane fewer, forward and reverse. `muladd` rounds twice,
    /// like the pair it replaces, so values are bit-identical. Gradients are reassociated: the
    /// contributions to `a` and `b` are now added at the `add`'s place in the reverse sweep
    /// rather than the `mul`'s, so sums into a shared adjoint can round differently (and a -0
    /// adjoint is no longer turned into +0 on the way).
    func fusingMultiplyAdd() -> Tape {
        let uses = TapeRewriter.useCounts(self)
        var fusable = Set<Register>()  // new registers holding a product used once
        return TapeRewriter.rewrite(self) { w, ins, source in
            if ins.opcode == .add {
                let (a, b) = (ins.operands[0], ins.operands[1])
                for (product, addend) in [(a, b), (b, a)] where product != addend && fusable.contains(product) {
                    let m = w.defining(product)
                    if m.opcode == .mulk {
                        return w.emit(Instruction(.mulkadd, [m.operands[0], addend], immediate: m.immediate))
                    }
                    return w.emit(Instruction(.muladd, [m.operands[0], m.operands[1], addend]))
                }
            }
            let r = w.emit(ins)
            if (ins.opcode == .mul || ins.opcode == .mulk) && uses[source] == 1 { fusable.insert(r) }
            return r
        }
    }
}
