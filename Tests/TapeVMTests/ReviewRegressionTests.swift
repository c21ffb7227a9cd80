import CTapeKernels
import Foundation
import Testing
@testable import TapeVM
import TapeVMIO

/// Regressions for faults a code review found: each was a crash or a false claim.
@Suite struct ReviewRegressionTests {
    private func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "tapevm-\(UUID().uuidString).npy"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A version 1.0 header announcing less header text than the 12 bytes first read.
    @Test func npyHeaderShorterThanTheFirstReadIsAnError() throws {
        let path = try temporaryFile([0x93] + Array("NUMPY".utf8) + [1, 0, 1, 0, 0x0A, 0x20])
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: FileError.self) { _ = try NPYReader(path: path) }
    }

    /// A shape whose element count overflows.
    @Test func npyShapeThatOverflowsIsAnError() throws {
        var text = Array("{'descr': '<f8', 'fortran_order': False, 'shape': (9999999999, 9999999999), }".utf8)
        while (10 + text.count + 1) % 64 != 0 { text.append(0x20) }
        text.append(0x0A)
        let path = try temporaryFile([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.count & 0xff), UInt8(text.count >> 8)] + text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: FileError.self) { _ = try NPYReader(path: path) }
    }

    /// Tapes compare constants by their bits: NaN equals itself, 0 differs from -0.
    @Test func tapeEqualityComparesConstantBits() throws {
        func tape(_ k: Double) throws -> Tape {
            let b = TapeBuilder()
            b.output("f", b.add(b.input("x"), b.constant(k)))
            return try b.build()
        }
        #expect(try tape(.nan) == tape(.nan))
        #expect(try tape(0) != tape(-0.0))
        #expect(try Tape(text: tape(.nan).text) == tape(.nan))
    }

    /// Folding an integer power of a constant with a huge exponent does not trap.
    @Test func hugeIntegerPowerOfAConstantFolds() throws {
        let tape = try Tape.trace("x") { x in x + pow(Traced(2.0), Int.max) }
        #expect(ReferenceInterpreter(tape).evaluate(inputs: [1]) == [.infinity])
    }

    /// A code path the CPU lacks is never run: the C kernels refuse it and the Swift interpreter runs.
    @Test func kernelsIgnoreAnUnknownCodePath() throws {
        let b = TapeBuilder()
        b.output("f", b.mul(b.input("x"), b.input("y")))
        let program = Program(try b.build(), options: ExecutionOptions(threads: 1))
        #expect(program.instructionSet.isSupported)
        // The C entry points guard too: an out-of-range path number runs nothing and says so.
        let memory = UnsafeMutablePointer<Double>.allocate(capacity: 24)
        defer { memory.deallocate() }
        memory.initialize(repeating: 3, count: 24)
        let table = UnsafeMutablePointer<UnsafeMutablePointer<Double>?>.allocate(capacity: 3)
        defer { table.deallocate() }
        for k in 0..<3 { table[k] = memory + 8 * k }
        var code = tv_instr(op: Int32(Opcode.mul.rawValue), dst: 2, a: 0, b: 1, c: 0, active: 0, imm: 0)
        #expect(tv_forward(7, &code, 1, table, 8) == -1)
        #expect(tv_forward(Int32(TV_ISA_SWIFT.rawValue), &code, 1, table, 8) == -1)
        #expect(Array(UnsafeBufferPointer(start: memory + 16, count: 8)) == [Double](repeating: 3, count: 8))
        InstructionSet.avx512.forward(&code, 1, table, 8)   // unsupported or not, the product comes out
        #expect(Array(UnsafeBufferPointer(start: memory + 16, count: 8)) == [Double](repeating: 9, count: 8))
    }

    /// The documented difference between exact and merging passes at a singular point.
    @Test func mergedAdjointsAtASingularPointAreDocumented() throws {
        let tape = try Tape(expression: "f(x) = 2 * sqrt(x) - sqrt(x)")
        let exact = try Program(tape, options: ExecutionOptions(optimization: .exact)).valueAndGradient(inputs: [[0]])
        let merged = try Program(tape, options: ExecutionOptions(optimization: .all)).valueAndGradient(inputs: [[0]])
        #expect(exact.inputGradients[0][0].isNaN)                   // ∞ − ∞, as the reference interpreter
        #expect(merged.inputGradients[0][0] == .infinity)          // 1 · ∞, the derivative of √x at 0
        #expect(ReferenceInterpreter(tape).gradient(inputs: [0]).inputs[0].isNaN)
    }
}
