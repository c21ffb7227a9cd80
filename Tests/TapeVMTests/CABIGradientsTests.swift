import Testing
import TapeVM
import TapeVMC

/// The C ABI's function list (`tvm_function_count`, `tvm_function_info`) and several gradients in
/// one run (`tvm_gradients`), which the Python package builds on.
@Suite struct CABIGradientsTests {
    typealias C = CABITests

    @Test func functionListIsTheExpressionLanguages() {
        var count: UInt = 0
        #expect(tvm_function_count(&count) == C.ok)
        #expect(Int(count) == Tape.expressionFunctions.count)
        var name: UnsafePointer<CChar>?, mnemonic: UnsafePointer<CChar>?, summary: UnsafePointer<CChar>?
        var arguments: UInt = 0
        var exponent: Int32 = -1
        var seen: [String: (String, UInt, Int32)] = [:]
        for i in 0..<count {
            #expect(tvm_function_info(i, &name, &mnemonic, &arguments, &exponent, &summary) == C.ok)
            seen[String(cString: name!)] = (String(cString: mnemonic!), arguments, exponent)
            #expect(!String(cString: summary!).isEmpty)
        }
        for f in Tape.expressionFunctions {
            #expect(seen[f.name]?.0 == f.opcode.mnemonic && seen[f.name]?.1 == UInt(f.argumentCount), "\(f.name)")
        }
        #expect(seen["where"]! == ("select", 3, 0))
        #expect(seen["powi"]! == ("powi", 2, 1))
        #expect(seen["sigmoid"]! == ("sigmoid", 1, 0))
        // Errors: out of range, NULL out-parameters (which are set to NULL first where they are strings).
        C.expectFailure(tvm_function_info(count, &name, &mnemonic, &arguments, &exponent, &summary), C.invalid,
                        "tvm_function_info: index \(count) is out of range")
        #expect(name == nil && mnemonic == nil && summary == nil)
        C.expectFailure(tvm_function_info(0, &name, &mnemonic, nil, &exponent, &summary), C.null, "out_argument_count is NULL")
        C.expectFailure(tvm_function_count(nil), C.null, "tvm_function_count: out_count is NULL")
    }

    /// Identity seed rows give, bit for bit, what `tvm_value_and_gradient` gives per output: values,
    /// input gradients, summed and per-point parameter gradients.
    @Test(arguments: [0, 7, 513])
    func identityRowsMatchValueAndGradient(n: Int) {
        let tape = C.makeTape()
        defer { _ = tvm_tape_free(tape) }
        let program = C.makeProgram(tape, threads: 2)
        defer { _ = tvm_program_free(program) }
        let xs = C.points(n, seed: 0.4), ys = C.points(n, seed: 1.9)
        let params = [0.5, -1.5], seeds = [1.0, 0, 0, 1]
        // Two rows: values (2), input gradients (2 × 2), per-point parameter gradients (2 × 2); sums (2 × 2).
        var block = [Double](repeating: .nan, count: 10 * n), sums = [Double](repeating: .nan, count: 4)
        var expected = [Double](repeating: .nan, count: 10 * n), expectedSums = [Double](repeating: .nan, count: 4)
        xs.withUnsafeBufferPointer { x in ys.withUnsafeBufferPointer { y in
            let inputs: [UnsafePointer<Double>?] = [x.baseAddress, y.baseAddress]
            block.withUnsafeMutableBufferPointer { b in sums.withUnsafeMutableBufferPointer { s in
                let c: [UnsafeMutablePointer<Double>?] = (0..<10).map { b.baseAddress! + $0 * n }
                let status = tvm_gradients(program, UInt(n), inputs, 2, params, 2, seeds, 2, Array(c[0..<2]), 2,
                                           [c[2], c[3], c[6], c[7]], 4, s.baseAddress, [c[4], c[5], c[8], c[9]], 4)
                #expect(status == C.ok, "\(C.lastError())")
            } }
            expected.withUnsafeMutableBufferPointer { b in expectedSums.withUnsafeMutableBufferPointer { s in
                let c: [UnsafeMutablePointer<Double>?] = (0..<10).map { b.baseAddress! + $0 * n }
                for row in 0..<2 {
                    let status = tvm_value_and_gradient(program, UInt(n), inputs, 2, params, 2, UInt(row), Array(c[0..<2]), 2,
                                                        Array(c[2 + 4 * row..<4 + 4 * row]), 2, s.baseAddress! + 2 * row,
                                                        Array(c[4 + 4 * row..<6 + 4 * row]), 2)
                    #expect(status == C.ok, "\(C.lastError())")
                }
            } }
        } }
        #expect(C.bits([block, sums]) == C.bits([expected, expectedSums]))
        if n > 0 { #expect(!block.contains { $0.isNaN }) }
    }

    @Test func gradientsErrors() {
        let tape = C.makeTape()
        defer { _ = tvm_tape_free(tape) }
        let program = C.makeProgram(tape)
        defer { _ = tvm_program_free(program) }
        var x = [1.0, 2.0], out = [Double](repeating: 0, count: 8)
        x.withUnsafeMutableBufferPointer { xb in out.withUnsafeMutableBufferPointer { ob in
            let inputs: [UnsafePointer<Double>?] = [UnsafePointer(xb.baseAddress), UnsafePointer(xb.baseAddress)]
            let o = ob.baseAddress!
            let params = [1.0, 2.0]
            C.expectFailure(tvm_gradients(program, 2, inputs, 2, params, 2, nil, 1, nil, 0, nil, 0, nil, nil, 0), C.null,
                            "tvm_gradients: seeds is NULL, but request_count is 1")
            C.expectFailure(tvm_gradients(program, 2, inputs, 2, params, 2, [1, 0], 1, nil, 0, [o, o + 2], 2, nil, nil, 4),
                            C.null, "param_gradients is NULL, but param_gradient_count is 4")
            C.expectFailure(tvm_gradients(program, 2, inputs, 2, params, 2, [1, 0, 0, 1], 2, nil, 0, [o, o + 2], 2, nil, nil, 0),
                            C.invalid, "input_gradient_count is 2, but 2 request(s) × 2 input(s) (x, y) need 4")
            C.expectFailure(tvm_gradients(program, 2, inputs, 2, params, 2, [1, 0], 1, nil, 0, [o, o + 1], 2, nil, nil, 0),
                            C.invalid, "input_gradients[1] (request 0, input 'y') overlaps input_gradients[0] (request 0, input 'x')")
            C.expectFailure(tvm_gradients(program, 2, inputs, 2, params, 2, [1, 0], 1 << 21, nil, 0, nil, 0, nil, nil, 0),
                            C.invalid, "request_count is 2097152")
            // No requests: values only.
            #expect(tvm_gradients(program, 2, inputs, 2, params, 2, nil, 0, [o, o + 2], 2, nil, 0, nil, nil, 0) == C.ok)
        } }
    }
}
