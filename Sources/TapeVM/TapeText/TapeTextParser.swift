/// Reads tape text (see ``Tape/init(text:)`` for the grammar).
///
/// Works on the UTF-8 bytes, one line at a time; columns are turned into character counts only
/// when an error is reported. Every check reports the token at fault, and the tape's own
/// validation runs last, its errors mapped back to the instruction's line.
struct TapeTextParser {
    private let bytes: [UInt8]

    init(_ text: String) { bytes = Array(text.utf8) }

    // MARK: Tokens

    private enum TokenKind: Equatable { case word, equals, quoted(String) }

    private struct Token {
        let kind: TokenKind
        /// Byte range within the whole text.
        let start: Int
        let end: Int
    }

    /// The line being parsed: its number and byte range (without the line break).
    private struct Line {
        let number: Int
        let start: Int
        let end: Int
    }

    private func text(_ t: Token) -> String {
        if case .quoted(let s) = t.kind { return s }
        return String(decoding: bytes[t.start..<t.end], as: UTF8.self)
    }

    /// The token as it appears in the source, for messages (shortened if long).
    private func shown(_ t: Token) -> String {
        let s = String(decoding: bytes[t.start..<t.end], as: UTF8.self)
        return s.count > 40 ? String(s.prefix(40)) + "…" : s
    }

    private func error(_ kind: TapeTextError.Kind, _ line: Line, at offset: Int, _ message: String) -> TapeTextError {
        let source = String(decoding: bytes[line.start..<line.end], as: UTF8.self)
        let clamped = Swift.min(Swift.max(offset, line.start), line.end)
        let column = String(decoding: bytes[line.start..<clamped], as: UTF8.self).count + 1
        return TapeTextError(kind, line: line.number, column: column, message, sourceLine: source)
    }

    private func error(_ kind: TapeTextError.Kind, _ line: Line, at token: Token, _ message: String) -> TapeTextError {
        error(kind, line, at: token.start, message)
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0B || b == 0x0C }

    /// Splits a line into tokens, stopping at a comment. Returns also the offset where the
    /// statement ends (for "expected … here" errors at the end of a line).
    private func tokenize(_ line: Line) throws(TapeTextError) -> (tokens: [Token], end: Int) {
        var tokens: [Token] = []
        var i = line.start
        var end = line.start
        while i < line.end {
            let b = bytes[i]
            if Self.isSpace(b) { i += 1; continue }
            if b == UInt8(ascii: "#") { break }
            if b == UInt8(ascii: "=") {
                tokens.append(Token(kind: .equals, start: i, end: i + 1))
                i += 1
            } else if b == UInt8(ascii: "\"") {
                let (name, next) = try quoted(line, from: i)
                tokens.append(Token(kind: .quoted(name), start: i, end: next))
                i = next
            } else {
                let start = i
                while i < line.end, !Self.isSpace(bytes[i]), bytes[i] != UInt8(ascii: "#"),
                      bytes[i] != UInt8(ascii: "="), bytes[i] != UInt8(ascii: "\"") { i += 1 }
                tokens.append(Token(kind: .word, start: start, end: i))
            }
            end = i
        }
        return (tokens, end)
    }

