import Foundation
import Synchronization
import Testing
import TapeVM
import TapeVMC

/// The C ABI (`tapevm.h`), called from Swift through the `@_cdecl` functions themselves: results
/// bit for bit those of ``Program``, and every error path a status code with a message that
/// names the function and the argument at fault — never a trap.
///
/// The tests are synchronous, so each runs on one thread from start to end and reads its own
/// thread's `tvm_last_error()`.
@Suite struct CABITests {
    static let ok = Int32(0), null = Int32(1), handle = Int32(2), invalid = Int32(3), parse = Int32(4), unsupported = Int32(5)
    static let expression = """
        f(x, y; w, b) = w * x * sigmoid(y) + b * exp(x * y)
        g(x, y; w, b) = let s = x - y in w * s^2 + b
        """

    static func lastError() -> String { String(cString: tvm_last_error()) }

    /// Expects `status` from a call and a message containing every string of `mentions`.
    static func expectFailure(_ status: Int32, _ expected: Int32, _ mentions: String...,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        let message = lastError()
        #expect(status == expected, "status \(status) (\(String(cString: tvm_status_name(status)))), message: \(message)",
                sourceLocation: sourceLocation)
        for m in mentions {
            #expect(message.contains(m), "message \"\(message)\" should mention \"\(m)\"", sourceLocation: sourceLocation)
        }
    }

    static func makeTape(_ text: String = expression) -> OpaquePointer {
        var tape: OpaquePointer?
        let status = tvm_tape_from_expression(text, &tape)
        precondition(status == 0 && tape != nil, lastError())
        return tape!
    }

    static func makeProgram(_ tape: OpaquePointer, threads: UInt = 0, isa: String? = nil) -> OpaquePointer {
        var program: OpaquePointer?
        let status = isa.map { tvm_program_new(tape, threads, 0, $0, &program) } ?? tvm_program_new(tape, threads, 0, nil, &program)
        precondition(status == 0 && program != nil, lastError())
        return program!
    }

    static func points(_ n: Int, seed: Double) -> [Double] {
        (0..<n).map { i in 1.5 * sin(Double(i) * 0.37 + seed) }
    }

    static func bits(_ columns: [[Double]]) -> [[UInt64]] {
        columns.map { $0.map { $0.isNaN ? Double.nan.bitPattern : $0.bitPattern } }
    }

    // MARK: - Success paths

    @Test func versionAndStatusNames() {
        #expect(String(cString: tvm_version()).contains("C ABI 1"))
        #expect(String(cString: tvm_status_name(0)) == "TVM_OK")
        #expect(String(cString: tvm_status_name(4)) == "TVM_ERROR_PARSE")
        #expect(String(cString: tvm_status_name(99)) == "TVM_UNKNOWN_STATUS")
    }

    @Test func tapeCountsNamesAndText() throws {
        let tape = Self.makeTape()
        defer { #expect(tvm_tape_free(tape) == Self.ok) }
        var count: UInt = 99
        #expect(tvm_tape_input_count(tape, &count) == Self.ok && count == 2)
        #expect(tvm_tape_parameter_count(tape, &count) == Self.ok && count == 2)
        #expect(tvm_tape_output_count(tape, &count) == Self.ok && count == 2)
        var name: UnsafePointer<CChar>?
        let names = [(tvm_tape_input_name, ["x", "y"]), (tvm_tape_parameter_name, ["w", "b"]), (tvm_tape_output_name, ["f", "g"])]
        for (get, expected) in names {
            for (i, e) in expected.enumerated() {
                #expect(get(tape, UInt(i), &name) == Self.ok)
                #expect(name.map { String(cString: $0) } == e)
            }
        }
        var text: UnsafeMutablePointer<CChar>?
        #expect(tvm_tape_to_text(tape, &text) == Self.ok)
        let swiftText = String(cString: text!)
        tvm_string_free(text)
        #expect(swiftText == (try Tape(expression: Self.expression)).text)
        var again: OpaquePointer?
        #expect(tvm_tape_from_text(swiftText, &again) == Self.ok)
        defer { #expect(tvm_tape_free(again) == Self.ok) }
        var textAgain: UnsafeMutablePointer<CChar>?
        #expect(tvm_tape_to_text(again, &textAgain) == Self.ok)
        #expect(String(cString: textAgain!) == swiftText)
        tvm_string_free(textAgain)
        // The program's tape is the same interface.
        let program = Self.makeProgram(tape)
        defer { #expect(tvm_program_free(program) == Self.ok) }
        var programTape: OpaquePointer?
        #expect(tvm_program_tape(program, &programTape) == Self.ok)
        #expect(tvm_tape_output_name(programTape, 1, &name) == Self.ok && String(cString: name!) == "g")
        #expect(tvm_tape_free(programTape) == Self.ok)
        #expect(Self.lastError() == "")
    }

    /// Every result of `tvm_evaluate` and `tvm_value_and_gradient`, bit for bit those of the Swift
    /// API, for each output, thread count and supported code path, at sizes around tiles.
    @Test(arguments: [0, 1, 7, 513, 5000])
    func matchesProgramBitForBit(n: Int) throws {
        let swiftTape = try Tape(expression: Self.expression)
        let tape = Self.makeTape()
        defer { _ = tvm_tape_free(tape) }
        let xs = Self.points(n, seed: 0.1), ys = Self.points(n, seed: 2.3)
        let params = [0.75, -0.25]
        for isa in InstructionSet.supported {
            for threads in [1, 3] {
                let reference = Program(swiftTape, options: ExecutionOptions(threads: threads, instructionSet: isa))
                let program = Self.makeProgram(tape, threads: UInt(threads), isa: isa.rawValue)
                defer { _ = tvm_program_free(program) }
                var chosen: UnsafePointer<CChar>?
                #expect(tvm_program_instruction_set(program, &chosen) == Self.ok && String(cString: chosen!) == isa.rawValue)

                var fs = [Double](repeating: .nan, count: n), gs = fs
                var status = xs.withUnsafeBufferPointer { x in ys.withUnsafeBufferPointer { y in
                    fs.withUnsafeMutableBufferPointer { f in gs.withUnsafeMutableBufferPointer { g in
                        let inputs: [UnsafePointer<Double>?] = [x.baseAddress, y.baseAddress]
                        let outs: [UnsafeMutablePointer<Double>?] = [f.baseAddress, g.baseAddress]
                        return tvm_evaluate(program, UInt(n), inputs, 2, params, 2, outs, 2)
                    } }
                } }
                #expect(status == Self.ok, "\(Self.lastError())")
                #expect(Self.bits([fs, gs]) == Self.bits(try reference.evaluate(inputs: [xs, ys], parameters: params)))

                for output in 0..<2 {
                    let summed = try reference.valueAndGradient(inputs: [xs, ys], parameters: params, output: output)
                    let perPoint = try reference.valueAndGradient(inputs: [xs, ys], parameters: params, output: output,
                                                                  parameterGradient: .perPoint)
                    // values, input gradients, per-point parameter gradients: one flat block of columns.
                    var block = [Double](repeating: .nan, count: 6 * n)
                    var sum = [Double](repeating: .nan, count: 2)
                    status = xs.withUnsafeBufferPointer { x in ys.withUnsafeBufferPointer { y in
                        block.withUnsafeMutableBufferPointer { b in sum.withUnsafeMutableBufferPointer { s in
                            let base = b.baseAddress!
                            let inputs: [UnsafePointer<Double>?] = [x.baseAddress, y.baseAddress]
                            let columns: [UnsafeMutablePointer<Double>?] = (0..<6).map { base + $0 * n }
                            return tvm_value_and_gradient(program, UInt(n), inputs, 2, params, 2, UInt(output),
                                                          Array(columns[0..<2]), 2, Array(columns[2..<4]), 2,
                                                          s.baseAddress, Array(columns[4..<6]), 2)
                        } }
                    } }
                    #expect(status == Self.ok, "\(Self.lastError())")
                    let columns = (0..<6).map { Array(block[$0 * n..<($0 + 1) * n]) }
                    #expect(Self.bits(Array(columns[0..<2])) == Self.bits(summed.values))
                    #expect(Self.bits(Array(columns[2..<4])) == Self.bits(summed.inputGradients))
                    #expect(Self.bits(Array(columns[4..<6])) == Self.bits(perPoint.parameterGradients))
                    #expect(Self.bits([sum]) == Self.bits([summed.parameterGradientSum]))
                }
            }
        }
    }

    /// A call with the last call's raw arguments reuses the arrays made for it (`CallMemo`), and
    /// only then: new parameter values, inputs changed in place, another output, other pointers
    /// in the same table memory, another point count, an overlap and `tvm_evaluate` in between all
    /// give the library's results and errors.
    @Test func repeatedCallsReuseTheirArgumentsOnlyWhileTheSame() throws {
        let tape = Self.makeTape()
        defer { _ = tvm_tape_free(tape) }
        let program = Self.makeProgram(tape, threads: 1)
        defer { _ = tvm_program_free(program) }
        let reference = try Program(Tape(expression: Self.expression), options: ExecutionOptions(threads: 1))
        let capacity = 40
        let memory = UnsafeMutablePointer<Double>.allocate(capacity: 8 * capacity + 2)
        defer { memory.deallocate() }
        memory.initialize(repeating: 0, count: 8 * capacity + 2)
        let column = { (i: Int) in memory + i * capacity }
        let (x, y) = (column(0), column(1))
        // The C caller's tables, in memory it keeps and rewrites.
        let inputs = UnsafeMutablePointer<UnsafePointer<Double>?>.allocate(capacity: 2)
        let values = UnsafeMutablePointer<UnsafeMutablePointer<Double>?>.allocate(capacity: 2)
        let gradients = UnsafeMutablePointer<UnsafeMutablePointer<Double>?>.allocate(capacity: 2)
        defer { inputs.deallocate(); values.deallocate(); gradients.deallocate() }
        let sum = memory + 8 * capacity
        func point(_ n: Int, seed: Double) {
            for i in 0..<n { x[i] = 1.5 * sin(Double(i) * 0.37 + seed); y[i] = cos(Double(i) * 0.21 - seed) }
        }
        func setTables(swapped: Bool = false) {
            inputs[0] = UnsafePointer(swapped ? y : x)
            inputs[1] = UnsafePointer(swapped ? x : y)
            values[0] = column(2); values[1] = column(3)
            gradients[0] = column(4); gradients[1] = column(5)
        }
        func check(_ step: String, n: Int, params: [Double], output: Int, swapped: Bool = false) throws {
            let status = tvm_value_and_gradient(program, UInt(n), inputs, 2, params, 2, UInt(output), values, 2, gradients, 2, sum, nil, 0)
            #expect(status == Self.ok, "\(step): \(Self.lastError())")
            let columns = [Array(UnsafeBufferPointer(start: x, count: n)), Array(UnsafeBufferPointer(start: y, count: n))]
            let expected = try reference.valueAndGradient(inputs: swapped ? columns.reversed() : columns, parameters: params, output: output)
            let got = (2..<6).map { Array(UnsafeBufferPointer(start: column($0), count: n)) }
            #expect(Self.bits(Array(got[0..<2])) == Self.bits(expected.values), "\(step)")
            #expect(Self.bits(Array(got[2..<4])) == Self.bits(expected.inputGradients), "\(step)")
            #expect(Self.bits([[sum[0], sum[1]]]) == Self.bits([expected.parameterGradientSum]), "\(step)")
        }
        setTables()
        point(37, seed: 1)
        try check("first", n: 37, params: [0.5, 2], output: 0)
        try check("again", n: 37, params: [0.5, 2], output: 0)
        try check("new parameters", n: 37, params: [-1, 0.25], output: 0)
        point(37, seed: 2)
        try check("inputs changed in place", n: 37, params: [-1, 0.25], output: 0)
        try check("another output", n: 37, params: [-1, 0.25], output: 1)
        setTables(swapped: true)
        try check("other pointers in the same tables", n: 37, params: [-1, 0.25], output: 1, swapped: true)
        setTables()
        try check("fewer points", n: 20, params: [-1, 0.25], output: 1)
        gradients[1] = column(0) + 3
        Self.expectFailure(tvm_value_and_gradient(program, 20, inputs, 2, [1, 1], 2, 1, values, 2, gradients, 2, sum, nil, 0),
                           Self.invalid, "overlaps")
        setTables()
        let evaluated = tvm_evaluate(program, 20, inputs, 2, [3, 1], 2, values, 2)
        #expect(evaluated == Self.ok, "\(Self.lastError())")
        let columns = [Array(UnsafeBufferPointer(start: x, count: 20)), Array(UnsafeBufferPointer(start: y, count: 20))]
        #expect(Self.bits([Array(UnsafeBufferPointer(start: column(2), count: 20))])
                == Self.bits([try reference.evaluate(inputs: columns, parameters: [3, 1])[0]]))
        try check("after an evaluation", n: 20, params: [-1, 0.25], output: 1)
        try check("and once more", n: 20, params: [2, 0.25], output: 0)
    }

    /// Destinations may be left out: NULL arrays with count 0, or NULL entries.
    @Test func optionalDestinations() throws {
        let tape = Self.makeTape()
        defer { _ = tvm_tape_free(tape) }
        let program = Self.makeProgram(tape, threads: 1)
        defer { _ = tvm_program_free(program) }
        let reference = try Program(Tape(expression: Self.expression), options: ExecutionOptions(threads: 1))
        let xs = Self.points(100, seed: 1), ys = Self.points(100, seed: 2), params = [0.5, 2.0]
        let expected = try reference.valueAndGradient(inputs: [xs, ys], parameters: params, output: 0)
        var dy = [Double](repeating: .nan, count: 100)
        let status = xs.withUnsafeBufferPointer { x in ys.withUnsafeBufferPointer { y in dy.withUnsafeMutableBufferPointer { d in
            let inputs: [UnsafePointer<Double>?] = [x.baseAddress, y.baseAddress]
            let grads: [UnsafeMutablePointer<Double>?] = [nil, d.baseAddress]
            return tvm_value_and_gradient(program, 100, inputs, 2, params, 2, 0, nil, 0, grads, 2, nil, nil, 0)
        } } }
        #expect(status == Self.ok, "\(Self.lastError())")
        #expect(Self.bits([dy]) == Self.bits([expected.inputGradients[1]]))
    }

    /// A tape without inputs or parameters: NULL arrays with zero counts are fine.
    @Test func noInputsOrParameters() {
        let tape = Self.makeTape("c() = 2 * pi")
        defer { _ = tvm_tape_free(tape) }
        let program = Self.makeProgram(tape)
        defer { _ = tvm_program_free(program) }
        var value = [0.0, 0.0]
        let status = value.withUnsafeMutableBufferPointer { v in
            tvm_evaluate(program, 2, nil, 0, nil, 0, [v.baseAddress], 1)
        }
        #expect(status == Self.ok, "\(Self.lastError())")
        #expect(value == [2 * Double.pi, 2 * Double.pi])
    }

    // MARK: - Error paths

    @Test func tapeErrors() {
        var tape: OpaquePointer? = OpaquePointer(bitPattern: 0x1234)
        Self.expectFailure(tvm_tape_from_expression("f(x, y) = x + z", &tape), Self.parse,
                           "tvm_tape_from_expression: 1:15: error: unknown name 'z'", "^")
        #expect(tape == nil)
        Self.expectFailure(tvm_tape_from_expression("f(x) = x\ng(x) = x +* 2", &tape), Self.parse, "2:11: error: unexpected '*'")
        Self.expectFailure(tvm_tape_from_expression(nil, &tape), Self.null, "tvm_tape_from_expression: text is NULL")
        Self.expectFailure(tvm_tape_from_expression("f(x) = x", nil), Self.null, "out_tape is NULL")
        let invalidUTF8: [CChar] = [0x66, 0x28, 0x78, 0x29, 0x3D, CChar(bitPattern: 0xFF), 0]
        Self.expectFailure(tvm_tape_from_expression(invalidUTF8, &tape), Self.invalid, "text is not valid UTF-8")
        Self.expectFailure(tvm_tape_from_text("tapevm 1\ninput x\nr0 = input x\nr1 = ad r0 r0\noutput f r1\n", &tape),
                           Self.parse, "tvm_tape_from_text: 4:6", "unknown mnemonic 'ad'")
        Self.expectFailure(tvm_tape_from_text("tapevm 2\n", &tape), Self.parse, "1:", "unsupported tape version 2")
        Self.expectFailure(tvm_tape_from_text(nil, &tape), Self.null, "text is NULL")

        var count: UInt = 0
        var name: UnsafePointer<CChar>?
        var text: UnsafeMutablePointer<CChar>?
        Self.expectFailure(tvm_tape_input_count(nil, &count), Self.null, "tvm_tape_input_count: tape is NULL")
        Self.expectFailure(tvm_tape_parameter_count(nil, &count), Self.null, "tape is NULL")
        Self.expectFailure(tvm_tape_output_count(nil, &count), Self.null, "tape is NULL")
        Self.expectFailure(tvm_tape_input_name(nil, 0, &name), Self.null, "tape is NULL")
        Self.expectFailure(tvm_tape_to_text(nil, &text), Self.null, "tvm_tape_to_text: tape is NULL")
        #expect(text == nil)

        let good = Self.makeTape()
        defer { _ = tvm_tape_free(good) }
        Self.expectFailure(tvm_tape_input_count(good, nil), Self.null, "out_count is NULL")
        Self.expectFailure(tvm_tape_to_text(good, nil), Self.null, "out_text is NULL")
        Self.expectFailure(tvm_tape_input_name(good, 2, &name), Self.invalid, "index 2 is out of range: the tape has 2 input(s)")
        Self.expectFailure(tvm_tape_parameter_name(good, 5, &name), Self.invalid, "index 5", "2 parameter(s)")
        Self.expectFailure(tvm_tape_output_name(good, 0, nil), Self.null, "out_name is NULL")
        #expect(name == nil)

        // Handles of the wrong kind are refused, and nothing is released.
        let program = Self.makeProgram(good)
        defer { _ = tvm_program_free(program) }
        Self.expectFailure(tvm_tape_input_count(program, &count), Self.handle, "tape is not a tvm_tape handle")
        Self.expectFailure(tvm_tape_free(program), Self.handle, "tvm_tape_free", "not a tvm_tape handle")
        Self.expectFailure(tvm_program_free(good), Self.handle, "tvm_program_free", "not a tvm_program handle")
        Self.expectFailure(tvm_program_new(program, 0, 0, nil, &tape), Self.handle, "tvm_program_new: tape is not a tvm_tape handle")
        // NULL frees are no-ops, and a success clears the message.
        #expect(tvm_tape_free(nil) == Self.ok && tvm_program_free(nil) == Self.ok)
        #expect(Self.lastError() == "")
        #expect(tvm_tape_input_count(good, &count) == Self.ok && count == 2)
    }

    @Test func programErrors() {
        let tape = Self.makeTape()
        defer { _ = tvm_tape_free(tape) }
        var program: OpaquePointer? = OpaquePointer(bitPattern: 0x1234)
        Self.expectFailure(tvm_program_new(nil, 0, 0, nil, &program), Self.null, "tvm_program_new: tape is NULL")
        #expect(program == nil)
        Self.expectFailure(tvm_program_new(tape, 0, 0, nil, nil), Self.null, "out_program is NULL")
        Self.expectFailure(tvm_program_new(tape, 0, 0, "sse9", &program), Self.invalid,
                           "isa 'sse9' is not an instruction set", "\"swift\", \"avx2\", \"avx512\"")
        Self.expectFailure(tvm_program_new(tape, 100_000, 0, nil, &program), Self.invalid, "threads is 100000")
        Self.expectFailure(tvm_program_new(tape, 0, 1 << 21, nil, &program), Self.invalid, "tile_size is 2097152")
        if let missing = InstructionSet.allCases.first(where: { !$0.isSupported }) {
            Self.expectFailure(tvm_program_new(tape, 0, 0, missing.rawValue, &program), Self.unsupported,
                               "isa '\(missing)' is not supported by this CPU")
        }
        var name: UnsafePointer<CChar>?
        Self.expectFailure(tvm_program_instruction_set(nil, &name), Self.null, "program is NULL")
        Self.expectFailure(tvm_program_tape(nil, &program), Self.null, "tvm_program_tape: program is NULL")
        Self.expectFailure(tvm_program_tape(tape, &program), Self.handle, "program is not a tvm_program handle")
        #expect(tvm_program_new(tape, 0, 0, "", &program) == Self.ok)
        #expect(tvm_program_free(program) == Self.ok)
    }

    /// Wrong counts, NULL arrays and entries, a bad output index, overlapping columns: each refused
    /// before anything is written.
    @Test func runErrors() {
        let tape = Self.makeTape()
        defer { _ = tvm_tape_free(tape) }
        let program = Self.makeProgram(tape, threads: 1)
        defer { _ = tvm_program_free(program) }
        let n = 16
        var memory = [Double](repeating: 0.5, count: 8 * n)
        let params = [1.0, 2.0]
        memory.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            let x = UnsafePointer(base), y = UnsafePointer(base + n)
            let f = base + 2 * n, g = base + 3 * n, dx = base + 4 * n, dy = base + 5 * n, dw = base + 6 * n
            let inputs: [UnsafePointer<Double>?] = [x, y]
            let values: [UnsafeMutablePointer<Double>?] = [f, g]
            let sentinel = 12345.0
            for p in [f, g, dx, dy, dw] { p.update(repeating: sentinel, count: n) }
            func evaluate(_ program: OpaquePointer?, _ inputs: [UnsafePointer<Double>?]?, _ inputCount: UInt,
                          _ params: [Double]?, _ paramCount: UInt, _ values: [UnsafeMutablePointer<Double>?]?, _ valueCount: UInt) -> Int32 {
                tvm_evaluate(program, UInt(n), inputs, inputCount, params, paramCount, values, valueCount)
            }
            func gradient(output: UInt = 0, inputs: [UnsafePointer<Double>?] = inputs, values: [UnsafeMutablePointer<Double>?]? = values,
                          valueCount: UInt = 2, grads: [UnsafeMutablePointer<Double>?]? = [dx, dy], gradCount: UInt = 2,
                          sum: UnsafeMutablePointer<Double>? = nil, perPoint: [UnsafeMutablePointer<Double>?]? = nil,
                          perPointCount: UInt = 0) -> Int32 {
                tvm_value_and_gradient(program, UInt(n), inputs, 2, params, 2, output, values, valueCount,
                                       grads, gradCount, sum, perPoint, perPointCount)
            }

            Self.expectFailure(evaluate(nil, inputs, 2, params, 2, values, 2), Self.null, "tvm_evaluate: program is NULL")
            Self.expectFailure(evaluate(tape, inputs, 2, params, 2, values, 2), Self.handle, "program is not a tvm_program handle")
            Self.expectFailure(evaluate(program, inputs, 1, params, 2, values, 2), Self.invalid,
                               "tvm_evaluate: input_count is 1, but the tape has 2 input(s) (x, y)")
            Self.expectFailure(evaluate(program, inputs, 2, params, 3, values, 2), Self.invalid,
                               "param_count is 3, but the tape has 2 parameter(s) (w, b)")
            Self.expectFailure(evaluate(program, inputs, 2, params, 2, values, 1), Self.invalid,
                               "value_count is 1, but the tape has 2 output(s) (f, g)")
            Self.expectFailure(evaluate(program, nil, 2, params, 2, values, 2), Self.null, "inputs is NULL")
            Self.expectFailure(evaluate(program, [x, nil], 2, params, 2, values, 2), Self.null, "inputs[1] (input 'y') is NULL")
            Self.expectFailure(evaluate(program, inputs, 2, nil, 2, values, 2), Self.null, "params is NULL")
            Self.expectFailure(evaluate(program, inputs, 2, params, 2, nil, 2), Self.null, "values is NULL, but value_count is 2")
            Self.expectFailure(tvm_evaluate(program, UInt.max, inputs, 2, params, 2, values, 2), Self.invalid, "n is \(UInt.max)")
            Self.expectFailure(evaluate(program, inputs, 2, params, 2, [UnsafeMutablePointer(mutating: y), g], 2), Self.invalid,
                               "values[0] (output 'f') overlaps inputs[1] (input 'y')")
            Self.expectFailure(evaluate(program, inputs, 2, params, 2, [f + 3, f], 2), Self.invalid,
                               "values[0] (output 'f') overlaps values[1] (output 'g')")

            Self.expectFailure(gradient(output: 2), Self.invalid,
                               "tvm_value_and_gradient: output_index 2 is out of range: the tape has 2 output(s) (f, g)")
            Self.expectFailure(gradient(grads: [dx], gradCount: 1), Self.invalid, "input_gradient_count is 1, but the tape has 2 input(s)")
            Self.expectFailure(gradient(perPoint: nil, perPointCount: 2), Self.null, "param_gradients is NULL, but param_gradient_count is 2")
            Self.expectFailure(gradient(perPoint: [dw], perPointCount: 1), Self.invalid, "param_gradient_count is 1, but the tape has 2 parameter(s)")
            Self.expectFailure(gradient(grads: [dx, f], gradCount: 2), Self.invalid, "input_gradients[1] (input 'y') overlaps values[0] (output 'f')")
            Self.expectFailure(gradient(sum: dx + 5), Self.invalid, "param_gradient_sum overlaps input_gradients[0] (input 'x')")
            Self.expectFailure(gradient(inputs: [x, nil]), Self.null, "inputs[1] (input 'y') is NULL")

            // Nothing was written by any failed call.
            for p in [f, g, dx, dy, dw] {
                #expect(UnsafeBufferPointer(start: p, count: n).allSatisfy { $0 == sentinel })
            }
            // The same arguments, corrected, succeed (inputs may alias each other).
            #expect(evaluate(program, [x, x], 2, params, 2, values, 2) == Self.ok, "\(Self.lastError())")
            #expect(gradient(sum: dw) == Self.ok, "\(Self.lastError())")
            #expect(Self.lastError() == "")
        }
    }

    /// Error messages belong to the thread that made the failing call: another thread's failure
    /// in between does not change this thread's message.
    @Test func errorsArePerThread() {
        var tape: OpaquePointer?
        _ = tvm_tape_from_expression("f(x) = x +", &tape)
        let other = Mutex("")
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            var tape: OpaquePointer?
            _ = tvm_tape_from_expression("f(x) = y", &tape)
            other.withLock { $0 = Self.lastError() }
            done.signal()
        }
        thread.start()
        done.wait()
        #expect(other.withLock { $0 }.contains("unknown name 'y'"))
        #expect(Self.lastError().contains("1:11"), "\(Self.lastError())")
    }
}
