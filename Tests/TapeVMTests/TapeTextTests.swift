import Testing
@testable import TapeVM

@Suite struct TapeTextTests {
    /// Same names and outputs, and instructions equal with immediates compared bit for bit.
    private func identical(_ a: Tape, _ b: Tape) -> Bool {
        a.inputs == b.inputs && a.parameters == b.parameters && a.outputs == b.outputs
            && a.instructions.count == b.instructions.count
            && zip(a.instructions, b.instructions).allSatisfy {
                $0.opcode == $1.opcode && $0.operands == $1.operands
                    && $0.immediate.bitPattern == $1.immediate.bitPattern
            }
    }

    private func roundTrip(_ tape: Tape) throws {
        let text = tape.text
        let parsed = try Tape(text: text)
        #expect(identical(parsed, tape), "\(text)")
        #expect(parsed.text == text)
    }

    static let constants: [Double] = [
        0.1, -0.0, 0, 1e300, -1e300, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 2.2250738585072014e-308, .greatestFiniteMagnitude,
        1, -2, 0.5, 1.0 / 3, 1.2345678901234568e+20, .pi, .infinity, -.infinity,
        .nan, -.nan, .signalingNaN, Double(nan: 0x1234, signaling: false), -Double(nan: 7, signaling: true),
        Double(bitPattern: 0x7ff0_0000_0000_0001), Double(bitPattern: 0xffff_ffff_ffff_ffff),
    ]

    @Test func everyOpcodeAndConstantRoundTrips() throws {
        let b = TapeBuilder()
        let x = b.input("x"), y = b.input("y"), z = b.input("z")
        let w = b.parameter("w")
        var registers = [x, y, z, w]
        for op in Opcode.allCases {
            switch op.info.immediate {
            case .slot:
                registers.append(op == .input ? b.input("x") : b.parameter("w"))
            case .value where op.arity == 0:
                for c in Self.constants { registers.append(b.emit(.const, [], immediate: c)) }
            case .value:
                for c in Self.constants {
                    let operands = (0..<op.arity).map { registers[registers.count - 1 - $0] }
                    registers.append(b.emit(op, operands, immediate: c))
                }
            case .exponent:
                for k in [0, 1, 2, -3, 1_000_000, -1_000_000] { registers.append(b.powi(y, k)) }
                registers.append(b.emit(.powi, [z], immediate: -0.0))
            case .none:
                let operands = (0..<op.arity).map { registers[registers.count - 1 - $0] }
                registers.append(b.emit(op, operands))
            }
        }
        b.output("f", registers.last!)
        b.output("f[0]", x)
        b.output("g.h", w)
        let tape = try b.build()
        #expect(Set(tape.instructions.map(\.opcode)) == Set(Opcode.allCases))
        try roundTrip(tape)
    }

