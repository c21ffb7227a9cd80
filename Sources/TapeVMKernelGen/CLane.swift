import Foundation
import TapeVM

/// The printing lane: running a rule on `CLane` values writes the rule out as C statements over
/// 8-lane vectors (`v8d`, masks `v8l`), the body of one block of the generated AVX2 and AVX-512
/// kernels. Each operation appends `const v8d tN = <expr>;` to the printer's current block and
/// returns the name `tN`; constants stay inline (`splat(2.0)`). The C helpers it names (`ld`,
/// `splat`, `sel`, `vabs`, `vsqrt`, `vpowi`, `vfloor`, `VMATH1`, `VMATH2`, `LANEFN`) are defined per path in kernels.c.
struct CLane: Lane {
    typealias Mask = CLane
    typealias Immediate = CImmediate

    /// A C expression: a name, or a constant.
    let expr: String
    /// The printer recording the statements this value came from (nil for constants).
    let printer: CPrinter?

    init(_ value: Double) {
        expr = "splat(\(CPrinter.literal(value)))"
        printer = nil
    }

    init(name: String, printer: CPrinter) {
        expr = name
        self.printer = printer
    }

    private init(constant expr: String) {
        self.expr = expr
        printer = nil
    }

    private static func value(_ expr: String, _ operands: CLane...) -> CLane { record("v8d", expr, operands) }
    private static func mask(_ expr: String, _ operands: CLane...) -> CLane { record("v8l", expr, operands) }
    private static func record(_ type: String, _ expr: String, _ operands: [CLane]) -> CLane {
        guard let printer = operands.lazy.compactMap(\.printer).first else { return CLane(constant: "(\(expr))") }
        return CLane(name: printer.declare(type, expr), printer: printer)
    }

    static func splat(_ k: CImmediate) -> CLane { CLane(constant: "splat(in.imm)") }
    static func + (a: CLane, b: CLane) -> CLane { value("\(a.expr) + \(b.expr)", a, b) }
    static func - (a: CLane, b: CLane) -> CLane { value("\(a.expr) - \(b.expr)", a, b) }
    static func * (a: CLane, b: CLane) -> CLane { value("\(a.expr) * \(b.expr)", a, b) }
    static func / (a: CLane, b: CLane) -> CLane { value("\(a.expr) / \(b.expr)", a, b) }
    static prefix func - (a: CLane) -> CLane { value("-\(a.expr)", a) }
    static func .< (a: CLane, b: CLane) -> CLane { mask("\(a.expr) < \(b.expr)", a, b) }
    static func .<= (a: CLane, b: CLane) -> CLane { mask("\(a.expr) <= \(b.expr)", a, b) }
    static func .> (a: CLane, b: CLane) -> CLane { mask("\(a.expr) > \(b.expr)", a, b) }
    static func .>= (a: CLane, b: CLane) -> CLane { mask("\(a.expr) >= \(b.expr)", a, b) }
    static func .== (a: CLane, b: CLane) -> CLane { mask("\(a.expr) == \(b.expr)", a, b) }
    static func .!= (a: CLane, b: CLane) -> CLane { mask("\(a.expr) != \(b.expr)", a, b) }
    static func and(_ m: CLane, _ n: CLane) -> CLane { mask("\(m.expr) & \(n.expr)", m, n) }
    static func or(_ m: CLane, _ n: CLane) -> CLane { mask("\(m.expr) | \(n.expr)", m, n) }
    static func select(_ m: CLane, _ a: CLane, _ b: CLane) -> CLane { value("sel(\(m.expr), \(a.expr), \(b.expr))", m, a, b) }

    /// Each side in its own `if`, entered only when some lane of the block takes it.
    static func choose(_ m: CLane, _ a: () -> CLane, _ b: () -> CLane) -> CLane {
        guard let printer = m.printer else { return select(m, a(), b()) }
        let (ta, tb) = (printer.newName(), printer.newName())
        printer.statement("v8d \(ta) = splat(0.0), \(tb) = splat(0.0);")
        printer.block("if (__builtin_reduce_or(\(m.expr)))") { printer.statement("\(ta) = \(a().expr);") }
        printer.block("if (!__builtin_reduce_and(\(m.expr)))") { printer.statement("\(tb) = \(b().expr);") }
        return value("sel(\(m.expr), \(ta), \(tb))", m)
    }

