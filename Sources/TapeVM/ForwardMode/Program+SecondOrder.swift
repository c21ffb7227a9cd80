/// Values, gradient and a Hessian-vector product of one output over a batch.
public struct HessianVectorResult: Sendable, Hashable {
    /// `values[k][i]`: output `k` at point `i`.
    public var values: [[Double]]
    /// `gradient[j][i]`: `∂f/∂xⱼ` at point `i`.
    public var gradient: [[Double]]
    /// `hessianVector[j][i]`: `(H·v)ⱼ = Σₗ ∂²f/∂xⱼ∂xₗ·vₗ` at point `i`.
    public var hessianVector: [[Double]]
}

/// Values, gradient and the full Hessian (inputs × inputs) of one output at every point.
public struct HessianResult: Sendable, Hashable {
    /// `values[k][i]`: output `k` at point `i`.
    public var values: [[Double]]
    /// `gradient[j][i]`: `∂f/∂xⱼ` at point `i`.
    public var gradient: [[Double]]
    /// The number of inputs `m`.
    public var inputCount: Int
    /// Point-major, one full `m × m` row-major matrix per point:
    /// `hessians[(i·m + r)·m + c] = ∂²f/∂x_r∂x_c` at point `i`. Row `r` is the derivative of
    /// `∂f/∂x_r` along each input, computed on its own, so `(r, c)` and `(c, r)` agree up to
    /// rounding (they are not averaged).
    public var hessians: [Double]

    /// The Hessian at point `i` as rows.
    public func hessian(at i: Int) -> [[Double]] {
        let m = inputCount
        return (0..<m).map { r in Array(hessians[(i * m + r) * m..<(i * m + r + 1) * m]) }
    }
}

extension Program {
    /// The program of this program's gradient tape for `output` (``Tape/gradientTape(output:)``
    /// of ``optimizedTape``, with the same options), made once and kept: its outputs are this
    /// tape's outputs, then `∂f/∂` every input, then every parameter. Its tangent sweeps
    /// (``runTangents(count:inputs:parameters:values:tangents:)``) are the pointer-level form of
    /// the second-order functions.
    public func gradientProgram(output: Int) throws(EvaluationError) -> Program {
        guard tape.outputs.indices.contains(output) else {
            throw EvaluationError("output index \(output) is out of range: the tape has \(tape.outputs.count) output(s)")
        }
        if let program = gradientPrograms.withLock({ $0[output] }) { return program }
        let gradient: Tape
        do throws(TapeError) {
            gradient = try optimizedTape.gradientTape(output: output)
        } catch {
            throw EvaluationError("the gradient tape of output \(output) could not be made: \(error)")
        }
        let program = Program(gradient, options: options)
        return gradientPrograms.withLock { cache in
            if let existing = cache[output] { return existing }
            cache[output] = program
            return program
        }
    }

    /// Hessian-vector products at every point, forward over reverse: one tangent sweep along
    /// `v` over the gradient tape (``Tape/gradientTape(output:)``, the reverse sweep written
    /// out as instructions), with `direction[j][i]` the tangent of input `j` at point `i`.
    /// Also gives the values and the gradient, which that sweep computes anyway.
    ///
    /// Conventions are those of the gradient applied twice: kinks take the gradient's
    /// subgradients (whose own derivative is 0: `relu''` and `|x|''` are 0 everywhere),
    /// ties split ½/½, and NaN propagates into every second derivative it reaches.
    public func hvp(inputs: [[Double]], parameters: [Double] = [], direction: [[Double]], output: Int = 0) throws(EvaluationError) -> HessianVectorResult {
        let m = tape.inputs.count
        guard direction.count == m else {
            throw EvaluationError("expected \(m) direction column(s), one per input, got \(direction.count)")
        }
        let n = try pointCount(inputs, parameters)
        for (j, column) in direction.enumerated() where column.count != n {
            throw EvaluationError("the direction column of '\(tape.inputs[j])' has \(column.count) value(s), expected \(n), one per point")
        }
        return try hvp(inputs: inputs, parameters: parameters, columns: direction, seeds: (0..<m).map(DirectionColumn.column), output: output)
    }

    /// Hessian-vector products along one direction shared by every point (`direction[j]`).
    public func hvp(inputs: [[Double]], parameters: [Double] = [], sharedDirection: [Double], output: Int = 0) throws(EvaluationError) -> HessianVectorResult {
        guard sharedDirection.count == tape.inputs.count else {
            throw EvaluationError("expected \(tape.inputs.count) direction value(s), one per input, got \(sharedDirection.count)")
        }
        return try hvp(inputs: inputs, parameters: parameters, columns: [], seeds: sharedDirection.map(DirectionColumn.shared), output: output)
    }

