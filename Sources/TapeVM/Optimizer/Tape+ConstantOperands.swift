extension Tape {
    /// Folds a constant operand into the immediate of a fused opcode, saving a register plane
    /// read per point and, in the reverse sweep, the constant's useless adjoint. Each rewrite
    /// computes the same IEEE operation: `x - k` is `x + (-k)` exactly. Also turns `powi(x, 2)`
    /// into `square(x)` (the same multiplications, without the exponent loop).
    func fusingConstantOperands() -> Tape {
        TapeRewriter.rewrite(self) { w, ins in
            let o = ins.operands
            let k0 = o.count > 0 ? w.constantValue(o[0]) : nil
            let k1 = o.count > 1 ? w.constantValue(o[1]) : nil
            switch ins.opcode {
            case .add where k1 != nil: return w.emit(Instruction(.addk, [o[0]], immediate: k1!))
            case .add where k0 != nil: return w.emit(Instruction(.addk, [o[1]], immediate: k0!))
            case .sub where k1 != nil: return w.emit(Instruction(.addk, [o[0]], immediate: -k1!))
            case .sub where k0 != nil: return w.emit(Instruction(.rsubk, [o[1]], immediate: k0!))
            case .mul where k1 != nil: return w.emit(Instruction(.mulk, [o[0]], immediate: k1!))
            case .mul where k0 != nil: return w.emit(Instruction(.mulk, [o[1]], immediate: k0!))
            case .div where k1 != nil: return w.emit(Instruction(.divk, [o[0]], immediate: k1!))
            case .div where k0 != nil: return w.emit(Instruction(.rdivk, [o[1]], immediate: k0!))
            // powi by 2 computes 1·(a·a) and ∂ = g·(2·(1·a)): exactly square's a·a and g·(2·a).
            case .powi where ins.immediate == 2: return w.emit(Instruction(.square, [o[0]]))
            default: return w.emit(ins)
            }
        }
    }
}
