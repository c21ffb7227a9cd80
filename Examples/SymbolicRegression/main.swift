// A small symbolic-regression loop on TapeVM's population API.
//
// It generates data from a known formula, then evolves a population of random expressions:
// each generation fits every expression's constants with a few Levenberg–Marquardt steps (the
// loss, its gradient and the per-row Jacobian of all expressions come from one
// `Population.evaluate` call per step), keeps the best, and refills the population with
// mutations of them. It prints its progress and stops when an expression fits the data to
// rounding error; the exit status is 0 if it recovered the formula, 1 if not.
//
//   swift run -c release symbolic-regression [--seed N] [--population N] [--generations N]
import Foundation
import TapeVM

// MARK: - Expressions

/// An expression tree over the inputs `x0`, `x1` and free constants.
///
/// A node and an array of operands rather than an `indirect enum`: Swift keeps such an enum's case
/// in the spare bits of the pointer to its box, a pointer LeakSanitizer does not recognize, so
/// under `--sanitize=address` every nested node was reported leaked at exit while still in use.
struct Expr: CustomStringConvertible {
    enum Node { case input(Int), constant, unary(Unary), binary(Binary) }
    enum Unary: CaseIterable { case sin, cos, square }
    enum Binary: CaseIterable { case add, sub, mul }

    var node: Node
    /// None for a leaf, one for a unary node, two for a binary one.
    var operands: [Expr] = []

    static func input(_ i: Int) -> Expr { Expr(node: .input(i)) }
    static let constant = Expr(node: .constant)
    static func unary(_ f: Unary, _ a: Expr) -> Expr { Expr(node: .unary(f), operands: [a]) }
    static func binary(_ op: Binary, _ a: Expr, _ b: Expr) -> Expr { Expr(node: .binary(op), operands: [a, b]) }

    var size: Int { operands.reduce(1) { $0 + $1.size } }

    var constants: Int {
        if case .constant = node { return 1 }
        return operands.reduce(0) { $0 + $1.constants }
    }

    var description: String { render(nil) }

    /// The expression with constants `c` (or `c0`, `c1`, ... when nil).
    func render(_ c: [Double]?) -> String {
        var k = 0
        func go(_ e: Expr) -> String {
            switch e.node {
            case .input(let i): return "x\(i)"
            case .constant:
                defer { k += 1 }
                guard let c else { return "c\(k)" }
                return String(format: "%.6g", c[k])
            case .unary(.square): return "(\(go(e.operands[0])))^2"
            case .unary(let f): return "\(f)(\(go(e.operands[0])))"
            case .binary(let op):
                let sa = go(e.operands[0]), sb = go(e.operands[1])
                return "(\(sa) \(op == .add ? "+" : op == .sub ? "-" : "*") \(sb))"
            }
        }
        return go(self)
    }

    /// The tape: inputs x0, x1; one parameter per constant.
    func tape() -> Tape {
        let b = TapeBuilder()
        let x = [b.input("x0"), b.input("x1")]
        var k = 0
        func go(_ e: Expr) -> Register {
            switch e.node {
            case .input(let i): return x[i]
            case .constant:
                defer { k += 1 }
                return b.parameter("c\(k)")
            case .unary(let f):
                let r = go(e.operands[0])
                switch f {
                case .sin: return b.sin(r)
                case .cos: return b.cos(r)
                case .square: return b.square(r)
                }
            case .binary(let op):
                let (ra, rb) = (go(e.operands[0]), go(e.operands[1]))
                switch op {
                case .add: return b.add(ra, rb)
                case .sub: return b.sub(ra, rb)
                case .mul: return b.mul(ra, rb)
                }
            }
        }
        b.output("f", go(self))
        do { return try b.build() } catch { fatalError("symbolic-regression: \(error)") }
    }
}

// MARK: - Random expressions and mutation

struct Evolution {
    var rng: SplitMix64

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    mutating func leaf() -> Expr {
        chance(0.35) ? .constant : .input(Int.random(in: 0..<2, using: &rng))
    }