    private func hvp(inputs: [[Double]], parameters: [Double], columns: [[Double]], seeds: [DirectionColumn],
                     output: Int) throws(EvaluationError) -> HessianVectorResult {
        let g = try gradientProgram(output: output)
        let (nOut, m) = (tape.outputs.count, tape.inputs.count)
        let r = try g.tangents(inputs: inputs, parameters: parameters, columns: columns, seeds: [seeds],
                               outputs: Array(nOut..<nOut + m))
        return HessianVectorResult(values: Array(r.values[0..<nOut]), gradient: Array(r.values[nOut..<nOut + m]),
                                   hessianVector: r.tangents[0])
    }

    /// The full Hessian of one output with respect to the inputs at every point (layout in
    /// ``HessianResult/hessians``), forward over reverse: tangent sweeps over the gradient tape
    /// along the unit directions, up to 16 directions per sweep. Meant for small input counts
    /// (up to about 32): the cost grows as inputs², the memory as inputs² per point.
    public func hessian(inputs: [[Double]], parameters: [Double] = [], output: Int = 0) throws(EvaluationError) -> HessianResult {
        let n = try pointCount(inputs, parameters)
        let (nOut, m) = (tape.outputs.count, tape.inputs.count)
        let columns = try withColumns(inputs) { (ins) throws(EvaluationError) in
            try makeColumns(nOut + m + m * m, n) { (cols) throws(EvaluationError) in
                try runHessian(count: n, inputs: ins, parameters: parameters, output: output,
                               values: Array(cols[0..<nOut]), gradient: Array(cols[nOut..<nOut + m]),
                               hessian: (0..<m).map { r in Array(cols[nOut + m + r * m..<nOut + m + (r + 1) * m]) })
            }
        }
        var hessians = [Double](repeating: 0, count: n * m * m)
        for e in 0..<m * m {
            let column = columns[nOut + m + e]
            for i in 0..<n { hessians[i * m * m + e] = column[i] }
        }
        return HessianResult(values: Array(columns[0..<nOut]), gradient: Array(columns[nOut..<nOut + m]),
                             inputCount: m, hessians: hessians)
    }

    /// The Hessian of one output with respect to the parameters, summed over the batch (data
    /// fixed, weights variable: the Newton step of a loss): `result[p][q] = Σᵢ ∂²f(xᵢ)/∂w_p∂w_q`.
    /// Forward over reverse with a unit direction per parameter (up to 16 per sweep), the sums
    /// taken per chunk and lane and reduced in order, so the bits do not depend on the thread
    /// count.
    public func parameterHessianSum(inputs: [[Double]], parameters: [Double], output: Int = 0) throws(EvaluationError) -> [[Double]] {
        let g = try gradientProgram(output: output)
        let n = try pointCount(inputs, parameters)
        let (nOut, m, p) = (tape.outputs.count, tape.inputs.count, tape.parameters.count)
        let nOutG = g.tape.outputs.count
        var result = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        var start = 0
        while start < p {
            let group = Array(start..<Swift.min(p, start + Self.directionsPerSweep))
            var sums = [Double](repeating: 0, count: group.count * nOutG)
            try withColumns(inputs) { (ins) throws(EvaluationError) in
                try sums.withUnsafeMutableBufferPointer { (buf) throws(EvaluationError) in
                    let requests = group.enumerated().map { d, c in
                        TangentRequest(parameterTangents: (0..<p).map { $0 == c ? 1 : 0 },
                                       outputTangentSums: buf.baseAddress! + d * nOutG)
                    }
                    try g.runTangents(count: n, inputs: ins, parameters: parameters, values: [], tangents: requests)
                }
            }
            for (d, c) in group.enumerated() {
                for row in 0..<p { result[row][c] = sums[d * nOutG + nOut + m + row] }
            }
            start += Self.directionsPerSweep
        }
        return result
    }

    /// Directions per tangent sweep in ``hessian(inputs:parameters:output:)`` and
    /// ``parameterHessianSum(inputs:parameters:output:)``: more share the value computation,
    /// fewer keep the workspace (values and tangents of a tile) in cache.
    static let directionsPerSweep = 16
}
