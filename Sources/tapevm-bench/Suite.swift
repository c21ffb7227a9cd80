import Foundation
import TapeVM

/// One benchmark case. The math is defined once, as a TapeVM tape built with `TapeBuilder`;
/// `tapevm`, `reference` and `graph-ad` all run that tape. The `_Differentiation` and
/// hand-written versions are separate Swift functions of the same math (SwiftAD.swift,
/// Handwritten.swift); verification holds them to the tape's results.
struct BenchCase {
    let name: String
    /// The formula, for the report.
    let formula: String
    let tape: Tape
    let parameters: [Double]
    /// Inputs are drawn uniformly from this range.
    let inputRange: ClosedRange<Double>
    /// `@differentiable(reverse)` + `valueWithGradient` over the points, if written.
    let swiftAD: BatchKernel?
    /// Hand-written straight-line value + gradient in scalar Swift, if written.
    let handwritten: BatchKernel?
    /// How this case's tape is made from nothing (for the time-to-first-result measurement).
    let build: () -> Tape
    /// Hand-written AVX-512 C with SLEEF exp/tanh (CBenchKernels), if written.
    var handwrittenC: BatchKernel? = nil
    /// Only the tape-running systems (tapevm, tapevm-mt, tapevm-noopt, reference) run it: cases
    /// from `--expr` and `--tape-file`, which have no separately written versions.
    var tapeSystemsOnly = false
    /// The case as text, for the time-to-first-result measurement (which then starts from the
    /// text: parse → Program → first value + gradient).
    var source: CaseSource? = nil
}

/// A case's text and how to parse it.
struct CaseSource {
    enum Kind {
        /// The expression language: `Tape(expression:)`.
        case expression
        /// The tape text format: `Tape(text:)`.
        case tapeText
    }

    let kind: Kind
    let text: String

    /// Parses the text (the step the time to first result starts with).
    func parse() throws -> Tape {
        switch kind {
        case .expression: try Tape(expression: text)
        case .tapeText: try Tape(text: text)
        }
    }

    /// How the measurement is labelled.
    var label: String {
        switch kind {
        case .expression: "expression text → first result"
        case .tapeText: "tape text → first result"
        }
    }
}

/// A case from `--expr` or `--tape-file`: inputs uniform in [-1, 1], every parameter 0.5.
func textCase(name: String, source: CaseSource) throws -> BenchCase {
    let tape = try source.parse()
    let formula = source.kind == .expression
        ? source.text.trimmingCharacters(in: .whitespacesAndNewlines)
        : "tape text, \(tape.instructions.count) instructions"
    return BenchCase(name: name, formula: formula, tape: tape,
                     parameters: Array(repeating: 0.5, count: tape.parameters.count), inputRange: -1...1,
                     swiftAD: nil, handwritten: nil, build: { tape }, tapeSystemsOnly: true, source: source)
}

/// Tape builders, one per case: the single definition of each case's math.
enum Tapes {
    static func make(_ body: (TapeBuilder) -> Void) -> Tape {
        let b = TapeBuilder()
        body(b)
        do { return try b.build() } catch { fatalError("tapevm-bench: invalid case tape: \(error)") }
    }

    /// (x + y) * z
    static func seedCircuit() -> Tape {
        make { b in
            let x = b.input("x"), y = b.input("y"), z = b.input("z")
            b.output("f", b.mul(b.add(x, y), z))
        }
    }

    /// (x + sigmoid(y)) / (sigmoid(x) + (x + y)^2), the square as powi 2.
    static func staged() -> Tape {
        make { b in
            let x = b.input("x"), y = b.input("y")
            let num = b.add(x, b.sigmoid(y))
            let den = b.add(b.sigmoid(x), b.powi(b.add(x, y), 2))
            b.output("f", b.div(num, den))
        }
    }

    /// sigmoid(w0*x0 + w1*x1 + w2) = 1/(1+exp(-(w0*x0 + w1*x1 + w2))), with the sigmoid opcode.
    static func neuron() -> Tape {
        make { b in
            let x0 = b.input("x0"), x1 = b.input("x1")
            let w0 = b.parameter("w0"), w1 = b.parameter("w1"), w2 = b.parameter("w2")
            let z = b.add(b.add(b.mul(w0, x0), b.mul(w1, x1)), w2)
            b.output("f", b.sigmoid(z))
        }
    }

    /// Σ_{i<7} 100·(x[i+1] − x[i]²)² + (1 − x[i])², squares with the square opcode.
    static func rosenbrock() -> Tape {
        make { b in
            let x = (0..<8).map { b.input("x\($0)") }
            let hundred = b.constant(100), one = b.constant(1)
            var sum: Register?
            for i in 0..<7 {
                let t = b.sub(x[i + 1], b.square(x[i]))
                let term = b.add(b.mul(hundred, b.square(t)), b.square(b.sub(one, x[i])))
                sum = sum.map { b.add($0, term) } ?? term
            }
            b.output("f", sum!)
        }
    }

    static let mlpHidden = 16