    mutating func random(depth: Int) -> Expr {
        if depth == 0 || chance(0.3) { return leaf() }
        if chance(0.25) { return .unary(Expr.Unary.allCases.randomElement(using: &rng)!, random(depth: depth - 1)) }
        return .binary(Expr.Binary.allCases.randomElement(using: &rng)!, random(depth: depth - 1), random(depth: depth - 1))
    }

    /// One random change: a term `c·g` added, a subtree replaced, or a leaf or operator changed.
    mutating func mutate(_ e: Expr) -> Expr {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return .binary(.add, e, .binary(.mul, .constant, random(depth: Int.random(in: 1...2, using: &rng))))
        case 1: return replace(e)
        default: return tweak(e)
        }
    }

    mutating func replace(_ e: Expr) -> Expr {
        switch e.node {
        case .input, .constant: return random(depth: 2)
        case .unary(let f):
            let a = e.operands[0]
            return chance(0.3) ? random(depth: 2) : .unary(f, replace(a))
        case .binary(let op):
            let (a, b) = (e.operands[0], e.operands[1])
            if chance(0.2) { return random(depth: 2) }
            return chance(0.5) ? .binary(op, replace(a), b) : .binary(op, a, replace(b))
        }
    }

    mutating func tweak(_ e: Expr) -> Expr {
        switch e.node {
        case .input, .constant: return leaf()
        case .unary(let f):
            let a = e.operands[0]
            return chance(0.4) ? .unary(Expr.Unary.allCases.randomElement(using: &rng)!, a) : .unary(f, tweak(a))
        case .binary(let op):
            let (a, b) = (e.operands[0], e.operands[1])
            if chance(0.3) { return .binary(Expr.Binary.allCases.randomElement(using: &rng)!, a, b) }
            return chance(0.5) ? .binary(op, tweak(a), b) : .binary(op, a, tweak(b))
        }
    }
}

// MARK: - Fitting constants: Levenberg–Marquardt on the whole population at once

/// Solves (JᵀJ + λ·diag(JᵀJ))·δ = -Jᵀr for δ (Gaussian elimination; P is small).
func levenbergMarquardtStep(jacobian: [[Double]], residuals: [Double], lambda: Double) -> [Double]? {
    let p = jacobian.count
    var a = [[Double]](repeating: [Double](repeating: 0, count: p + 1), count: p)
    for i in 0..<p {
        for j in 0..<p {
            var s = 0.0
            for r in residuals.indices { s += jacobian[i][r] * jacobian[j][r] }
            a[i][j] = s
        }
        var g = 0.0
        for r in residuals.indices { g += jacobian[i][r] * residuals[r] }
        a[i][p] = -g
        a[i][i] += lambda * Swift.max(a[i][i], 1e-12)
    }
    for col in 0..<p {
        guard let pivot = (col..<p).max(by: { abs(a[$0][col]) < abs(a[$1][col]) }), abs(a[pivot][col]) > 1e-300 else { return nil }
        a.swapAt(col, pivot)
        for row in 0..<p where row != col {
            let f = a[row][col] / a[col][col]
            for k in col...p { a[row][k] -= f * a[col][k] }
        }
    }
    return (0..<p).map { a[$0][p] / a[$0][$0] }
}

// MARK: - The loop

func argument(_ name: String, _ fallback: Int) -> Int {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) { return v }
    return fallback
}

let seed = UInt64(argument("--seed", 4))
let populationSize = argument("--population", 100)
let generations = argument("--generations", 40)
let rows = 64

// The data: y = 1.5·x0² − 0.8·sin(x1) at random points of [-2, 2]².
let truth = "1.5 * x0^2 - 0.8 * sin(x1)"
var dataRng = SplitMix64(seed: 7)
let x0 = (0..<rows).map { _ in Double.random(in: -2...2, using: &dataRng) }
let x1 = (0..<rows).map { _ in Double.random(in: -2...2, using: &dataRng) }
let y = zip(x0, x1).map { 1.5 * $0 * $0 - 0.8 * sin($1) }
let columns = [(name: "x0", values: x0), (name: "x1", values: x1)]
let variance = y.map { ($0 - y.reduce(0, +) / Double(rows)) * ($0 - y.reduce(0, +) / Double(rows)) }.reduce(0, +)

