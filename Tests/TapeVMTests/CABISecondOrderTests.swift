import Testing
import TapeVM
import TapeVMC

/// `tvm_jvp`, `tvm_hvp`, `tvm_hessian`, `tvm_param_hessian_sum`: the Swift API's results, and
/// errors as status codes with a message.
@Suite struct CABISecondOrderTests {
    /// Columns of doubles at fixed addresses for the C calls.
    final class Columns {
        let base: UnsafeMutablePointer<Double>
        let count: Int, length: Int
        init(_ columns: [[Double]]) {
            count = columns.count
            length = columns.first?.count ?? 0
            base = .allocate(capacity: Swift.max(1, count * length))
            for (k, c) in columns.enumerated() { (base + k * length).initialize(from: c, count: length) }
        }
        convenience init(zeros count: Int, length: Int) {
            self.init([[Double]](repeating: [Double](repeating: 0, count: length), count: count))
        }
        deinit { base.deallocate() }
        var pointers: [UnsafeMutablePointer<Double>?] { (0..<count).map { base + $0 * length } }
        var readOnly: [UnsafePointer<Double>?] { (0..<count).map { UnsafePointer(base + $0 * length) } }
        subscript(k: Int) -> [Double] { Array(UnsafeBufferPointer(start: base + k * length, count: length)) }
    }

    static func program(_ expression: String) -> OpaquePointer? {
        var tape: OpaquePointer?
        #expect(tvm_tape_from_expression(expression, &tape) == 0)
        var program: OpaquePointer?
        #expect(tvm_program_new(tape, 2, 8, nil, &program) == 0)
        _ = tvm_tape_free(tape)
        return program
    }

    static var error: String { String(cString: tvm_last_error()) }

    /// The example from C: Hessian [[2502, -600], [-600, 200]], jvp = ∂f/∂x + 2·∂f/∂y.
    @Test func rosenbrockFromC() throws {
        let expression = "f(x,y) = 100*(y - x^2)^2 + (1 - x)^2"
        let program = Self.program(expression)
        defer { _ = tvm_program_free(program) }
        let xy = [[1.5, -1.0, 0.25], [0.5, 2.0, 0.0]]
        let inputs = Columns(xy)
        let values = Columns(zeros: 1, length: 3), tangents = Columns(zeros: 1, length: 3), tangents2 = Columns(zeros: 1, length: 3)
        let grads = Columns(zeros: 2, length: 3), hvp = Columns(zeros: 2, length: 3), hessians = Columns(zeros: 1, length: 12)
        let v = [1.0, 2.0]
        let vColumns = Columns([[1, 1, 1], [2, 2, 2]])
        #expect(tvm_jvp(program, 3, inputs.readOnly, 2, nil, 0, nil, v, values.pointers, 1, tangents.pointers, 1) == 0, "\(Self.error)")
        #expect(tvm_jvp(program, 3, inputs.readOnly, 2, nil, 0, vColumns.readOnly, nil, nil, 0, tangents2.pointers, 1) == 0, "\(Self.error)")
        #expect(tvm_hessian(program, 3, inputs.readOnly, 2, nil, 0, 0, hessians.base) == 0, "\(Self.error)")
        #expect(tvm_hvp(program, 3, inputs.readOnly, 2, nil, 0, 0, nil, v, grads.pointers, 2, hvp.pointers, 2) == 0, "\(Self.error)")
        let h = hessians[0]
        #expect(Array(h[0..<4]) == [2502, -600, -600, 200])
        #expect(h == (try Program(Tape(expression: expression)).hessian(inputs: xy)).hessians)
        #expect(tangents2[0] == tangents[0])
        for i in 0..<3 {
            #expect(tangents[0][i] == grads[0][i] + 2 * grads[1][i])
            #expect(hvp[0][i] == h[4 * i] + 2 * h[4 * i + 1])
            #expect(hvp[1][i] == h[4 * i + 2] + 2 * h[4 * i + 3])
        }
        // Errors: both directions, neither, a bad output index, no destination.
        #expect(tvm_jvp(program, 3, inputs.readOnly, 2, nil, 0, vColumns.readOnly, v, nil, 0, nil, 0) == 3)
        #expect(Self.error.contains("both given"))
        #expect(tvm_hvp(program, 3, inputs.readOnly, 2, nil, 0, 0, nil, nil, nil, 0, nil, 0) == 1)
        #expect(tvm_hessian(program, 3, inputs.readOnly, 2, nil, 0, 1, hessians.base) == 3)
        #expect(Self.error.contains("output_index 1"))
        #expect(tvm_hessian(program, 3, inputs.readOnly, 2, nil, 0, 0, nil) == 1)
        #expect(tvm_hessian(program, 3, inputs.readOnly, 2, nil, 0, 0, UnsafeMutablePointer(mutating: inputs.base)) == 3)
        #expect(Self.error.contains("overlaps"))
    }

    @Test func parameterHessianSumFromC() throws {
        let program = Self.program("loss(x, y; w, b) = (w * x + b - y)^2")
        defer { _ = tvm_program_free(program) }
        // Σ 2·[x², x; x, 1] over the points.
        let inputs = Columns([[1, 2, -3], [0, 1, 2]])
        let h = Columns(zeros: 1, length: 4)
        #expect(tvm_param_hessian_sum(program, 3, inputs.readOnly, 2, [0.5, 0.25], 2, 0, h.base) == 0)
        #expect(h[0] == [28, 0, 0, 6])
        #expect(tvm_param_hessian_sum(program, 3, inputs.readOnly, 2, [0.5, 0.25], 2, 0, nil) == 1)
    }
}
