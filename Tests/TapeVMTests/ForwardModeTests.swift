import Foundation
import Testing
@testable import TapeVM

/// Forward mode (tangent sweeps), Hessian-vector products and Hessians, against hand-derived
/// values, finite differences and the gradient, on every code path, thread count and tile size
/// of ``SeedExampleTests/configurations``.
@Suite struct ForwardModeTests {
    static let configurations = SeedExampleTests.configurations

    static func close(_ got: Double, _ want: Double, _ tolerance: Double = 1e-12) -> Bool {
        Swift.abs(got - want) <= tolerance * Swift.max(1, Swift.abs(want))
    }

    // MARK: - Rosenbrock

    /// `Σᵢ 100(xᵢ₊₁ - xᵢ²)² + (1 - xᵢ)²` over `m` inputs.
    static func rosenbrock(_ m: Int) throws -> Tape {
        let names = (0..<m).map { "x\($0)" }
        let terms = (0..<m - 1).map { "100*(x\($0 + 1) - x\($0)^2)^2 + (1 - x\($0))^2" }
        return try Tape(expression: "f(\(names.joined(separator: ", "))) = \(terms.joined(separator: " + "))")
    }

    /// The analytic Hessian of the Rosenbrock function.
    static func rosenbrockHessian(_ x: [Double]) -> [[Double]] {
        let m = x.count
        var h = [[Double]](repeating: [Double](repeating: 0, count: m), count: m)
        for i in 0..<m - 1 {
            h[i][i] += 2 + 1200 * x[i] * x[i] - 400 * x[i + 1]
            h[i + 1][i + 1] += 200
            h[i][i + 1] -= 400 * x[i]
            h[i + 1][i] -= 400 * x[i]
        }
        return h
    }

    /// The issue's example: at (1.5, 0.5) the Hessian is [[2502, -600], [-600, 200]], and the
    /// JVP along (1, 2) is ∂f/∂x + 2·∂f/∂y.
    @Test func rosenbrock2DAtTheIssuePoint() throws {
        let tape = try Tape(expression: "f(x,y) = 100*(y - x^2)^2 + (1 - x)^2")
        for options in Self.configurations {
            let program = Program(tape, options: options)
            let h = try program.hessian(inputs: [[1.5], [0.5]])
            #expect(h.hessian(at: 0) == [[2502, -600], [-600, 200]], "\(options)")
            #expect(h.values == [[100 * 1.75 * 1.75 + 0.25]])
            let g = try program.valueAndGradient(inputs: [[1.5], [0.5]])
            #expect(h.gradient == g.inputGradients, "\(options)")
            let jvp = try program.jvp(inputs: [[1.5], [0.5]], sharedDirection: [1, 2])
            #expect(jvp.tangents[0][0][0] == g.inputGradients[0][0] + 2 * g.inputGradients[1][0], "\(options)")
            let hv = try program.hvp(inputs: [[1.5], [0.5]], sharedDirection: [1, 2])
            #expect(hv.hessianVector == [[2502 - 1200], [-600 + 400]], "\(options)")
        }
    }

    /// Rosenbrock-8 at 13 random points (a partial tile with 8-point tiles): the analytic
    /// Hessian, per point, on every path; HVPs along per-point directions agree with H·v.
    @Test func rosenbrock8Hessian() throws {
        let m = 8, n = 13
        var rng = SplitMix64(seed: 8)
        let x = (0..<m).map { _ in (0..<n).map { _ in Double.random(in: -2...2, using: &rng) } }
        let v = (0..<m).map { _ in (0..<n).map { _ in Double.random(in: -1...1, using: &rng) } }
        let tape = try Self.rosenbrock(m)
        for options in Self.configurations {
            let program = Program(tape, options: options)
            let h = try program.hessian(inputs: x)
            let hv = try program.hvp(inputs: x, direction: v)
            for i in 0..<n {
                let want = Self.rosenbrockHessian((0..<m).map { x[$0][i] })
                let got = h.hessian(at: i)
                for r in 0..<m {
                    for c in 0..<m {
                        #expect(Self.close(got[r][c], want[r][c], 1e-13), "\(options) point \(i) [\(r)][\(c)]: \(got[r][c]) vs \(want[r][c])")
                    }
                    let hvWant = (0..<m).reduce(0.0) { $0 + want[r][$1] * v[$1][i] }
                    let scale = (0..<m).reduce(1.0) { $0 + Swift.abs(want[r][$1] * v[$1][i]) }
                    #expect(Swift.abs(hv.hessianVector[r][i] - hvWant) <= 1e-13 * scale, "\(options) H·v point \(i) row \(r)")
                }
            }
        }
    }

