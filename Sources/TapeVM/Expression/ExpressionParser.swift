/// Compiles expression-language text (see ``Tape/init(expression:)``) into a ``Tape``.
///
/// An operator-precedence parser over the lexer's tokens that emits each operation into a
/// ``TapeBuilder`` as soon as it has its operands; there is no syntax tree. It does not recurse:
/// constructs waiting for an operand (open parentheses, calls, `let`s, operators) are kept on an
/// explicit stack, so nesting costs heap, not call stack, and is limited by
/// ``ExpressionError/maximumNesting``. The only look-ahead is for integer exponents (`x^-2` emits
/// `powi`, not a constant and a `pow`) and for a better message when a definition follows a
/// dangling operator.
///
/// Newlines end a definition, except where the expression cannot end yet: after an operator,
/// `=`, `,`, `(`, `let` or `in`, and before a line that starts with an operator, `,`, `)` or `in`.
struct ExpressionParser {
    private let lexer: ExpressionLexer
    private let tokens: [ExpressionToken]
    /// The tokens' kinds, for look-ups that copy no strings.
    private let kinds: [ExpressionToken.Kind]
    private var position = 0
    private let builder = TapeBuilder()

    /// The first definition's header, which every definition must repeat.
    private var signature: (inputs: [String], parameters: [String])?
    /// Inputs and parameters by name.
    private var headerNames: [String: Register] = [:]
    /// `let` bindings in scope, innermost last.
    private var bindings: [(name: String, register: Register)] = []
    private var definitionNames: Set<String> = []
    /// Constructs left unfinished around the expression being parsed, outside its own stack: the
    /// `(` that opens a body (read apart, to tell a tuple from an expression) or a body's `let`.
    /// They count toward ``ExpressionError/maximumNesting`` like those on the stack.
    private var enclosing = 0

    /// Tokenizes `source`.
    init(_ source: String) throws(ExpressionError) {
        lexer = ExpressionLexer(source)
        tokens = try lexer.tokenize()
        kinds = tokens.map(\.kind)
    }

    /// The functions that can be called, by name: every opcode that takes operands, by its
    /// mnemonic, plus the aliases `where` (`select`) and `logsumexp` (`logaddexp`).
    static let functions: [String: Opcode] = {
        var table: [String: Opcode] = [:]
        for op in Opcode.allCases where op.arity > 0 && (op.info.immediate == .none || op.info.immediate == .exponent) {
            table[op.mnemonic] = op
        }
        table["where"] = .select
        table["logsumexp"] = .logaddexp
        return table
    }()

    /// How many arguments a call of `op` takes: its operands, plus the exponent of `powi`.
    static func argumentCount(_ op: Opcode) -> Int {
        op.arity + (op.info.immediate == .exponent ? 1 : 0)
    }

    /// The largest exponent magnitude a `powi` instruction accepts.
    static let maximumExponent = TapeLimits.maximumExponent

    private static let comparisonPrecedence = 1
    fileprivate static let unaryPrecedence = 4
    private static let powerPrecedence = 5

    /// The precedence and opcode of a binary operator token.
    private static func binaryOperator(_ kind: ExpressionToken.Kind) -> (precedence: Int, opcode: Opcode)? {
        switch kind {
        case .less: (1, .lt)
        case .lessEqual: (1, .le)
        case .greater: (1, .gt)
        case .greaterEqual: (1, .ge)
        case .equalEqual: (1, .eq)
        case .notEqual: (1, .ne)
        case .plus: (2, .add)
        case .minus: (2, .sub)
        case .star: (3, .mul)
        case .slash: (3, .div)
        case .caret: (powerPrecedence, .pow)
        default: nil
        }
    }

    // MARK: Definitions

    /// Parses the whole text and returns the tape.
    mutating func parse() throws(ExpressionError) -> Tape {
        skipNewlines()
        guard current.kind != .end else {
            throw lexer.error(.emptyInput, "empty input: expected a definition such as 'f(x) = x^2'", line: 1, column: 1)
        }
        while current.kind != .end {
            try parseDefinition()
            switch current.kind {
            case .newline: skipNewlines()
            case .end: break
            default: throw unexpected(current, expected: "an operator or the end of the line")
            }
        }
        do {
            return try builder.build()
        } catch {
            throw lexer.error(.invalidTape, "could not make a tape: \(error)", line: 1, column: 1)
        }
    }

