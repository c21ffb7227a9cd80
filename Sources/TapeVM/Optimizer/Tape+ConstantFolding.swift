extension Tape {
    /// Constant folding: an instruction whose operands are all constants becomes a constant,
    /// computed by the opcode table's forward rule, which is what every path computes.
    func foldingConstants() -> Tape {
        TapeRewriter.rewrite(self) { w, ins in
            let values = ins.operands.compactMap { w.constantValue($0) }
            guard ins.opcode.arity > 0, values.count == ins.operands.count else { return w.emit(ins) }
            let v = ins.opcode.evaluate(values.count > 0 ? values[0] : 0, values.count > 1 ? values[1] : 0,
                                        values.count > 2 ? values[2] : 0, immediate: ins.immediate)
            return w.emit(Instruction(.const, immediate: v))
        }
    }
}
