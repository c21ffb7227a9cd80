import CTapeKernels

/// One instruction of a tangent sweep is a forward instruction (`tv_instr`: opcode, value planes,
/// immediate) whose `active` bits say which operands carry a tangent. Tangent planes are numbered
/// like value planes: the tangent of the register in value plane `p` along direction `d` is
/// tangent plane `p·D + d` (`D` directions), so tangents follow the values' liveness exactly.
typealias TangentInstruction = tv_instr

/// How a tangent sweep (forward mode) lays out a tape: the program's value-only layout
/// (``SweepPlan`` with `gradients: false`) and, per instruction, which operands carry a tangent.
///
/// Tangents start at the input and parameter slots marked active; constants, parameters or
/// inputs that no direction moves, and the results of instructions without a gradient
/// (comparisons) carry none: they are symbolic zeros, as in JAX, so `0·∞` from them cannot make a
/// NaN. An instruction with at least one active operand computes its result's tangent along every
/// direction from its reverse rule (see ``TangentSweep``).
final class TangentPlan: @unchecked Sendable {
    let values: SweepPlan
    let code: CodeBuffer<TangentInstruction>
    /// Value planes of the input slots that carry a tangent (per slot; empty when inactive).
    let inputTangentPlanes: [[Int]]
    /// Value planes of the parameter slots that carry a tangent.
    let parameterTangentPlanes: [[Int]]
    /// Whether each output's tangent can be non-zero (else it is written as 0).
    let outputActive: [Bool]

    init(_ values: SweepPlan, activeInputs: [Bool], activeParameters: [Bool]) {
        self.values = values
        var planeActive = [Bool](repeating: false, count: values.valuePlaneCount)
        func bySlot(_ leaves: [LeafPlane], _ active: [Bool]) -> [[Int]] {
            var planes = [[Int]](repeating: [], count: active.count)
            for leaf in leaves where active[leaf.slot] { planes[leaf.slot].append(leaf.plane) }
            return planes
        }
        inputTangentPlanes = bySlot(values.inputPlanes, activeInputs)
        parameterTangentPlanes = bySlot(values.parameterPlanes, activeParameters)
        for p in inputTangentPlanes.joined() { planeActive[p] = true }
        for p in parameterTangentPlanes.joined() { planeActive[p] = true }
        var code: [TangentInstruction] = []
        code.reserveCapacity(values.forward.count)
        for k in 0..<values.forward.count {
            let x = values.forward.base[k]
            let op = Opcode(rawValue: UInt8(truncatingIfNeeded: x.op))!
            let operands = [x.a, x.b, x.c].prefix(op.arity)
            var active: UInt8 = 0
            if op.info.isDifferentiable {
                for (j, p) in operands.enumerated() where planeActive[Int(p)] { active |= 1 << j }
            }
            var instruction = x
            instruction.active = Int32(active)
            code.append(instruction)
            planeActive[Int(x.dst)] = active != 0
        }
        self.code = CodeBuffer(code)
        outputActive = values.outputPlanes.map { planeActive[$0] }
    }
}
