import Foundation
import Testing
@testable import TapeVM

/// The worked examples of the backprop seed notes (CS231n "optimization-2"), built with
/// ``TapeBuilder`` and run through the reference interpreter and through ``Program`` on every
/// supported code path, with one and two threads and tiles of 8 and 128 points.
@Suite struct SeedExampleTests {
    /// Values and per-point gradients of one engine over a batch: `[k][i]`, `[j][i]`, `[p][i]`.
    struct EngineResult {
        var label: String
        var values: [[Double]]
        var inputGradients: [[Double]]
        var parameterGradients: [[Double]]
    }

    /// Every executor configuration the notes' circuits are checked on.
    static let configurations: [ExecutionOptions] = InstructionSet.supported.flatMap { isa in
        [1, 2].flatMap { threads in
            [8, 128].map { tile in ExecutionOptions(threads: threads, tileSize: tile, instructionSet: isa) }
        }
    }

    /// The gradient of output `output` at every point (columns in `inputs`), from the reference
    /// interpreter and from every configuration of the SIMD executor.
    static func allEngines(_ tape: Tape, inputs: [[Double]], parameters: [Double] = [], output: Int = 0) throws -> [EngineResult] {
        let n = inputs.first?.count ?? 0
        let reference = ReferenceInterpreter(tape)
        let seeds = tape.outputs.indices.map { $0 == output ? 1.0 : 0.0 }
        var ref = EngineResult(
            label: "reference",
            values: Array(repeating: [], count: tape.outputs.count),
            inputGradients: Array(repeating: [], count: tape.inputs.count),
            parameterGradients: Array(repeating: [], count: tape.parameters.count))
        for i in 0..<n {
            let g = reference.gradient(inputs: inputs.map { $0[i] }, parameters: parameters, seeds: seeds)
            for k in g.values.indices { ref.values[k].append(g.values[k]) }
            for j in g.inputs.indices { ref.inputGradients[j].append(g.inputs[j]) }
            for p in g.parameters.indices { ref.parameterGradients[p].append(g.parameters[p]) }
        }
        var results = [ref]
        for options in configurations {
            let r = try Program(tape, options: options)
                .valueAndGradient(inputs: inputs, parameters: parameters, output: output, parameterGradient: .perPoint)
            results.append(EngineResult(
                label: "\(options.instructionSet) threads \(options.threads ?? 0) tile \(options.tileSize.map(String.init) ?? "auto")",
                values: r.values, inputGradients: r.inputGradients, parameterGradients: r.parameterGradients))
        }
        return results
    }

    static func isClose(_ got: Double, _ want: Double, absolute: Double) -> Bool {
        Swift.abs(got - want) <= absolute
    }

    // MARK: - (x + y) · z

    @Test func addThenMultiplyCircuitGivesMinus12AndExactGradient() throws {
        let b = TapeBuilder()
        let x = b.input("x"), y = b.input("y"), z = b.input("z")
        b.output("f", b.mul(b.add(x, y), z))
        let tape = try b.build()
        for r in try Self.allEngines(tape, inputs: [[-2], [5], [-4]]) {
            #expect(r.values == [[-12]], "\(r.label)")
            #expect(r.inputGradients == [[-4], [-4], [3]], "\(r.label)")
        }
    }

    // MARK: - The sigmoid neuron

    enum NeuronForm: CaseIterable, Sendable {
        case primitiveWithRecip, primitiveWithDiv, sigmoidOpcode
    }

    /// `1/(1 + exp(-(w0·x0 + w1·x1 + w2)))` with inputs x0, x1 and parameters w0, w1, w2.
    static func neuron(_ form: NeuronForm) throws -> Tape {
        let b = TapeBuilder()
        let x0 = b.input("x0"), x1 = b.input("x1")
        let w0 = b.parameter("w0"), w1 = b.parameter("w1"), w2 = b.parameter("w2")
        let dot = b.add(b.add(b.mul(w0, x0), b.mul(w1, x1)), w2)
        let f: Register
        switch form {
        case .primitiveWithRecip:
            f = b.recip(b.add(b.constant(1), b.exp(b.neg(dot))))
        case .primitiveWithDiv:
            let one = b.constant(1)
            f = b.div(one, b.add(one, b.exp(b.neg(dot))))
        case .sigmoidOpcode:
            f = b.sigmoid(dot)
        }
        b.output("f", f)
        return try b.build()
    }

