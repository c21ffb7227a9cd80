import Testing
@testable import TapeVM

/// The optimizer's and planner's cached opcode facts agree with the opcode table.
@Suite struct PlannerTests {
    @Test func flatArityIsTheTablesArity() {
        for op in Opcode.allCases { #expect(op.flatArity == op.info.arity, "\(op)") }
    }

    /// A program plans its gradient sweep on first use, with the tile size it would have had
    /// planned eagerly (the sums depend on the tile).
    @Test func lazyGradientPlanKeepsTheTileSize() throws {
        for n in [3, 30, 31, 32, 100, 400] {
            let tape = Tape.random(instructions: n, inputs: 3, parameters: 2, seed: UInt64(n))
            let program = Program(tape, options: ExecutionOptions(threads: 1))
            let plan = program.withGradients
            #expect(program.tileSize == program.options.resolvedTileSize(planes: plan.valuePlaneCount + plan.reverse.adjointPlaneCount))
        }
    }
}
