import Foundation
import Testing
@testable import TapeVM

/// Invalid tapes and invalid evaluation arguments: each is reported with a typed error that
/// names the culprit, never a trap. And batch sizes around the 8-lane blocks and tiles,
/// including none at all and a large odd one over two threads.
@Suite struct ErrorPathTests {
    // MARK: - Invalid tapes

    /// Expects making the tape to throw `kind` at `instruction`, with every string of
    /// `mentions` in the message.
    static func expectInvalid(_ kind: TapeError.Kind, at instruction: Int?, mentioning mentions: [String] = [],
                              _ instructions: [Instruction], inputs: [String] = ["x"], parameters: [String] = [],
                              outputs: [Output]? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let outputs = outputs ?? [Output(name: "y", register: Register(Swift.max(0, instructions.count - 1)))]
        do {
            let tape = try Tape(instructions: instructions, inputs: inputs, parameters: parameters, outputs: outputs)
            Issue.record("expected \(kind), but the tape was accepted: \(tape.instructions)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
            #expect(error.instruction == instruction, "\(error)", sourceLocation: sourceLocation)
            for m in mentions {
                #expect(error.message.contains(m), "message \"\(error.message)\" should mention \(m)", sourceLocation: sourceLocation)
            }
            if let instruction {
                #expect(error.description.contains("instruction \(instruction)"), "\(error.description)", sourceLocation: sourceLocation)
            }
        }
    }

    static let x = Instruction(.input, immediate: 0)

    @Test func wrongArityIsReportedAtTheInstruction() {
        Self.expectInvalid(.wrongArity, at: 1, mentioning: ["neg", "1", "2"], [Self.x, Instruction(.neg, [Register(0), Register(0)])])
        Self.expectInvalid(.wrongArity, at: 2, mentioning: ["add"], [Self.x, Instruction(.exp, [Register(0)]), Instruction(.add, [Register(1)])])
        Self.expectInvalid(.wrongArity, at: 1, mentioning: ["select"], [Self.x, Instruction(.select, [Register(0), Register(0)])])
        Self.expectInvalid(.wrongArity, at: 1, mentioning: ["input"], [Self.x, Instruction(.input, [Register(0)])])
        Self.expectInvalid(.wrongArity, at: 0, mentioning: ["const"], [Instruction(.const, [Register(0)], immediate: 1)])
    }

    @Test func operandsMustBeEarlierRegisters() {
        // A forward reference, a self reference, a negative register, one far out of range.
        Self.expectInvalid(.operandOutOfOrder, at: 1, mentioning: ["r2", "r0...r0"],
                           [Self.x, Instruction(.exp, [Register(2)]), Instruction(.neg, [Register(0)])])
        Self.expectInvalid(.operandOutOfOrder, at: 1, mentioning: ["r1"], [Self.x, Instruction(.exp, [Register(1)])])
        Self.expectInvalid(.operandOutOfOrder, at: 2, mentioning: ["r-1"],
                           [Self.x, Instruction(.exp, [Register(0)]), Instruction(.mul, [Register(1), Register(-1)])])
        Self.expectInvalid(.operandOutOfOrder, at: 1, [Self.x, Instruction(.muladd, [Register(0), Register(0), Register(Int.max)])])
        Self.expectInvalid(.operandOutOfOrder, at: 1, [Self.x, Instruction(.add, [Register(Int.min), Register(0)])])
    }

    @Test func leafSlotsMustBeInRange() {
        Self.expectInvalid(.slotOutOfRange, at: 1, mentioning: ["input", "1 input"], [Self.x, Instruction(.input, immediate: 1)])
        Self.expectInvalid(.slotOutOfRange, at: 0, [Instruction(.input, immediate: -1)])
        Self.expectInvalid(.slotOutOfRange, at: 0, [Instruction(.input, immediate: 0.5)])
        Self.expectInvalid(.slotOutOfRange, at: 0, [Instruction(.input, immediate: .nan)])
        Self.expectInvalid(.slotOutOfRange, at: 0, [Instruction(.input, immediate: 1e300)])
        Self.expectInvalid(.slotOutOfRange, at: 0, [Instruction(.input, immediate: .infinity)])
        Self.expectInvalid(.slotOutOfRange, at: 1, mentioning: ["param", "0 parameter"], [Self.x, Instruction(.param, immediate: 0)])
        Self.expectInvalid(.slotOutOfRange, at: 2, mentioning: ["param", "2 parameter"],
                           [Self.x, Instruction(.param, immediate: 1), Instruction(.param, immediate: 2)],
                           parameters: ["a", "b"])
    }

    @Test func powiNeedsAnIntegerExponent() {
        for bad in [1.5, -0.25, .nan, .infinity, -.infinity, 2e6, 1e300] {
            Self.expectInvalid(.invalidInstruction, at: 1, mentioning: ["powi"], [Self.x, Instruction(.powi, [Register(0)], immediate: bad)])
        }
        // The accepted extremes.
        for good in [1_000_000.0, -1_000_000, 0, -0.0] {
            #expect(throws: Never.self) {
                try Tape(instructions: [Self.x, Instruction(.powi, [Register(0)], immediate: good)], inputs: ["x"],
                         outputs: [Output(name: "y", register: Register(1))])
            }
        }
    }

