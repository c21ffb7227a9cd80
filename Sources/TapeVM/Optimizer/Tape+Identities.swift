extension Tape {
    /// Algebraic identities that hold bit for bit in IEEE arithmetic, signed zeros included:
    /// `x·1`, `1·x`, `x/1`, `x + (-0)`, `(-0) + x`, `x - (+0)`, `-(-x)` are all `x`.
    /// (`x + 0` is not: `-0 + 0 = +0`.)
    func removingIdentities() -> Tape {
        TapeRewriter.rewrite(self) { w, ins in
            let o = ins.operands
            func isConst(_ r: Register, _ bits: Double) -> Bool {
                w.constantValue(r).map { $0.bitPattern == bits.bitPattern } ?? false
            }
            switch ins.opcode {
            case .mul where isConst(o[1], 1): return o[0]
            case .mul where isConst(o[0], 1): return o[1]
            case .div where isConst(o[1], 1): return o[0]
            case .add where isConst(o[1], -0.0): return o[0]
            case .add where isConst(o[0], -0.0): return o[1]
            case .sub where isConst(o[1], 0.0): return o[0]
            case .mulk where ins.immediate == 1, .divk where ins.immediate == 1: return o[0]
            case .addk where ins.immediate.bitPattern == (-0.0).bitPattern: return o[0]
            case .neg where w.defining(o[0]).opcode == .neg: return w.defining(o[0]).operands[0]
            default: return w.emit(ins)
            }
        }
    }
}