    /// `name ( inputs [; parameters] ) = body`
    private mutating func parseDefinition() throws(ExpressionError) {
        let name = current
        guard name.kind == .name else {
            throw unexpected(name, expected: "a definition such as 'f(x) = x^2'")
        }
        advance()
        guard definitionNames.insert(name.text).inserted else {
            throw error(.duplicateName, "'\(name.text)' is defined twice; every output needs its own name", at: name)
        }
        try expect(.leftParen, "'(' after the definition name '\(name.text)'")
        let inputs = try parseNames(role: "input")
        var parameters: [ExpressionToken] = []
        if case .semicolon = peekKind() {
            try expect(.semicolon, "';'")
            parameters = try parseNames(role: "parameter")
        }
        try expect(.rightParen, inputs.isEmpty && parameters.isEmpty ? "an input name or ')'" : "',', ';' or ')'")
        try expect(.equals, "'=' after the header of '\(name.text)'")
        try declare(inputs: inputs, parameters: parameters, of: name)

        let results = try parseBody()
        if results.count == 1 {
            builder.output(name.text, results[0])
        } else {
            for (k, r) in results.enumerated() { builder.output("\(name.text)[\(k)]", r) }
        }
    }

    /// A possibly empty comma-separated list of names, ending before `;` or `)`.
    private mutating func parseNames(role: String) throws(ExpressionError) -> [ExpressionToken] {
        var names: [ExpressionToken] = []
        switch peekKind() {
        case .semicolon, .rightParen: return names
        default: break
        }
        repeat {
            skipNewlines()
            guard current.kind == .name else { throw unexpected(current, expected: "\(role == "input" ? "an" : "a") \(role) name") }
            names.append(current)
            advance()
        } while try consume(.comma)
        return names
    }

    /// Declares the first definition's inputs and parameters; checks later ones repeat them.
    private mutating func declare(inputs: [ExpressionToken], parameters: [ExpressionToken], of definition: ExpressionToken) throws(ExpressionError) {
        var seen: [String: String] = [:]
        for (token, role) in inputs.map({ ($0, "input") }) + parameters.map({ ($0, "parameter") }) {
            if let earlier = seen[token.text] {
                let message = earlier == role
                    ? "\(role) '\(token.text)' is declared twice"
                    : "'\(token.text)' is both an input and a parameter"
                throw error(.duplicateName, message, at: token)
            }
            seen[token.text] = role
        }
        let names = (inputs: inputs.map(\.text), parameters: parameters.map(\.text))
        if let signature {
            guard signature.inputs == names.inputs, signature.parameters == names.parameters else {
                throw error(.mismatchedSignature,
                            "'\(definition.text)' takes \(Self.header(names)) but the first definition takes \(Self.header(signature)); all definitions must take the same inputs and parameters",
                            at: definition)
            }
            return
        }
        signature = names
        // Inputs first, then parameters, so slots follow the header even for unused names.
        for name in names.inputs { headerNames[name] = builder.input(name) }
        for name in names.parameters { headerNames[name] = builder.parameter(name) }
    }

    private static func header(_ names: (inputs: [String], parameters: [String])) -> String {
        let inputs = names.inputs.joined(separator: ", ")
        return names.parameters.isEmpty ? "(\(inputs))" : "(\(inputs); \(names.parameters.joined(separator: ", ")))"
    }

    /// The body of a definition: an expression, a tuple `(e1, e2, ...)` of outputs, or `let`s
    /// whose body is one of these.
    private mutating func parseBody() throws(ExpressionError) -> [Register] {
        var count = 0
        while peekKind() == .keywordLet {
            skipNewlines()
            count += try parseBindings()
        }
        var results: [Register]
        if peekKind() == .leftParen {
            skipNewlines()
            let open = position
            advance()
            let first = try parseExpression(enclosing: 1)
            if try consume(.comma) {
                results = [first]
                repeat {
                    results.append(try parseExpression(enclosing: 1))
                } while try consume(.comma)
                try expect(.rightParen, "an operator, ',' or ')'")
                if let (_, next) = peekOperator() { throw misplacedTuple(at: open, before: next) }
            } else {
                // A parenthesized expression that may go on, as in `(x + 1) * y`.
                try expect(.rightParen, "an operator or ')'")
                results = [try parseExpression(after: first)]
            }
        } else {
            results = [try parseExpression()]
        }
        bindings.removeLast(count)
        return results
    }