    @Test func immediateOnAnOpcodeWithoutOneIsRejected() {
        Self.expectInvalid(.invalidInstruction, at: 1, mentioning: ["add", "immediate"],
                           [Self.x, Instruction(.add, [Register(0), Register(0)], immediate: 1)])
        Self.expectInvalid(.invalidInstruction, at: 1, mentioning: ["neg"], [Self.x, Instruction(.neg, [Register(0)], immediate: .nan)])
        Self.expectInvalid(.invalidInstruction, at: 1, mentioning: ["lt"],
                           [Self.x, Instruction(.lt, [Register(0), Register(0)], immediate: -0.5)])
    }

    @Test func tapeNeedsAnOutputInRange() {
        Self.expectInvalid(.noOutputs, at: nil, [Self.x], outputs: [])
        Self.expectInvalid(.outputOutOfRange, at: nil, mentioning: ["'y'", "r1", "1 register"], [Self.x],
                           outputs: [Output(name: "y", register: Register(1))])
        Self.expectInvalid(.outputOutOfRange, at: nil, mentioning: ["'z'"], [Self.x],
                           outputs: [Output(name: "y", register: Register(0)), Output(name: "z", register: Register(-1))])
        // An empty tape has no register to name.
        Self.expectInvalid(.outputOutOfRange, at: nil, [], inputs: [], outputs: [Output(name: "y", register: Register(0))])
    }

    @Test func namesMustBeUniqueAndNonEmpty() {
        Self.expectInvalid(.duplicateName, at: nil, mentioning: ["input", "'x'"], [Self.x], inputs: ["x", "x"])
        Self.expectInvalid(.duplicateName, at: nil, mentioning: ["parameter", "'w'"], [Self.x], parameters: ["w", "v", "w"])
        Self.expectInvalid(.duplicateName, at: nil, mentioning: ["output", "'y'"], [Self.x],
                           outputs: [Output(name: "y", register: Register(0)), Output(name: "y", register: Register(0))])
        Self.expectInvalid(.duplicateName, at: nil, mentioning: ["'x'", "input", "parameter"], [Self.x], parameters: ["x"])
        Self.expectInvalid(.invalidName, at: nil, mentioning: ["input"], [Self.x], inputs: [""])
        Self.expectInvalid(.invalidName, at: nil, mentioning: ["parameter"], [Self.x], parameters: [""])
        Self.expectInvalid(.invalidName, at: nil, mentioning: ["output"], [Self.x], outputs: [Output(name: "", register: Register(0))])
    }

