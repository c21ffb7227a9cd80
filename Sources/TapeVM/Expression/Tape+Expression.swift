extension Tape {
    /// Compiles a function written in the expression language.
    ///
    /// ```swift
    /// let tape = try Tape(expression: """
    ///     # A smooth ratio; w is a parameter, shared by every point of a batch.
    ///     f(x, y; w) = let s = sigmoid(y) in (x + s) / (sigmoid(x) + (x + y)^2)
    ///     """)
    /// ```
    ///
    /// ## Definitions and outputs
    ///
    /// A definition `f(x, y; w, b) = body` names the inputs before the `;` and the parameters
    /// after it (the `; ...` part is optional, and either list may be empty). Input slots follow
    /// the order of the header, then parameter slots, whether or not the body uses every name.
    ///
    /// Each definition is one output, named after it. A text may hold several definitions, one
    /// per line; they must all have the same header (same inputs and parameters, same order) and
    /// different names. A tuple body `f(x, y) = (x * y, x + y)` makes one output per element,
    /// named `f[0]`, `f[1]`, ...; a tuple may only be the whole body (possibly under `let`s).
    ///
    /// ## Expressions
    ///
    /// Operators, from loosest to tightest binding:
    ///
    /// | Operators | Meaning |
    /// |---|---|
    /// | `<` `<=` `>` `>=` `==` `!=` | comparisons: `1` if true, else `0`; cannot be chained |
    /// | `+` `-` | addition, subtraction; left-associative |
    /// | `*` `/` | multiplication, division; left-associative |
    /// | unary `-` `+` | negation; `+x` is `x` |
    /// | `^` (or `**`) | power; right-associative and tighter than unary minus: `-x^2` is `-(x^2)`, `2^3^2` is `2^9` |
    ///
    /// `x ^ n` with `n` an integer literal, possibly signed or parenthesized (`x^2`, `x^-1`,
    /// `x^(-3)`), becomes `powi` with exponent `n` (if `|n| ≤ 1000000`); any other exponent
    /// becomes `pow`.
    ///
    /// Functions are the instructions, called by their mnemonics (see ``Opcode``), taking as many
    /// arguments as the instruction has operands: `neg recip square sqrt exp log sigmoid tanh
    /// sin cos abs relu softplus log1p expm1` take one; `add sub mul div pow max min logaddexp
    /// lt le gt ge eq ne` take two; `select muladd` take three. `powi(x, n)` takes a value and an
    /// integer literal. Aliases: `where(c, a, b)` is `select`, `logsumexp(a, b)` is `logaddexp`.
    ///
    /// `let a = e1, b = e2 in body` binds names for `body`; each binding may use the ones before
    /// it. A `let` extends as far to the right as it can, may nest, and may rebind a name bound
    /// by an outer `let`, but not an input or parameter.
    ///
    /// Numbers are decimal: `1`, `2.5`, `.5`, `1e-3`, `6.02E23`. The names `pi` and `e` are the
    /// constants π and e, unless an input, parameter or `let` binding has that name: those win.
    /// Names start with a letter or `_` and continue with letters, digits and `_`; `let` and `in`
    /// are reserved. Function names are only looked up in calls, so an input may be called `exp`.
    ///
    /// `#` starts a comment that runs to the end of the line. A line break ends a definition,
    /// except where the expression cannot end: inside parentheses, after an operator, `=`, `,`,
    /// `let` or `in`, and before a line that starts with an operator or `in`.
    ///
    /// No algebra is done here: every operator and call becomes one instruction (equal constants
    /// share a register); simplification is the optimizer's job.
    ///
    /// ## Grammar
    ///
    /// ```text
    /// text        = { newline } definition { newline { newline } definition } { newline } ;
    /// definition  = name "(" [ names ] [ ";" [ names ] ] ")" "=" body ;
    /// names       = name { "," name } ;
    /// body        = "let" bindings "in" body
    ///             | "(" expr "," expr { "," expr } ")"
    ///             | expr ;
    /// bindings    = name "=" expr { "," name "=" expr } ;
    /// expr        = sum [ ( "<" | "<=" | ">" | ">=" | "==" | "!=" ) sum ] ;
    /// sum         = product { ( "+" | "-" ) product } ;
    /// product     = unary { ( "*" | "/" ) unary } ;
    /// unary       = ( "-" | "+" ) unary | power ;
    /// power       = primary [ ( "^" | "**" ) unary ] ;
    /// primary     = number | name | name "(" [ expr { "," expr } ] ")"
    ///             | "(" expr ")" | "let" bindings "in" expr ;
    /// number      = digits [ "." { digit } ] [ exponent ] | "." digits [ exponent ] ;
    /// exponent    = ( "e" | "E" ) [ "+" | "-" ] digits ;
    /// ```
    ///
    /// Nesting (parentheses, calls, `let`s, and operators waiting for their right operand) is
    /// limited to ``ExpressionError/maximumNesting`` levels. The parser does not recurse, so deep
    /// nesting never overflows the call stack, on any thread, in any build configuration.
    ///
    /// - Parameter expression: the text, one or more definitions.
    /// - Throws: ``ExpressionError`` with the line and column of the first fault and a message
    ///   saying what was expected; its `description` shows the line with a caret under the
    ///   column.
    public init(expression: String) throws(ExpressionError) {
        var parser = try ExpressionParser(expression)
        self = try parser.parse()
    }
}

/// A function the expression language can call: its name, the instruction it records and how
/// many arguments it takes.
public struct ExpressionFunction: Sendable, Hashable {
    /// The name a call uses: the opcode's mnemonic, or an alias (`where`, `logsumexp`).
    public let name: String
    /// The instruction a call records.
    public let opcode: Opcode
    /// The number of arguments: the opcode's operands, plus the integer exponent of `powi`.
    public let argumentCount: Int
}

extension Tape {
    /// Every function the expression language can call (see ``init(expression:)``), sorted by
    /// name: each opcode that takes operands, by its mnemonic, and the aliases. Bindings in other
    /// languages (the C ABI's `tvm_function_info`, Python's `tapevm.sigmoid` and `from_sympy`)
    /// read this list, so a new opcode reaches them without a second table.
    public static let expressionFunctions: [ExpressionFunction] = ExpressionParser.functions
        .map { ExpressionFunction(name: $0.key, opcode: $0.value, argumentCount: ExpressionParser.argumentCount($0.value)) }
        .sorted { $0.name < $1.name }
}
