import Testing
@testable import TapeVM

@Suite struct ExecutorSmokeTests {
    @Test func seedCircuitOnEveryPath() throws {
        let b = TapeBuilder()
        let x = b.input("x"), y = b.input("y"), z = b.input("z")
        b.output("f", b.mul(b.add(x, y), z))
        let tape = try b.build()
        for isa in InstructionSet.supported {
            let p = Program(tape, options: ExecutionOptions(threads: 1, instructionSet: isa))
            let r = try p.valueAndGradient(inputs: [[-2, 1], [5, 1], [-4, 1]])
            #expect(r.values == [[-12, 2]])
            #expect(r.inputGradients == [[-4, 1], [-4, 1], [3, 2]])
        }
    }
}