    // MARK: - The seed's sigmoid neuron

    /// σ(w·x + b) at the seed point (x = (-1, -2), w = (2, -3), b = -3): with z = w·x + b = 1,
    /// σ'' = σ(1-σ)(1-2σ), so ∂²f/∂xⱼ∂xₖ = σ''·wⱼwₖ and ∂²f/∂wₚ∂w_q = σ''·uₚu_q with u = (x0, x1, 1).
    @Test(arguments: SeedExampleTests.NeuronForm.allCases)
    func sigmoidNeuronHessians(form: SeedExampleTests.NeuronForm) throws {
        let tape = try SeedExampleTests.neuron(form)
        let s = 1 / (1 + Foundation.exp(-1.0))
        let s2 = s * (1 - s) * (1 - 2 * s)
        let w = SeedExampleTests.neuronWeights, x = SeedExampleTests.neuronInputs
        let u = [x[0], x[1], 1]
        let count = 517
        for options in Self.configurations {
            let program = Program(tape, options: options)
            let h = try program.hessian(inputs: x.map { [$0] }, parameters: w)
            for j in 0..<2 {
                #expect(Self.close(h.gradient[j][0], SeedExampleTests.neuronInputGradient[j], 1e-10))
                for k in 0..<2 {
                    #expect(Self.close(h.hessian(at: 0)[j][k], s2 * w[j] * w[k], 1e-14), "\(form) \(options) [\(j)][\(k)]: \(h.hessian(at: 0)[j][k])")
                }
            }
            // Summed over `count` identical points: count times the per-point parameter Hessian.
            let hp = try program.parameterHessianSum(inputs: x.map { [Double](repeating: $0, count: count) }, parameters: w)
            for p in 0..<3 {
                for q in 0..<3 {
                    let want = Double(count) * s2 * u[p] * u[q]
                    #expect(Self.close(hp[p][q], want, 1e-12), "\(form) \(options) Σ∂²/∂w\(p)∂w\(q): \(hp[p][q]) vs \(want)")
                }
            }
        }
    }

    /// The parameter Hessian sum has the same bits for any thread count.
    @Test func parameterHessianSumIsThreadIndependent() throws {
        let tape = try Tape(expression: "loss(x, y; w, b) = (tanh(w * x + b) - y)^2")
        var rng = SplitMix64(seed: 5)
        let n = 3001
        let inputs = (0..<2).map { _ in (0..<n).map { _ in Double.random(in: -2...2, using: &rng) } }
        let one = try Program(tape, options: ExecutionOptions(threads: 1, tileSize: 8)).parameterHessianSum(inputs: inputs, parameters: [0.7, -0.2])
        let two = try Program(tape, options: ExecutionOptions(threads: 2, tileSize: 8)).parameterHessianSum(inputs: inputs, parameters: [0.7, -0.2])
        #expect(one == two)
        // Against the per-point Hessians of the same function with w, b as inputs.
        let asInputs = try Tape(expression: "loss(w, b, x, y) = (tanh(w * x + b) - y)^2")
        let h = try Program(asInputs).hessian(inputs: [[Double](repeating: 0.7, count: n), [Double](repeating: -0.2, count: n)] + inputs)
        for p in 0..<2 {
            for q in 0..<2 {
                let want = (0..<n).reduce(0.0) { $0 + h.hessian(at: $1)[p][q] }
                #expect(Self.close(one[p][q], want, 1e-10), "[\(p)][\(q)]: \(one[p][q]) vs \(want)")
            }
        }
    }

    // MARK: - The staged function

