import Foundation

/// Hand-written straight-line value + gradient kernels: a scalar `Double` loop over the points,
/// Foundation (glibc) exp/log1p/tanh, derivatives worked out by hand. What a careful programmer
/// writes for one fixed function, without any AD system.
enum Handwritten {
    static func seedCircuit(_ b: Batch, _ o: Outputs) {
        let (x, y, z) = (b.columns[0], b.columns[1], b.columns[2])
        let (gx, gy, gz) = (o.inputGradients[0], o.inputGradients[1], o.inputGradients[2])
        let v = o.values
        for i in 0..<b.count {
            let s = x[i] + y[i]
            v[i] = s * z[i]
            gx[i] = z[i]
            gy[i] = z[i]
            gz[i] = s
        }
    }

    static func staged(_ b: Batch, _ o: Outputs) {
        let (x, y) = (b.columns[0], b.columns[1])
        let (gx, gy) = (o.inputGradients[0], o.inputGradients[1])
        let v = o.values
        for i in 0..<b.count {
            let xi = x[i], yi = y[i]
            let sy = 1 / (1 + exp(-yi)), sx = 1 / (1 + exp(-xi))
            let s = xi + yi
            let num = xi + sy, den = sx + s * s
            let f = num / den
            let gNum = 1 / den, gDen = -f / den
            let gS = gDen * (2 * s)
            v[i] = f
            gx[i] = gNum + gDen * (sx * (1 - sx)) + gS
            gy[i] = gNum * (sy * (1 - sy)) + gS
        }
    }

    static func neuron(_ b: Batch, _ o: Outputs) {
        let (x0, x1) = (b.columns[0], b.columns[1])
        let (g0, g1) = (o.inputGradients[0], o.inputGradients[1])
        let (w0, w1, w2) = (b.parameters[0], b.parameters[1], b.parameters[2])
        let v = o.values
        var s0 = 0.0, s1 = 0.0, s2 = 0.0
        for i in 0..<b.count {
            let f = 1 / (1 + exp(-(w0 * x0[i] + w1 * x1[i] + w2)))
            let gz = f * (1 - f)
            v[i] = f
            g0[i] = gz * w0
            g1[i] = gz * w1
            s0 += gz * x0[i]
            s1 += gz * x1[i]
            s2 += gz
        }
        o.parameterSums[0] = s0
        o.parameterSums[1] = s1
        o.parameterSums[2] = s2
    }

    static func rosenbrock(_ b: Batch, _ o: Outputs) {
        let c = b.columns, g = o.inputGradients
        let v = o.values
        for i in 0..<b.count {
            var f = 0.0
            var gPrev = 0.0   // gradient contribution to x[k] from term k-1
            for k in 0..<7 {
                let a = c[k][i], bb = c[k + 1][i]
                let t = bb - a * a, u = 1 - a
                f += 100 * (t * t) + u * u
                g[k][i] = gPrev - 400 * t * a - 2 * u
                gPrev = 200 * t
            }
            g[7][i] = gPrev
            v[i] = f
        }
    }

    static func mlp(_ b: Batch, _ o: Outputs) {
        let h = 16
        let q = b.parameters
        let c = b.columns, g = o.inputGradients
        let sums = o.parameterSums
        sums.update(repeating: 0, count: 6 * h + 1)
        let hidden = UnsafeMutablePointer<Double>.allocate(capacity: h)
        let w = UnsafeMutablePointer<Double>.allocate(capacity: 6 * h + 1)
        defer { hidden.deallocate(); w.deallocate() }
        for k in 0..<(6 * h + 1) { w[k] = q[k] }
        let (w1, b1, w2) = (w, w + 4 * h, w + 5 * h)
        let (gw1, gb1, gw2) = (sums, sums + 4 * h, sums + 5 * h)
        var gb2 = 0.0
        for i in 0..<b.count {
            let x0 = c[0][i], x1 = c[1][i], x2 = c[2][i], x3 = c[3][i]
            var out = w[6 * h]
            for j in 0..<h {
                let a = b1[j] + w1[4 * j] * x0 + w1[4 * j + 1] * x1 + w1[4 * j + 2] * x2 + w1[4 * j + 3] * x3
                let t = tanh(a)
                hidden[j] = t
                out += w2[j] * t
            }
            let f = 1 / (1 + exp(-out))
            o.values[i] = f
            let gOut = f * (1 - f)
            gb2 += gOut
            var d0 = 0.0, d1 = 0.0, d2 = 0.0, d3 = 0.0
            for j in 0..<h {
                let t = hidden[j]
                gw2[j] += gOut * t
                let ga = gOut * w2[j] * (1 - t * t)
                gb1[j] += ga
                gw1[4 * j] += ga * x0
                gw1[4 * j + 1] += ga * x1
                gw1[4 * j + 2] += ga * x2
                gw1[4 * j + 3] += ga * x3
                d0 += ga * w1[4 * j]
                d1 += ga * w1[4 * j + 1]
                d2 += ga * w1[4 * j + 2]
                d3 += ga * w1[4 * j + 3]
            }
            (g[0][i], g[1][i], g[2][i], g[3][i]) = (d0, d1, d2, d3)
        }
        sums[6 * h] = gb2
    }

    static func logSumExp(_ b: Batch, _ o: Outputs) {
        let c = b.columns, g = o.inputGradients
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: 6)   // running logaddexp
        defer { partial.deallocate() }
        for i in 0..<b.count {
            var l = c[0][i], s = c[0][i]
            partial[0] = l
            for k in 1..<6 {
                let xk = c[k][i]
                l = l > xk ? l + log1p(exp(xk - l)) : xk + log1p(exp(l - xk))
                partial[k] = l
                s += xk
            }
            let sp = s > 0 ? s + log1p(exp(-s)) : log1p(exp(s))
            o.values[i] = l + sp
            let gs = 1 / (1 + exp(-s))   // softplus' = sigmoid
            var gl = 1.0
            for k in stride(from: 5, through: 1, by: -1) {
                let prev = partial[k - 1], xk = c[k][i]
                g[k][i] = gl / (1 + exp(prev - xk)) + gs
                gl = gl / (1 + exp(xk - prev))
            }
            g[0][i] = gl + gs
        }
    }
}
