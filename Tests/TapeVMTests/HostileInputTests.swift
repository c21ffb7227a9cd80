import Foundation
import Testing
import TapeVM

/// Each documented limit (``TapeLimits``, ``ExpressionError/maximumNesting``) is an error with a
/// message that names the limit — never a trap, a hang or a silent truncation — whichever way the
/// hostile input arrives: expression text, tape text, or a tape built in Swift.
@Suite struct HostileInputTests {
    /// The first line of an error's description (the diagnostic; a source line and caret may follow).
    static func headline(_ error: any Error) -> String {
        String(describing: error).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
    }

    @Test func nestingBeyondTheLimit() {
        let depth = ExpressionError.maximumNesting + 10
        let text = "f(x) = " + String(repeating: "(", count: depth) + "x" + String(repeating: ")", count: depth)
        #expect {
            _ = try Tape(expression: text)
        } throws: { error in
            let e = error as! ExpressionError
            return e.kind == .nestingTooDeep && Self.headline(e).contains("\(ExpressionError.maximumNesting)")
        }
        // At the limit it still parses.
        let ok = ExpressionError.maximumNesting - 1
        #expect(throws: Never.self) {
            _ = try Tape(expression: "f(x) = " + String(repeating: "(", count: ok) + "x" + String(repeating: ")", count: ok))
        }
    }

    /// The limit is exact wherever the nesting starts: `maximumNesting` unfinished constructs
    /// parse, one more is an error — a body's opening `(` (read apart from the others, to tell a
    /// tuple) and a body's `let` count like any other.
    @Test func nestingLimitIsExact() {
        let limit = ExpressionError.maximumNesting
        func parens(_ n: Int, after prefix: String = "") -> String {
            "f(x) = " + prefix + String(repeating: "(", count: n) + "x" + String(repeating: ")", count: n)
        }
        let cases: [(text: (Int) -> String, atLimit: Int)] = [
            ({ parens($0) }, limit),                                    // body starts with `(`
            ({ parens($0 - 1, after: "1 + ") }, limit),                 // `1 + _` is one
            ({ parens($0 - 1, after: "let a = ") + " in a" }, limit),   // a body's `let` is one
            ({ "f(x) = (1, " + String(repeating: "(", count: $0 - 1) + "x" + String(repeating: ")", count: $0 - 1) + ")" }, limit),
            ({ "f(x) = " + String(repeating: "-", count: $0) + "x" }, limit),
            ({ "f(x) = " + String(repeating: "sin(", count: $0) + "x" + String(repeating: ")", count: $0) }, limit),
        ]
        for (text, atLimit) in cases {
            #expect(throws: Never.self, "\(text(atLimit).prefix(24))") { _ = try Tape(expression: text(atLimit)) }
            #expect("\(text(atLimit + 1).prefix(24))") {
                _ = try Tape(expression: text(atLimit + 1))
            } throws: { ($0 as? ExpressionError)?.kind == .nestingTooDeep }
        }
    }

    @Test func exponentsBeyondTheLimit() throws {
        let k = TapeLimits.maximumExponent + 1
        // `x^k` beyond the limit is `pow` (the language's rule for other exponents), not an error.
        #expect(try Tape(expression: "f(x) = x^\(k)").instructions.last?.opcode == .pow)
        #expect { _ = try Tape(expression: "f(x) = powi(x, -\(k))") } throws: { Self.headline($0).contains("\(TapeLimits.maximumExponent)") }
        let text = "tapevm 1\ninput x\nr0 = input x\nr1 = powi r0 \(k)\noutput y r1\n"
        #expect { _ = try Tape(text: text) } throws: { error in
            (error as! TapeTextError).line == 4 && Self.headline(error).contains("\(TapeLimits.maximumExponent)")
        }
        #expect { _ = try Tape(text: text.replacingOccurrences(of: "\(k)", with: "99999999999999999999999")) } throws: { error in
            (error as! TapeTextError).line == 4
        }
        #expect(throws: TapeError.self) {
            _ = try Tape(instructions: [Instruction(.input), Instruction(.powi, [Register(0)], immediate: Double(k))],
                         inputs: ["x"], outputs: [Output(name: "y", register: Register(1))])
        }
    }

    @Test func namesBeyondTheLimit() {
        let long = String(repeating: "a", count: TapeLimits.maximumNameBytes + 1)
        let check = { (error: any Error) in Self.headline(error).contains("at most \(TapeLimits.maximumNameBytes)") }
        #expect { _ = try Tape(expression: "f(\(long)) = \(long)") } throws: { check($0) }
        #expect { _ = try Tape(expression: "\(long)(x) = x") } throws: { check($0) }
        #expect { _ = try Tape(text: "tapevm 1\ninput \(long)\nr0 = input \(long)\noutput y r0\n") } throws: { check($0) }
        #expect { _ = try Tape(text: "tapevm 1\ninput x\nr0 = input x\noutput \"\(long)\" r0\n") } throws: { check($0) }
        // Exactly at the limit is fine.
        let atLimit = String(repeating: "b", count: TapeLimits.maximumNameBytes)
        #expect(throws: Never.self) { _ = try Tape(expression: "f(\(atLimit)) = \(atLimit)") }
    }

    @Test func slotsBeyondTheLimit() throws {
        let names = (0...TapeLimits.maximumSlots).map { "x\($0)" }
        #expect {
            _ = try Tape(instructions: [Instruction(.input)], inputs: names, outputs: [Output(name: "y", register: Register(0))])
        } throws: { error in
            (error as! TapeError).kind == .tooLarge && Self.headline(error).contains("at most \(TapeLimits.maximumSlots)")
        }
    }

    /// Bytes that are not text, NULs, a lone surrogate's encoding, overlong forms: errors with a
    /// position, in both languages.
    @Test func binaryGarbageIsAnErrorWithAPosition() {
        let garbage: [[UInt8]] = [[0xFF, 0xFE, 0x00, 0x41], [0xED, 0xA0, 0x80], [0xC0, 0xAF], Array("f(x) = x\0+ 1".utf8),
                                  Array("tapevm 1\ninput x\nr0 = input x\0\noutput y r0".utf8)]
        for bytes in garbage {
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(throws: ExpressionError.self) { _ = try Tape(expression: text) }
            #expect(throws: TapeTextError.self) { _ = try Tape(text: text) }
        }
    }
}