    static func abs(_ x: CLane) -> CLane { value("vabs(\(x.expr))", x) }
    static func copysign(_ x: CLane, _ y: CLane) -> CLane { value("vcopysign(\(x.expr), \(y.expr))", x, y) }
    static func sqrt(_ x: CLane) -> CLane { value("vsqrt(\(x.expr))", x) }
    static func exp(_ x: CLane) -> CLane { math("exp", x) }
    static func expm1(_ x: CLane) -> CLane { math("expm1", x) }
    static func log(_ x: CLane) -> CLane { math("log", x) }
    static func log1p(_ x: CLane) -> CLane { math("log1p", x) }
    static func pow(_ x: CLane, _ y: CLane) -> CLane { math("pow", x, y) }
    static func exp2(_ x: CLane) -> CLane { math("exp2", x) }
    static func log2(_ x: CLane) -> CLane { math("log2", x) }
    static func log10(_ x: CLane) -> CLane { math("log10", x) }
    static func cbrt(_ x: CLane) -> CLane { math("cbrt", x) }
    static func tan(_ x: CLane) -> CLane { math("tan", x) }
    static func asin(_ x: CLane) -> CLane { math("asin", x) }
    static func acos(_ x: CLane) -> CLane { math("acos", x) }
    static func atan(_ x: CLane) -> CLane { math("atan", x) }
    static func sinh(_ x: CLane) -> CLane { math("sinh", x) }
    static func cosh(_ x: CLane) -> CLane { math("cosh", x) }
    static func asinh(_ x: CLane) -> CLane { math("asinh", x) }
    static func acosh(_ x: CLane) -> CLane { math("acosh", x) }
    static func atanh(_ x: CLane) -> CLane { math("atanh", x) }
    static func erf(_ x: CLane) -> CLane { math("erf", x) }
    static func erfc(_ x: CLane) -> CLane { math("erfc", x) }
    static func atan2(_ x: CLane, _ y: CLane) -> CLane { math("atan2", x, y) }
    static func hypot(_ x: CLane, _ y: CLane) -> CLane { math("hypot", x, y) }
    static func floor(_ x: CLane) -> CLane { value("vfloor(\(x.expr))", x) }
    static func ceil(_ x: CLane) -> CLane { value("vceil(\(x.expr))", x) }
    /// A SLEEF function at the path's width: `VMATH1(name, x)`, `VMATH2(name, x, y)`.
    private static func math(_ name: String, _ x: CLane) -> CLane { value("VMATH1(\(name), \(x.expr))", x) }
    private static func math(_ name: String, _ x: CLane, _ y: CLane) -> CLane { value("VMATH2(\(name), \(x.expr), \(y.expr))", x, y) }
    /// The lane functions printed from Lane's definitions (generated/lane_functions.h), called.
    static func tanh(_ x: CLane) -> CLane { value("LANEFN(tanh, \(x.expr))", x) }
    static func sigmoid(_ x: CLane) -> CLane { value("LANEFN(sigmoid, \(x.expr))", x) }
    static func sin(_ x: CLane) -> CLane { math("sin", x) }
    static func cos(_ x: CLane) -> CLane { math("cos", x) }
    static func powi(_ x: CLane, _ k: CImmediate, plus offset: Int) -> CLane {
        value("vpowi(\(x.expr), (int)in.imm\(offset == 0 ? "" : offset > 0 ? " + \(offset)" : " - \(-offset)"))", x)
    }
}

/// The immediate as the generated code sees it: `in.imm`, read from the instruction.
struct CImmediate {}

/// Collects the statements of one generated block, with nesting for `if` blocks.
///
/// A value already computed in an enclosing scope is not computed again: `declare` returns the
/// name that holds the same expression (the printed operations are pure, so the same text names
/// the same value). So a tangent case's reverse rules reuse what its forward rule computed — the
/// `e^(-|a-b|)` of logaddexp, the sigmoid of softplus — and SLEEF runs once for both.
final class CPrinter {
    private var lines: [String] = []
    private var depth = 0
    private var counter = 0
    /// Per open scope (outermost first), the name of each `type expr` declared there.
    private var scopes: [[String: String]] = [[:]]

    func newName() -> String {
        defer { counter += 1 }
        return "t\(counter)"
    }

    /// `const <type> tN = expr;`, returning `tN`, or the name of the same expression declared
    /// in this scope or an enclosing one.
    func declare(_ type: String, _ expr: String) -> String {
        let key = type + " " + expr
        for scope in scopes.reversed() { if let name = scope[key] { return name } }
        let name = newName()
        statement("const \(type) \(name) = \(expr);")
        scopes[scopes.count - 1][key] = name
        return name
    }

    func statement(_ s: String) { lines.append(String(repeating: "    ", count: depth) + s) }

    func block(_ head: String, _ body: () -> Void) {
        statement(head + " {")
        depth += 1
        scopes.append([:])
        body()
        scopes.removeLast()
        depth -= 1
        statement("}")
    }

    /// The statements, without declarations of names nothing reads.
    func render(indent: String) -> [String] {
        var kept = lines
        while true {
            let text = kept.joined(separator: "\n")
            let before = kept.count
            kept.removeAll { line in
                guard let name = CPrinter.declaredName(line) else { return false }
                return CPrinter.occurrences(of: name, in: text) == 1
            }
            if kept.count == before { break }
        }
        return kept.map { indent + $0 }
    }

    /// The name a `const v8d NAME = ...;` line declares.
    private static func declaredName(_ line: String) -> String? {
        let t = line.drop { $0 == " " }
        for prefix in ["const v8d ", "const v8l "] where t.hasPrefix(prefix) {
            return String(t.dropFirst(prefix.count).prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        }
        return nil
    }

    /// How many times `name` occurs as a whole identifier in `text`.
    private static func occurrences(of name: String, in text: String) -> Int {
        var count = 0
        var rest = text[...]
        while let r = rest.range(of: name) {
            let before = r.lowerBound == text.startIndex ? nil : text[text.index(before: r.lowerBound)]
            let after = r.upperBound == text.endIndex ? nil : text[r.upperBound]
            func identifier(_ c: Character?) -> Bool { c.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false }
            if !identifier(before) && !identifier(after) { count += 1 }
            rest = text[r.upperBound...]
        }
        return count
    }

    /// A C double literal that reads back as exactly `value`.
    static func literal(_ value: Double) -> String {
        let s = "\(value)"
        return s.contains(".") || s.contains("e") ? s : s + ".0"
    }
}
