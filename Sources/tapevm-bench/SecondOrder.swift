import CBenchKernels
import Foundation
import TapeVM

/// `tapevm-bench --second-order`: the cost of forward mode and second order relative to one
/// gradient, per case and batch size, one thread, all runs interleaved in one process:
/// values only and value + gradient (each on the preferred path and the Swift path), a JVP along a
/// per-point direction (values + one tangent), a JVP along one direction shared by all points
/// (only the values' columns are read: the per-point JVP also reads a tangent column per input,
/// so on arithmetic tapes, whose sweeps are bound by loads and stores, it moves about twice the
/// bytes of the values sweep), an HVP along a per-point direction (forward over
/// reverse: one tangent of the gradient tape) and the full Hessian per point (one tangent per input).
/// All run on the preferred path's tangent sweep, the Hessian's directions in one sweep.
/// On Rosenbrock-8 and the seed circuit, with AVX-512, straight-line C kernels (values alone, and
/// values + the same JVP) give the floor of the JVP/values ratio: what compiled, register-allocated
/// code pays for the direction columns and the tangents.
struct SecondOrderBench {
    let cases: [BenchCase]
    let sizes: [Int]
    let policy: TimingPolicy
    let seed: UInt64
    /// Every program's tile size in points (`nil`: each program's own choice).
    let tile: Int?

    static let systems = ["values", "gradient", "gradient-swift", "jvp", "hvp", "hessian", "values-swift", "jvp-shared"]

    func run() throws -> [String] {
        var lines: [String] = []
        for c in cases {
            let options = ExecutionOptions(threads: 1, tileSize: tile)
            let program = Program(c.tape, options: options)
            let swiftProgram = Program(c.tape, options: ExecutionOptions(threads: 1, tileSize: tile, instructionSet: .swift))
            let gradient = try program.gradientProgram(output: 0)
            let (m, nOut, nPar) = (c.tape.inputs.count, c.tape.outputs.count, c.tape.parameters.count)
            let nOutG = gradient.tape.outputs.count
            for n in sizes {
                let batch = Batch(count: n, inputs: m, range: c.inputRange, parameters: c.parameters, seed: seed)
                let direction = Batch(count: n, inputs: m, range: -1...1, parameters: [], seed: seed &+ 1)
                let out = Outputs(count: n, inputs: m, parameters: nPar)
                // Scratch columns: one per gradient-tape output and Hessian entry.
                let scratch = (0..<Swift.max(nOutG, m * m + nOutG)).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, n)) }
                defer { for s in scratch { s.deallocate() } }
                let values: [UnsafeMutablePointer<Double>?] = [out.values] + Array(repeating: nil, count: nOut - 1)
                let request = GradientRequest(seeds: (0..<nOut).map { $0 == 0 ? 1 : 0 }, inputGradients: out.inputGradients)
                let perPoint = (0..<m).map { TangentSeed.perPoint(direction.inputPointers[$0]) }
                let nothing = [UnsafeMutablePointer<Double>?](repeating: nil, count: nOut)
                func gradientColumns(_ base: Int) -> [UnsafeMutablePointer<Double>?] {
                    Array(repeating: nil, count: nOut) + (0..<m).map { scratch[base + $0] } + Array(repeating: nil, count: nPar)
                }
                let jvp = TangentRequest(inputTangents: perPoint, outputTangents: [scratch[0]] + nothing.dropFirst())
                let shared = TangentRequest(inputTangents: (0..<m).map { .shared(direction.inputPointers[$0][0]) },
                                            outputTangents: [scratch[0]] + nothing.dropFirst())
                let hvp = TangentRequest(inputTangents: perPoint, outputTangents: gradientColumns(0))
                let units = (0..<m).map { d in
                    TangentRequest(inputTangents: (0..<m).map { .shared($0 == d ? 1 : 0) }, outputTangents: gradientColumns(nOutG + d * m))
                }
                let runners: [() -> Void] = [
                    { try! program.run(count: n, inputs: batch.inputPointers, parameters: c.parameters, values: values) },
                    { try! program.run(count: n, inputs: batch.inputPointers, parameters: c.parameters, values: values, gradients: [request]) },
                    { try! swiftProgram.run(count: n, inputs: batch.inputPointers, parameters: c.parameters, values: values, gradients: [request]) },
                    { try! program.runTangents(count: n, inputs: batch.inputPointers, parameters: c.parameters, values: values, tangents: [jvp]) },
                    { try! gradient.runTangents(count: n, inputs: batch.inputPointers, parameters: c.parameters,
                                                values: [], tangents: [hvp]) },
                    { try! gradient.runTangents(count: n, inputs: batch.inputPointers, parameters: c.parameters,
                                                values: [], tangents: units) },
                    { try! swiftProgram.run(count: n, inputs: batch.inputPointers, parameters: c.parameters, values: values) },
                    { try! program.runTangents(count: n, inputs: batch.inputPointers, parameters: c.parameters, values: values, tangents: [shared]) },
                ]
                // The straight-line C floor, where there is a kernel for the case.
                let kernel: Int32? = !CKernels.isSupported ? nil : c.name == "rosenbrock-8" ? 0 : c.name == "seed-circuit" ? 1 : nil
                let floor: [() -> Void] = kernel.map { k in
                    let (x, v) = (batch.cInputPointers, direction.cInputPointers)
                    return [{ _ = tb_values_jvp(k, Int(n), x, nil, out.values, nil) },
                            { _ = tb_values_jvp(k, Int(n), x, v, out.values, scratch[0]) }]
                } ?? []
                let t = measureInterleaved(runners + floor, points: n, policy: policy).map(\.nsPerPoint)
                let (values0, grad, gradSwift) = (t[0], t[1], t[2])
                let line = "\(c.name) N=\(n) (m=\(m)): " + zip(Self.systems, t).map { "\($0) \(Format.ns($1))" }.joined(separator: ", ")
                    + String(format: " ns/point; jvp/values %.2f (%.2f vs Swift-path values; shared direction %.2f), jvp/gradient %.2f, hvp/gradient %.2f (%.2f vs the Swift-path gradient), "
                             + "hessian/gradient %.2f (%.2f per input)", t[3] / values0, t[3] / t[6], t[7] / values0, t[3] / grad, t[4] / grad, t[4] / gradSwift,
                             t[5] / grad, t[5] / grad / Double(Swift.max(1, m)))
                    + (floor.isEmpty ? "" : "; straight-line AVX-512 C: values \(Format.ns(t[8])), jvp \(Format.ns(t[9])) ns/point, "
                        + String(format: "jvp/values %.2f", t[9] / t[8]))
                progress(line)
                lines.append(line)
            }
        }
        return lines
    }
}