    /// sigmoid(b2 + Σ_j W2[j]·tanh(b1[j] + Σ_k W1[j][k]·x[k])), the dot products as muladd
    /// chains. Parameters in order: W1 row-major (W1_j_k), b1_j, W2_j, b2.
    static func mlp() -> Tape {
        make { b in
            let x = (0..<4).map { b.input("x\($0)") }
            let w1 = (0..<mlpHidden).map { j in (0..<4).map { k in b.parameter("W1_\(j)_\(k)") } }
            let b1 = (0..<mlpHidden).map { b.parameter("b1_\($0)") }
            let w2 = (0..<mlpHidden).map { b.parameter("W2_\($0)") }
            let b2 = b.parameter("b2")
            var out = b2
            for j in 0..<mlpHidden {
                var acc = b1[j]
                for k in 0..<4 { acc = b.muladd(w1[j][k], x[k], acc) }
                out = b.muladd(w2[j], b.tanh(acc), out)
            }
            b.output("f", b.sigmoid(out))
        }
    }

    /// logaddexp(logaddexp(logaddexp(logaddexp(logaddexp(x0, x1), x2), x3), x4), x5)
    ///   + softplus(((((x0 + x1) + x2) + x3) + x4) + x5)
    static func logSumExp() -> Tape {
        make { b in
            let x = (0..<6).map { b.input("x\($0)") }
            var l = x[0], s = x[0]
            for i in 1..<6 {
                l = b.logaddexp(l, x[i])
                s = b.add(s, x[i])
            }
            b.output("f", b.add(l, b.softplus(s)))
        }
    }

    /// The staged function in the expression language (the same tape as `staged()`).
    static let stagedExpression = "f(x, y) = (x + sigmoid(y)) / (sigmoid(x) + (x + y)^2)"

    /// 1000 random smooth instructions, every one live (no dead code for the optimizer to drop).
    static func random1000() -> Tape {
        Tape.random(instructions: 1000, inputs: 4, parameters: 0, opcodes: Tape.smoothOpcodes, allLive: true, seed: 1)
    }
}

/// Parameter values for the cases that have parameters (seeded, the same every run).
enum CaseParameters {
    static let neuron: [Double] = [0.75, -1.25, 0.3]

    /// Glorot-style uniform weights: W1 in ±1/√4, W2 in ±1/√16, biases in ±0.1.
    static var mlp: [Double] {
        var rng = SplitMix64(seed: 42)
        let h = Tapes.mlpHidden
        let w1 = (0..<(4 * h)).map { _ in Double.random(in: -0.5...0.5, using: &rng) }
        let b1 = (0..<h).map { _ in Double.random(in: -0.1...0.1, using: &rng) }
        let w2 = (0..<h).map { _ in Double.random(in: -0.25...0.25, using: &rng) }
        return w1 + b1 + w2 + [Double.random(in: -0.1...0.1, using: &rng)]
    }
}

/// The built-in cases, in report order.
func builtinSuite() -> [BenchCase] {
    [
        BenchCase(name: "seed-circuit", formula: "(x+y)*z", tape: Tapes.seedCircuit(), parameters: [],
                  inputRange: -2...2, swiftAD: SwiftAD.seedCircuit, handwritten: Handwritten.seedCircuit,
                  build: Tapes.seedCircuit),
        BenchCase(name: "staged", formula: "(x + sigmoid(y)) / (sigmoid(x) + powi(x+y, 2))",
                  tape: Tapes.staged(), parameters: [], inputRange: -2...2,
                  swiftAD: SwiftAD.staged, handwritten: Handwritten.staged, build: Tapes.staged,
                  handwrittenC: CKernels.staged,
                  source: CaseSource(kind: .expression, text: Tapes.stagedExpression)),
        BenchCase(name: "neuron", formula: "sigmoid(w0*x0 + w1*x1 + w2); params w0..w2, gradient summed",
                  tape: Tapes.neuron(), parameters: CaseParameters.neuron, inputRange: -3...3,
                  swiftAD: SwiftAD.neuron, handwritten: Handwritten.neuron, build: Tapes.neuron,
                  handwrittenC: CKernels.neuron),
        BenchCase(name: "rosenbrock-8", formula: "sum_{i<7} 100*(x[i+1]-x[i]^2)^2 + (1-x[i])^2",
                  tape: Tapes.rosenbrock(), parameters: [], inputRange: -2...2,
                  swiftAD: SwiftAD.rosenbrock, handwritten: Handwritten.rosenbrock, build: Tapes.rosenbrock,
                  handwrittenC: CKernels.rosenbrock),
        BenchCase(name: "mlp-4-16-1", formula: "sigmoid(b2 + W2·tanh(W1·x + b1)); 97 params, gradient summed",
                  tape: Tapes.mlp(), parameters: CaseParameters.mlp, inputRange: -1...1,
                  swiftAD: SwiftAD.mlp, handwritten: Handwritten.mlp, build: Tapes.mlp,
                  handwrittenC: CKernels.mlp),
        BenchCase(name: "logsumexp-6",
                  formula: "logaddexp(...logaddexp(logaddexp(x0,x1),x2)...,x5) + softplus(x0+...+x5)",
                  tape: Tapes.logSumExp(), parameters: [], inputRange: -3...3,
                  swiftAD: SwiftAD.logSumExp, handwritten: Handwritten.logSumExp, build: Tapes.logSumExp),
        BenchCase(name: "random-1000",
                  formula: "Tape.random(instructions: 1000, inputs: 4, smoothOpcodes, allLive: true, seed: 1)",
                  tape: Tapes.random1000(), parameters: [], inputRange: -1...1,
                  swiftAD: nil, handwritten: nil, build: Tapes.random1000,
                  source: CaseSource(kind: .tapeText, text: Tapes.random1000().text)),
    ]
}
