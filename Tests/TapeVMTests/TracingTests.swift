import Foundation
import Testing
@testable import TapeVM

@Suite struct TracingTests {
    private func close(_ a: Double, _ b: Double, _ tol: Double) -> Bool { Swift.abs(a - b) <= tol }

    @Test func sumTimesProduct() throws {
        let tape = try Tape.trace("x", "y", "z") { x, y, z in (x + y) * z }
        #expect(tape.inputs == ["x", "y", "z"])
        #expect(tape.outputs.map(\.name) == ["f"])
        let g = ReferenceInterpreter(tape).gradient(inputs: [-2, 5, -4])
        #expect(g.values == [-12])
        #expect(g.inputs == [-4, -4, 3])
    }

    @Test func sigmoidNeuron() throws {
        let tape = try Tape.trace(inputs: ["x0", "x1"], parameters: ["w0", "w1", "w2"]) { x, w in
            [1 / (1 + exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))]
        }
        #expect(tape.outputs.map(\.name) == ["y0"])
        #expect(tape.parameters == ["w0", "w1", "w2"])
        let g = ReferenceInterpreter(tape).gradient(inputs: [-1, -2], parameters: [2, -3, -3])
        #expect(close(g.values[0], 0.7311, 1e-4))
        for (got, want) in zip(g.parameters, [-0.197, -0.393, 0.197]) { #expect(close(got, want, 1e-3)) }
        for (got, want) in zip(g.inputs, [0.393, -0.590]) { #expect(close(got, want, 1e-3)) }
    }

    @Test(arguments: [(3.0, -4.0), (0.5, 1.5), (-2.0, 0.25)])
    func stagedBackprop(x: Double, y: Double) throws {
        let tape = try Tape.trace("x", "y") { x, y in
            (x + sigmoid(y)) / (sigmoid(x) + pow(x + y, 2))
        }
        // The staged backward pass of the cs231n notes, by hand.
        let sigy = 1 / (1 + Foundation.exp(-y))
        let num = x + sigy
        let sigx = 1 / (1 + Foundation.exp(-x))
        let xpy = x + y
        let xpysqr = xpy * xpy
        let den = sigx + xpysqr
        let invden = 1 / den
        let f = num * invden
        let dnum = invden
        let dinvden = num
        let dden = (-1 / (den * den)) * dinvden
        let dsigx = dden, dxpysqr = dden
        let dxpy = 2 * xpy * dxpysqr
        var dx = dxpy, dy = dxpy
        dx += ((1 - sigx) * sigx) * dsigx
        dx += dnum
        let dsigy = dnum
        dy += ((1 - sigy) * sigy) * dsigy

        let g = ReferenceInterpreter(tape).gradient(inputs: [x, y])
        #expect(close(g.values[0], f, 1e-12))
        #expect(close(g.inputs[0], dx, 1e-12))
        #expect(close(g.inputs[1], dy, 1e-12))
        #expect(tape.instructions.contains { $0.opcode == .powi && $0.immediate == 2 })
    }

    @Test func variableUsedSeveralTimes() throws {
        let tape = try Tape.trace("x") { x in x * x + x }
        let interp = ReferenceInterpreter(tape)
        for x in [-3.0, 0, 0.5, 7] {
            let g = interp.gradient(inputs: [x])
            #expect(g.values == [x * x + x])
            #expect(g.inputs == [2 * x + 1])
        }
    }

    @Test func maxRoutesTheGradientToTheLargerInput() throws {
        let tape = try Tape.trace("x", "y") { x, y in max(x, y) * 3 }
        let interp = ReferenceInterpreter(tape)
        #expect(interp.gradient(inputs: [2, 1]).inputs == [3, 0])
        #expect(interp.gradient(inputs: [1, 2]).inputs == [0, 3])
        #expect(interp.gradient(inputs: [1, 1]).inputs == [1.5, 1.5])
        let m = try Tape.trace("x") { x in min(0, x) + max(x, 0.5) }
        #expect(ReferenceInterpreter(m).gradient(inputs: [1]).inputs == [1])
        #expect(ReferenceInterpreter(m).gradient(inputs: [-1]).inputs == [1])
    }

    @Test func literalsAndDoublesMix() throws {
        let affine = try Tape.trace("x") { x in 2 * x + 1 }
        let g = ReferenceInterpreter(affine).gradient(inputs: [3])
        #expect(g.values == [7] && g.inputs == [2])
        // One const per distinct value, reused.
        #expect(affine.instructions.filter { $0.opcode == .const }.map(\.immediate) == [2, 1])

        let inverse = try Tape.trace("x") { x in 1 / x }
        let h = ReferenceInterpreter(inverse).gradient(inputs: [4])
        #expect(h.values == [0.25] && h.inputs == [-0.0625])

        let scale = 0.5, shift: Double = -3
        let mixed = try Tape.trace("x") { x in
            var y = scale * x - shift
            y += 1; y *= x; y -= scale; y /= 2.0
            return y / scale + 1.5 - x
        }
        let v = ReferenceInterpreter(mixed).evaluate(inputs: [2])[0]
        var want = 0.5 * 2 + 3.0
        want += 1; want *= 2; want -= 0.5; want /= 2
        #expect(v == want / 0.5 + 1.5 - 2)
    }

    @Test func constantsFoldWithoutInstructions() throws {
        let tape = try Tape.trace("x") { x in
            let c: Traced = 2
            let k = exp(c * 3 - 1) + pow(c, 10) + sqrt(c)   // all constant
            #expect(k.register == nil)
            #expect(k.constantValue == Foundation.exp(5) + 1024 + 2.0.squareRoot())
            return x * k
        }
        // input, const, mul
        #expect(tape.instructions.map(\.opcode) == [.input, .const, .mul])
    }

    @Test func constantOutputMakesAValidTape() throws {
        let tape = try Tape.trace("x") { _ in 42 }
        #expect(ReferenceInterpreter(tape).gradient(inputs: [1]) == ([42], [0], []))
        let two = try Tape.trace(inputs: ["a"], outputs: ["c", "a2"]) { x, _ in [-1.5, x[0] * 2] }
        #expect(ReferenceInterpreter(two).evaluate(inputs: [4]) == [-1.5, 8])
        #expect(two.outputs.map(\.name) == ["c", "a2"])
    }

    @Test func everyMathFunctionRecordsItsOpcode() throws {
        let tape = try Tape.trace(inputs: ["a", "b", "c"]) { v, _ in
            let (a, b, c) = (v[0], v[1], v[2])
            return [exp(a), log(a), sqrt(a), sin(a), cos(a), tanh(a), abs(a), sigmoid(a), relu(a),
                    softplus(a), log1p(a), expm1(a), square(a), recip(a), -a, pow(a, 3),
                    a + b, a - b, a * b, a / b, pow(a, b), max(a, b), min(a, b), logaddexp(a, b),
                    lt(a, b), le(a, b), gt(a, b), ge(a, b), eq(a, b), ne(a, b),
                    select(a, b, c), muladd(a, b, c)]
        }
        let used = Set(tape.instructions.map(\.opcode))
        // Everything but leaves the trace has no use for and the optimizer's constant-operand forms.
        #expect(used == Set(Opcode.allCases).subtracting([.param, .const, .addk, .mulk, .rsubk, .divk, .rdivk, .sqdiff, .mulkadd, .sqdiffk]))
        // Each output's value agrees with the opcode table applied directly.
        let point = [0.7, 1.3, -2.0]
        let values = ReferenceInterpreter(tape).evaluate(inputs: point)
        for (k, out) in tape.outputs.enumerated() {
            let ins = tape.instructions[out.register.index]
            let args = ins.operands.map { point[$0.index] }
            let want = ins.opcode.evaluate(args.count > 0 ? args[0] : 0, args.count > 1 ? args[1] : 0,
                                           args.count > 2 ? args[2] : 0, immediate: ins.immediate)
            #expect(values[k] == want, "\(ins.opcode)")
        }
    }

    @Test func comparisonsAndSelectBranch() throws {
        // leaky relu, both sides recorded
        let tape = try Tape.trace("x") { x in select(gt(x, 0), x, 0.01 * x) }
        let interp = ReferenceInterpreter(tape)
        #expect(interp.gradient(inputs: [2]) == ([2], [1], []))
        #expect(interp.gradient(inputs: [-2]) == ([-0.02], [0.01], []))
        let cmp = try Tape.trace("x", "y") { x, y in lt(x, y) + 2 * le(x, 1.0) + 4 * ge(3.0, y) + 8 * eq(x, y) + 16 * ne(x, y) }
        #expect(ReferenceInterpreter(cmp).evaluate(inputs: [1, 2]) == [1 + 2 + 4 + 16])
        #expect(ReferenceInterpreter(cmp).evaluate(inputs: [5, 5]) == [8])
    }

    @Test func unrolledLoopsAndHelpers() throws {
        func horner(_ x: Traced, _ coefficients: [Double]) -> Traced {
            var acc: Traced = 0
            for c in coefficients { acc = acc * x + c }
            return acc
        }
        let tape = try Tape.trace("x") { x in horner(x, [1, -2, 3]) }   // x² - 2x + 3
        let g = ReferenceInterpreter(tape).gradient(inputs: [5])
        #expect(g.values == [18] && g.inputs == [8])
    }

    @Test func namesAreChecked() {
        #expect(throws: TapeError.self) { try Tape.trace(inputs: ["x", "x"]) { x, _ in [x[0]] } }
        #expect(throws: TapeError.self) { try Tape.trace(inputs: ["x"], parameters: ["x"]) { x, _ in [x[0]] } }
        #expect(throws: TapeError.self) { try Tape.trace(inputs: ["x"]) { _, _ in [] } }
        #expect(throws: TapeError.self) { try Tape.trace(inputs: ["x"], outputs: ["a", "b"]) { x, _ in [x[0]] } }
        #expect(throws: TapeError.self) { try Tape.trace("x") { x in pow(x, 2_000_000) } }
    }

    /// The Traced overloads must not make plain Foundation math ambiguous, and literals next to a
    /// traced value must pick the intended instruction.
    @Test func overloadsResolveAsIntended() throws {
        // Plain math (this file imports Foundation) still means Double.
        let plain: [Double] = [sqrt(2), exp(1.0), log(10.0), pow(2.0, 0.5), tanh(0.5), Double(max(1, 2)), min(1.5, 2)]
        let p: Double = pow(2, 10)
        #expect(plain[0] == 2.0.squareRoot() && p == 1024)

        let d = 3.0
        var opcodes: [[Opcode]] = []
        _ = try Tape.trace(inputs: ["x", "y"]) { v, _ in
            let (x, y) = (v[0], v[1])
            var t = x
            t += 1; t /= d; t -= 2.5; t *= y
            let results = [pow(x, 2), pow(x, 0.5), pow(x, d), pow(x, y), pow(2, x), max(x, 0), max(0, x), max(x, d),
                           min(d, x), lt(x, 0), select(gt(x, 0), x, 0), logaddexp(x, 0), exp(2 * x), sqrt(x), abs(x) + 1,
                           x * sqrt(2), d * x, t]
            let b = x.builder!
            opcodes = results.map { [b.instructions[$0.register!.index].opcode] }
            return results
        }
        #expect(opcodes.map(\.[0]) == [.powi, .pow, .pow, .pow, .pow, .max, .max, .max, .min, .lt, .select, .logaddexp,
                                       .exp, .sqrt, .add, .mul, .mul, .mul])
    }

    @Test func builderInterop() throws {
        let b = TapeBuilder()
        let x = Traced(b.input("x"), on: b)
        let y = sin(x) * 2
        #expect(y.builder === b)
        b.output("f", y.register(on: b))
        let tape = try b.build()
        #expect(ReferenceInterpreter(tape).evaluate(inputs: [0]) == [0])
        #expect("\(Traced(0.5))" == "const 0.5")
    }
}