    /// `let name = expr {, name = expr} in` at the start of a body: pushes the bindings and
    /// returns how many.
    private mutating func parseBindings() throws(ExpressionError) -> Int {
        advance() // let
        var count = 0
        repeat {
            let name = try parseBindingName()
            bindings.append((name, try parseExpression(enclosing: 1)))
            count += 1
        } while try consume(.comma)
        try expect(.keywordIn, "an operator, ',' or 'in'")
        return count
    }

    /// `name =` in a `let`: the name.
    private mutating func parseBindingName() throws(ExpressionError) -> String {
        skipNewlines()
        let name = current
        guard name.kind == .name else { throw unexpected(name, expected: "a name to bind") }
        if headerNames[name.text] != nil {
            let role = signature?.inputs.contains(name.text) == true ? "an input" : "a parameter"
            throw error(.shadowedName,
                        "'\(name.text)' is \(role); a let cannot rebind it, choose another name", at: name)
        }
        advance()
        try expect(.equals, "'=' after '\(name.text)'")
        return name.text
    }

    // MARK: Expressions

    /// A call whose arguments are being read.
    private struct PendingCall {
        /// The token index of the function's name.
        let name: Int
        let opcode: Opcode
        var operands: [Register] = []
        var exponent = 0
        /// Arguments read so far, the exponent included.
        var count = 0
    }

    /// A construct waiting for an operand.
    private enum Pending {
        /// `left op _`; `token` is the operator's index.
        case binary(left: Register, opcode: Opcode, rightPrecedence: Int, token: Int)
        /// `-_`
        case negation
        /// `+_`
        case identity
        /// `( _`, with the index of the `(`.
        case parenthesis(open: Int)
        /// `f(..., _`
        case call(PendingCall)
        /// `let ..., name = _`; `count` bindings of this `let` come before it.
        case binding(name: String, count: Int)
        /// `let ... in _`, which pushed `count` bindings.
        case letBody(count: Int)

        /// How tightly an operator must bind to be part of the operand this construct waits for.
        var minimumPrecedence: Int {
            switch self {
            case .binary(_, _, let precedence, _): precedence
            case .negation, .identity: ExpressionParser.unaryPrecedence
            case .parenthesis, .call, .binding, .letBody: 0
            }
        }
    }

    /// An expression, or the rest of one whose first operand is `start`.
    ///
    /// Alternates between reading an operand (pushing prefix operators, `(`, calls and `let`s
    /// until a number or name completes one) and extending it (an operator that binds tightly
    /// enough for the innermost pending construct starts a new one; otherwise that construct is
    /// completed with the operand). It ends when nothing is pending and no operator follows.
    /// `enclosing` constructs are unfinished around it (see ``enclosing``).
    private mutating func parseExpression(after start: Register? = nil, enclosing: Int = 0) throws(ExpressionError) -> Register {
        self.enclosing = enclosing
        var stack: [Pending] = []
        var operand = start
        // The comparison operator that produced `operand`, to reject `a < b < c`.
        var comparison: Int?

        while true {
            guard let value = operand else {
                operand = try parseOperand(onto: &stack)
                comparison = nil
                continue
            }

            if let (index, precedence, opcode) = nextOperator(binding: stack.last?.minimumPrecedence ?? 0) {
                position = index + 1
                if opcode == .pow {
                    if let n = integerExponent() {
                        operand = builder.powi(value, n)
                        comparison = nil
                        continue
                    }
                    // Right-associative: the exponent takes any further `^` itself.
                    try push(.binary(left: value, opcode: .pow, rightPrecedence: precedence, token: index), onto: &stack)
                } else {
                    if precedence == Self.comparisonPrecedence, let comparison {
                        throw chainedComparison(comparison, index)
                    }
                    try push(.binary(left: value, opcode: opcode, rightPrecedence: precedence + 1, token: index), onto: &stack)
                }
                operand = nil
                continue
            }

            // No operator continues the operand here: complete the innermost pending construct.
            guard let top = stack.popLast() else { return value }
            operand = nil
            comparison = nil
            switch top {
            case let .binary(left, opcode, _, token):
                operand = builder.emit(opcode, [left, value])
                if Self.binaryOperator(kinds[token])?.precedence == Self.comparisonPrecedence { comparison = token }
            case .negation:
                operand = builder.neg(value)
            case .identity:
                operand = value
            case .parenthesis(let open):
                if peekKind() == .comma { throw misplacedTuple(at: open, before: nil) }
                try expect(.rightParen, "an operator or ')'")
                operand = value
            case .call(var call):
                call.operands.append(value)
                call.count += 1
                operand = try continueCall(&call, atStart: false)
                if operand == nil { try push(.call(call), onto: &stack) }
            case let .binding(name, count):
                bindings.append((name, value))
                if try consume(.comma) {
                    try push(.binding(name: try parseBindingName(), count: count + 1), onto: &stack)
                } else {
                    try expect(.keywordIn, "an operator, ',' or 'in'")
                    try push(.letBody(count: count + 1), onto: &stack)
                }
            case .letBody(let count):
                bindings.removeLast(count)
                operand = value
            }
        }
    }

