import Testing
import TapeVM
import TapeVMC

/// `tvm_run_block` (one record in, one block of results out; what the Python package calls) gives,
/// bit for bit, what `tvm_gradients` and `tvm_evaluate` give with the same arguments, and its
/// errors name the record's fields.
@Suite struct CABIBlockTests {
    typealias C = CABITests

    /// A copy of `values` in memory that stays put until `deallocate()`.
    static func pinned(_ values: [Double]) -> UnsafeMutablePointer<Double> {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: max(1, values.count))
        p.initialize(from: values, count: values.count)
        return p
    }

    /// The ten words of a `tvm_block_run`.
    static func record(_ program: OpaquePointer?, n: Int, inputs: UnsafeRawPointer? = nil, inputBlock: UnsafeRawPointer? = nil,
                       stride: Int = 0, params: UnsafeRawPointer?, seeds: UnsafeRawPointer?, requests: Int, flags: UInt,
                       block: UnsafeRawPointer?) -> [UInt] {
        func word(_ p: UnsafeRawPointer?) -> UInt { p.map { UInt(bitPattern: $0) } ?? 0 }
        return [word(program.map { UnsafeRawPointer($0) }), UInt(n), word(inputs), word(inputBlock), UInt(stride), word(params),
                word(seeds), UInt(requests), flags, word(block)]
    }

    /// Every combination of requests (0 to 2), flags and input layout (a column table, or one block
    /// of columns at a stride of n or more) against tvm_gradients into separate columns.
    @Test(arguments: [0, 1, 7, 513])
    func matchesGradients(n: Int) {
        let tape = C.makeTape()
        defer { _ = tvm_tape_free(tape) }
        let program = C.makeProgram(tape, threads: 2)
        defer { _ = tvm_program_free(program) }
        let (m, k, q) = (2, 2, 2)
        let params = Self.pinned([0.5, -1.5]), seeds = Self.pinned([1.0, 0, 0.25, -2])
        defer { params.deallocate(); seeds.deallocate() }
        for stride in [n, n + 3] {
            var inputBlock = [Double](repeating: 0, count: k * stride + 1)
            for (j, seed) in [0.4, 1.9].enumerated() {
                for (i, v) in C.points(n, seed: seed).enumerated() { inputBlock[j * stride + i] = v }
            }
            for requests in 0...2 {
                for flags: UInt in 0...3 {
                    let kg = flags & 1 != 0 ? k : 0, qg = flags & 2 != 0 ? q : 0
                    let rows = m + requests * (kg + qg), sums = flags & 2 != 0 ? 0 : requests * q
                    var expected = [Double](repeating: .nan, count: rows * n + sums)
                    inputBlock.withUnsafeBufferPointer { ib in
                        let inputs: [UnsafePointer<Double>?] = (0..<k).map { ib.baseAddress! + $0 * stride }
                        expected.withUnsafeMutableBufferPointer { e in
                            let base = e.baseAddress!
                            let column = { (row: Int) -> UnsafeMutablePointer<Double>? in base + row * n }
                            let values = (0..<m).map(column)
                            var grads: [UnsafeMutablePointer<Double>?] = [], perPoint: [UnsafeMutablePointer<Double>?] = []
                            for r in 0..<requests {
                                let first = m + r * (kg + qg)
                                grads += (0..<kg).map { column(first + $0) }
                                perPoint += (0..<qg).map { column(first + kg + $0) }
                            }
                            let status = requests == 0
                                ? tvm_evaluate(program, UInt(n), inputs, UInt(k), params, UInt(q), values, UInt(m))
                                : tvm_gradients(program, UInt(n), inputs, UInt(k), params, UInt(q), seeds, UInt(requests),
                                                values, UInt(m), grads.isEmpty ? nil : grads, UInt(grads.count),
                                                sums > 0 ? base + rows * n : nil, perPoint.isEmpty ? nil : perPoint, UInt(perPoint.count))
                            #expect(status == C.ok, "\(C.lastError())")
                        }
                        for table in [true, false] {
                            // The record sits in the block, past the results, as the Python package puts it.
                            var block = [Double](repeating: .nan, count: rows * n + sums + 10)
                            block.withUnsafeMutableBufferPointer { b in
                                let base = b.baseAddress!
                                inputs.withUnsafeBufferPointer { t in
                                    let words = Self.record(program, n: n, inputs: table ? UnsafeRawPointer(t.baseAddress) : nil,
                                                            inputBlock: table ? nil : UnsafeRawPointer(ib.baseAddress), stride: stride,
                                                            params: params, seeds: seeds, requests: requests, flags: flags,
                                                            block: UnsafeRawPointer(base))
                                    let at = UnsafeMutableRawPointer(base + rows * n + sums)
                                    for (i, w) in words.enumerated() { at.storeBytes(of: w, toByteOffset: 8 * i, as: UInt.self) }
                                    #expect(tvm_run_block(at) == C.ok, "\(C.lastError())")
                                }
                            }
                            #expect(C.bits([Array(block[..<(rows * n + sums)])]) == C.bits([expected]),
                                    "n \(n) stride \(stride) requests \(requests) flags \(flags) table \(table)")
                        }
                    }
                }
            }
        }
    }

    @Test func errorsNameTheFields() {
        let tape = C.makeTape()
        defer { _ = tvm_tape_free(tape) }
        let program = C.makeProgram(tape)
        defer { _ = tvm_program_free(program) }
        var data = [Double](repeating: 1, count: 64)
        let p = Self.pinned([0.5, -1.5]), s = Self.pinned([1.0, 0])
        defer { p.deallocate(); s.deallocate() }
        data.withUnsafeMutableBufferPointer { d in
            let base = d.baseAddress!
            func run(_ words: [UInt]) -> Int32 { words.withUnsafeBufferPointer { tvm_run_block($0.baseAddress) } }
            C.expectFailure(tvm_run_block(nil), C.null, "tvm_run_block: run is NULL")
            C.expectFailure(run(Self.record(nil, n: 2, inputBlock: base, stride: 2, params: p, seeds: s, requests: 1, flags: 1,
                                            block: base + 8)), C.null, "program is NULL")
            C.expectFailure(run(Self.record(tape, n: 2, inputBlock: base, stride: 2, params: p, seeds: s, requests: 1, flags: 1,
                                            block: base + 8)), C.handle, "not a tvm_program")
            C.expectFailure(run(Self.record(program, n: 2, params: p, seeds: s, requests: 1, flags: 1, block: base + 8)),
                            C.null, "inputs and input_block are both NULL", "(x, y)")
            C.expectFailure(run(Self.record(program, n: 2, inputBlock: base, stride: 2, params: nil, seeds: s, requests: 1,
                                            flags: 1, block: base + 8)), C.null, "params is NULL")
            C.expectFailure(run(Self.record(program, n: 2, inputBlock: base, stride: 2, params: p, seeds: nil, requests: 1,
                                            flags: 1, block: base + 8)), C.null, "seeds is NULL")
            C.expectFailure(run(Self.record(program, n: 2, inputBlock: base, stride: 2, params: p, seeds: s, requests: 1,
                                            flags: 4, block: base + 8)), C.invalid, "flags is 4")
            C.expectFailure(run(Self.record(program, n: 2, inputBlock: base, stride: 2, params: p, seeds: s, requests: 1,
                                            flags: 1, block: nil)), C.null, "block is NULL", "10 doubles")
            // Values (2 × 2) and input gradients (2 × 2) start right on input y's column.
            C.expectFailure(run(Self.record(program, n: 2, inputBlock: base, stride: 2, params: p, seeds: s, requests: 1,
                                            flags: 1, block: base + 2)), C.invalid, "block overlaps input_block[1] (input 'y')")
            C.expectFailure(run(Self.record(program, n: 2, inputBlock: base, stride: 2, params: p, seeds: s, requests: 1 << 21,
                                            flags: 1, block: base + 8)), C.invalid, "request_count is 2097152")
        }
        // Nothing is written on an error.
        #expect(data.allSatisfy { $0 == 1 })
    }
}
