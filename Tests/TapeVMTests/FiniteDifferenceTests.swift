import Testing
@testable import TapeVM

/// Gradients from the SIMD executor against central finite differences of the reference
/// interpreter: `(f(x + h) - f(x - h)) / 2h` with `h = 1e-6·max(1, |x|)`.
///
/// The tolerance is relative (`1e-5`) with an absolute floor for the rounding error of the
/// difference quotient, `1e-14·max(1, |f|)/h` (about 100 times ε·|f|/h), which grows with the
/// magnitude of the function values involved.
@Suite struct FiniteDifferenceTests {
    static let relativeTolerance = 1e-5

    /// Which leaf a derivative is taken with respect to.
    enum Variable: CustomStringConvertible {
        case input(Int), parameter(Int)
        var description: String {
            switch self {
            case .input(let j): "input \(j)"
            case .parameter(let p): "parameter \(p)"
            }
        }
    }

    /// The central difference of output `output` with respect to `variable`, and the largest
    /// magnitude of f seen at x, x + h and x - h.
    static func centralDifference(_ reference: ReferenceInterpreter, inputs: [Double], parameters: [Double],
                                  output: Int, variable: Variable) -> (derivative: Double, scale: Double) {
        var plus = (inputs, parameters), minus = (inputs, parameters)
        let x: Double
        switch variable {
        case .input(let j): x = inputs[j]
        case .parameter(let p): x = parameters[p]
        }
        let h = 1e-6 * Swift.max(1, Swift.abs(x))
        // The step actually taken, after rounding x ± h.
        let (xp, xm) = (x + h, x - h)
        switch variable {
        case .input(let j): plus.0[j] = xp; minus.0[j] = xm
        case .parameter(let p): plus.1[p] = xp; minus.1[p] = xm
        }
        let fp = reference.evaluate(inputs: plus.0, parameters: plus.1)[output]
        let fm = reference.evaluate(inputs: minus.0, parameters: minus.1)[output]
        let f0 = reference.evaluate(inputs: inputs, parameters: parameters)[output]
        return ((fp - fm) / (xp - xm), Swift.max(Swift.abs(f0), Swift.abs(fp), Swift.abs(fm)))
    }

    /// Whether an analytic derivative agrees with the finite difference: relative tolerance,
    /// with an absolute floor proportional to |f| / h (the rounding error of the quotient).
    static func agrees(_ analytic: Double, _ fd: Double, scale: Double, h: Double, floorFactor: Double = 1e-14) -> Bool {
        guard analytic.isFinite, fd.isFinite else { return false }
        let floor = floorFactor * Swift.max(1, scale) / h
        return Swift.abs(analytic - fd) <= relativeTolerance * Swift.max(Swift.abs(analytic), Swift.abs(fd)) + floor
    }

