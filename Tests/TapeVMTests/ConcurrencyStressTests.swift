import Dispatch
import Synchronization
import Testing
import TapeVM
import TapeVMC

/// One `Program` run from many threads at once — through Swift and through the C ABI, each
/// run itself using worker threads, with partial-reverse plans made on first use by whichever
/// thread gets there — gives every thread the bits of a run alone. Meant for ThreadSanitizer
/// (scripts/sanitize thread), and a correctness check without it.
@Suite struct ConcurrencyStressTests {
    static let expression = """
        f(x, y; w, b) = w * x * sigmoid(y) + b * exp(x * y) + sin(x)
        g(x, y; w, b) = let s = x - y in w * s^2 + b
        """
    static let n = 301
    static let threadCount = 8
    static let rounds = 6

    /// A copy of a buffer that outlives the closure.
    static func copy(_ b: UnsafeBufferPointer<Double>) -> UnsafeMutablePointer<Double> {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: b.count)
        p.initialize(from: b.baseAddress!, count: b.count)
        return p
    }

    static func columns() -> [[Double]] {
        var rng = SplitMix64(seed: 11)
        return (0..<2).map { _ in (0..<n).map { _ in Double.random(in: -2...2, using: &rng) } }
    }

    /// Values, the gradient of output `output` and the summed parameter gradient, as one array.
    static func fingerprint(_ program: Program, _ inputs: [[Double]], output: Int) throws -> [UInt64] {
        let r = try program.valueAndGradient(inputs: inputs, parameters: [0.5, -1.5], output: output)
        return (r.values.flatMap { $0 } + r.inputGradients.flatMap { $0 } + r.parameterGradientSum).map(\.bitPattern)
    }

    @Test func oneProgramFromManyThreadsThroughSwift() throws {
        let program = Program(try Tape(expression: Self.expression), options: ExecutionOptions(threads: 2, tileSize: 64))
        let inputs = Self.columns()
        // References from a separate program, so the shared one makes its plans under contention.
        let alone = Program(program.tape, options: program.options)
        let expected = try [0, 1].map { try Self.fingerprint(alone, inputs, output: $0) }
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: Self.threadCount) { t in
            for round in 0..<Self.rounds {
                let output = (t + round) % 2
                if (try? Self.fingerprint(program, inputs, output: output)) != expected[output] {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }

    @Test func oneProgramFromManyThreadsThroughTheCABI() throws {
        var tape: OpaquePointer?
        try #require(tvm_tape_from_expression(Self.expression, &tape) == 0)
        defer { _ = tvm_tape_free(tape) }
        var program: OpaquePointer?
        try #require(tvm_program_new(tape, 2, 64, nil, &program) == 0)
        defer { _ = tvm_program_free(program) }
        let shared = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(program!)))
        let inputs = Self.columns()
        let swift = Program(try Tape(expression: Self.expression), options: ExecutionOptions(threads: 1, tileSize: 64))
        let expected = try [0, 1].map { try Self.fingerprint(swift, inputs, output: $0) }
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: Self.threadCount) { t in
            let program = OpaquePointer(bitPattern: Int(bitPattern: shared))
            let n = Self.n
            for round in 0..<Self.rounds {
                let output = (t + round) % 2
                // One buffer per thread and round: values, then gradients, then the sums.
                let columns = UnsafeMutableBufferPointer<Double>.allocate(capacity: 4 * n + 2)
                defer { columns.deallocate() }
                columns.initialize(repeating: 0)
                let base = columns.baseAddress!
                let ins: [UnsafePointer<Double>?] = [inputs[0].withUnsafeBufferPointer { UnsafePointer(Self.copy($0)) },
                                                     inputs[1].withUnsafeBufferPointer { UnsafePointer(Self.copy($0)) }]
                defer { ins.forEach { UnsafeMutablePointer(mutating: $0!).deallocate() } }
                let vals: [UnsafeMutablePointer<Double>?] = [base, base + n]
                let gs: [UnsafeMutablePointer<Double>?] = [base + 2 * n, base + 3 * n]
                let status = tvm_value_and_gradient(program, UInt(n), ins, 2, [0.5, -1.5], 2, UInt(output),
                                                    vals, 2, gs, 2, base + 4 * n, nil, 0)
                // The error message is per thread: a success leaves this thread's empty.
                let got = Array(columns).map(\.bitPattern)
                if status != 0 || got != expected[output] || String(cString: tvm_last_error()) != "" {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }
}