/// The README's examples, so that they keep compiling and stay true.
@Suite struct ReadmeExampleTests {
    @Test func tracedNeuronPrintsAndReadsBack() throws {
        let neuron = try Tape.trace(inputs: ["x0", "x1"], parameters: ["w0", "w1", "w2"]) { x, w in
            [sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])]
        }
        #expect(try Tape(text: neuron.text) == neuron)
        let r = try Program(neuron).valueAndGradient(inputs: [[-1], [-2]], parameters: [2, -3, -3])
        #expect(Swift.abs(r.values[0][0] - 0.7310585786300049) < 1e-12)
    }

    @Test func expressionWithParameter() throws {
        let tape = try Tape(expression: "f(x, y; w) = w * (x + sigmoid(y)) / (sigmoid(x) + (x + y)^2)")
        let r = try Program(tape).valueAndGradient(inputs: [[1, 2], [0.5, -1]], parameters: [0.5])
        #expect(r.values[0].count == 2 && r.inputGradients.count == 2 && r.parameterGradientSum.count == 1)
        // ∂(Σ f)/∂w = Σ f / w for f linear in w.
        #expect(Swift.abs(r.parameterGradientSum[0] - (r.values[0][0] + r.values[0][1]) / 0.5) < 1e-12)
    }
}