    /// Checks every input and parameter derivative of every output of `tape` at every point.
    /// Points where f is non-finite or larger than 1e8 are skipped; returns how many were checked.
    @discardableResult
    static func checkGradients(_ tape: Tape, inputs: [[Double]], parameters: [Double],
                               options: ExecutionOptions = ExecutionOptions(threads: 1, tileSize: 8),
                               floorFactor: Double = 1e-14, context: String = "") throws -> Int {
        let program = Program(tape, options: options)
        let reference = ReferenceInterpreter(tape)
        let n = inputs.first?.count ?? 0
        var checked = 0
        for k in tape.outputs.indices {
            let g = try program.valueAndGradient(inputs: inputs, parameters: parameters, output: k, parameterGradient: .perPoint)
            for i in 0..<n {
                let f = g.values[k][i]
                guard f.isFinite, Swift.abs(f) <= 1e8 else { continue }
                let point = inputs.map { $0[i] }
                let variables = tape.inputs.indices.map { Variable.input($0) } + tape.parameters.indices.map { Variable.parameter($0) }
                for v in variables {
                    let analytic: Double
                    let x: Double
                    switch v {
                    case .input(let j): analytic = g.inputGradients[j][i]; x = point[j]
                    case .parameter(let p): analytic = g.parameterGradients[p][i]; x = parameters[p]
                    }
                    let (fd, scale) = centralDifference(reference, inputs: point, parameters: parameters, output: k, variable: v)
                    guard scale <= 1e8, fd.isFinite else { continue }
                    let h = 1e-6 * Swift.max(1, Swift.abs(x))
                    #expect(agrees(analytic, fd, scale: scale, h: h, floorFactor: floorFactor),
                            "\(context) output \(k), ∂/∂\(v) at \(point) params \(parameters): analytic \(analytic), finite difference \(fd), |f| ≈ \(scale)")
                    checked += 1
                }
            }
        }
        return checked
    }

    // MARK: - Random smooth tapes

    @Test(arguments: 0..<24)
    func smoothRandomTapeGradientsMatchFiniteDifferences(seed: Int) throws {
        var rng = SplitMix64(seed: 0xFD00 + UInt64(seed))
        let inputCount = 1 + seed % 3
        let parameterCount = seed % 3
        let tape = Tape.random(instructions: 6 + seed % 5 * 6, inputs: inputCount, parameters: parameterCount,
                               outputs: 1 + seed % 2, opcodes: Tape.smoothOpcodes, seed: UInt64(500 + seed))
        let n = 24
        let inputs = (0..<inputCount).map { _ in (0..<n).map { _ in Double.random(in: -1.5...1.5, using: &rng) } }
        let parameters = (0..<parameterCount).map { _ in Double.random(in: -1.5...1.5, using: &rng) }
        let checked = try Self.checkGradients(tape, inputs: inputs, parameters: parameters,
                                              options: ExecutionOptions(threads: 1, tileSize: 8, instructionSet: .preferred),
                                              context: "seed \(seed)")
        // The test means something only if most points were checked.
        #expect(checked >= n * (inputCount + parameterCount) * tape.outputs.count / 2, "only \(checked) derivatives checked")
    }

    /// The checker itself has teeth: a derivative off by one part in 10⁴ is rejected where the
    /// true one is accepted (on exp, whose derivative is known exactly).
    @Test func checkerRejectsASlightlyWrongDerivative() throws {
        let b = TapeBuilder()
        b.output("y", b.exp(b.input("x")))
        let reference = ReferenceInterpreter(try b.build())
        for x in [-1.4, -0.3, 0.2, 0.9, 1.5] {
            let (fd, scale) = Self.centralDifference(reference, inputs: [x], parameters: [], output: 0, variable: .input(0))
            let h = 1e-6 * Swift.max(1, Swift.abs(x))
            let exact = Double.exp(x)
            #expect(Self.agrees(exact, fd, scale: scale, h: h))
            #expect(!Self.agrees(exact * (1 + 1e-4), fd, scale: scale, h: h))
            #expect(!Self.agrees(exact * (1 - 1e-4), fd, scale: scale, h: h))
            #expect(!Self.agrees(.nan, fd, scale: scale, h: h))
        }
    }

    // MARK: - Each differentiable opcode alone

    /// Points inside the domain of each opcode, away from kinks and singularities.
    static func domainPoints(_ op: Opcode) -> [[Double]] {
        let ordinary: [Double] = [-1.3, -0.7, -0.2, 0.15, 0.6, 1.1, 2.4]
        let positive: [Double] = [0.05, 0.3, 0.9, 1.7, 3.2, 10]
        switch op {
        case .log, .sqrt: return positive.map { [$0] }
        case .log1p: return [-0.9, -0.4, 0.2, 1.5, 7].map { [$0] }
        case .recip: return [-3, -0.5, -0.05, 0.07, 0.8, 4].map { [$0] }
        case .abs, .relu: return ordinary.map { [$0] }
        case .powi: return [-2.2, -0.6, -0.3, 0.4, 1.3, 2].map { [$0] }
        case .pow:
            return positive.flatMap { a in [-2.5, -1, 0.5, 1.5, 3].map { b in [a, b] } }
        case .div:
            return ordinary.flatMap { a in [-2.2, -0.3, 0.4, 1.9].map { b in [a, b] } }
        case .max, .min:
            // Never tied: b is offset from a by at least 0.25.
            return ordinary.flatMap { a in [-0.9, -0.25, 0.3, 1.0].map { d in [a, a + d] } }
        case .select:
            return [-1.5, -0.4, 0.3, 2].flatMap { c in ordinary.prefix(3).map { b in [c, b, -b + 0.5] } }
        default:
            let values = ordinary
            switch op.arity {
            case 1: return values.map { [$0] }
            case 2: return values.flatMap { a in values.prefix(4).map { b in [a, b] } }
            default: return values.flatMap { a in values.prefix(3).map { b in [a, b, b - a] } }
            }
        }
    }

    static let differentiableOpcodes = Opcode.allCases.filter { $0.arity > 0 && $0.info.isDifferentiable }

    @Test(arguments: differentiableOpcodes)
    func singleOpcodeGradientMatchesFiniteDifferences(op: Opcode) throws {
        // powi's exponents; for the constant-operand forms (addk, ...) the constant k.
        let exponents: [Double] = op == .powi ? [-3, -2, -1, 0, 1, 2, 3, 5]
            : op.info.immediate == .value ? [2.5, -0.75] : [0]
        for k in exponents {
            let b = TapeBuilder()
            let xs = (0..<op.arity).map { b.input("x\($0)") }
            b.output("y", b.emit(op, xs, immediate: k))
            let tape = try b.build()
            let points = Self.domainPoints(op)
            let columns = (0..<op.arity).map { j in points.map { $0[j] } }
            for isa in InstructionSet.supported {
                let checked = try Self.checkGradients(tape, inputs: columns, parameters: [],
                                                      options: ExecutionOptions(threads: 1, tileSize: 8, instructionSet: isa),
                                                      context: "\(op) k=\(k) [\(isa)]")
                #expect(checked == points.count * op.arity, "\(op): every point should be checked")
            }
        }
    }

    /// The same opcodes reached through parameters rather than inputs: the parameter gradient
    /// path (leaf planes filled once per worker) gets the same derivatives.
    @Test(arguments: differentiableOpcodes)
    func singleOpcodeParameterGradientMatchesFiniteDifferences(op: Opcode) throws {
        let b = TapeBuilder()
        // The first operand is an input (so there are points), the rest parameters.
        let x = b.input("x0")
        let ws = (1..<Swift.max(1, op.arity)).map { b.parameter("w\($0)") }
        b.output("y", b.emit(op, [x] + ws, immediate: op == .powi ? -2 : 0))
        let tape = try b.build()
        let points = Self.domainPoints(op)
        let fixed = points[points.count / 2]
        let column = points.filter { p in p.dropFirst() == fixed.dropFirst() }.map { $0[0] }
        try Self.checkGradients(tape, inputs: [column], parameters: Array(fixed.dropFirst()),
                                context: "\(op) with parameters")
    }
}
