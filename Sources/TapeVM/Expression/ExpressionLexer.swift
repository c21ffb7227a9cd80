/// One token of the expression language, with the position of its first character.
struct ExpressionToken: Hashable, Sendable {
    enum Kind: Hashable, Sendable {
        case name, number, keywordLet, keywordIn
        case leftParen, rightParen, comma, semicolon, equals
        case plus, minus, star, slash, caret
        case less, lessEqual, greater, greaterEqual, equalEqual, notEqual
        /// One or more line breaks (with any comments and blank lines between them).
        case newline
        case end
    }

    let kind: Kind
    /// The token as written (`"**"` for a `caret` written that way; empty for `end`).
    let text: String
    /// The value of a `number`; 0 for other tokens.
    let value: Double
    /// The 1-based line.
    let line: Int
    /// The 1-based column, in characters.
    let column: Int

    /// Whether this is a number written with digits only, like `2` (not `2.0` or `2e0`).
    var isIntegerLiteral: Bool {
        kind == .number && !text.isEmpty && text.allSatisfy { $0.isASCII && $0.isWholeNumber }
    }

    /// How messages refer to the token: `name 'z'`, `'+'`, `end of input`.
    var quoted: String {
        switch kind {
        case .name: "name '\(text)'"
        case .number: "number '\(text)'"
        case .keywordLet, .keywordIn: "keyword '\(text)'"
        case .newline: "end of line"
        case .end: "end of input"
        default: "'\(text)'"
        }
    }
}

/// Splits expression-language text into ``ExpressionToken``s.
///
/// Whitespace separates tokens and is otherwise ignored; `#` starts a comment that runs to the
/// end of the line. Line breaks become `newline` tokens (runs of them, one token), which the
/// parser uses to separate definitions and otherwise skips.
struct ExpressionLexer {
    /// The source's lines, without line breaks, for error messages.
    let lines: [String]
    private let characters: [Character]

    init(_ source: String) {
        characters = Array(source)
        lines = source.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
    }

    /// An error at a position, quoting its source line.
    func error(_ kind: ExpressionError.Kind, _ message: String, line: Int, column: Int) -> ExpressionError {
        let text = line >= 1 && line <= lines.count ? lines[line - 1] : ""
        return ExpressionError(kind, message, line: line, column: column, sourceLine: text)
    }

    /// All tokens of the source, ending with one `end` token.
    func tokenize() throws(ExpressionError) -> [ExpressionToken] {
        var tokens: [ExpressionToken] = []
        var i = 0
        var line = 1
        var column = 1

        func add(_ kind: ExpressionToken.Kind, _ text: String, value: Double = 0, at start: Int) {
            tokens.append(ExpressionToken(kind: kind, text: text, value: value, line: line, column: start))
        }
        func peek(_ offset: Int) -> Character? {
            i + offset < characters.count ? characters[i + offset] : nil
        }

        while i < characters.count {
            let c = characters[i]
            let start = column
            if c.isNewline {
                if let last = tokens.last, last.kind != .newline { add(.newline, "\n", at: start) }
                i += 1
                line += 1
                column = 1
                continue
            }
            if c.isWhitespace {
                i += 1
                column += 1
                continue
            }
            if c == "#" {
                while i < characters.count, !characters[i].isNewline {
                    i += 1
                    column += 1
                }
                continue
            }
            if c.isLetter || c == "_" {
                var name = ""
                while i < characters.count, characters[i].isLetter || characters[i].isNumber || characters[i] == "_" {
                    name.append(characters[i])
                    i += 1
                    column += 1
                }
                let kind: ExpressionToken.Kind = name == "let" ? .keywordLet : name == "in" ? .keywordIn : .name
                add(kind, name, at: start)
                continue
            }
            if c.isASCIIDigit || (c == "." && peek(1)?.isASCIIDigit == true) {
                let token = try number(from: &i, line: line, column: &column)
                tokens.append(token)
                continue
            }

            // Operators and punctuation, longest match first.
            let next = peek(1)
            let kind: ExpressionToken.Kind
            var length = 1
            switch c {
            case "(": kind = .leftParen
            case ")": kind = .rightParen
            case ",": kind = .comma
            case ";": kind = .semicolon
            case "+": kind = .plus
            case "-": kind = .minus
            case "/": kind = .slash
            case "^": kind = .caret
            case "*":
                if next == "*" { kind = .caret; length = 2 } else { kind = .star }
            case "=":
                if next == "=" { kind = .equalEqual; length = 2 } else { kind = .equals }
            case "<":
                if next == "=" { kind = .lessEqual; length = 2 } else { kind = .less }
            case ">":
                if next == "=" { kind = .greaterEqual; length = 2 } else { kind = .greater }
            case "!" where next == "=":
                kind = .notEqual
                length = 2
            default:
                throw error(.unexpectedCharacter, "unexpected character \(Self.show(c))", line: line, column: column)
            }
            add(kind, String(characters[i..<(i + length)]), at: start)
            i += length
            column += length
        }

        // End of input sits just after the last token, so "expected ..." points at the gap.
        if let last = tokens.last(where: { $0.kind != .newline }) {
            tokens.append(ExpressionToken(kind: .end, text: "", value: 0, line: last.line,
                                          column: last.column + last.text.count))
        } else {
            tokens.append(ExpressionToken(kind: .end, text: "", value: 0, line: 1, column: 1))
        }
        return tokens
    }

    /// Reads `digits [. digits] [(e|E) [+|-] digits]` or `. digits [...]` starting at `i`.
    private func number(from i: inout Int, line: Int, column: inout Int) throws(ExpressionError) -> ExpressionToken {
        let start = i
        let startColumn = column
        func digits() {
            while i < characters.count, characters[i].isASCIIDigit { i += 1 }
        }
        digits()
        if i < characters.count, characters[i] == "." {
            i += 1
            digits()
        }
        if i < characters.count, characters[i] == "e" || characters[i] == "E" {
            // An exponent only if digits follow (after an optional sign); otherwise report it.
            var j = i + 1
            if j < characters.count, characters[j] == "+" || characters[j] == "-" { j += 1 }
            guard j < characters.count, characters[j].isASCIIDigit else {
                let text = String(characters[start..<min(j, characters.count)])
                throw error(.malformedNumber, "the number '\(text)' needs digits in its exponent",
                            line: line, column: startColumn)
            }
            i = j
            digits()
        }
        let text = String(characters[start..<i])
        column += i - start
        if i < characters.count, characters[i].isLetter || characters[i] == "_" {
            var name = ""
            var j = i
            while j < characters.count, characters[j].isLetter || characters[j].isNumber || characters[j] == "_" {
                name.append(characters[j])
                j += 1
            }
            throw error(.unexpectedCharacter,
                        "unexpected '\(name)' right after the number '\(text)'; write '\(text)*\(name)' to multiply",
                        line: line, column: column)
        }
        guard let value = Double(text), value.isFinite else {
            throw error(.malformedNumber, "the number '\(text)' is too large for a Double", line: line, column: startColumn)
        }
        return ExpressionToken(kind: .number, text: text, value: value, line: line, column: startColumn)
    }

    /// A character for a message: quoted if visible, as `U+XXXX` otherwise.
    private static func show(_ c: Character) -> String {
        let visible = c.unicodeScalars.allSatisfy { $0.properties.generalCategory != .control && $0.properties.generalCategory != .format }
        if visible { return "'\(c)'" }
        return c.unicodeScalars.map { scalar in
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }.joined(separator: " ")
    }
}

extension Character {
    /// `0` through `9`.
    fileprivate var isASCIIDigit: Bool { isASCII && isWholeNumber }
}
