extension Tape {
    /// Common-subexpression elimination: an instruction identical to an earlier one (same
    /// opcode, operands and immediate bits; `add`/`mul` operands in either order) reuses it.
    func mergingCommonSubexpressions() -> Tape {
        struct Key: Hashable {
            let opcode: Opcode
            let operands: [Register]
            let immediate: UInt64
        }
        var seen: [Key: Register] = [:]
        return TapeRewriter.rewrite(self) { w, ins in
            var operands = ins.operands
            if ins.opcode == .add || ins.opcode == .mul, operands[1] < operands[0] { operands.swapAt(0, 1) }
            let key = Key(opcode: ins.opcode, operands: operands, immediate: ins.immediate.bitPattern)
            if let r = seen[key] { return r }
            let r = w.emit(ins)
            seen[key] = r
            return r
        }
    }
}