print("symbolic-regression: recovering y = \(truth) from \(rows) rows; population \(populationSize), seed \(seed)")

struct Candidate {
    var expr: Expr
    var constants: [Double]
    var loss = Double.infinity
    var score: Double { loss / variance + 1e-4 * Double(expr.size) }
}

var evolution = Evolution(rng: SplitMix64(seed: seed))
var population = (0..<populationSize).map { _ -> Candidate in
    let e = evolution.random(depth: 3)
    return Candidate(expr: e, constants: (0..<e.constants).map { _ in Double.random(in: -1...1, using: &evolution.rng) })
}

/// Fits every candidate's constants: `steps` Levenberg–Marquardt steps, each one population call.
@MainActor func fit(_ candidates: inout [Candidate], steps: Int) throws {
    let tapes = candidates.map { $0.expr.tape() }
    var previous = candidates.map(\.constants)
    var lambda = [Double](repeating: 1e-3, count: candidates.count)
    for step in 0...steps {
        let results = try Population.evaluate(tapes, columns: columns, parameters: candidates.map(\.constants), target: y,
                                              request: PopulationRequest(gradient: false, jacobian: true, values: true))
        for (k, r) in results.enumerated() {
            let loss = r.nonFiniteRows > 0 ? Double.infinity : r.loss!
            if step > 0 && !(loss < candidates[k].loss) {
                // The last step made things worse: undo it, damp more.
                candidates[k].constants = previous[k]
                lambda[k] *= 10
                continue
            }
            candidates[k].loss = loss
            lambda[k] = Swift.max(lambda[k] / 3, 1e-9)
            previous[k] = candidates[k].constants
            if step == steps || candidates[k].constants.isEmpty || !loss.isFinite { continue }
            let residuals = (0..<rows).map { r.values[$0] - y[$0] }
            if let delta = levenbergMarquardtStep(jacobian: r.jacobian, residuals: residuals, lambda: lambda[k]) {
                candidates[k].constants = zip(candidates[k].constants, delta).map(+)
            }
        }
    }
}

var best: Candidate?
let clock = ContinuousClock()
let start = clock.now
var evaluated = 0
for generation in 1...generations {
    try fit(&population, steps: 3)
    evaluated += population.count * 4
    population.sort { $0.score < $1.score }
    best = population[0]
    let b = population[0]
    let mse = b.loss / Double(rows)
    print(String(format: "generation %2d: best MSE %.3e, size %2d: %@", generation, mse, b.expr.size, b.expr.render(b.constants)))
    if mse < 1e-20 { break }
    // Keep the best quarter; refill with mutants of them and a few fresh random expressions.
    let keep = populationSize / 4
    var next = Array(population.prefix(keep))
    while next.count < populationSize {
        let e = next.count % 10 == 0
            ? evolution.random(depth: 3)
            : evolution.mutate(population[Int.random(in: 0..<keep, using: &evolution.rng)].expr)
        if e.size > 25 { continue }
        next.append(Candidate(expr: e, constants: (0..<e.constants).map { _ in Double.random(in: -1...1, using: &evolution.rng) }))
    }
    population = next
}
let seconds = Double((clock.now - start).components.attoseconds) * 1e-18 + Double((clock.now - start).components.seconds)
guard let best else { exit(1) }
let mse = best.loss / Double(rows)
print(String(format: "%d expressions evaluated (value, loss and Jacobian) in %.2f s", evaluated, seconds))
if mse < 1e-20 {
    print("recovered: y = \(best.expr.render(best.constants))   (truth: y = \(truth))")
    exit(0)
} else {
    print("not recovered: best y = \(best.expr.render(best.constants)), MSE \(mse)")
    exit(1)
}