    @Test func printsTheDocumentedLayout() throws {
        let b = TapeBuilder()
        let x = b.input("x"), y = b.input("y"), w = b.parameter("w")
        b.output("f", b.muladd(b.powi(b.add(x, y), 2), b.constant(0.5), w))
        let tape = try b.build()
        #expect(tape.text == """
            tapevm 1
            input x y
            param w
            r0 = input x
            r1 = input y
            r2 = param w
            r3 = add r0 r1
            r4 = powi r3 2
            r5 = const 0.5
            r6 = muladd r4 r5 r2
            output f r6

            """)
    }

    @Test func constantSpellings() throws {
        func const(_ spelling: String) throws -> Double {
            try Tape(text: "tapevm 1\nr0 = const \(spelling)\noutput c r0").instructions[0].immediate
        }
        #expect(try const("0.1") == 0.1)
        #expect(try const("-0.0").bitPattern == (-0.0).bitPattern)
        #expect(try const("1e300") == 1e300)
        #expect(try const("1E+300") == 1e300)
        #expect(try const("5e-324") == .leastNonzeroMagnitude)
        #expect(try const("1e-400") == 0)
        #expect(try const("+2.") == 2)
        #expect(try const(".25") == 0.25)
        #expect(try const("0x1.8p3") == 12)
        #expect(try const("inf") == .infinity)
        #expect(try const("+inf") == .infinity)
        #expect(try const("-inf") == -.infinity)
        #expect(try const("nan").bitPattern == Double.nan.bitPattern)
        #expect(try const("-nan").bitPattern == (-Double.nan).bitPattern)
        #expect(try const("nan:0x7ff0000000000001").bitPattern == 0x7ff0_0000_0000_0001)
        for c in Self.constants {
            let spelled = TapeText.spell(number: c)
            #expect(try const(spelled).bitPattern == c.bitPattern, "\(spelled)")
        }
    }

    @Test func quotedNamesRoundTrip() throws {
        let names = ["a b", "é", "say \"hi\"", "back\\slash", "tab\there", "line\nbreak", "\u{1}", "1x", "#hash", "=",
                     "x\u{2028}y", "r0", "input", "f[0]", "日本"]
        let b = TapeBuilder()
        var last = b.constant(1)
        for n in names { last = b.add(last, b.input(n)) }
        b.output("out put", last)
        b.output("#", b.parameter("p q"))
        let tape = try b.build()
        #expect(tape.text.contains("input \"a b\" \"é\" "))
        #expect(tape.text.contains("f[0]"))
        try roundTrip(tape)
        let parsed = try Tape(text: "tapevm 1\ninput \"\\u{41}\\u{1F600}\" \"\\\\\"\nr0 = input \"A😀\"\noutput o r0")
        #expect(parsed.inputs == ["A😀", "\\"])
    }

    @Test func tracedTapesRoundTrip() throws {
        let tape = try Tape.trace(inputs: ["x", "y"], parameters: ["w"], outputs: ["f[0]", "f[1]"]) { v, p in
            let (x, y, w) = (v[0], v[1], p[0])
            return [select(lt(x, y), sigmoid(w * x), tanh(y) + 0.1), logaddexp(x, y) / pow(w, 3)]
        }
        try roundTrip(tape)
    }

    @Test func handWrittenFileEvaluates() throws {
        let source = """
            # f(x, y, z) = (x + y)^2 * 0.5 * w + sqrt(z)
            tapevm 1   # version

            input x y   # per point
            input z
            param w
            r0 = input x
            r1 = input y
            r2 = const 0.5          # one half
            r3 = add r0 r1
            r4 = powi r3 2
            r5 = mul r4 r2
            r6 = param w
            r7 = mul r5 r6
            r8 = input z
            r9=sqrt r8
            r10 = add r7 r9
            output f r10
            output "x + y" r3
            """
        let tape = try Tape(text: source)
        #expect(tape.inputs == ["x", "y", "z"])
        #expect(tape.parameters == ["w"])
        let g = ReferenceInterpreter(tape).gradient(inputs: [1, 2, 16], parameters: [4])
        #expect(g.values == [4.5 * 4 + 4, 3])
        #expect(g.inputs == [12.0, 12.0, 0.125])
        #expect(g.parameters == [4.5])
        // CRLF line ends read the same.
        let crlf = try Tape(text: source.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(crlf == tape)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let text: String
        let kind: TapeTextError.Kind
        let line: Int
        let column: Int
        let message: String
        var testDescription: String { "\(kind) \(line):\(column)" }
        init(_ text: String, _ kind: TapeTextError.Kind, _ line: Int, _ column: Int, _ message: String = "") {
            self.text = text; self.kind = kind; self.line = line; self.column = column; self.message = message
        }
    }

    static let errorCases: [Case] = [
        Case("", .missingHeader, 1, 1, "no statements"),
        Case("# only a comment\n\n", .missingHeader, 1, 1),
        Case("input x\ntapevm 1", .missingHeader, 1, 1, "expected the header 'tapevm 1'"),
        Case("tapevm 2\n", .unsupportedVersion, 1, 8, "unsupported tape version 2, this build reads 1"),
        Case("tapevm 99999999999999999999999\n", .unsupportedVersion, 1, 8),
        Case("tapevm\n", .syntax, 1, 7, "expected a version number"),
        Case("tapevm one\n", .syntax, 1, 8),
        Case("tapevm 1 extra\n", .syntax, 1, 10, "unexpected 'extra'"),
        Case("tapevm 1\ntapevm 1\n", .misplacedStatement, 2, 1),
        Case("tapevm 1\nr0 = const 1\ninput x\n", .misplacedStatement, 3, 1),
        Case("tapevm 1\ninput x 2x\n", .syntax, 2, 9, "not a valid input name"),
        Case("tapevm 1\ninput x \"\"\n", .syntax, 2, 9, "must not be empty"),
        Case("tapevm 1\ninput \"abc\n", .syntax, 2, 7, "unterminated"),
        Case("tapevm 1\ninput \"a\\qb\"\n", .syntax, 2, 9, "unknown escape"),
        Case("tapevm 1\ninput \"a\\u{110000}\"\n", .syntax, 2, 9, "\\u{"),
        Case("tapevm 1\ninput x y\nparam y\n", .duplicateName, 3, 7, "already declared as an input"),
        Case("tapevm 1\ninput x x\n", .duplicateName, 2, 9),
        Case("tapevm 1\nfoo = add r0 r1\n", .syntax, 2, 1, "expected an instruction 'r0 = …'"),
        Case("tapevm 1\nr01 = const 1\n", .syntax, 2, 1),
        Case("tapevm 1\nr1 = const 1\n", .misnumberedRegister, 2, 1, "expected r0 here"),
        Case("tapevm 1\nr0 = const 1\nr0 = const 2\n", .misnumberedRegister, 3, 1, "expected r1 here"),
        Case("tapevm 1\nr0 const 1\n", .syntax, 2, 4, "expected '=' after r0"),
        Case("tapevm 1\nr0 =   # nothing\n", .syntax, 2, 5, "expected a mnemonic"),
        Case("tapevm 1\nr0 = const 1\nr1 = ad r0 r0\n", .unknownMnemonic, 3, 6, "did you mean 'add'?"),
        Case("tapevm 1\nr0 = const 1\nr1 = frobnicate r0\n", .unknownMnemonic, 3, 6, "unknown mnemonic 'frobnicate'"),
        Case("tapevm 1\nr0 = const 1\nr1 = add r0\n", .wrongOperandCount, 3, 12, "add takes 2 register operands, got 1"),
        Case("tapevm 1\nr0 = const 1\nr1 = neg r0 r0\n", .wrongOperandCount, 3, 13),
        Case("tapevm 1\nr0 = const\n", .wrongOperandCount, 2, 11, "const takes a number"),
        Case("tapevm 1\nr0 = const 1\nr1 = powi r0\n", .wrongOperandCount, 3, 13, "powi takes 1 register operand and an integer exponent"),
        Case("tapevm 1\nr0 = const 1\nr1 = add r0 x\n", .syntax, 3, 13, "expected a register operand"),
        Case("tapevm 1\nr0 = const 1\nr1 = add r0 r1\n", .undefinedRegister, 3, 13, "r1 is not defined yet: only r0 is defined above"),
        Case("tapevm 1\nr0 = neg r0\n", .undefinedRegister, 2, 10, "no register is defined above"),
        Case("tapevm 1\ninput x\nr0 = input y\n", .undeclaredName, 3, 12, "'y' is not declared"),
        Case("tapevm 1\nparam w\nr0 = input w\n", .undeclaredName, 3, 12, "declared as a parameter"),
        Case("tapevm 1\nr0 = const one\n", .invalidNumber, 2, 12, "'one' is not a number"),
        Case("tapevm 1\nr0 = const 1e\n", .invalidNumber, 2, 12),
        Case("tapevm 1\nr0 = const 0x\n", .invalidNumber, 2, 12),
        Case("tapevm 1\nr0 = const 1e999\n", .invalidNumber, 2, 12, "too large"),
        Case("tapevm 1\nr0 = const nan:0x1\n", .invalidNumber, 2, 12, "NaN bit pattern"),
        Case("tapevm 1\nr0 = const -nan:0x7ff8000000000001\n", .invalidNumber, 2, 12),
        Case("tapevm 1\nr0 = const nan:0x+7ff80000000001\n", .invalidNumber, 2, 12),
        Case("tapevm 1\nr0 = const 1\nr1 = powi r0 2.5\n", .invalidNumber, 3, 14, "integer exponent"),
        Case("tapevm 1\nr0 = const 1\nr1 = powi r0 99999999999999999999\n", .invalidNumber, 3, 14, "out of range"),
        Case("tapevm 1\nr0 = const 1\noutput\n", .syntax, 3, 7, "expected an output name"),
        Case("tapevm 1\nr0 = const 1\noutput f\n", .syntax, 3, 9, "expected the register"),
        Case("tapevm 1\nr0 = const 1\noutput f 0\n", .syntax, 3, 10),
        Case("tapevm 1\nr0 = const 1\noutput f r1\n", .undefinedRegister, 3, 10),
        Case("tapevm 1\nr0 = const 1\noutput f r0 r0\n", .syntax, 3, 13),
        Case("tapevm 1\nr0 = const 1\noutput f r0\noutput f r0\n", .duplicateName, 4, 8, "output 'f' is named twice"),
        Case("tapevm 1\nr0 = const 1  # no output\n\n", .noOutputs, 2, 13, "no outputs"),
        // Found by the tape's validation, reported at the instruction's line.
        Case("tapevm 1\nr0 = const 1\n\nr1 = powi r0 2000000\noutput f r1\n", .invalidTape, 4, 14, "powi needs an integer exponent"),
        // Columns count characters, not bytes.
        Case("tapevm 1\ninput \"é\" é\"\n", .syntax, 2, 12, "unterminated"),
    ]

    @Test(arguments: errorCases)
    func errorsPointAtTheFault(_ c: Case) {
        #expect {
            _ = try Tape(text: c.text)
        } throws: { error in
            guard let e = error as? TapeTextError else { return false }
            let ok = e.kind == c.kind && e.line == c.line && e.column == c.column && (c.message.isEmpty || e.message.contains(c.message))
            if !ok { print("got \(e.kind) \(e.line):\(e.column) \(e.message)") }
            return ok
        }
    }

    /// A long tape round-trips (its parse time is a benchmark's business, not a unit test's).
    @Test func parsesLargeTapes() throws {
        let b = TapeBuilder()
        var r = b.input("x")
        for i in 0..<20_000 { r = i % 2 == 0 ? b.mul(r, b.constant(Double(i) * 0.001)) : b.sin(r) }
        b.output("f", r)
        let tape = try b.build()
        let parsed = try Tape(text: tape.text)
        #expect(parsed == tape)
    }

    @Test func errorDescriptionShowsTheLineAndACaret() {
        do {
            _ = try Tape(text: "tapevm 1\nr0 = const 1\n\tr1 = ad r0 r0\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.sourceLine == "\tr1 = ad r0 r0")
            #expect(error.description == "3:7: error: unknown mnemonic 'ad' (did you mean 'add'?)\n\tr1 = ad r0 r0\n\t     ^")
        }
        let version = TapeTextError(.unsupportedVersion, line: 1, column: 8,
                                    "unsupported tape version 2, this build reads 1", sourceLine: "tapevm 2")
        #expect(version.description == "1:8: error: unsupported tape version 2, this build reads 1\ntapevm 2\n       ^")
    }

    /// A long line shows a window of `sourceExcerptWidth` characters around the column, with
    /// the caret still under the offending character; short lines are shown whole.
    @Test func longLinesShowAWindowAroundTheColumn() throws {
        let long = "f(x) = " + String(repeating: "x + ", count: 500) + "$ + x"
        let column = long.count - 4   // the '$'
        let error = ExpressionError(.unexpectedCharacter, "unexpected character '$'", line: 1, column: column, sourceLine: long)
        let lines = error.description.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3)
        #expect(lines[1].count <= sourceExcerptWidth + 2 && lines[1].hasPrefix("…"))
        let caret = lines[2].count - 1
        #expect(lines[2].last == "^" && Array(lines[1])[caret] == "$", "\(error.description)")
        let start = ExpressionError(.unexpectedCharacter, "x", line: 1, column: 3, sourceLine: long).description
        #expect(start.split(separator: "\n")[1].hasSuffix("…") && start.hasSuffix("\n  ^"))
    }

    @Test func neverTrapsOnMangledText() throws {
        let b = TapeBuilder()
        let x = b.input("x"), w = b.parameter("w")
        b.output("f[0]", b.select(b.lt(x, w), b.powi(x, 3), b.emit(.const, [], immediate: -.nan)))
        b.output("\"q\"", b.logaddexp(x, b.constant(0.1)))
        let text = try b.build().text
        let alphabet = Array("r0123456789 =#\"\\\n\r\t-+.enaifx{}u[]é")
        var rng = SplitMix64(seed: 42)
        var parsed = 0
        for _ in 0..<3000 {
            var chars = Array(text)
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(chars.count + 1))
                switch rng.next() % 3 {
                case 0 where i < chars.count: chars.remove(at: i)
                case 1: chars.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: i)
                default: if i < chars.count { chars[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))] }
                }
            }
            do {
                _ = try Tape(text: String(chars))
                parsed += 1
            } catch {
                #expect(error.line >= 1 && error.column >= 1)
                #expect(error.description.hasPrefix("\(error.line):\(error.column): error: "))
            }
        }
        #expect(parsed > 0)
        // Truncations at every point.
        for n in 0...text.count { _ = try? Tape(text: String(text.prefix(n))) }
    }
}