    @Test func builderReportsTheSameErrorsAtTheRightInstruction() throws {
        let b = TapeBuilder()
        let x = b.input("x")
        _ = b.exp(x)
        _ = b.emit(.add, [x])  // instruction 2: one operand short
        b.output("y", x)
        #expect(throws: TapeError(.wrongArity, "add takes 2 operand(s), got 1", instruction: 2)) { try b.build() }

        let clash = TapeBuilder()
        let a = clash.input("a")
        clash.output("y", clash.add(a, clash.parameter("a")))
        do {
            _ = try clash.build()
            Issue.record("input and parameter both named 'a' were accepted")
        } catch {
            #expect(error.kind == .duplicateName && error.message.contains("'a'"), "\(error)")
        }
    }

    // MARK: - Codable

    static func validTape() throws -> Tape {
        let b = TapeBuilder()
        let x = b.input("x"), w = b.parameter("w")
        b.output("y", b.powi(b.mul(x, w), 3))
        return try b.build()
    }

    /// The JSON object of a valid tape, to corrupt.
    static func json(of tape: Tape) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(tape)) as? [String: Any])
    }

    static func decode(_ object: [String: Any]) throws -> Tape {
        try JSONDecoder().decode(Tape.self, from: JSONSerialization.data(withJSONObject: object))
    }

    @Test func codableRoundTripsAValidTape() throws {
        let tape = try Self.validTape()
        #expect(try Self.decode(Self.json(of: tape)) == tape)
    }

    @Test func decodingAnInvalidTapeThrowsTheValidationError() throws {
        let tape = try Self.validTape()
        let good = try Self.json(of: tape)
        var instructions = try #require(good["instructions"] as? [[String: Any]])

        // The mul (instruction 2) reading r3: a forward reference.
        var forward = good
        instructions[2]["operands"] = [["index": 0], ["index": 3]]
        forward["instructions"] = instructions
        do {
            _ = try Self.decode(forward)
            Issue.record("a tape with a forward reference decoded")
        } catch let error as TapeError {
            #expect(error.kind == .operandOutOfOrder && error.instruction == 2, "\(error)")
        }

        // A non-integer powi exponent.
        instructions = try #require(good["instructions"] as? [[String: Any]])
        var fractional = good
        instructions[3]["immediate"] = 2.5
        fractional["instructions"] = instructions
        do {
            _ = try Self.decode(fractional)
            Issue.record("a tape with powi 2.5 decoded")
        } catch let error as TapeError {
            #expect(error.kind == .invalidInstruction && error.instruction == 3, "\(error)")
        }

        // No outputs; a parameter named like the input.
        var noOutputs = good
        noOutputs["outputs"] = [Any]()
        #expect(throws: TapeError.self) { try Self.decode(noOutputs) }
        var clash = good
        clash["parameters"] = ["x"]
        #expect(throws: TapeError.self) { try Self.decode(clash) }

        // Malformed JSON is a DecodingError: an unknown opcode number, a missing key.
        instructions = try #require(good["instructions"] as? [[String: Any]])
        var unknownOpcode = good
        instructions[2]["opcode"] = 200
        unknownOpcode["instructions"] = instructions
        #expect(throws: DecodingError.self) { try Self.decode(unknownOpcode) }
        var missing = good
        missing["outputs"] = nil
        #expect(throws: DecodingError.self) { try Self.decode(missing) }
    }

    // MARK: - Evaluation errors

    /// Inputs x, y; parameter w; outputs f = x·w + y and g = x·y.
    static func twoOutputTape() throws -> Tape {
        let b = TapeBuilder()
        let x = b.input("x"), y = b.input("y"), w = b.parameter("w")
        b.output("f", b.add(b.mul(x, w), y))
        b.output("g", b.mul(x, y))
        return try b.build()
    }

    /// Expects `body` to throw an ``EvaluationError`` whose message mentions every string.
    static func expectEvaluationError(mentioning mentions: [String], sourceLocation: SourceLocation = #_sourceLocation,
                                      _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected an EvaluationError mentioning \(mentions)", sourceLocation: sourceLocation)
        } catch let error as EvaluationError {
            for m in mentions {
                #expect(error.message.contains(m), "message \"\(error.message)\" should mention \(m)", sourceLocation: sourceLocation)
            }
            #expect(error.description == error.message, sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected an EvaluationError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func wrongInputColumnCountNamesTheInputs() throws {
        let p = Program(try Self.twoOutputTape(), options: ExecutionOptions(threads: 1))
        Self.expectEvaluationError(mentioning: ["2 input column", "x, y", "got 1"]) { _ = try p.evaluate(inputs: [[1]], parameters: [1]) }
        Self.expectEvaluationError(mentioning: ["got 3"]) { _ = try p.evaluate(inputs: [[1], [2], [3]], parameters: [1]) }
        Self.expectEvaluationError(mentioning: ["got 0"]) { _ = try p.valueAndGradient(inputs: [], parameters: [1]) }
        Self.expectEvaluationError(mentioning: ["got 1"]) { _ = try p.jacobian(inputs: [[1]], parameters: [1]) }
    }

    @Test func mismatchedColumnLengthsNameTheColumn() throws {
        let p = Program(try Self.twoOutputTape(), options: ExecutionOptions(threads: 1))
        Self.expectEvaluationError(mentioning: ["'y'", "1 value", "'x' has 2"]) {
            _ = try p.evaluate(inputs: [[1, 2], [3]], parameters: [1])
        }
        Self.expectEvaluationError(mentioning: ["'y'", "3 value"]) {
            _ = try p.valueAndGradient(inputs: [[1, 2], [3, 4, 5]], parameters: [1])
        }
        Self.expectEvaluationError(mentioning: ["'y'", "0 value"]) {
            _ = try p.jacobian(inputs: [[1, 2], []], parameters: [1])
        }
    }

    @Test func wrongParameterCountNamesTheParameters() throws {
        let p = Program(try Self.twoOutputTape(), options: ExecutionOptions(threads: 1))
        Self.expectEvaluationError(mentioning: ["1 parameter value", "(w)", "got 0"]) { _ = try p.evaluate(inputs: [[1], [2]]) }
        Self.expectEvaluationError(mentioning: ["got 2"]) { _ = try p.valueAndGradient(inputs: [[1], [2]], parameters: [1, 2]) }
    }

    @Test func wrongSeedCountAndOutputIndexAreReported() throws {
        let p = Program(try Self.twoOutputTape(), options: ExecutionOptions(threads: 1))
        Self.expectEvaluationError(mentioning: ["2 seed", "got 1"]) {
            _ = try p.valueAndGradient(inputs: [[1], [2]], parameters: [1], seeds: [1])
        }
        Self.expectEvaluationError(mentioning: ["2 seed", "got 3"]) {
            _ = try p.valueAndGradient(inputs: [[1], [2]], parameters: [1], seeds: [1, 0, 0])
        }
        Self.expectEvaluationError(mentioning: ["output index 2", "2 output"]) {
            _ = try p.valueAndGradient(inputs: [[1], [2]], parameters: [1], output: 2)
        }
        Self.expectEvaluationError(mentioning: ["output index -1"]) {
            _ = try p.valueAndGradient(inputs: [[1], [2]], parameters: [1], output: -1)
        }
    }

    @Test func pointerLevelRunChecksItsArguments() throws {
        let p = Program(try Self.twoOutputTape(), options: ExecutionOptions(threads: 1))
        let xs: [Double] = [1, 2], ys: [Double] = [3, 4]
        var out = [Double](repeating: 0, count: 2)
        try xs.withUnsafeBufferPointer { xb in
            try ys.withUnsafeBufferPointer { yb in
                try out.withUnsafeMutableBufferPointer { ob in
                    let ins = [xb.baseAddress!, yb.baseAddress!]
                    let o = ob.baseAddress!
                    Self.expectEvaluationError(mentioning: ["negative", "-1"]) {
                        try p.run(count: -1, inputs: ins, parameters: [1], values: [])
                    }
                    Self.expectEvaluationError(mentioning: ["2 output value destination", "got 1"]) {
                        try p.run(count: 2, inputs: ins, parameters: [1], values: [o])
                    }
                    Self.expectEvaluationError(mentioning: ["gradient request 1", "2 seed"]) {
                        try p.run(count: 2, inputs: ins, parameters: [1], values: [],
                                  gradients: [GradientRequest(seeds: [1, 0]), GradientRequest(seeds: [1])])
                    }
                    Self.expectEvaluationError(mentioning: ["gradient request 0", "2 input gradient destination", "got 1"]) {
                        try p.run(count: 2, inputs: ins, parameters: [1], values: [],
                                  gradients: [GradientRequest(seeds: [1, 0], inputGradients: [o])])
                    }
                    Self.expectEvaluationError(mentioning: ["1 parameter gradient destination", "got 2"]) {
                        try p.run(count: 2, inputs: ins, parameters: [1], values: [],
                                  gradients: [GradientRequest(seeds: [1, 0], parameterGradients: [o, o])])
                    }
                    // A valid call after the failures still works.
                    try p.run(count: 2, inputs: ins, parameters: [1], values: [o, nil])
                }
            }
        }
        #expect(out == [4.0, 6.0])  // f = x·w + y with w = 1
    }

    // MARK: - Batch sizes

    @Test func emptyBatchGivesEmptyColumns() throws {
        let tape = try Self.twoOutputTape()
        for options in [ExecutionOptions(threads: 1), ExecutionOptions(threads: 2, tileSize: 8)] {
            let p = Program(tape, options: options)
            #expect(try p.evaluate(inputs: [[], []], parameters: [2]) == [[], []])
            let summed = try p.valueAndGradient(inputs: [[], []], parameters: [2])
            #expect(summed.values == [[], []])
            #expect(summed.inputGradients == [[], []])
            #expect(summed.parameterGradients.isEmpty)
            #expect(summed.parameterGradientSum == [0])
            let perPoint = try p.valueAndGradient(inputs: [[], []], parameters: [2], parameterGradient: .perPoint)
            #expect(perPoint.parameterGradients == [[]])
            #expect(perPoint.parameterGradientSum.isEmpty)
            let jacobian = try p.jacobian(inputs: [[], []], parameters: [2])
            #expect(jacobian.count == 2)
            #expect(jacobian.allSatisfy { $0.values == [[], []] && $0.inputGradients == [[], []] })
        }
    }

    static func same(_ a: Double, _ b: Double) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    /// Runs a random tape (every opcode but sin/cos, so results are bit-exact) over `n` points and
    /// compares with the reference at `sample` of them.
    static func checkBatch(n: Int, threads: Int, tile: Int, sample: [Int]) throws {
        let tape = Tape.random(instructions: 30, inputs: 2, parameters: 2, outputs: 2,
                               opcodes: Opcode.allCases.filter { $0.arity > 0 && $0 != .sin && $0 != .cos }, seed: 77)
        var rng = SplitMix64(seed: UInt64(n))
        let inputs = (0..<2).map { _ in (0..<n).map { _ in Double.random(in: -2...2, using: &rng) } }
        let parameters = [0.75, -1.5]
        let program = Program(tape, options: ExecutionOptions(threads: threads, tileSize: tile))
        let perPoint = try program.valueAndGradient(inputs: inputs, parameters: parameters, parameterGradient: .perPoint)
        let summed = try program.valueAndGradient(inputs: inputs, parameters: parameters, parameterGradient: .summed)
        #expect(perPoint.values.allSatisfy { $0.count == n })
        #expect(perPoint.inputGradients.allSatisfy { $0.count == n })
        #expect(perPoint.parameterGradients.allSatisfy { $0.count == n })
        let reference = ReferenceInterpreter(tape)
        var mismatches = 0
        for i in sample {
            let want = reference.gradient(inputs: [inputs[0][i], inputs[1][i]], parameters: parameters)
            let got = (tape.outputs.indices.map { perPoint.values[$0][i] },
                       (0..<2).map { perPoint.inputGradients[$0][i] }, (0..<2).map { perPoint.parameterGradients[$0][i] })
            let ok = zip(got.0, want.values).allSatisfy(same) && zip(got.1, want.inputs).allSatisfy(same)
                && zip(got.2, want.parameters).allSatisfy(same)
            if !ok {
                mismatches += 1
                if mismatches <= 3 { Issue.record("n \(n) threads \(threads) point \(i): got \(got), reference \(want)") }
            }
        }
        #expect(mismatches == 0)
        // The summed parameter gradient is the sum of the per-point ones (up to summation order).
        for p in 0..<2 {
            let column = perPoint.parameterGradients[p]
            guard column.allSatisfy(\.isFinite) else { continue }
            let total = column.reduce(0, +)
            let magnitude = column.reduce(0) { $0 + Swift.abs($1) }
            #expect(Swift.abs(summed.parameterGradientSum[p] - total) <= 1e-12 * magnitude + 1e-300,
                    "n \(n) Σ∂/∂w\(p): \(summed.parameterGradientSum[p]) vs \(total)")
        }
    }

    @Test(arguments: [1, 7, 8, 9, 16, 17])
    func smallBatchesAroundTheLaneWidthMatchTheReference(n: Int) throws {
        for tile in [8, 128] {
            try Self.checkBatch(n: n, threads: 1, tile: tile, sample: Array(0..<n))
            try Self.checkBatch(n: n, threads: 2, tile: tile, sample: Array(0..<n))
        }
    }

    @Test func largeOddBatchOverTwoThreadsMatchesTheReference() throws {
        let n = 100_003
        var rng = SplitMix64(seed: 5)
        // The first and last points, both sides of tile and chunk boundaries, and random ones.
        var sample = Array(0..<20) + Array(n - 20..<n) + [127, 128, 129, 2047, 2048, 2049, 16_383, 16_384, 50_000]
        sample += (0..<150).map { _ in Int.random(in: 0..<n, using: &rng) }
        try Self.checkBatch(n: n, threads: 2, tile: 128, sample: sample)
    }

    // MARK: - Known bugs (failing)

    /// A tape summing `n` inputs, evaluated at two points: `n` input columns.
    static func evaluateWideInput(_ n: Int) throws {
        let b = TapeBuilder()
        var sum = b.input("x0")
        for k in 1..<n { sum = b.add(sum, b.input("x\(k)")) }
        b.output("y", sum)
        let values = try Program(try b.build(), options: ExecutionOptions(threads: 1))
            .evaluate(inputs: (0..<n).map { _ in [1.0, 2] })
        precondition(values == [[Double(n), Double(2 * n)]])
    }

    /// A tape with `n` outputs (all x²), evaluated at three points: `n` output columns.
    static func evaluateWideOutput(_ n: Int) throws {
        let b = TapeBuilder()
        let square = b.square(b.input("x"))
        for k in 0..<n { b.output("y\(k)", square) }
        let values = try Program(try b.build(), options: ExecutionOptions(threads: 1)).evaluate(inputs: [[1, 2, 3]])
        precondition(values.count == n && values.allSatisfy { $0 == [1, 4, 9] })
    }

    /// KNOWN BUG: `withColumns` (Program+Arrays.swift) nests one `withUnsafeBufferPointer` call
    /// per input column, recursively, so the stack depth grows with the number of columns: the
    /// process dies of SIGSEGV (stack overflow) at about 10 000 columns in a debug build and
    /// 100 000 in a release build. Run in a child process so the crash fails only this test.
    @Test func manyInputColumnsDoNotOverflowTheStack() async {
        await #expect(processExitsWith: .success) {
            try ErrorPathTests.evaluateWideInput(120_000)
        }
    }

    /// KNOWN BUG: `makeColumns` recurses once per result column in the same way (and copies the
    /// pointer list at every level, quadratic in the column count); `evaluate` with many
    /// outputs, or `jacobian` with outputs × inputs columns, overflows the stack.
    @Test func manyOutputColumnsDoNotOverflowTheStack() async {
        await #expect(processExitsWith: .success) {
            try ErrorPathTests.evaluateWideOutput(30_000)
        }
    }
}
