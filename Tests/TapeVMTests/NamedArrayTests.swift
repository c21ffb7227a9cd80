import Testing
import TapeVM

@Suite struct NamedArrayTests {
    let tape = try! Tape(expression: "f(x, y; w) = w * x * y")

    @Test func inputsAndParametersByName() throws {
        let program = Program(tape)
        let r = try program.valueAndGradient(["y": [2, 3], "x": [5, 7]], parameters: ["w": 0.5])
        #expect(r.values == [[5, 10.5]])
        #expect(r.gradient("x", in: tape) == [1, 1.5])
        #expect(r.gradient("y", in: tape) == [2.5, 3.5])
        #expect(r.gradient("w", in: tape) == [10 + 21])
        #expect(r.gradient("z", in: tape) == nil)
        #expect(try program.evaluate(["x": [1], "y": [4]], parameters: ["w": 2]) == [[8]])
    }

    @Test func namesThatDoNotFitAreErrors() throws {
        let program = Program(tape)
        #expect(throws: EvaluationError("missing input 'y': the tape's inputs are x, y")) {
            try program.evaluate(["x": [1]], parameters: ["w": 1])
        }
        #expect(throws: EvaluationError("unknown input 'z': the tape's inputs are x, y")) {
            try program.evaluate(["x": [1], "y": [1], "z": [1]], parameters: ["w": 1])
        }
        #expect(throws: EvaluationError("missing parameter 'w': the tape's parameters are w")) {
            try program.evaluate(["x": [1], "y": [1]])
        }
        #expect(throws: EvaluationError("unknown output 'g': the tape's outputs are f")) {
            try program.valueAndGradient(["x": [1], "y": [1]], parameters: ["w": 1], output: "g")
        }
    }
}
