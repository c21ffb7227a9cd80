import Foundation
import Testing
@testable import TapeVM

@Suite struct ExpressionTests {
    /// The tape of `text`, failing the test with the error's description if it does not compile.
    private func tape(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Tape {
        do {
            return try Tape(expression: text)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
            throw error
        }
    }

    /// The outputs of `text` at one point.
    private func values(_ text: String, _ inputs: [Double] = [], parameters: [Double] = [],
                        sourceLocation: SourceLocation = #_sourceLocation) throws -> [Double] {
        ReferenceInterpreter(try tape(text, sourceLocation: sourceLocation)).evaluate(inputs: inputs, parameters: parameters)
    }

    /// The opcodes of the non-leaf instructions of `text`.
    private func operations(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [Opcode] {
        try tape(text, sourceLocation: sourceLocation).instructions.map(\.opcode)
            .filter { $0 != .input && $0 != .param && $0 != .const }
    }

    /// The error `text` fails with.
    private func failure(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ExpressionError? {
        do {
            let tape = try Tape(expression: text)
            Issue.record("expected an error, got a tape with \(tape.registerCount) registers", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    /// Checks that `text` fails with `kind` at `line:column` and a message containing `words`.
    private func expectError(_ text: String, _ kind: ExpressionError.Kind, at line: Int, _ column: Int,
                             _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = failure(text, sourceLocation: sourceLocation) else { return }
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(error.line == line && error.column == column, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(words), "\(error)", sourceLocation: sourceLocation)
    }

    // MARK: Values and gradients

    @Test func specExample() throws {
        let t = try tape("f(x, y; w) = let s = sigmoid(y) in (x + s) / (sigmoid(x) + (x + y)^2)")
        #expect(t.inputs == ["x", "y"])
        #expect(t.parameters == ["w"])
        #expect(t.outputs.map(\.name) == ["f"])
        let interpreter = ReferenceInterpreter(t)

        // At (0, 0): s = 1/2, numerator 1/2, denominator σ(0) + 0 = 1/2, so f = 1.
        // ∂f/∂x = (1·D - N·(σ'(0) + 2(x+y))) / D² = (1/2 - 1/2·1/4) / (1/4) = 3/2.
        // ∂f/∂y = (σ'(0)·D - N·2(x+y)) / D² = (1/4·1/2) / (1/4) = 1/2. w is unused.
        let origin = interpreter.gradient(inputs: [0, 0], parameters: [7])
        #expect(origin.values == [1])
        #expect(origin.inputs == [1.5, 0.5])
        #expect(origin.parameters == [0])

        // At (1, -1), x + y = 0: f = (1 + σ(-1)) / σ(1).
        let sp = 1 / (1 + Foundation.exp(1.0)), sm = 1 / (1 + Foundation.exp(-1.0)) // σ(-1), σ(1)
        let n = 1 + sp, d = sm
        let g = interpreter.gradient(inputs: [1, -1], parameters: [0])
        #expect(abs(g.values[0] - n / d) < 1e-14)
        #expect(abs(g.inputs[0] - (d - n * sm * (1 - sm)) / (d * d)) < 1e-14)
        #expect(abs(g.inputs[1] - sp * (1 - sp) / d) < 1e-14)
    }

    @Test func productOfSum() throws {
        let t = try tape("f(x, y, z) = (x + y) * z")
        let g = ReferenceInterpreter(t).gradient(inputs: [-2, 5, -4])
        #expect(g.values == [-12])
        #expect(g.inputs == [-4, -4, 3])
        #expect(try operations("f(x, y, z) = (x + y) * z") == [.add, .mul])
    }

    @Test func headerSlotsFollowDeclarationOrder() throws {
        let t = try tape("f(x, y; w, b) = b * y")
        #expect(t.inputs == ["x", "y"])
        #expect(t.parameters == ["w", "b"])
        #expect(Array(t.instructions.prefix(4)) == [
            Instruction(.input, immediate: 0), Instruction(.input, immediate: 1),
            Instruction(.param, immediate: 0), Instruction(.param, immediate: 1),
        ])
        let g = ReferenceInterpreter(t).gradient(inputs: [1, 3], parameters: [5, 2])
        #expect(g.values == [6])
        #expect(g.inputs == [0, 2])
        #expect(g.parameters == [0, 3])
        #expect(try tape("f() = 1").inputs.isEmpty)
        #expect(try tape("f(; w) = w").parameters == ["w"])
    }

    // MARK: Operators

    @Test func precedence() throws {
        #expect(try values("f(x) = -x^2", [3]) == [-9])
        #expect(try operations("f(x) = -x^2") == [.powi, .neg])
        #expect(try values("f() = 2^3^2") == [512])
        #expect(try values("f() = 2**3**2") == [512])
        #expect(try values("f() = -2^2") == [-4])
        #expect(try values("f(a, b, c) = a - b - c", [10, 3, 2]) == [5])
        #expect(try values("f(a, b, c) = a / b / c", [12, 3, 2]) == [2])
        #expect(try values("f() = 1 + 2 * 3") == [7])
        #expect(try values("f() = (1 + 2) * 3") == [9])
        #expect(try values("f() = 2 * 3 + 4 * 5") == [26])
        #expect(try values("f(x) = 2^-x", [1]) == [0.5])
        #expect(try values("f(x) = -x * 3", [2]) == [-6])
        #expect(try values("f(x) = --x", [2]) == [2])
        #expect(try values("f(x) = +x - -x", [2]) == [4])
        #expect(try values("f(x, y) = x + 1 < y * 2", [1, 2]) == [1])
        #expect(try values("f(x, y) = x + 1 >= y * 2", [1, 2]) == [0])
        #expect(try values("f(x) = (x < 1) == 0", [2]) == [1])
    }

    @Test func comparisonsEmitTheirOpcodes() throws {
        #expect(try operations("f(a, b) = (a < b) + (a <= b) + (a > b) + (a >= b) + (a == b) + (a != b)")
                == [.lt, .le, .add, .gt, .add, .ge, .add, .eq, .add, .ne, .add])
        #expect(try values("f(a, b) = (a < b, a <= b, a > b, a >= b, a == b, a != b)", [2, 2]) == [0, 1, 0, 1, 1, 0])
    }

    @Test func integerExponentsEmitPowi() throws {
        func exponents(_ text: String) throws -> [Double] {
            try tape(text).instructions.filter { $0.opcode == .powi }.map(\.immediate)
        }
        #expect(try operations("f(x) = x^2") == [.powi])
        #expect(try exponents("f(x) = x^2") == [2])
        #expect(try exponents("f(x) = x^-2") == [-2])
        #expect(try exponents("f(x) = x^(-2)") == [-2])
        #expect(try exponents("f(x) = x^-(2)") == [-2])
        #expect(try exponents("f(x) = x^+3") == [3])
        #expect(try exponents("f(x) = x**0") == [0])
        #expect(try operations("f(x) = x^(-2)") == [.powi])
        #expect(try values("f(x) = x^-2", [2]) == [0.25])
        #expect(try values("f(x) = x^-2 * 3", [2]) == [0.75])
        #expect(try operations("f(x) = x^2.5") == [.pow])
        #expect(try operations("f(x) = x^2.0") == [.pow])
        #expect(try operations("f(x, y) = x^y") == [.pow])
        #expect(try operations("f(x) = x^(1 + 1)") == [.add, .pow])
        #expect(try operations("f(x) = x^2^3") == [.powi, .pow]) // x^(2^3)
        #expect(try values("f(x) = x^2^3", [2]) == [256])
        #expect(try operations("f(x) = x^10000000") == [.pow]) // beyond powi's range
        #expect(try operations("f(x) = powi(x, -3)") == [.powi])
        #expect(try exponents("f(x) = powi(x, (-3))") == [-3])
        #expect(try values("f(x) = powi(x, 3)", [2]) == [8])
    }

    // MARK: Names

    @Test func numbersAndConstants() throws {
        #expect(try values("f() = (1, 2.5, .5, 1e-3, 6.02E23, 2., 1e+2)") == [1, 2.5, 0.5, 1e-3, 6.02e23, 2, 100])
        #expect(try values("f() = (pi, e)") == [Double.pi, M_E])
        #expect(try values("f(e) = e * 2", [5]) == [10]) // an input named e hides the constant
        #expect(try values("f(x; pi) = pi", [1], parameters: [3]) == [3])
        #expect(try values("f(x) = let pi = 3 in pi", [0]) == [3])
        // Equal constants share a register.
        #expect(try tape("f(x) = x * 2 + 2").instructions.filter { $0.opcode == .const }.count == 1)
        // Negative numbers are negated constants: no folding.
        #expect(try operations("f(x) = -2") == [.neg])
    }

    @Test func letBindings() throws {
        #expect(try values("f(x) = let a = x * 2, b = a + 1 in a * b", [3]) == [42])
        #expect(try values("f(x) = let a = x in let b = a * a in b + a", [3]) == [12])
        #expect(try values("f(x) = let a = x in let a = a * 10 in a", [3]) == [30]) // a let may rebind a let
        #expect(try values("f(x) = 1 + let a = x in a * 2", [3]) == [7]) // extends to the right
        #expect(try values("f(x) = (let a = x in a) * 2", [3]) == [6])
        #expect(try values("f(x) = (let a = x, b = 2 in a + b) * 2", [3]) == [10])
        #expect(try values("""
            f(x) =
                let a = x + 1,  # one
                    b = a * 2   # two
                in
                    a + b
            """, [1]) == [6])
        expectError("f(x, y) = let y = 2 in x", .shadowedName, at: 1, 15, "'y' is an input")
        expectError("f(x; w) = let w = 2 in x", .shadowedName, at: 1, 15, "'w' is a parameter")
        expectError("f(x) = (let a = x in a) + a", .unknownName, at: 1, 27, "unknown name 'a'") // out of scope
    }

    @Test func functionsComeFromTheOpcodeTable() throws {
        // Constant-operand forms (addk, ...) are the optimizer's: write `x + 2` instead.
        let callable = Opcode.allCases.filter { $0.arity > 0 && $0.info.immediate != .value }
        #expect(Set(ExpressionParser.functions.values) == Set(callable))
        for op in callable {
            let arguments = ["a", "b", "c"].prefix(op.arity).joined(separator: ", ")
                + (op == .powi ? ", 3" : "")
            let t = try tape("f(a, b, c) = \(op.mnemonic)(\(arguments))")
            #expect(t.instructions.last?.opcode == op, "\(op)")
            #expect(t.outputs[0].register.index == t.registerCount - 1)
        }
        #expect(try operations("f(c, a, b) = where(c, a, b)") == [.select])
        #expect(try operations("f(a, b) = logsumexp(a, b)") == [.logaddexp])
        #expect(try values("f(a, b) = max(a, min(b, 3))", [1, 5]) == [3])
        #expect(try values("f(x) = where(x > 0, x, -x)", [-4]) == [4])
        #expect(try values("f(a, b, c) = muladd(a, b, c)", [2, 3, 4]) == [10])
        // An input may share a function's name: calls look only at functions.
        #expect(try values("f(exp) = exp(exp)", [0]) == [1])
    }

    // MARK: Outputs

    @Test func tupleOutputs() throws {
        let t = try tape("f(x, y) = (x * y, x + y)")
        #expect(t.outputs.map(\.name) == ["f[0]", "f[1]"])
        #expect(ReferenceInterpreter(t).evaluate(inputs: [3, 4]) == [12, 7])
        let l = try tape("f(x) = let s = x * x in (s, s + 1, -s)")
        #expect(l.outputs.map(\.name) == ["f[0]", "f[1]", "f[2]"])
        #expect(ReferenceInterpreter(l).evaluate(inputs: [3]) == [9, 10, -9])
        // A parenthesized body that is not a tuple can go on.
        #expect(try values("f(x) = (x + 1) * 2", [1]) == [4])
        #expect(try values("f(x) = (x + 1)^2", [1]) == [4])
    }

    @Test func multipleDefinitions() throws {
        let t = try tape("""
            # Two outputs over the same inputs.
            loss(x, y; w) = (w * x - y)^2

            pred(x, y; w) = w * x   # the prediction
            both(x, y; w) = (x, y)
            """)
        #expect(t.outputs.map(\.name) == ["loss", "pred", "both[0]", "both[1]"])
        #expect(t.inputs == ["x", "y"] && t.parameters == ["w"])
        let g = ReferenceInterpreter(t).gradient(inputs: [2, 1], parameters: [3])
        #expect(g.values == [25, 6, 2, 1])
        #expect(g.inputs == [30, -10])
        #expect(g.parameters == [20])
        // Lets do not leak from one definition into the next.
        expectError("f(x) = let a = x in a\ng(x) = a", .unknownName, at: 2, 8, "unknown name 'a'")
    }

    @Test func commentsAndLineBreaks() throws {
        #expect(try values("""
            # leading comment

            f(x,   # the input
              y) = x +      # continues after an operator
                   y        # and before one:
                   * 2
                   - 1
            # trailing comment
            """, [1, 2]) == [4])
        #expect(try values("f(x) = max(\n  x,\n  2\n)", [1]) == [2])
        #expect(try values("f(x) = x\r\ng(x) = 2 * x\r\n", [3]) == [3, 6])
        #expect(try values("\tf(x)\t=\tx", [3]) == [3])
    }

    // MARK: Errors

    @Test func errorDescriptionPointsAtTheToken() throws {
        let error = try #require(failure("f(x, y) = x + z"))
        #expect(error.kind == .unknownName)
        #expect((error.line, error.column) == (1, 15))
        #expect(error.message == "unknown name 'z'")
        #expect(error.description == "1:15: error: unknown name 'z'\nf(x, y) = x + z\n              ^")
        // Tabs in the line are kept so the caret lines up.
        let tabbed = try #require(failure("f(x) =\n\tx + z"))
        #expect(tabbed.description == "2:6: error: unknown name 'z'\n\tx + z\n\t    ^")
    }

    @Test func lexicalErrors() {
        expectError("f(x) = x $ 2", .unexpectedCharacter, at: 1, 10, "unexpected character '$'")
        expectError("f(x) = x ! 2", .unexpectedCharacter, at: 1, 10, "unexpected character '!'")
        expectError("f(x) = x\u{7}", .unexpectedCharacter, at: 1, 9, "U+0007")
        expectError("f(x) = 2x", .unexpectedCharacter, at: 1, 9, "write '2*x' to multiply")
        expectError("f(x) = 1e + x", .malformedNumber, at: 1, 8, "'1e' needs digits in its exponent")
        expectError("f(x) = 1e999", .malformedNumber, at: 1, 8, "too large")
    }

    @Test func syntaxErrors() {
        expectError("f(x) = x + )", .unexpectedToken, at: 1, 12, "unexpected ')'; expected an expression")
        expectError("f(x) = x +", .unexpectedEndOfInput, at: 1, 11, "unexpected end of input; expected an expression")
        expectError("f(x) = (x + 1", .unexpectedEndOfInput, at: 1, 14, "expected an operator or ')'")
        expectError("f(x) = x y", .unexpectedToken, at: 1, 10, "unexpected name 'y'; expected an operator or the end of the line")
        expectError("f(x) = x = 1", .unexpectedToken, at: 1, 10, "use '==' to compare")
        expectError("f x = x", .unexpectedToken, at: 1, 3, "expected '(' after the definition name 'f'")
        expectError("f(x y) = x", .unexpectedToken, at: 1, 5, "expected ',', ';' or ')'")
        expectError("f(x,) = x", .unexpectedToken, at: 1, 5, "expected an input name")
        expectError("f(x; ,) = x", .unexpectedToken, at: 1, 6, "expected a parameter name")
        expectError("f(x)", .unexpectedEndOfInput, at: 1, 5, "expected '=' after the header of 'f'")
        expectError("f(let) = 1", .unexpectedToken, at: 1, 3, "unexpected keyword 'let'")
        expectError("x + 1", .unexpectedToken, at: 1, 3, "expected '(' after the definition name 'x'")
        expectError("(x) = 1", .unexpectedToken, at: 1, 1, "expected a definition")
        expectError("f(x) = let a = x a", .unexpectedToken, at: 1, 18, "expected an operator, ',' or 'in'")
        expectError("f(x) = let = x in x", .unexpectedToken, at: 1, 12, "expected a name to bind")
        expectError("f(x) = max(x, 1", .unexpectedEndOfInput, at: 1, 16, "expected an operator, ',' or ')'")
        // A dangling operator before the next definition is blamed on the line break.
        expectError("f(x) = x +\ng(x) = x", .unexpectedToken, at: 1, 11, "unexpected end of line; expected an expression")
        expectError("f(x) = (x, x) + 1", .misplacedTuple, at: 1, 8, "whole body")
        expectError("f(x) = 1 + (x, x)", .misplacedTuple, at: 1, 12, "whole body")
        expectError("f(x) = (x, x) y", .unexpectedToken, at: 1, 15, "expected an operator or the end of the line")
        expectError("f(a, b, c) = a < b < c", .chainedComparison, at: 1, 20, "cannot be chained")
        expectError("f(a, b, c) = a == b + 1 != c", .chainedComparison, at: 1, 25, "cannot be chained")
    }

    @Test func nameErrors() {
        expectError("f(x) = y", .unknownName, at: 1, 8, "unknown name 'y'")
        expectError("f(alpha) = alpah", .unknownName, at: 1, 12, "did you mean 'alpha'?")
        expectError("f(x) = sin", .unknownName, at: 1, 8, "'sin' is a function; call it as 'sin(...)'")
        expectError("f(x) = foo(x)", .unknownFunction, at: 1, 8, "unknown function 'foo'")
        expectError("f(x) = sigmod(x)", .unknownFunction, at: 1, 8, "did you mean 'sigmoid'?")
        expectError("f(x) = x(2)", .unknownFunction, at: 1, 8, "'x' is not a function")
        expectError("f(x) = sin(x, x)", .wrongArgumentCount, at: 1, 8, "'sin' takes 1 argument, got 2")
        expectError("f(x) = max(x)", .wrongArgumentCount, at: 1, 8, "'max' takes 2 arguments, got 1")
        expectError("f(x) = where(x, x)", .wrongArgumentCount, at: 1, 8, "'where' takes 3 arguments, got 2")
        expectError("f(x) = exp()", .wrongArgumentCount, at: 1, 8, "'exp' takes 1 argument, got 0")
        expectError("f(x) = powi(x)", .wrongArgumentCount, at: 1, 8, "'powi' takes 2 arguments")
        expectError("f(x, x) = x", .duplicateName, at: 1, 6, "input 'x' is declared twice")
        expectError("f(x; w, w) = x", .duplicateName, at: 1, 9, "parameter 'w' is declared twice")
        expectError("f(x; x) = x", .duplicateName, at: 1, 6, "'x' is both an input and a parameter")
        expectError("f(x) = x\nf(x) = 2", .duplicateName, at: 2, 1, "'f' is defined twice")
        expectError("f(x) = x\n\ng(x, y) = x", .mismatchedSignature, at: 3, 1,
                    "'g' takes (x, y) but the first definition takes (x)")
        expectError("f(x; w) = x\ng(x; v) = x", .mismatchedSignature, at: 2, 1, "takes (x; v)")
    }

    @Test func exponentErrors() {
        expectError("f(x) = powi(x, 2.5)", .invalidExponent, at: 1, 16, "integer literal")
        expectError("f(x) = powi(x, x)", .invalidExponent, at: 1, 16, "integer literal")
        expectError("f(x) = powi(x, 2 + 1)", .invalidExponent, at: 1, 16, "integer literal")
        expectError("f(x) = powi(x, 10000000)", .invalidExponent, at: 1, 16, "between -1000000 and 1000000")
    }

    @Test func emptyInput() {
        expectError("", .emptyInput, at: 1, 1, "empty input")
        expectError("  \n\n", .emptyInput, at: 1, 1, "empty input")
        expectError("# nothing here\n# at all", .emptyInput, at: 1, 1, "empty input")
    }

    @Test func deepNestingIsAnErrorNotACrash() throws {
        let depth = ExpressionError.maximumNesting - 2
        #expect(try values("f(x) = " + String(repeating: "(", count: depth) + "x" + String(repeating: ")", count: depth), [2]) == [2])
        #expect(try values("f(x) = " + String(repeating: "sin(", count: depth) + "x" + String(repeating: ")", count: depth), [0]) == [0])
        let limit = ExpressionError.maximumNesting
        for text in [
            "f(x) = " + String(repeating: "(", count: 100_000) + "x" + String(repeating: ")", count: 100_000),
            "f(x) = " + String(repeating: "-", count: 100_000) + "x",
            "f(x) = x" + String(repeating: "^x", count: 100_000),
            "f(x) = 1 + " + String(repeating: "let a = x in ", count: limit + 1) + "a",
            "f(x) = " + String(repeating: "exp(", count: limit + 1) + "x",
        ] {
            let error = try #require(failure(text), "\(text.prefix(40))...")
            #expect(error.kind == .nestingTooDeep, "\(error.message)")
        }
        // Lets at the start of a body follow one another without nesting.
        let chain = (1...2_000).map { "let a\($0) = a\($0 - 1) + 1 in " }.joined()
        #expect(try values("f(a0) = " + chain + "a2000", [0]) == [2_000])
        // Long flat expressions do not nest.
        #expect(try values("f(x) = x" + String(repeating: " + x", count: 5_000), [1]) == [5_001])
    }

    @Test func arbitraryTextNeverCrashes() {
        let pieces = ["f", "(", ")", "x", "y", ",", ";", "=", "==", "+", "-", "*", "**", "/", "^", "<", "<=", "!=",
                      "let", "in", "2", ".5", "1e3", "-", "pi", "e", "powi", "sin", "where", "\n", " ", "#", "$", "é", "\t"]
        var rng = SplitMix64(seed: 42)
        for _ in 0..<3_000 {
            let count = Int(rng.next() % 24)
            var text = ""
            for _ in 0..<count { text += pieces[Int(rng.next() % UInt64(pieces.count))] }
            if rng.next() % 2 == 0 { text = "f(x, y; w) = " + text }
            do {
                _ = try Tape(expression: text)
            } catch {
                #expect(error.line >= 1 && error.column >= 1)
                #expect(error.description.hasPrefix("\(error.line):\(error.column): error: "))
            }
        }
    }
}
