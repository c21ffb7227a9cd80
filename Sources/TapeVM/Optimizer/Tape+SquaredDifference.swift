extension Tape {
    /// Fuses `square(a - b)` into one `sqdiff` (and `square(k - a)`, which constant operands
    /// made `rsubk`, into `sqdiffk`) where the difference has no other use: the
    /// squared residual of every least-squares loss. Values are bit-identical (the same
    /// subtraction and product); the difference's contributions move to the square's place in
    /// the reverse sweep, so gradients are reassociated like ``OptimizationPasses/multiplyAdd``'s.
    func fusingSquaredDifferences() -> Tape {
        let uses = TapeRewriter.useCounts(self)
        var fusable = Set<Register>()  // new registers holding a difference used once
        return TapeRewriter.rewrite(self) { w, ins, source in
            if ins.opcode == .square, fusable.contains(ins.operands[0]) {
                let d = w.defining(ins.operands[0])
                if d.opcode == .rsubk { return w.emit(Instruction(.sqdiffk, [d.operands[0]], immediate: d.immediate)) }
                return w.emit(Instruction(.sqdiff, [d.operands[0], d.operands[1]]))
            }
            let r = w.emit(ins)
            if (ins.opcode == .sub || ins.opcode == .rsubk) && uses[source] == 1 { fusable.insert(r) }
            return r
        }
    }
}
