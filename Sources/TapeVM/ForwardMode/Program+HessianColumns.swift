extension Program {
    /// The value, gradient and chosen second partial derivatives of one output at `count`
    /// points, written into the caller's columns: the pointer-level form of
    /// ``hessian(inputs:parameters:output:)``, which streaming callers (a grid written block by
    /// block) use without the point-major copy.
    ///
    /// Forward over reverse: tangent sweeps (``runTangents(count:inputs:parameters:values:tangents:)``)
    /// over ``gradientProgram(output:)``, one unit direction per input `c` that some entry
    /// `hessian[r][c]` asks for, up to 16 directions per sweep. The direction along input `c`
    /// gives the whole column `c`, so asking for the upper triangle (`r ≤ c`) of the symmetric
    /// Hessian costs as many directions as the full matrix; entries `(r, c)` and `(c, r)` come
    /// from different directions and agree up to rounding. Values and gradient come from the
    /// first sweep; without any Hessian entry one sweep computes them. Conventions are those of
    /// ``hvp(inputs:parameters:direction:output:)``. Results are identical for any thread count
    /// and any split of the points into calls.
    ///
    /// - Parameters:
    ///   - count: the number of points.
    ///   - inputs: one column of `count` doubles per input slot.
    ///   - parameters: one value per parameter slot, shared by every point.
    ///   - output: the output differentiated.
    ///   - values: per output of the tape, where to write its value (`nil` skips it; an empty
    ///     array skips all).
    ///   - gradient: per input slot `j`, where to write `∂f/∂xⱼ` (`nil` skips it; empty skips all).
    ///   - hessian: `hessian[r][c]`, where to write `∂²f/∂x_r∂x_c` (the derivative of `∂f/∂x_r`
    ///     along `x_c`); `nil` skips an entry, an empty row skips the row, an empty array all.
    ///     Every non-nil pointer holds `count` doubles; destinations must not overlap the inputs
    ///     or each other.
    /// - Throws: ``EvaluationError`` when the counts do not match the tape or `output` is out
    ///   of range.
    public func runHessian(count: Int, inputs: [UnsafePointer<Double>], parameters: [Double], output: Int = 0,
                           values: [UnsafeMutablePointer<Double>?], gradient: [UnsafeMutablePointer<Double>?],
                           hessian: [[UnsafeMutablePointer<Double>?]]) throws(EvaluationError) {
        try check(count: count, inputs: inputs.count, parameters: parameters.count)
        let (nOut, m) = (tape.outputs.count, tape.inputs.count)
        guard values.isEmpty || values.count == nOut else {
            throw EvaluationError("expected \(nOut) output value destination(s), got \(values.count)")
        }
        guard gradient.isEmpty || gradient.count == m else {
            throw EvaluationError("expected \(m) gradient destination(s), one per input, got \(gradient.count)")
        }
        guard hessian.isEmpty || hessian.count == m else {
            throw EvaluationError("expected \(m) Hessian row(s), one per input, got \(hessian.count)")
        }
        for (r, row) in hessian.enumerated() where !row.isEmpty && row.count != m {
            throw EvaluationError("Hessian row \(r) ('\(tape.inputs[r])'): expected \(m) destination(s), one per input, got \(row.count)")
        }
        let g = try gradientProgram(output: output)
        // The gradient program's outputs: this tape's outputs, ∂f/∂ each input, ∂f/∂ each parameter.
        let nOutG = g.tape.outputs.count
        var first = [UnsafeMutablePointer<Double>?](repeating: nil, count: nOutG)
        for (k, dest) in values.enumerated() { first[k] = dest }
        for (j, dest) in gradient.enumerated() { first[nOut + j] = dest }
        let entry = { (r: Int, c: Int) -> UnsafeMutablePointer<Double>? in
            hessian.isEmpty || hessian[r].isEmpty ? nil : hessian[r][c]
        }
        let directions = (0..<m).filter { c in (0..<m).contains { entry($0, c) != nil } }
        var start = 0
        repeat {  // at least once: the values and gradient, even without Hessian entries
            let group = directions[start..<Swift.min(directions.count, start + Self.directionsPerSweep)]
            let requests = group.map { c in
                var outs = [UnsafeMutablePointer<Double>?](repeating: nil, count: nOutG)
                for r in 0..<m { outs[nOut + r] = entry(r, c) }
                return TangentRequest(inputTangents: (0..<m).map { $0 == c ? .shared(1) : .zero }, outputTangents: outs)
            }
            try g.runTangents(count: count, inputs: inputs, parameters: parameters,
                              values: start == 0 ? first : [], tangents: requests)
            start += Self.directionsPerSweep
        } while start < directions.count
    }
}
