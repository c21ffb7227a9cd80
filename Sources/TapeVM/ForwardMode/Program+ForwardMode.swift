/// Values and directional derivatives (Jacobian-vector products) over a batch.
public struct JVPResult: Sendable, Hashable {
    /// `values[k][i]`: output `k` at point `i`.
    public var values: [[Double]]
    /// `tangents[d][k][i]`: the derivative of output `k` along direction `d` at point `i`
    /// (`∇fₖ·v_d`).
    public var tangents: [[[Double]]]
}

/// How ``Program/jacobian(inputs:parameters:mode:)`` computes a full Jacobian.
public enum JacobianMode: String, Sendable, Hashable, CaseIterable {
    /// Forward mode when the tape has fewer inputs than outputs, reverse mode otherwise.
    case auto
    /// One tangent sweep with one direction per input (a column of the Jacobian each).
    case forward
    /// One reverse sweep per output (a row each).
    case reverse
}

/// A full Jacobian over a batch and the mode that computed it.
public struct JacobianResult: Sendable, Hashable {
    /// `values[k][i]`: output `k` at point `i`.
    public var values: [[Double]]
    /// `jacobian[k][j][i]`: `∂output k/∂input j` at point `i`.
    public var jacobian: [[[Double]]]
    /// The mode that ran: ``JacobianMode/forward`` or ``JacobianMode/reverse``, never `auto`.
    public var mode: JacobianMode
}

/// A direction's tangent for one input slot, given as arrays.
enum DirectionColumn {
    case shared(Double)
    /// Index into the extra columns passed alongside the inputs.
    case column(Int)
}

extension Program {
    /// Values and the directional derivative `∇fₖ(x)·v(x)` of every output, with a tangent `v`
    /// given per point: `direction[j][i]` is the tangent of input `j` at point `i`.
    ///
    /// Forward mode: one tangent sweep (``runTangents(count:inputs:parameters:values:tangents:)``)
    /// gives all outputs' derivatives along `v`. For an output `f`, the result equals
    /// `Σⱼ ∂f/∂xⱼ·vⱼ` up to rounding, with the gradient's conventions (see the README): kinks
    /// take the same subgradients, routing instructions pass a tangent or exactly zero.
    public func jvp(inputs: [[Double]], parameters: [Double] = [], direction: [[Double]]) throws(EvaluationError) -> JVPResult {
        try jvp(inputs: inputs, parameters: parameters, directions: [direction])
    }

    /// Values and the directional derivative of every output along one direction shared by
    /// every point: `direction[j]` is the tangent of input `j`.
    public func jvp(inputs: [[Double]], parameters: [Double] = [], sharedDirection: [Double]) throws(EvaluationError) -> JVPResult {
        try jvp(inputs: inputs, parameters: parameters, sharedDirections: [sharedDirection])
    }

    /// Several per-point directions in one sweep: `directions[d][j][i]`.
    public func jvp(inputs: [[Double]], parameters: [Double] = [], directions: [[[Double]]]) throws(EvaluationError) -> JVPResult {
        let n = try pointCount(inputs, parameters)
        for (d, direction) in directions.enumerated() {
            guard direction.count == tape.inputs.count else {
                throw EvaluationError("direction \(d): expected \(tape.inputs.count) tangent column(s), one per input, got \(direction.count)")
            }
            for (j, column) in direction.enumerated() where column.count != n {
                throw EvaluationError("direction \(d): the tangent column of '\(tape.inputs[j])' has \(column.count) value(s), expected \(n), one per point")
            }
        }
        let m = tape.inputs.count
        let seeds = directions.indices.map { d in (0..<m).map { DirectionColumn.column(d * m + $0) } }
        return try tangents(inputs: inputs, parameters: parameters, columns: Array(directions.joined()), seeds: seeds)
    }

    /// Several shared directions in one sweep: `sharedDirections[d][j]`.
    public func jvp(inputs: [[Double]], parameters: [Double] = [], sharedDirections: [[Double]]) throws(EvaluationError) -> JVPResult {
        for (d, direction) in sharedDirections.enumerated() where direction.count != tape.inputs.count {
            throw EvaluationError("direction \(d): expected \(tape.inputs.count) tangent(s), one per input, got \(direction.count)")
        }
        return try tangents(inputs: inputs, parameters: parameters, columns: [],
                            seeds: sharedDirections.map { $0.map(DirectionColumn.shared) })
    }

    /// The Jacobian of every output with respect to every input at every point. Forward mode
    /// (one tangent sweep with a unit direction per input) or reverse mode (one reverse sweep
    /// per output); ``JacobianMode/auto`` picks forward when there are fewer inputs than
    /// outputs. Both give the same derivatives up to rounding; the result says which ran.
    public func jacobian(inputs: [[Double]], parameters: [Double] = [], mode: JacobianMode) throws(EvaluationError) -> JacobianResult {
        let (nIn, nOut) = (tape.inputs.count, tape.outputs.count)
        let forward = mode == .forward || (mode == .auto && nIn < nOut)
        if forward {
            let units = (0..<nIn).map { d in (0..<nIn).map { DirectionColumn.shared($0 == d ? 1 : 0) } }
            let r = try tangents(inputs: inputs, parameters: parameters, columns: [], seeds: units)
            return JacobianResult(values: r.values, jacobian: (0..<nOut).map { k in (0..<nIn).map { r.tangents[$0][k] } },
                                  mode: .forward)
        }
        let rows = try jacobian(inputs: inputs, parameters: parameters, parameterGradient: .none)
        var values = rows.first?.values ?? []
        if rows.isEmpty { values = try evaluate(inputs: inputs, parameters: parameters) }
        return JacobianResult(values: values, jacobian: rows.map(\.inputGradients), mode: .reverse)
    }

    /// One tangent sweep from arrays: `seeds[d][j]` is input `j`'s tangent along direction `d`,
    /// shared or one of `columns` (per point). Returns values and every output's tangents.
    func tangents(inputs: [[Double]], parameters: [Double], columns: [[Double]], seeds: [[DirectionColumn]],
                  outputs: [Int]? = nil) throws(EvaluationError) -> JVPResult {
        let n = try pointCount(inputs, parameters)
        let nOut = tape.outputs.count
        let wanted = outputs ?? Array(0..<nOut)
        let D = seeds.count
        let m = inputs.count
        let result = try withColumns(inputs + columns) { (pointers) throws(EvaluationError) in
            try makeColumns(nOut + D * wanted.count, n) { (cols) throws(EvaluationError) in
                let requests = seeds.enumerated().map { d, direction in
                    var outs = [UnsafeMutablePointer<Double>?](repeating: nil, count: nOut)
                    for (w, k) in wanted.enumerated() { outs[k] = cols[nOut + d * wanted.count + w] }
                    return TangentRequest(inputTangents: direction.map {
                        switch $0 {
                        case .shared(let v): .shared(v)
                        case .column(let c): .perPoint(pointers[m + c])
                        }
                    }, outputTangents: outs)
                }
                try runTangents(count: n, inputs: Array(pointers[0..<m]), parameters: parameters,
                                values: Array(cols[0..<nOut]), tangents: requests)
            }
        }
        return JVPResult(values: Array(result[0..<nOut]),
                         tangents: (0..<D).map { d in Array(result[nOut + d * wanted.count..<nOut + (d + 1) * wanted.count]) })
    }
}
