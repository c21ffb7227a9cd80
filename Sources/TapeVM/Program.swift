import CTapeKernels

/// An executable plan for a ``Tape``: what the SIMD executor runs.
///
/// A program lays the tape's registers out as planes of a tile workspace, splits the leaves
/// (inputs loaded per tile, parameters and constants filled once per worker) from the compute
/// instructions the kernels sweep over, and fixes the code path and tile size. Make one per
/// tape and reuse it: it is immutable and `Sendable`, so many threads may run it at once.
public final class Program: Sendable {
    /// The tape this program runs.
    public let tape: Tape
    /// How it runs.
    public let options: ExecutionOptions

    /// Compute instructions in sweep order (leaves excluded).
    let code: [tv_instr]
    /// Number of register planes in a tile workspace.
    let planeCount: Int
    /// For each input slot, the planes its value is loaded into.
    let inputPlanes: [[Int]]
    /// For each parameter slot, the planes holding it.
    let parameterPlanes: [[Int]]
    /// Constant planes and their values.
    let constants: [(plane: Int, value: Double)]
    /// The plane of each output.
    let outputPlanes: [Int]

    /// Compiles `tape` for execution.
    public init(_ tape: Tape, options: ExecutionOptions = ExecutionOptions()) {
        self.tape = tape
        self.options = options
        var code: [tv_instr] = []
        var inputPlanes = [[Int]](repeating: [], count: tape.inputs.count)
        var parameterPlanes = [[Int]](repeating: [], count: tape.parameters.count)
        var constants: [(plane: Int, value: Double)] = []
        for (i, ins) in tape.instructions.enumerated() {
            switch ins.opcode {
            case .input: inputPlanes[Int(ins.immediate)].append(i)
            case .param: parameterPlanes[Int(ins.immediate)].append(i)
            case .const: constants.append((i, ins.immediate))
            default:
                let o = ins.operands.map { Int32($0.index) }
                code.append(tv_instr(
                    op: Int32(ins.opcode.rawValue), dst: Int32(i),
                    a: o.count > 0 ? o[0] : 0, b: o.count > 1 ? o[1] : 0, c: o.count > 2 ? o[2] : 0,
                    reserved: 0, imm: ins.immediate))
            }
        }
        self.code = code
        self.planeCount = Swift.max(1, tape.registerCount)
        self.inputPlanes = inputPlanes
        self.parameterPlanes = parameterPlanes
        self.constants = constants
        self.outputPlanes = tape.outputs.map(\.register.index)
    }

    /// Bytes of one worker's workspace (value and adjoint planes of one tile).
    public var workspaceBytes: Int { 2 * planeCount * options.resolvedTileSize * MemoryLayout<Double>.stride }
}
