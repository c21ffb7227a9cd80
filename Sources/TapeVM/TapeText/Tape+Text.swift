extension Tape {
    /// The version of the tape text format this build writes and reads.
    public static let textFormatVersion = 1

    /// The tape in the text format, version 1: what ``init(text:)`` reads.
    ///
    /// The text round-trips exactly: `try Tape(text: tape.text)` has the same names and
    /// instructions, with every constant bit for bit (NaN payloads included). For example:
    ///
    /// ```
    /// tapevm 1
    /// input x y
    /// param w
    /// r0 = input x
    /// r1 = input y
    /// r2 = param w
    /// r3 = add r0 r1
    /// r4 = powi r3 2
    /// r5 = const 0.5
    /// r6 = muladd r4 r5 r2
    /// output f r6
    /// ```
    ///
    /// Names that are not identifiers are written quoted; numbers use Swift's shortest
    /// round-trip spelling. See ``init(text:)`` for the grammar.
    public var text: String {
        var out = "tapevm \(Tape.textFormatVersion)\n"
        if !inputs.isEmpty { out += "input " + inputs.map(TapeText.spell(name:)).joined(separator: " ") + "\n" }
        if !parameters.isEmpty { out += "param " + parameters.map(TapeText.spell(name:)).joined(separator: " ") + "\n" }
        for (i, ins) in instructions.enumerated() {
            out += "r\(i) = \(ins.opcode.mnemonic)"
            for r in ins.operands { out += " \(r)" }
            switch ins.opcode.info.immediate {
            case .none:
                break
            case .slot:
                let names = ins.opcode == .input ? inputs : parameters
                out += " " + TapeText.spell(name: names[Int(ins.immediate)])
            case .value:
                out += " " + TapeText.spell(number: ins.immediate)
            case .exponent:
                out += " " + TapeText.spell(exponent: ins.immediate)
            }
            out += "\n"
        }
        for o in outputs { out += "output \(TapeText.spell(name: o.name)) \(o.register)\n" }
        return out
    }

    /// Reads a tape from the text format (version 1), as written by ``text`` or by other tools.
    ///
    /// ## Grammar
    ///
    /// The text is a sequence of lines (`\n` or `\r\n`). On each line, `#` starts a comment that
    /// runs to the end of the line (outside a quoted name); blank lines are ignored. Tokens are
    /// separated by spaces or tabs; `=` is a token of its own. Each non-blank line is one
    /// statement:
    ///
    /// ```
    /// header       = "tapevm" VERSION                 ; the first statement; VERSION is 1
    /// declaration  = ("input" | "param") NAME*        ; declares slots 0, 1, … in order
    /// instruction  = REGISTER "=" MNEMONIC OPERAND*
    /// output       = "output" NAME REGISTER
    ///
    /// REGISTER     = "r" ("0" | [1-9][0-9]*)
    /// NAME         = IDENTIFIER | QUOTED
    /// IDENTIFIER   = [A-Za-z_][A-Za-z0-9_.\[\]]*       ; e.g. x, w_1, layer.bias, f[0]
    /// QUOTED       = '"' characters '"'               ; escapes \\ \" \n \t \r \u{HEX}
    /// ```
    ///
    /// - The header comes first. Any other version is rejected with
    ///   "unsupported tape version N, this build reads 1".
    /// - Declarations come before the first instruction; several `input` (or `param`) lines
    ///   append to the same list. Names are unique across inputs and parameters.
    /// - Instruction `i` is written `ri = …`: the `N` of `rN` must equal the instruction's index,
    ///   so instructions are numbered `r0`, `r1`, … in order. The mnemonic and the number of
    ///   operands come from the instruction-set table (``Opcode/info``): first `arity` registers,
    ///   each defined on an earlier line, then the immediate, by ``ImmediateKind``:
    ///   - `input NAME`, `param NAME`: a declared input or parameter;
    ///   - `const NUMBER`: a decimal (`0.1`, `-2`, `1e-300`, `5e-324`) or hexadecimal (`0x1.8p3`)
    ///     floating-point literal, rounded to nearest (a finite literal too large for `Double`
    ///     is an error), or `inf`, `-inf`, `nan`, `-nan`, or `nan:0xHHHHHHHHHHHHHHHH` for a NaN
    ///     with that exact bit pattern;
    ///   - `powi REGISTER INTEGER`: an integer exponent with |k| ≤ 1000000.
    /// - `output NAME rN` names a register defined above it; there may be several outputs, in
    ///   order, and there must be at least one.
    ///
    /// - Throws: ``TapeTextError`` with the line and column at fault, including a fault found by
    ///   the tape's own validation (reported at the line of the instruction). Never traps,
    ///   whatever the text.
    public init(text: String) throws(TapeTextError) {
        self = try TapeTextParser(text).parse()
    }
}

/// Spelling of names and numbers in tape text, shared by the printer and the parser.
enum TapeText {
    static func isIdentifierStart(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
    }

    static func isIdentifierContinue(_ b: UInt8) -> Bool {
        isIdentifierStart(b) || (b >= 0x30 && b <= 0x39) || b == 0x2E || b == 0x5B || b == 0x5D
    }

    static func isIdentifier<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        guard let first = bytes.first, isIdentifierStart(first) else { return false }
        return bytes.dropFirst().allSatisfy(isIdentifierContinue)
    }

    /// A name as written: bare if it is an identifier, otherwise quoted with escapes.
    static func spell(name: String) -> String {
        if isIdentifier(name.utf8) { return name }
        var out = "\""
        for s in name.unicodeScalars {
            switch s {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if s.value < 0x20 || s.value == 0x7F || s.properties.generalCategory == .lineSeparator
                    || s.properties.generalCategory == .paragraphSeparator || s.value == 0x85 {
                    out += "\\u{\(String(s.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(s)
                }
            }
        }
        return out + "\""
    }

    /// The canonical quiet NaNs, spelled `nan` and `-nan`.
    static let quietNaN = Double.nan.bitPattern
    static let negativeQuietNaN = (-Double.nan).bitPattern

    /// A `const` value as written: Swift's shortest round-trip spelling, or an exact NaN.
    static func spell(number v: Double) -> String {
        guard v.isNaN else { return v.description }
        switch v.bitPattern {
        case quietNaN: return "nan"
        case negativeQuietNaN: return "-nan"
        default:
            let hex = String(v.bitPattern, radix: 16)
            return "nan:0x" + String(repeating: "0", count: 16 - hex.count) + hex
        }
    }

    /// A `powi` exponent as written (an integer; `-0` kept).
    static func spell(exponent k: Double) -> String {
        guard k.isFinite, Swift.abs(k) < 1e15 else { return "\(k)" }   // not a valid tape
        if k == 0 && k.sign == .minus { return "-0" }
        return String(Int(k))
    }
}
