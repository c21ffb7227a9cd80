import Foundation
import Testing
@testable import TapeVM

/// Reverse mode as a source transformation (Tape.gradientTape), and the second derivatives
/// it gives by differentiating again.
@Suite struct SecondOrderTests {
    /// The gradient tape's outputs are the executor's gradient, bit for bit, on random tapes
    /// with every opcode and awkward points (sin and cos held to DifferentialTests' tolerance).
    @Test(arguments: [OptimizationPasses.none, .all])
    func gradientTapeMatchesTheReverseSweep(passes: OptimizationPasses) throws {
        var rng = SplitMix64(seed: 2024)
        for t in 0..<300 {
            let tape = Tape.random(instructions: Int.random(in: 1...20, using: &rng), inputs: 3, parameters: 2,
                                   outputs: 2, opcodes: DifferentialTests.exactOpcodes, seed: UInt64(7000 + t))
            let output = t % 2
            let gradient = try tape.gradientTape(output: output)
            let inputs = DifferentialTests.points(count: 9, inputs: 3, rng: &rng)
            let parameters = [Double.random(in: -2...2, using: &rng), DifferentialTests.specials[t % DifferentialTests.specials.count]]
            let options = ExecutionOptions(threads: 1, tileSize: 8, optimization: passes)
            let want = try Program(tape, options: ExecutionOptions(threads: 1, tileSize: 8, optimization: .none))
                .valueAndGradient(inputs: inputs, parameters: parameters, output: output, parameterGradient: .perPoint)
            let got = try Program(gradient, options: options).evaluate(inputs: inputs, parameters: parameters)
            let n = tape.outputs.count
            for i in 0..<9 {
                for j in 0..<3 where !DifferentialTests.same(got[n + j][i], want.inputGradients[j][i]) {
                    Issue.record("tape \(t) ∂/∂x\(j) at \(i): \(got[n + j][i]) != \(want.inputGradients[j][i])\n\(tape.text)")
                    return
                }
                for p in 0..<2 where !DifferentialTests.same(got[n + 3 + p][i], want.parameterGradients[p][i]) {
                    Issue.record("tape \(t) ∂/∂w\(p) at \(i): \(got[n + 3 + p][i]) != \(want.parameterGradients[p][i])\n\(tape.text)")
                    return
                }
            }
        }
    }

    /// The Rosenbrock function's Hessian, from the Jacobian of its gradient tape, against the
    /// hand-derived one.
    @Test func rosenbrockHessian() throws {
        let tape = try Tape(expression: "f(x, y) = (1 - x)^2 + 100 * (y - x^2)^2")
        let hessian = try Program(tape.gradientTape()).jacobian(inputs: [[1.5], [-0.5]])
        // Rows of the Jacobian: outputs f, ∂f/∂x, ∂f/∂y; columns: x, y.
        let (x, y) = (1.5, -0.5)
        let want = [[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]]
        for r in 0..<2 {
            for c in 0..<2 {
                #expect(Swift.abs(hessian[1 + r].inputGradients[c][0] - want[r][c]) < 1e-9 * Swift.max(1, Swift.abs(want[r][c])))
            }
        }
    }

    /// Hessian-vector products against central differences of the gradient, on smooth random tapes.
    @Test func hessianVectorProductsMatchFiniteDifferences() throws {
        var rng = SplitMix64(seed: 11)
        for t in 0..<20 {
            let tape = Tape.random(instructions: 25, inputs: 3, opcodes: Tape.smoothOpcodes, seed: UInt64(300 + t))
            let hvp = try Program(tape.hessianVectorTape())
            let grad = Program(tape)
            let x = (0..<3).map { _ in Double.random(in: -1...1, using: &rng) }
            let v = (0..<3).map { _ in Double.random(in: -1...1, using: &rng) }
            let hv = try hvp.valueAndGradient(inputs: (x + v).map { [$0] }).inputGradients.prefix(3).map { $0[0] }
            let h = 1e-5
            let plus = try grad.valueAndGradient(inputs: zip(x, v).map { [$0 + h * $1] }).inputGradients.map { $0[0] }
            let minus = try grad.valueAndGradient(inputs: zip(x, v).map { [$0 - h * $1] }).inputGradients.map { $0[0] }
            for j in 0..<3 {
                let fd = (plus[j] - minus[j]) / (2 * h)
                #expect(Swift.abs(hv[j] - fd) <= 1e-5 * Swift.max(1, Swift.abs(fd)), "tape \(t) component \(j): \(hv[j]) vs \(fd)")
            }
        }
    }

    @Test func outputOutOfRangeIsAnError() throws {
        let tape = try Tape(expression: "f(x) = x")
        #expect(throws: TapeError.self) { try tape.gradientTape(output: 1) }
    }
}