    /// Reads one token of an operand: a number or a name completes it (and is returned); a
    /// prefix operator, `(`, the start of a call or of a `let` is pushed instead.
    private mutating func parseOperand(onto stack: inout [Pending]) throws(ExpressionError) -> Register? {
        let afterLineBreak = kinds[position] == .newline
        skipNewlines()
        switch kinds[position] {
        case .number:
            advance()
            return builder.constant(tokens[position - 1].value)
        case .name where kinds[position + 1] == .leftParen:
            // `f(x) = x +` followed by the next definition: blame the dangling operator.
            if afterLineBreak, startsDefinition(at: position) { throw danglingOperator() }
            guard let opcode = Self.functions[current.text] else { throw unknownFunction(at: position) }
            var call = PendingCall(name: position, opcode: opcode)
            advance()
            advance() // (
            if let result = try continueCall(&call, atStart: true) { return result }
            try push(.call(call), onto: &stack)
        case .name:
            advance()
            return try lookUp(tokens[position - 1])
        case .minus:
            try push(.negation, onto: &stack)
            advance()
        case .plus:
            try push(.identity, onto: &stack)
            advance()
        case .leftParen:
            try push(.parenthesis(open: position), onto: &stack)
            advance()
        case .keywordLet:
            advance()
            try push(.binding(name: try parseBindingName(), count: 0), onto: &stack)
        default:
            throw expectedExpression()
        }
        return nil
    }

    private func push(_ pending: Pending, onto stack: inout [Pending]) throws(ExpressionError) {
        guard enclosing + stack.count < ExpressionError.maximumNesting else { throw nestingTooDeep() }
        stack.append(pending)
    }

    /// Moves a call on, at its start or after an argument: reads integer exponents, and at `)`
    /// checks the argument count and emits the instruction. Returns nil when an expression
    /// argument comes next.
    private mutating func continueCall(_ call: inout PendingCall, atStart: Bool) throws(ExpressionError) -> Register? {
        var more = atStart ? peekKind() != .rightParen : try consume(.comma)
        while more {
            guard call.opcode.info.immediate == .exponent, call.count == call.opcode.arity else { return nil }
            call.exponent = try parseExponentArgument(of: call.name)
            call.count += 1
            more = try consume(.comma)
        }
        try expect(.rightParen, "an operator, ',' or ')'")
        guard call.count == Self.argumentCount(call.opcode) else {
            throw wrongArgumentCount(at: call.name, call.opcode, call.count)
        }
        return builder.emit(call.opcode, call.operands, immediate: Double(call.exponent))
    }

    /// After `^`: an integer-literal exponent (`x^2`, `x^-1`, `x^(-3)`) that is not itself
    /// raised to a power, consumed; nil (nothing consumed) for any other exponent.
    private mutating func integerExponent() -> Int? {
        guard let (n, end) = integerLiteral(at: position), abs(n) <= Self.maximumExponent,
              kinds[nextNonNewline(from: end)] != .caret else { return nil }
        position = end
        return n
    }

