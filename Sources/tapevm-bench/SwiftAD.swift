import _Differentiation
import Foundation

// The cases as `@differentiable(reverse)` Swift functions, differentiated by the compiler and
// run point by point with `valueWithGradient(at:of:)`. Math: Foundation (glibc) exp/log1p/tanh.

@differentiable(reverse)
private func adSigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

@differentiable(reverse)
private func adSeedCircuit(_ x: Double, _ y: Double, _ z: Double) -> Double { (x + y) * z }

@differentiable(reverse)
private func adStaged(_ x: Double, _ y: Double) -> Double {
    let s = x + y
    return (x + adSigmoid(y)) / (adSigmoid(x) + s * s)
}

private struct NeuronInputs: Differentiable { var x0, x1: Double }
private struct NeuronWeights: Differentiable { var w0, w1, w2: Double }

@differentiable(reverse)
private func adNeuron(_ x: NeuronInputs, _ w: NeuronWeights) -> Double {
    adSigmoid(w.w0 * x.x0 + w.w1 * x.x1 + w.w2)
}

private struct Point8: Differentiable { var x0, x1, x2, x3, x4, x5, x6, x7: Double }

@differentiable(reverse)
private func adRosenbrockTerm(_ a: Double, _ b: Double) -> Double {
    let t = b - a * a
    let u = 1 - a
    return 100 * (t * t) + u * u
}

@differentiable(reverse)
private func adRosenbrock(_ p: Point8) -> Double {
    adRosenbrockTerm(p.x0, p.x1) + adRosenbrockTerm(p.x1, p.x2) + adRosenbrockTerm(p.x2, p.x3)
        + adRosenbrockTerm(p.x3, p.x4) + adRosenbrockTerm(p.x4, p.x5) + adRosenbrockTerm(p.x5, p.x6)
        + adRosenbrockTerm(p.x6, p.x7)
}

private struct Point4: Differentiable { var x0, x1, x2, x3: Double }
private struct MLPWeights: Differentiable {
    var w1: [Double]   // 16×4 row-major
    var b1: [Double]   // 16
    var w2: [Double]   // 16
    var b2: Double
}

@differentiable(reverse)
private func adMLP(_ x: Point4, _ p: MLPWeights) -> Double {
    var out = p.b2
    for j in 0..<16 {
        let a = p.b1[j] + p.w1[4 * j] * x.x0 + p.w1[4 * j + 1] * x.x1 + p.w1[4 * j + 2] * x.x2 + p.w1[4 * j + 3] * x.x3
        out = out + p.w2[j] * tanh(a)
    }
    return adSigmoid(out)
}

private struct Point6: Differentiable { var x0, x1, x2, x3, x4, x5: Double }

@differentiable(reverse)
private func adLogAddExp(_ a: Double, _ b: Double) -> Double {
    if a > b { return a + log1p(exp(b - a)) }
    return b + log1p(exp(a - b))
}

@differentiable(reverse)
private func adSoftplus(_ a: Double) -> Double {
    if a > 0 { return a + log1p(exp(-a)) }
    return log1p(exp(a))
}

@differentiable(reverse)
private func adLogSumExp(_ p: Point6) -> Double {
    let l = adLogAddExp(adLogAddExp(adLogAddExp(adLogAddExp(adLogAddExp(p.x0, p.x1), p.x2), p.x3), p.x4), p.x5)
    return l + adSoftplus(p.x0 + p.x1 + p.x2 + p.x3 + p.x4 + p.x5)
}

/// Batch loops over the differentiable functions above.
enum SwiftAD {
    static func seedCircuit(_ b: Batch, _ o: Outputs) {
        let (x, y, z) = (b.columns[0], b.columns[1], b.columns[2])
        let (gx, gy, gz) = (o.inputGradients[0], o.inputGradients[1], o.inputGradients[2])
        for i in 0..<b.count {
            let r = valueWithGradient(at: x[i], y[i], z[i], of: adSeedCircuit)
            o.values[i] = r.value
            (gx[i], gy[i], gz[i]) = r.gradient
        }
    }

