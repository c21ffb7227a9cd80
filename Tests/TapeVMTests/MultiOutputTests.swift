import Testing
@testable import TapeVM

/// One output's gradient never depends on the other outputs: an output seeded with zero is
/// left out of the reverse sweep (a symbolic zero, as in JAX), so its NaNs and infinities
/// cannot leak into a shared input through 0·∞.
@Suite struct MultiOutputTests {
    @Test(arguments: InstructionSet.supported)
    func jacobianRowsAreIndependent(isa: InstructionSet) throws {
        let tape = try Tape(expression: "f(x, y) = (x * y, x / y)")
        let rows = try Program(tape, options: ExecutionOptions(threads: 1, instructionSet: isa))
            .jacobian(inputs: [[3, 2], [0, 4]])
        // Row 0: ∂(x·y) = (y, x); at y = 0 that is (0, 3), although x/y is infinite there.
        #expect(rows[0].inputGradients == [[0, 4], [3, 2]])
        // Row 1: ∂(x/y)/∂x = 1/y.
        #expect(rows[1].inputGradients[0] == [.infinity, 0.25])
        // The reference agrees.
        let ref = ReferenceInterpreter(tape).gradient(inputs: [3, 0], seeds: [1, 0])
        #expect(ref.inputs == [0, 3])
    }

    @Test func anOutputsDomainErrorStaysInItsOwnRow() throws {
        let tape = try Tape(expression: """
            f(x; w, b) = w * x + b
            g(x; w, b) = sqrt(x)
            """)
        let r = try Program(tape).valueAndGradient(inputs: [[-1]], parameters: [2, 1], output: 0)
        #expect(r.inputGradients == [[2]])
        #expect(r.parameterGradientSum == [-1, 1])
        #expect(r.values[1][0].isNaN)
        // Both seeded: now the NaN of sqrt'(-1) is part of the requested combination.
        let both = try Program(tape).valueAndGradient(inputs: [[-1]], parameters: [2, 1], seeds: [1, 1])
        #expect(both.inputGradients[0][0].isNaN)
    }
}

@Suite struct ParameterOnlyTapeTests {
    /// A function of parameters only is evaluated at one point by the array API.
    @Test func aTapeWithoutInputsIsOnePoint() throws {
        let tape = try Tape(expression: "f(; w, b) = w * b + w")
        let r = try Program(tape).valueAndGradient(inputs: [], parameters: [3, 2])
        #expect(r.values == [[9]])
        #expect(r.parameterGradientSum == [3, 3])
    }
}
