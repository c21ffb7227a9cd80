extension Tape {
    /// Fuses `square(a - b)` into one `sqdiff` where the difference has no other use: the
    /// squared residual of every least-squares loss. Values are bit-identical (the same
    /// subtraction and product); the difference's contributions move to the square's place in
    /// the reverse sweep, so gradients are reassociated like ``OptimizationPasses/multiplyAdd``'s.
    func fusingSquaredDifferences() -> Tape {
        let uses = TapeRewriter.useCounts(self)
        var fusable = Set<Register>()  // new registers holding a difference used once
        return TapeRewriter.rewrite(self) { w, ins, source in
            if ins.opcode == .square, fusable.contains(ins.operands[0]) {
                let d = w.defining(ins.operands[0]).operands
                return w.emit(Instruction(.sqdiff, [d[0], d[1]]))
            }
            let r = w.emit(ins)
            if ins.opcode == .sub && uses[source] == 1 { fusable.insert(r) }
            return r
        }
    }
}