    static func staged(_ b: Batch, _ o: Outputs) {
        let (x, y) = (b.columns[0], b.columns[1])
        let (gx, gy) = (o.inputGradients[0], o.inputGradients[1])
        for i in 0..<b.count {
            let r = valueWithGradient(at: x[i], y[i], of: adStaged)
            o.values[i] = r.value
            (gx[i], gy[i]) = r.gradient
        }
    }

    static func neuron(_ b: Batch, _ o: Outputs) {
        let w = NeuronWeights(w0: b.parameters[0], w1: b.parameters[1], w2: b.parameters[2])
        var sum = NeuronWeights.TangentVector.zero
        for i in 0..<b.count {
            let r = valueWithGradient(at: NeuronInputs(x0: b.columns[0][i], x1: b.columns[1][i]), w, of: adNeuron)
            o.values[i] = r.value
            o.inputGradients[0][i] = r.gradient.0.x0
            o.inputGradients[1][i] = r.gradient.0.x1
            sum += r.gradient.1
        }
        o.parameterSums[0] = sum.w0
        o.parameterSums[1] = sum.w1
        o.parameterSums[2] = sum.w2
    }

    static func rosenbrock(_ b: Batch, _ o: Outputs) {
        let c = b.columns, g = o.inputGradients
        for i in 0..<b.count {
            let p = Point8(x0: c[0][i], x1: c[1][i], x2: c[2][i], x3: c[3][i],
                           x4: c[4][i], x5: c[5][i], x6: c[6][i], x7: c[7][i])
            let r = valueWithGradient(at: p, of: adRosenbrock)
            o.values[i] = r.value
            let t = r.gradient
            (g[0][i], g[1][i], g[2][i], g[3][i]) = (t.x0, t.x1, t.x2, t.x3)
            (g[4][i], g[5][i], g[6][i], g[7][i]) = (t.x4, t.x5, t.x6, t.x7)
        }
    }

    static func mlp(_ b: Batch, _ o: Outputs) {
        let h = 16
        let q = b.parameters
        let w = MLPWeights(w1: Array(q[0..<4 * h]), b1: Array(q[4 * h..<5 * h]),
                           w2: Array(q[5 * h..<6 * h]), b2: q[6 * h])
        let c = b.columns, g = o.inputGradients
        let sums = o.parameterSums
        sums.update(repeating: 0, count: 6 * h + 1)
        for i in 0..<b.count {
            let r = valueWithGradient(at: Point4(x0: c[0][i], x1: c[1][i], x2: c[2][i], x3: c[3][i]), w, of: adMLP)
            o.values[i] = r.value
            let t = r.gradient.0
            (g[0][i], g[1][i], g[2][i], g[3][i]) = (t.x0, t.x1, t.x2, t.x3)
            // An array's tangent may come back empty, meaning zero.
            let p = r.gradient.1
            for (k, v) in p.w1.base.enumerated() { sums[k] += v }
            for (k, v) in p.b1.base.enumerated() { sums[4 * h + k] += v }
            for (k, v) in p.w2.base.enumerated() { sums[5 * h + k] += v }
            sums[6 * h] += p.b2
        }
    }

    static func logSumExp(_ b: Batch, _ o: Outputs) {
        let c = b.columns, g = o.inputGradients
        for i in 0..<b.count {
            let p = Point6(x0: c[0][i], x1: c[1][i], x2: c[2][i], x3: c[3][i], x4: c[4][i], x5: c[5][i])
            let r = valueWithGradient(at: p, of: adLogSumExp)
            o.values[i] = r.value
            let t = r.gradient
            (g[0][i], g[1][i], g[2][i], g[3][i], g[4][i], g[5][i]) = (t.x0, t.x1, t.x2, t.x3, t.x4, t.x5)
        }
    }
}