    /// A quoted name starting at the `"` at `start`; returns its value and the offset after it.
    private func quoted(_ line: Line, from start: Int) throws(TapeTextError) -> (String, Int) {
        var out: [UInt8] = []
        var i = start + 1
        while i < line.end {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                return (String(decoding: out, as: UTF8.self), i + 1)
            }
            guard b == UInt8(ascii: "\\") else { out.append(b); i += 1; continue }
            guard i + 1 < line.end else { break }
            switch bytes[i + 1] {
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); i += 2
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\"")); i += 2
            case UInt8(ascii: "n"): out.append(0x0A); i += 2
            case UInt8(ascii: "t"): out.append(0x09); i += 2
            case UInt8(ascii: "r"): out.append(0x0D); i += 2
            case UInt8(ascii: "u"):
                var j = i + 2
                guard j < line.end, bytes[j] == UInt8(ascii: "{") else {
                    throw error(.syntax, line, at: i, "expected '{' after \\u in a quoted name (write \\u{HEX})")
                }
                j += 1
                var value: UInt32 = 0
                var digits = 0
                while j < line.end, let d = Self.hexDigit(bytes[j]), digits < 8 {
                    value = value << 4 | UInt32(d)
                    digits += 1
                    j += 1
                }
                guard digits > 0, j < line.end, bytes[j] == UInt8(ascii: "}"),
                      let scalar = Unicode.Scalar(value) else {
                    throw error(.syntax, line, at: i, "invalid \\u{…} escape: expected 1 to 8 hex digits naming a Unicode scalar")
                }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
                i = j + 1
            default:
                throw error(.syntax, line, at: i, "unknown escape in a quoted name (use \\\\, \\\", \\n, \\t, \\r or \\u{HEX})")
            }
        }
        throw error(.syntax, line, at: start, "unterminated quoted name: missing closing '\"'")
    }

    private static func hexDigit(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    // MARK: Pieces

    /// `rN` with canonical digits, or nil.
    private func registerNumber(_ t: Token) -> Int? {
        guard t.kind == .word, t.end - t.start >= 2, t.end - t.start <= 12, bytes[t.start] == UInt8(ascii: "r") else { return nil }
        let digits = bytes[(t.start + 1)..<t.end]
        guard digits.allSatisfy(Self.isDigit), digits.count == 1 || digits.first != UInt8(ascii: "0") else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    private func name(_ t: Token, _ line: Line, what: String) throws(TapeTextError) -> String {
        switch t.kind {
        case .quoted(let s):
            guard !s.isEmpty else { throw error(.syntax, line, at: t, "\(what) must not be empty") }
            return s
        case .word:
            guard TapeText.isIdentifier(bytes[t.start..<t.end]) else {
                throw error(.syntax, line, at: t,
                    "'\(shown(t))' is not a valid \(what): use letters, digits, '_', '.', '[', ']' (not starting with a digit), or quote it")
            }
            return text(t)
        case .equals:
            throw error(.syntax, line, at: t, "expected \(what), found '='")
        }
    }

    /// A `const` literal (see the grammar on ``Tape/init(text:)``).
    private func number(_ t: Token, _ line: Line) throws(TapeTextError) -> Double {
        let invalid = error(.invalidNumber, line, at: t,
            "'\(shown(t))' is not a number (write e.g. 0.5, -2, 1e-9, 0x1.8p3, inf, -inf, nan)")
        guard t.kind == .word else { throw invalid }
        let s = bytes[t.start..<t.end]
        var body = s[...]
        var negative = false
        if let f = body.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") {
            negative = f == UInt8(ascii: "-")
            body = body.dropFirst()
        }
        let word = String(decoding: body, as: UTF8.self)
        if word == "inf" { return negative ? -.infinity : .infinity }
        if word == "nan" { return negative ? -.nan : .nan }
        if word.hasPrefix("nan:") {
            let hex = body.dropFirst(4)
            guard s.first != UInt8(ascii: "-") && s.first != UInt8(ascii: "+"),
                  hex.count >= 3, hex.count <= 18, hex.prefix(2).elementsEqual("0x".utf8),
                  hex.dropFirst(2).allSatisfy({ Self.hexDigit($0) != nil }),
                  let bits = UInt64(String(decoding: hex.dropFirst(2), as: UTF8.self), radix: 16),
                  Double(bitPattern: bits).isNaN else {
                throw error(.invalidNumber, line, at: t,
                    "'\(shown(t))' is not a NaN bit pattern (write nan:0x followed by up to 16 hex digits of a NaN, e.g. nan:0x7ff8000000000001)")
            }
            return Double(bitPattern: bits)
        }
        guard Self.isFloatLiteral(body), let v = Double(String(decoding: s, as: UTF8.self)) else { throw invalid }
        guard v.isFinite else {
            throw error(.invalidNumber, line, at: t, "'\(shown(t))' is too large for a Double (write inf or -inf for infinities)")
        }
        return v
    }

    /// Decimal `D+[.D*]|.D+` with optional `e[±]D+`, or hex `0x` `H+[.H*]|.H+` with optional `p[±]D+`.
    private static func isFloatLiteral(_ s: ArraySlice<UInt8>) -> Bool {
        var i = s.startIndex
        let hex = s.count > 2 && s[i] == UInt8(ascii: "0") && (s[i + 1] | 0x20) == UInt8(ascii: "x")
        if hex { i += 2 }
        func isMantissaDigit(_ b: UInt8) -> Bool { hex ? hexDigit(b) != nil : isDigit(b) }
        var mantissaDigits = 0
        while i < s.endIndex, isMantissaDigit(s[i]) { i += 1; mantissaDigits += 1 }
        if i < s.endIndex, s[i] == UInt8(ascii: ".") {
            i += 1
            while i < s.endIndex, isMantissaDigit(s[i]) { i += 1; mantissaDigits += 1 }
        }
        guard mantissaDigits > 0 else { return false }
        if i < s.endIndex, (s[i] | 0x20) == (hex ? UInt8(ascii: "p") : UInt8(ascii: "e")) {
            i += 1
            if i < s.endIndex, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") { i += 1 }
            var expDigits = 0
            while i < s.endIndex, isDigit(s[i]) { i += 1; expDigits += 1 }
            guard expDigits > 0 else { return false }
        }
        return i == s.endIndex
    }

    /// A `powi` exponent: an optionally signed decimal integer.
    private func exponent(_ t: Token, _ line: Line) throws(TapeTextError) -> Double {
        let s = t.kind == .word ? text(t) : ""
        let digits = s.hasPrefix("-") || s.hasPrefix("+") ? s.dropFirst() : s[...]
        guard !digits.isEmpty, digits.utf8.allSatisfy(Self.isDigit) else {
            throw error(.invalidNumber, line, at: t, "powi needs an integer exponent, got '\(shown(t))'")
        }
        guard let k = Int(s) else {
            throw error(.invalidNumber, line, at: t, "powi exponent \(shown(t)) is out of range (|k| ≤ \(TapeLimits.maximumExponent))")
        }
        return k == 0 && s.hasPrefix("-") ? -0.0 : Double(k)
    }

    // MARK: Statements

    func parse() throws(TapeTextError) -> Tape {
        var lines: [Line] = []
        var start = 0
        for (i, b) in bytes.enumerated() where b == 0x0A {
            lines.append(Line(number: lines.count + 1, start: start, end: i))
            start = i + 1
        }
        lines.append(Line(number: lines.count + 1, start: start, end: bytes.count))
        lines = lines.map { l in
            l.end > l.start && bytes[l.end - 1] == 0x0D ? Line(number: l.number, start: l.start, end: l.end - 1) : l
        }

        var sawHeader = false
        var inputs: [String] = [], parameters: [String] = []
        var declared: [String: (isInput: Bool, slot: Int)] = [:]
        var instructions: [Instruction] = []
        var instructionSites: [(line: Line, offset: Int)] = []
        var outputs: [Output] = []
        var outputNames = Set<String>()
        var lastLine = lines[0], lastEnd = 0

        for line in lines {
            let (tokens, end) = try tokenize(line)
            guard let first = tokens.first else { continue }
            lastLine = line
            lastEnd = end
            let keyword = first.kind == .word ? text(first) : ""

            func expectEnd(after count: Int, _ what: String) throws(TapeTextError) {
                if tokens.count > count {
                    throw error(.syntax, line, at: tokens[count], "unexpected '\(shown(tokens[count]))' after \(what)")
                }
            }

            guard sawHeader else {
                guard keyword == "tapevm" else {
                    throw error(.missingHeader, line, at: first,
                        "expected the header 'tapevm \(Tape.textFormatVersion)' before anything else")
                }
                guard tokens.count > 1 else {
                    throw error(.syntax, line, at: end, "expected a version number after 'tapevm'")
                }
                let v = tokens[1]
                let digits = v.kind == .word ? text(v) : ""
                guard !digits.isEmpty, digits.utf8.allSatisfy(Self.isDigit) else {
                    throw error(.syntax, line, at: v, "expected a version number after 'tapevm', found '\(shown(v))'")
                }
                guard let n = Int(digits), n == Tape.textFormatVersion else {
                    throw error(.unsupportedVersion, line, at: v,
                        "unsupported tape version \(digits), this build reads \(Tape.textFormatVersion)")
                }
                try expectEnd(after: 2, "the header")
                sawHeader = true
                continue
            }

            switch keyword {
            case "tapevm":
                throw error(.misplacedStatement, line, at: first, "the header 'tapevm …' may appear only once, on the first line")

            case "input", "param":
                let isInput = keyword == "input"
                guard instructions.isEmpty else {
                    throw error(.misplacedStatement, line, at: first,
                        "'\(keyword)' declarations must come before the first instruction")
                }
                for t in tokens.dropFirst() {
                    let n = try name(t, line, what: isInput ? "input name" : "parameter name")
                    if let other = declared[n] {
                        throw error(.duplicateName, line, at: t,
                            "'\(n)' is already declared as \(other.isInput ? "an input" : "a parameter")")
                    }
                    declared[n] = (isInput, isInput ? inputs.count : parameters.count)
                    if isInput { inputs.append(n) } else { parameters.append(n) }
                }

            case "output":
                guard tokens.count > 1 else { throw error(.syntax, line, at: end, "expected an output name after 'output'") }
                let n = try name(tokens[1], line, what: "output name")
                guard tokens.count > 2 else {
                    throw error(.syntax, line, at: end, "expected the register of output '\(n)' (e.g. 'output \(TapeText.spell(name: n)) r0')")
                }
                guard let r = registerNumber(tokens[2]) else {
                    throw error(.syntax, line, at: tokens[2], "expected a register like r3, found '\(shown(tokens[2]))'")
                }
                guard r < instructions.count else {
                    throw error(.undefinedRegister, line, at: tokens[2], undefined(r, count: instructions.count))
                }
                try expectEnd(after: 3, "the output's register")
                guard outputNames.insert(n).inserted else {
                    throw error(.duplicateName, line, at: tokens[1], "output '\(n)' is named twice")
                }
                outputs.append(Output(name: n, register: Register(r)))

            default:
                let index = instructions.count
                guard let r = registerNumber(first) else {
                    throw error(.syntax, line, at: first,
                        "expected an instruction 'r\(index) = …' or 'input', 'param' or 'output', found '\(shown(first))'")
                }
                guard r == index else {
                    throw error(.misnumberedRegister, line, at: first,
                        "expected r\(index) here: instruction \(index) defines r\(index) (instructions are numbered from r0, in order)")
                }
                guard tokens.count > 1, tokens[1].kind == .equals else {
                    throw error(.syntax, line, at: tokens.count > 1 ? tokens[1].start : end, "expected '=' after r\(index)")
                }
                guard tokens.count > 2 else { throw error(.syntax, line, at: end, "expected a mnemonic after 'r\(index) ='") }
                let m = tokens[2]
                guard m.kind == .word, let op = Opcode(mnemonic: text(m)) else {
                    throw error(.unknownMnemonic, line, at: m, unknownMnemonic(shown(m)))
                }
                let info = op.info
                let operandTokens = Array(tokens.dropFirst(3))
                let expected = info.arity + (info.immediate == .none ? 0 : 1)
                guard operandTokens.count == expected else {
                    let at = operandTokens.count > expected ? operandTokens[expected].start : end
                    throw error(.wrongOperandCount, line, at: at,
                        "\(info.mnemonic) takes \(operandDescription(op)), got \(operandTokens.count) operand(s)")
                }
                var operands: [Register] = []
                for t in operandTokens.prefix(info.arity) {
                    guard let a = registerNumber(t) else {
                        throw error(.syntax, line, at: t, "expected a register operand like r0, found '\(shown(t))'")
                    }
                    guard a < index else { throw error(.undefinedRegister, line, at: t, undefined(a, count: index)) }
                    operands.append(Register(a))
                }
                var immediate = 0.0
                var site = m.start
                if info.immediate != .none {
                    let t = operandTokens[info.arity]
                    site = t.start
                    switch info.immediate {
                    case .slot:
                        let isInput = op == .input
                        let n = try name(t, line, what: isInput ? "input name" : "parameter name")
                        guard let d = declared[n], d.isInput == isInput else {
                            let hint = declared[n] != nil
                                ? "'\(n)' is declared as \(isInput ? "a parameter" : "an input"), not \(isInput ? "an input" : "a parameter")"
                                : "'\(n)' is not declared (add it to a '\(op.mnemonic)' line before the instructions)"
                            throw error(.undeclaredName, line, at: t, hint)
                        }
                        immediate = Double(d.slot)
                    case .value:
                        immediate = try number(t, line)
                    case .exponent:
                        immediate = try exponent(t, line)
                    case .none:
                        break
                    }
                }
                instructions.append(Instruction(op, operands, immediate: immediate))
                instructionSites.append((line, site))
            }
        }

        guard sawHeader else {
            throw error(.missingHeader, lines[0], at: lines[0].start,
                "no statements: expected the header 'tapevm \(Tape.textFormatVersion)'")
        }
        guard !outputs.isEmpty else {
            throw error(.noOutputs, lastLine, at: lastEnd, "the tape has no outputs: add a line 'output NAME rN'")
        }
        do {
            return try Tape(instructions: instructions, inputs: inputs, parameters: parameters, outputs: outputs)
        } catch {
            if let i = error.instruction, i >= 0, i < instructionSites.count {
                let site = instructionSites[i]
                throw self.error(.invalidTape, site.line, at: site.offset, error.message)
            }
            throw self.error(.invalidTape, lastLine, at: lastLine.start, error.message)
        }
    }

    private func undefined(_ r: Int, count: Int) -> String {
        switch count {
        case 0: return "r\(r) is not defined yet: no register is defined above this line"
        case 1: return "r\(r) is not defined yet: only r0 is defined above this line"
        default: return "r\(r) is not defined yet: only r0...r\(count - 1) are defined above this line"
        }
    }

    private func operandDescription(_ op: Opcode) -> String {
        let info = op.info
        var parts: [String] = []
        if info.arity > 0 { parts.append("\(info.arity) register operand\(info.arity == 1 ? "" : "s")") }
        switch info.immediate {
        case .none: break
        case .slot: parts.append(op == .input ? "an input name" : "a parameter name")
        case .value: parts.append("a number")
        case .exponent: parts.append("an integer exponent")
        }
        return parts.isEmpty ? "no operands" : parts.joined(separator: " and ")
    }

    private func unknownMnemonic(_ word: String) -> String {
        var message = "unknown mnemonic '\(word)'"
        let candidates = Opcode.allCases.map(\.mnemonic)
            .map { ($0, Self.editDistance(Array(word.lowercased().utf8), Array($0.utf8))) }
            .filter { $0.1 <= 2 }
            .sorted { $0.1 < $1.1 }
        if let best = candidates.first { message += " (did you mean '\(best.0)'?)" }
        return message
    }

    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        guard a.count <= 32 else { return Int.max }
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