    static let neuronWeights: [Double] = [2, -3, -3]
    static let neuronInputs: [Double] = [-1, -2]
    static let neuronValue = 0.73105857863
    static let neuronInputGradient = [0.39322386648, -0.58983579972]
    static let neuronParameterGradient = [-0.19661193324, -0.39322386648, 0.19661193324]

    @Test(arguments: NeuronForm.allCases)
    func sigmoidNeuronPerPointValueAndGradients(form: NeuronForm) throws {
        let tape = try Self.neuron(form)
        for r in try Self.allEngines(tape, inputs: Self.neuronInputs.map { [$0] }, parameters: Self.neuronWeights) {
            #expect(Self.isClose(r.values[0][0], Self.neuronValue, absolute: 1e-9), "\(r.label): \(r.values[0][0])")
            for j in 0..<2 {
                #expect(Self.isClose(r.inputGradients[j][0], Self.neuronInputGradient[j], absolute: 1e-9),
                        "\(r.label) ∂/∂x\(j): \(r.inputGradients[j][0])")
            }
            for p in 0..<3 {
                #expect(Self.isClose(r.parameterGradients[p][0], Self.neuronParameterGradient[p], absolute: 1e-9),
                        "\(r.label) ∂/∂w\(p): \(r.parameterGradients[p][0])")
            }
        }
    }

    /// Over `count` identical points, the summed parameter gradient is `count` times the
    /// per-point one (several chunks with 8-point tiles, so two threads really share the work).
    @Test(arguments: NeuronForm.allCases)
    func sigmoidNeuronSummedParameterGradientIsCountTimesPerPoint(form: NeuronForm) throws {
        let tape = try Self.neuron(form)
        let count = 517
        let inputs = Self.neuronInputs.map { [Double](repeating: $0, count: count) }
        for options in Self.configurations {
            let program = Program(tape, options: options)
            let summed = try program.valueAndGradient(inputs: inputs, parameters: Self.neuronWeights, parameterGradient: .summed)
            let perPoint = try program.valueAndGradient(inputs: inputs, parameters: Self.neuronWeights, parameterGradient: .perPoint)
            #expect(summed.parameterGradients.isEmpty)
            #expect(perPoint.parameterGradientSum.isEmpty)
            #expect(summed.parameterGradientSum.count == 3)
            for p in 0..<3 {
                let one = perPoint.parameterGradients[p][0]
                #expect(perPoint.parameterGradients[p].allSatisfy { $0 == one }, "\(options) w\(p): points differ")
                #expect(Self.isClose(one, Self.neuronParameterGradient[p], absolute: 1e-9))
                let want = Double(count) * one
                #expect(Self.isClose(summed.parameterGradientSum[p], want, absolute: 1e-12 * Swift.abs(want)),
                        "\(options) Σ∂/∂w\(p): \(summed.parameterGradientSum[p]) vs \(want)")
                #expect(Self.isClose(summed.parameterGradientSum[p], Double(count) * Self.neuronParameterGradient[p],
                                     absolute: 1e-9 * Double(count)))
            }
            // The input gradient stays per point either way.
            #expect(summed.inputGradients == perPoint.inputGradients)
        }
    }

    // MARK: - Staged computation

    /// `f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²)`, one tape instruction per stage of the notes.
    static func stagedTape() throws -> Tape {
        let b = TapeBuilder()
        let x = b.input("x"), y = b.input("y")
        let sigy = b.sigmoid(y)
        let num = b.add(x, sigy)
        let sigx = b.sigmoid(x)
        let xpy = b.add(x, y)
        let xpysqr = b.square(xpy)
        let den = b.add(sigx, xpysqr)
        let invden = b.recip(den)
        b.output("f", b.mul(num, invden))
        return try b.build()
    }

    /// The notes' hand-written backprop, with Foundation's `exp`: f, ∂f/∂x, ∂f/∂y, and the
    /// magnitude of the terms summed into each gradient (for a cancellation-aware tolerance).
    static func handBackprop(_ x: Double, _ y: Double) -> (f: Double, dx: Double, dy: Double, dxScale: Double, dyScale: Double) {
        // forward pass
        let sigy = 1.0 / (1 + Foundation.exp(-y))
        let num = x + sigy
        let sigx = 1.0 / (1 + Foundation.exp(-x))
        let xpy = x + y
        let xpysqr = xpy * xpy
        let den = sigx + xpysqr
        let invden = 1.0 / den
        let f = num * invden
        // backprop f = num * invden
        let dnum = invden
        let dinvden = num
        // backprop invden = 1 / den
        let dden = (-1.0 / (den * den)) * dinvden
        // backprop den = sigx + xpysqr
        let dsigx = 1 * dden
        let dxpysqr = 1 * dden
        // backprop xpysqr = xpy²
        let dxpy = (2 * xpy) * dxpysqr
        // backprop xpy = x + y
        var dx = 1 * dxpy
        var dy = 1 * dxpy
        // backprop sigx = σ(x): note the +=
        let dxFromSigx = ((1 - sigx) * sigx) * dsigx
        dx += dxFromSigx
        // backprop num = x + sigy
        dx += 1 * dnum
        let dsigy = 1 * dnum
        // backprop sigy = σ(y)
        let dyFromSigy = ((1 - sigy) * sigy) * dsigy
        dy += dyFromSigy
        return (f, dx, dy,
                Swift.abs(dxpy) + Swift.abs(dxFromSigx) + Swift.abs(dnum),
                Swift.abs(dxpy) + Swift.abs(dyFromSigy))
    }

    @Test func stagedComputationMatchesTheHandDerivedBackprop() throws {
        let tape = try Self.stagedTape()
        let points: [(Double, Double)] = [(3, -4), (-3, 4), (0, 0), (1, 2), (-0.5, 0.25), (2.5, -2.4), (10, -7), (-1.2, 1.3), (0.1, -0.1)]
        let inputs = [points.map(\.0), points.map(\.1)]
        for r in try Self.allEngines(tape, inputs: inputs) {
            for (i, (x, y)) in points.enumerated() {
                let want = Self.handBackprop(x, y)
                let tol = 1e-12
                #expect(Self.isClose(r.values[0][i], want.f, absolute: tol * Swift.abs(want.f)),
                        "\(r.label) f(\(x), \(y)): \(r.values[0][i]) vs \(want.f)")
                #expect(Self.isClose(r.inputGradients[0][i], want.dx, absolute: tol * Swift.max(Swift.abs(want.dx), want.dxScale)),
                        "\(r.label) ∂f/∂x(\(x), \(y)): \(r.inputGradients[0][i]) vs \(want.dx)")
                #expect(Self.isClose(r.inputGradients[1][i], want.dy, absolute: tol * Swift.max(Swift.abs(want.dy), want.dyScale)),
                        "\(r.label) ∂f/∂y(\(x), \(y)): \(r.inputGradients[1][i]) vs \(want.dy)")
            }
        }
    }

    /// The notes' example point x = 3, y = -4, spelled out: f ≈ 1.5444 and a non-trivial gradient.
    @Test func stagedComputationAtTheNotesExamplePoint() throws {
        let want = Self.handBackprop(3, -4)
        #expect(Self.isClose(want.f, 1.5456448841, absolute: 1e-9))  // the oracle itself, checked by hand
        for r in try Self.allEngines(try Self.stagedTape(), inputs: [[3], [-4]]) {
            #expect(Self.isClose(r.values[0][0], want.f, absolute: 1e-12 * want.f), "\(r.label)")
            #expect(Self.isClose(r.inputGradients[0][0], want.dx, absolute: 1e-12 * want.dxScale), "\(r.label)")
            #expect(Self.isClose(r.inputGradients[1][0], want.dy, absolute: 1e-12 * want.dyScale), "\(r.label)")
        }
    }

    // MARK: - Gates: add distributes, mul swaps, max routes

    /// The notes' circuit `f = 2·(x·y + max(z, w))`.
    static func maxCircuit() throws -> Tape {
        let b = TapeBuilder()
        let x = b.input("x"), y = b.input("y"), z = b.input("z"), w = b.input("w")
        b.output("f", b.mul(b.constant(2), b.add(b.mul(x, y), b.max(z, w))))
        return try b.build()
    }

    @Test func maxGateRoutesTheGradientToTheLargerInput() throws {
        // (3, -4, 2, -1): f = -20; ∂x = 2y = -8, ∂y = 2x = 6, ∂z = 2 (z wins), ∂w = 0.
        // (3, -4, -5, 7): w wins instead.
        let inputs: [[Double]] = [[3, 3], [-4, -4], [2, -5], [-1, 7]]
        for r in try Self.allEngines(try Self.maxCircuit(), inputs: inputs) {
            #expect(r.values == [[-20, -10]], "\(r.label)")
            #expect(r.inputGradients == [[-8, -8], [6, 6], [2, 0], [0, 2]], "\(r.label)")
        }
    }

    @Test func maxGateSplitsTheGradientEvenlyOnATie() throws {
        let inputs: [[Double]] = [[3, 1], [-4, 1], [2, -0.0], [2, 0.0]]
        for r in try Self.allEngines(try Self.maxCircuit(), inputs: inputs) {
            #expect(r.values == [[-20, 2]], "\(r.label)")
            #expect(r.inputGradients == [[-8, 2], [6, 2], [1, 1], [1, 1]], "\(r.label)")
        }
    }

    // MARK: - A variable used several times accumulates

    @Test func gradientsOfAReusedVariableAdd() throws {
        // x·x + x: derivative 2x + 1, through `mul r0 r0` (both operands the same register).
        let b = TapeBuilder()
        let x = b.input("x")
        let xx = b.mul(x, x)
        b.output("f", b.add(xx, x))
        let tape = try b.build()
        #expect(x == Register(0))
        #expect(tape.instructions[xx.index] == Instruction(.mul, [Register(0), Register(0)]))
        let xs: [Double] = [-3, -0.5, 0, 0.25, 1, 4, 1e3]
        for r in try Self.allEngines(tape, inputs: [xs]) {
            #expect(r.values[0] == xs.map { $0 * $0 + $0 }, "\(r.label)")
            #expect(r.inputGradients[0] == xs.map { 2 * $0 + 1 }, "\(r.label)")
        }
    }

    @Test func gradientsOfAReusedVariableAddAcrossManyUses() throws {
        // x used four times: (x + x)·x - x·3 → derivative 4x - 3; and y through two input
        // instructions reading the same slot accumulates into one gradient.
        let b = TapeBuilder()
        let x = b.input("x")
        let ySecondRead = b.emit(.input, [], immediate: 0)  // a second load of input slot 0
        let f = b.sub(b.mul(b.add(x, x), x), b.mul(x, b.constant(3)))
        b.output("f", b.add(f, b.mul(ySecondRead, ySecondRead)))
        let tape = try b.build()
        // f(x) = 2x² - 3x + x², so f'(x) = 6x - 3.
        let xs: [Double] = [-2, 0, 0.5, 3]
        for r in try Self.allEngines(tape, inputs: [xs]) {
            #expect(r.values[0] == xs.map { 2 * $0 * $0 - 3 * $0 + $0 * $0 }, "\(r.label)")
            #expect(r.inputGradients[0] == xs.map { 6 * $0 - 3 }, "\(r.label)")
        }
    }
}
