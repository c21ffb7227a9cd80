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
            #expect(program.tileSize == program.options.resolvedTileSize(planes: plan.tilePlaneCount + plan.reverse.adjointPlaneCount))
            #expect(plan.tilePlaneCount <= plan.valuePlaneCount)
        }
    }

    /// Instructions of parameters and constants only run once per workspace, before the tiles:
    /// values and gradients are still the reference interpreter's, bit for bit (exact passes),
    /// on full and partial tiles, and outputs that are such instructions are copied out.
    @Test func uniformInstructionsRunOncePerWorkspace() throws {
        let tape = try Tape(expression: """
            f(x, y; a, b) = sin(a) * x + exp(a * b) / (y + cos(b)) + tanh(a - b) * (x - sin(a))
            """)
        let onlyParameters = try Tape(expression: "g(x; a, b) = exp(a) * cos(b)")
        for t in [tape, onlyParameters] {
            let program = Program(t, options: ExecutionOptions(threads: 1, tileSize: 16, optimization: .exact))
            #expect(program.withGradients.uniform.count > 0)
            #expect(program.withGradients.uniform.count + program.withGradients.perTile.count == program.withGradients.forward.count)
            let n = 37  // two full tiles and a partial one
            let inputs = t.inputs.indices.map { j in (0..<n).map { Double($0) * 0.1 - 1.7 + Double(j) } }
            let parameters = [0.7, -1.3]
            let r = try program.valueAndGradient(inputs: inputs, parameters: parameters, parameterGradient: .perPoint)
            let reference = ReferenceInterpreter(t)
            for i in 0..<n {
                let g = reference.gradient(inputs: inputs.map { $0[i] }, parameters: parameters)
                #expect(r.values[0][i].bitPattern == g.values[0].bitPattern)
                for j in t.inputs.indices { #expect(r.inputGradients[j][i].bitPattern == g.inputs[j].bitPattern) }
                for p in t.parameters.indices { #expect(r.parameterGradients[p][i].bitPattern == g.parameters[p].bitPattern) }
            }
            let values = try program.evaluate(inputs: inputs, parameters: parameters)
            for i in 0..<n { #expect(values[0][i].bitPattern == r.values[0][i].bitPattern) }
        }
    }
}