    /// The register a name stands for: a `let` binding, an input or parameter, or a constant.
    private func lookUp(_ name: ExpressionToken) throws(ExpressionError) -> Register {
        if let binding = bindings.last(where: { $0.name == name.text }) { return binding.register }
        if let register = headerNames[name.text] { return register }
        switch name.text {
        case "pi": return builder.constant(Double.pi)
        case "e": return builder.constant(2.718281828459045)
        default: throw unknownName(name)
        }
    }

    /// The integer-literal exponent argument of `powi`, for the function named at token `function`.
    private mutating func parseExponentArgument(of function: Int) throws(ExpressionError) -> Int {
        let start = nextNonNewline(from: position)
        guard let (n, end) = integerLiteral(at: position) else { throw invalidExponent(at: start, of: function) }
        switch kinds[nextNonNewline(from: end)] {
        case .comma, .rightParen: break
        default: throw invalidExponent(at: start, of: function)
        }
        guard abs(n) <= Self.maximumExponent else {
            throw error(.invalidExponent,
                        "the exponent of '\(tokens[function].text)' must be between -\(Self.maximumExponent) and \(Self.maximumExponent)",
                        at: tokens[start])
        }
        position = end
        return n
    }

    // MARK: Look-ahead

    /// An integer literal, possibly signed and parenthesized (`2`, `-2`, `(-2)`, `-(2)`), starting at
    /// token `start`: its value and the index of the token after it, without consuming anything.
    private func integerLiteral(at start: Int) -> (value: Int, end: Int)? {
        var i = start
        var negative = false
        var open = 0
        scan: while true {
            switch tokens[i].kind {
            case .newline, .plus: i += 1
            case .minus: negative.toggle(); i += 1
            case .leftParen: open += 1; i += 1
            default: break scan
            }
        }
        guard tokens[i].isIntegerLiteral, let magnitude = Int(tokens[i].text) else { return nil }
        i += 1
        while open > 0 {
            i = nextNonNewline(from: i)
            guard tokens[i].kind == .rightParen else { return nil }
            open -= 1
            i += 1
        }
        return (negative ? -magnitude : magnitude, i)
    }

    /// Whether the tokens at `start` read `name ( ... ) =`, the start of a definition.
    private func startsDefinition(at start: Int) -> Bool {
        guard tokens[start].kind == .name, tokens[start + 1].kind == .leftParen else { return false }
        var i = start + 2
        while true {
            switch tokens[i].kind {
            case .rightParen: return tokens[nextNonNewline(from: i + 1)].kind == .equals
            case .name, .comma, .semicolon, .newline: i += 1
            default: return false
            }
        }
    }

    /// The next token if it is a binary operator binding at least as tightly as `minimum`,
    /// looking past line breaks (an operator at the start of a line continues the expression):
    /// its index, precedence and opcode.
    private func nextOperator(binding minimum: Int) -> (index: Int, precedence: Int, opcode: Opcode)? {
        let i = nextNonNewline(from: position)
        guard let (precedence, opcode) = Self.binaryOperator(kinds[i]), precedence >= minimum else { return nil }
        return (i, precedence, opcode)
    }

    /// The next binary operator, looking past line breaks (an operator at the start of a line
    /// continues the expression): its token index and the token.
    private func peekOperator() -> (Int, ExpressionToken)? {
        let i = nextNonNewline(from: position)
        guard Self.binaryOperator(tokens[i].kind) != nil else { return nil }
        return (i, tokens[i])
    }

    // MARK: Tokens

    private var current: ExpressionToken { tokens[position] }

    private mutating func advance() {
        if position < tokens.count - 1 { position += 1 }
    }

    private mutating func skipNewlines() {
        position = nextNonNewline(from: position)
    }

    private func nextNonNewline(from start: Int) -> Int {
        var i = start
        while i < kinds.count - 1, kinds[i] == .newline { i += 1 }
        return i
    }

    /// The kind of the next token other than a line break.
    private func peekKind() -> ExpressionToken.Kind { kinds[nextNonNewline(from: position)] }

    /// Consumes the next token (past line breaks) if it is of `kind`.
    private mutating func consume(_ kind: ExpressionToken.Kind) throws(ExpressionError) -> Bool {
        guard peekKind() == kind else { return false }
        skipNewlines()
        advance()
        return true
    }

    /// Consumes the next token (past line breaks), which must be of `kind`.
    private mutating func expect(_ kind: ExpressionToken.Kind, _ expected: String) throws(ExpressionError) {
        skipNewlines()
        guard current.kind == kind else { throw unexpected(current, expected: expected) }
        advance()
    }

