import TapeVM

/// Checks once per case that every selected system's results agree with `tapevm` on a few
/// points: values, every input gradient at every point and the summed parameter gradient.
///
/// Agreement: |a − b| ≤ 1e-9 · max(|a|, |b|, floor), where floor is 1e-6 × the largest
/// magnitude of that result over the points checked (so a gradient that cancels to ~0 is not
/// held to 1e-9 of itself). The systems use different math libraries (SLEEF vs glibc), so
/// bit equality is not expected except between tapevm, tapevm-mt and reference.
func verify(_ c: BenchCase, systems: [BenchSystem], points: Int = 16, seed: UInt64) -> [String] {
    let nIn = c.tape.inputs.count, nPar = c.tape.parameters.count
    let batch = Batch(count: points, inputs: nIn, range: c.inputRange, parameters: c.parameters, seed: seed)
    guard let tapevm = BenchSystem.all(threads: 1).first,
          let expected = runOnce(tapevm, c, batch) else { return ["\(c.name): tapevm did not run"] }
    var warnings: [String] = []
    for system in systems where system.name != "tapevm" {
        guard let got = runOnce(system, c, batch) else { continue }
        var worst: (rel: Double, what: String)?
        func compare(_ what: String, _ a: UnsafeMutablePointer<Double>, _ b: UnsafeMutablePointer<Double>, _ n: Int) {
            var scale = 0.0
            for i in 0..<n { scale = Swift.max(scale, Swift.abs(a[i])) }
            for i in 0..<n {
                let denominator = Swift.max(Swift.abs(a[i]), Swift.abs(b[i]), 1e-6 * scale, Double.leastNormalMagnitude)
                let rel = a[i] == b[i] ? 0 : Swift.abs(a[i] - b[i]) / denominator
                if !(rel <= 1e-9), worst == nil || !(rel <= worst!.rel) {
                    worst = (rel, "\(what)[\(i)] = \(b[i]), tapevm \(a[i])")
                }
            }
        }
        compare("value", expected.values, got.values, points)
        for j in 0..<nIn {
            compare("d/d\(c.tape.inputs[j])", expected.inputGradients[j], got.inputGradients[j], points)
        }
        for k in 0..<nPar {
            compare("sum d/d\(c.tape.parameters[k])", expected.parameterSums + k, got.parameterSums + k, 1)
        }
        if let worst {
            warnings.append("WARNING: \(c.name): \(system.name) disagrees with tapevm beyond 1e-9: \(worst.what) (relative \(worst.rel))")
        }
    }
    return warnings
}

private func runOnce(_ system: BenchSystem, _ c: BenchCase, _ batch: Batch) -> Outputs? {
    let out = Outputs(count: batch.count, inputs: c.tape.inputs.count, parameters: c.tape.parameters.count)
    out.poison()
    guard let run = system.prepare(c, batch, out) else { return nil }
    run()
    return out
}