    /// `(x + σ(y)) / (σ(x) + (x + y)²)`: the Hessian against central differences of the notes'
    /// hand-written backprop, and symmetric to rounding.
    @Test func stagedFunctionHessian() throws {
        let tape = try SeedExampleTests.stagedTape()
        let points: [(Double, Double)] = [(3, -4), (-3, 4), (1, 2), (-0.5, 0.25), (2.5, -2.4), (-1.2, 1.3)]
        let inputs = [points.map(\.0), points.map(\.1)]
        let e = 1e-5
        for options in Self.configurations {
            let h = try Program(tape, options: options).hessian(inputs: inputs)
            for (i, (x, y)) in points.enumerated() {
                let dx = (SeedExampleTests.handBackprop(x + e, y), SeedExampleTests.handBackprop(x - e, y))
                let dy = (SeedExampleTests.handBackprop(x, y + e), SeedExampleTests.handBackprop(x, y - e))
                let want = [[(dx.0.dx - dx.1.dx) / (2 * e), (dy.0.dx - dy.1.dx) / (2 * e)],
                            [(dx.0.dy - dx.1.dy) / (2 * e), (dy.0.dy - dy.1.dy) / (2 * e)]]
                let got = h.hessian(at: i)
                for r in 0..<2 {
                    for c in 0..<2 {
                        #expect(Swift.abs(got[r][c] - want[r][c]) <= 1e-7 * Swift.max(1, Swift.abs(want[r][c])),
                                "\(options) (\(x), \(y)) [\(r)][\(c)]: \(got[r][c]) vs \(want[r][c])")
                    }
                }
                #expect(Self.close(got[0][1], got[1][0], 1e-13))
            }
        }
    }

    // MARK: - Random tapes

    /// The tangent rule on one point, on the `Double` lane: what the SIMD tangent sweep must
    /// reproduce bit for bit. A `nil` tangent is a symbolic zero (constants, parameters, results
    /// of instructions without a gradient).
    static func referenceTangent(_ tape: Tape, inputs: [Double], parameters: [Double], direction: [Double]) -> (values: [Double], tangents: [Double]) {
        var value: [Double] = [], tangent: [Double?] = []
        for x in tape.instructions {
            let r = x.operands.map(\.index)
            func operand(_ k: Int) -> Double { k < r.count ? value[r[k]] : 0 }
            let operands = Operands(operand(0), operand(1), operand(2), k: x.immediate)
            switch x.opcode {
            case .input:
                value.append(inputs[Int(x.immediate)]); tangent.append(direction[Int(x.immediate)])
            case .param:
                value.append(parameters[Int(x.immediate)]); tangent.append(nil)
            default:
                let y = x.opcode.forward(operands)
                var t: Double?
                if x.opcode.info.isDifferentiable {
                    for (k, reg) in r.enumerated() {
                        guard let g = tangent[reg], let c = x.opcode.reverse(operands, y: y, g: g)[k] else { continue }
                        t = t.map { $0 + c } ?? c
                    }
                }
                value.append(y); tangent.append(t)
            }
        }
        return (tape.outputs.map { value[$0.register.index] }, tape.outputs.map { tangent[$0.register.index] ?? 0 })
    }

    /// Per-point directions (four in one Swift sweep, two and one on the code path), on random tapes with every exact opcode and
    /// awkward points (infinities, NaN, ties, kinks): bit for bit the scalar tangent rule, on
    /// every configuration.
    @Test func tangentSweepMatchesTheScalarTangentRule() throws {
        var rng = SplitMix64(seed: 77)
        for t in 0..<80 {
            let tape = Tape.random(instructions: Int.random(in: 1...25, using: &rng), inputs: 3, parameters: 1, outputs: 2,
                                   opcodes: DifferentialTests.exactOpcodes, seed: UInt64(900 + t))
            let n = [1, 7, 8, 9, 17][t % 5]
            let x = DifferentialTests.points(count: n, inputs: 3, rng: &rng)
            let directions = (0..<4).map { _ in DifferentialTests.points(count: n, inputs: 3, rng: &rng) }
            let parameters = [DifferentialTests.specials[t % DifferentialTests.specials.count]]
            var options = Self.configurations[t % Self.configurations.count]
            options.optimization = .none
            let program = Program(tape, options: options)
            // Four, two and one directions, each set in one sweep on the options' code path (the
            // generated C tangent kernels on AVX2 and AVX-512, their one-direction and
            // D-direction forms; the Swift interpreter's tangent sweep on the Swift path).
            let runs = [(directions, "four directions"), (Array(directions.prefix(2)), "two directions"),
                        ([directions[3]], "one direction")]
            for (chosen, label) in runs {
                let jvp = try program.jvp(inputs: x, parameters: parameters, directions: chosen)
                for i in 0..<n {
                    for (d, direction) in chosen.enumerated() {
                        let want = Self.referenceTangent(tape, inputs: x.map { $0[i] }, parameters: parameters,
                                                         direction: direction.map { $0[i] })
                        for k in 0..<2 where !DifferentialTests.same(jvp.tangents[d][k][i], want.tangents[k])
                            || !DifferentialTests.same(jvp.values[k][i], want.values[k]) {
                            Issue.record("tape \(t) output \(k) \(label), direction \(d), point \(i) (\(options.instructionSet)): \(jvp.tangents[d][k][i]) vs \(want.tangents[k])\n\(tape.text)")
                            return
                        }
                    }
                }
            }
        }
    }

    /// JVP against gradient·v on random tapes of smooth opcodes and kinks (`abs`, `relu`, `max`,
    /// `min`), optimized, with several outputs and per-point directions. (Where a `0·∞` arises
    /// the two modes can differ: forward mode routes before a product, reverse mode after, as in
    /// JAX; the scalar-rule test above covers those points.)
    @Test func jvpMatchesGradientDotDirection() throws {
        var rng = SplitMix64(seed: 78)
        for t in 0..<40 {
            let tape = Tape.random(instructions: Int.random(in: 1...25, using: &rng), inputs: 3, parameters: 1, outputs: 2,
                                   opcodes: Tape.smoothOpcodes + [.abs, .relu, .max, .min], seed: UInt64(1900 + t))
            let n = 11
            let x = (0..<3).map { _ in (0..<n).map { _ in Double.random(in: -2...2, using: &rng) } }
            let directions = (0..<2).map { _ in (0..<3).map { _ in (0..<n).map { _ in Double.random(in: -1...1, using: &rng) } } }
            let program = Program(tape, options: Self.configurations[t % Self.configurations.count])
            let jvp = try program.jvp(inputs: x, parameters: [0.5], directions: directions)
            let rows = try program.jacobian(inputs: x, parameters: [0.5])
            for k in 0..<2 {
                for d in 0..<2 {
                    for i in 0..<n {
                        let terms = (0..<3).map { rows[k].inputGradients[$0][i] * directions[d][$0][i] }
                        let want = terms.reduce(0, +)
                        let scale = terms.reduce(0) { $0 + Swift.abs($1) }
                        let got = jvp.tangents[d][k][i]
                        #expect(Swift.abs(got - want) <= 1e-12 * scale || got == want,
                                "tape \(t) output \(k) direction \(d) point \(i): \(got) vs \(want)\n\(tape.text)")
                    }
                }
            }
        }
    }

    /// Full tiles write outputs' values and tangents straight into the caller's columns; an
    /// output that is an input (its planes are the caller's input and direction columns), two
    /// outputs of one register, and an output whose tangent is symbolically zero must still come
    /// out right, on full and partial tiles (19 points, tiles of 8) and every path.
    @Test func outputsWrittenInPlaceOnFullTiles() throws {
        let b = TapeBuilder()
        let x = b.input("x"), y = b.input("y"), w = b.parameter("w")
        let m = b.mul(b.sin(x), y)
        b.output("x", x)
        b.output("m", m)
        b.output("m again", m)
        b.output("w²", b.mul(w, w))
        let tape = try b.build()
        let n = 19
        let xs = (0..<n).map { Double($0) / 7 - 1 }, ys = (0..<n).map { 2 - Double($0) / 5 }
        let dx: [Double] = (0..<n).map { Double($0 % 3) - 1 }
        let dy: [Double] = (0..<n).map { 0.5 + Double($0) / 10 }
        let direction = [dx, dy]
        for options in Self.configurations {
            let jvp = try Program(tape, options: options).jvp(inputs: [xs, ys], parameters: [3], directions: [direction, direction])
            for i in 0..<n {
                let (c, sn) = (Foundation.cos(xs[i]), Foundation.sin(xs[i]))
                let dm: Double = c * ys[i] * direction[0][i] + sn * direction[1][i]
                let where_ = "\(options) point \(i)"
                #expect(jvp.values[0][i] == xs[i] && jvp.values[3][i] == 9, "\(where_)")
                #expect(jvp.values[1][i] == jvp.values[2][i] && Self.close(jvp.values[1][i], sn * ys[i]), "\(where_)")
                for d in 0..<2 {
                    let t = jvp.tangents[d]
                    #expect(t[0][i] == direction[0][i] && t[3][i] == 0, "\(where_) direction \(d)")
                    let (t1, t2) = (t[1][i], t[2][i])
                    #expect(t1 == t2 && Self.close(t1, dm), "\(where_) direction \(d): \(t1) vs \(dm)")
                }
            }
        }
    }

    /// More output columns than a tangent sweep writes in place (`Program.directColumnLimit`):
    /// the first are the caller's columns on full tiles, the rest are copied, and every one gets
    /// its value and tangents, on every path, full tiles and a partial one.
    @Test func outputColumnsBeyondTheInPlaceLimitAreCopied() throws {
        let b = TapeBuilder()
        let x = b.input("x"), y = b.input("y")
        let k = 12
        for i in 0..<k { b.output("f\(i)", b.mul(b.mul(x, b.constant(Double(i + 1))), y)) }
        let tape = try b.build()
        let n = 19
        let xs = (0..<n).map { Double($0) / 7 - 1 }, ys = (0..<n).map { 2 - Double($0) / 5 }
        let directions: [[[Double]]] = (0..<3).map { d in
            let dx: [Double] = (0..<n).map { Double(($0 + d) % 3) - 1 }
            let dy: [Double] = (0..<n).map { 0.5 + Double($0 * (d + 1)) / 10 }
            return [dx, dy]
        }
        #expect(k * (1 + directions.count) > Program.directColumnLimit)
        for options in Self.configurations {
            let jvp = try Program(tape, options: options).jvp(inputs: [xs, ys], directions: directions)
            for i in 0..<n {
                for o in 0..<k {
                    let c = Double(o + 1)
                    #expect(Self.close(jvp.values[o][i], xs[i] * c * ys[i]), "\(options) point \(i) output \(o)")
                    for (d, v) in directions.enumerated() {
                        let want: Double = c * (v[0][i] * ys[i] + xs[i] * v[1][i])
                        #expect(Self.close(jvp.tangents[d][o][i], want), "\(options) point \(i) output \(o) direction \(d)")
                    }
                }
            }
        }
    }

    /// Hessians and HVPs against central differences of the gradient, on smooth random tapes.
    @Test func hessianMatchesFiniteDifferencesOfTheGradient() throws {
        var rng = SplitMix64(seed: 31)
        for t in 0..<20 {
            let tape = Tape.random(instructions: 25, inputs: 3, opcodes: Tape.smoothOpcodes, seed: UInt64(500 + t))
            let program = Program(tape, options: Self.configurations[t % Self.configurations.count])
            let x = (0..<3).map { _ in Double.random(in: -1...1, using: &rng) }
            let h = try program.hessian(inputs: x.map { [$0] }).hessian(at: 0)
            let e = 1e-5
            for c in 0..<3 {
                var plus = x, minus = x
                plus[c] += e
                minus[c] -= e
                let gp = try program.valueAndGradient(inputs: plus.map { [$0] }).inputGradients
                let gm = try program.valueAndGradient(inputs: minus.map { [$0] }).inputGradients
                for r in 0..<3 {
                    let fd = (gp[r][0] - gm[r][0]) / (2 * e)
                    #expect(Swift.abs(h[r][c] - fd) <= 1e-5 * Swift.max(1, Swift.abs(fd)), "tape \(t) [\(r)][\(c)]: \(h[r][c]) vs \(fd)")
                }
            }
            // H·v from its own sweep equals the Hessian's rows times v.
            let v = (0..<3).map { _ in Double.random(in: -1...1, using: &rng) }
            let hv = try program.hvp(inputs: x.map { [$0] }, sharedDirection: v)
            for r in 0..<3 {
                let terms: [Double] = (0..<3).map { h[r][$0] * v[$0] }
                let want = terms.reduce(0, +)
                let scale = terms.reduce(1) { $0 + Swift.abs($1) }
                #expect(Swift.abs(hv.hessianVector[r][0] - want) <= 1e-12 * scale)
            }
        }
    }

    // MARK: - Jacobian modes

    @Test func jacobianModesAgreeAndSayWhichRan() throws {
        let wide = try Tape(expression: "f(x) = (sin(x), x^2, exp(x))")          // 1 input, 3 outputs
        let tall = try Tape(expression: "f(x, y, z) = x * y + sin(z)")           // 3 inputs, 1 output
        let xs: [Double] = [-1, 0.5, 2]
        for (tape, autoMode) in [(wide, JacobianMode.forward), (tall, .reverse)] {
            let program = Program(tape)
            let inputs = tape.inputs.indices.map { j in xs.map { $0 + Double(j) } }
            let auto = try program.jacobian(inputs: inputs, mode: .auto)
            let forward = try program.jacobian(inputs: inputs, mode: .forward)
            let reverse = try program.jacobian(inputs: inputs, mode: .reverse)
            #expect(auto.mode == autoMode)
            #expect(forward.mode == .forward && reverse.mode == .reverse)
            #expect(forward.values == reverse.values)
            for k in forward.jacobian.indices {
                for j in forward.jacobian[k].indices {
                    for i in xs.indices { #expect(Self.close(forward.jacobian[k][j][i], reverse.jacobian[k][j][i])) }
                }
            }
        }
    }

    // MARK: - Conventions

    /// Kinks take the gradient's subgradients; routing selects the tangent (an infinite tangent
    /// on the branch not taken makes no NaN); a slot no direction moves is a symbolic zero.
    @Test func conventions() throws {
        func jvp(_ expression: String, _ x: [Double], _ v: [Double]) throws -> Double {
            try Program(Tape(expression: expression)).jvp(inputs: x.map { [$0] }, sharedDirection: v).tangents[0][0][0]
        }
        #expect(try jvp("f(x) = relu(x)", [0], [1]) == 0)                // relu'(0) = 0
        #expect(try jvp("f(x) = abs(x)", [0], [1]) == 0)                 // |x|' = 0 at 0
        #expect(try jvp("f(x, y) = max(x, y)", [1, 1], [1, 3]) == 2)     // tie: ½ each
        #expect(try jvp("f(x, y) = max(x, y)", [2, 1], [1, .infinity]) == 1)  // the infinite tangent is not taken
        #expect(try jvp("f(x, y) = relu(x) + 0 * y", [-1, 0], [.infinity, 1]) == 0)
        #expect(try jvp("f(x, y, z) = x + y * z", [1, 2, .infinity], [1, 0, 0]) == 1)  // y, z: symbolic zeros
        #expect(try jvp("f(x) = sqrt(x)", [0], [1]) == .infinity)
        #expect(try jvp("f(x) = log(x)", [-1], [1]) == -1)              // the rule's 1/a, as the gradient
        #expect(try jvp("f(x) = log(x) * x", [-1], [1]).isNaN)          // NaN values propagate
        // Second order at kinks: relu'' = 0, |x|'' = 0 (at x·y = 0 the routed tangent is 0).
        let h = try Program(Tape(expression: "f(x, y) = relu(x) * y + abs(x * y) + max(x, y)")).hessian(inputs: [[1], [0]])
        #expect(h.hessian(at: 0) == [[0, 1], [1, 0]])
    }

    // MARK: - Errors

    @Test func badArgumentsAreErrors() throws {
        let program = Program(try Tape(expression: "f(x, y) = x * y"))
        #expect(throws: EvaluationError.self) { try program.jvp(inputs: [[1], [2]], sharedDirection: [1]) }
        #expect(throws: EvaluationError.self) { try program.jvp(inputs: [[1], [2]], direction: [[1], [1, 2]]) }
        #expect(throws: EvaluationError.self) { try program.hvp(inputs: [[1], [2]], sharedDirection: [1, 0], output: 1) }
        #expect(throws: EvaluationError.self) { try program.hessian(inputs: [[1], [2, 3]]) }
        #expect(throws: EvaluationError.self) { try program.parameterHessianSum(inputs: [[1], [2]], parameters: [1]) }
    }
}