    // MARK: Errors

    private func error(_ kind: ExpressionError.Kind, _ message: String, at token: ExpressionToken) -> ExpressionError {
        lexer.error(kind, message, line: token.line, column: token.column)
    }

    private func chainedComparison(_ first: Int, _ second: Int) -> ExpressionError {
        error(.chainedComparison,
              "comparisons cannot be chained; use parentheses, as in '(a \(tokens[first].text) b) \(tokens[second].text) c'",
              at: tokens[second])
    }

    private func misplacedTuple(at open: Int, before next: ExpressionToken?) -> ExpressionError {
        let message = "a tuple can only be the whole body of a definition"
        guard let next else { return error(.misplacedTuple, message, at: tokens[open]) }
        return error(.misplacedTuple, message + "; it cannot be an operand of '\(next.text)'", at: tokens[open])
    }

    private func nestingTooDeep() -> ExpressionError {
        error(.nestingTooDeep,
              "the expression nests too deeply (more than \(ExpressionError.maximumNesting) unfinished parentheses, calls, lets and operators)",
              at: current)
    }

    private func expectedExpression() -> ExpressionError {
        unexpected(current, expected: "an expression")
    }

    private func danglingOperator() -> ExpressionError {
        // The line break before the current token.
        var i = position
        while i > 0, tokens[i].kind != .newline { i -= 1 }
        return unexpected(tokens[i], expected: "an expression")
    }

    private func unknownName(_ name: ExpressionToken) -> ExpressionError {
        if Self.functions[name.text] != nil {
            return error(.unknownName, "'\(name.text)' is a function; call it as '\(name.text)(...)'", at: name)
        }
        let known = bindings.map(\.name) + headerNames.keys.sorted() + ["pi", "e"]
        return error(.unknownName, "unknown name '\(name.text)'" + Self.suggestion(for: name.text, among: known), at: name)
    }

    private func unknownFunction(at index: Int) -> ExpressionError {
        let name = tokens[index]
        if bindings.contains(where: { $0.name == name.text }) || headerNames[name.text] != nil {
            return error(.unknownFunction, "'\(name.text)' is not a function; write '\(name.text)*(...)' to multiply", at: name)
        }
        return error(.unknownFunction, "unknown function '\(name.text)'"
                     + Self.suggestion(for: name.text, among: Self.functions.keys.sorted()), at: name)
    }

    private func wrongArgumentCount(at index: Int, _ op: Opcode, _ count: Int) -> ExpressionError {
        let expected = Self.argumentCount(op)
        let what = op.info.immediate == .exponent ? " (a value and an integer exponent)" : ""
        return error(.wrongArgumentCount,
                     "'\(tokens[index].text)' takes \(expected) argument\(expected == 1 ? "" : "s")\(what), got \(count)",
                     at: tokens[index])
    }

    private func invalidExponent(at start: Int, of function: Int) -> ExpressionError {
        error(.invalidExponent,
              "the exponent of '\(tokens[function].text)' must be an integer literal such as 2 or -3; use pow for other exponents",
              at: tokens[start])
    }

    private func unexpected(_ token: ExpressionToken, expected: String) -> ExpressionError {
        let hint = token.kind == .equals && !expected.hasPrefix("'='") ? " (use '==' to compare)" : ""
        return error(token.kind == .end ? .unexpectedEndOfInput : .unexpectedToken,
                     "unexpected \(token.quoted); expected \(expected)\(hint)", at: token)
    }

    /// `; did you mean 'x'?` for the closest of `candidates` within a small edit distance.
    private static func suggestion(for name: String, among candidates: [String]) -> String {
        let limit = name.count <= 2 ? 0 : name.count <= 5 ? 1 : 2
        var best: (String, Int)?
        for candidate in candidates where candidate != name {
            let d = editDistance(Array(name), Array(candidate))
            if d <= limit, d < best?.1 ?? Int.max { best = (candidate, d) }
        }
        guard let (match, _) = best else { return "" }
        return "; did you mean '\(match)'?"
    }

    /// The optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
    /// neighbouring characters each count 1.
    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty, !b.isEmpty else { return a.count + b.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = Swift.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = Swift.min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
