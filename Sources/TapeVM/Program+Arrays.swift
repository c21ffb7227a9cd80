/// Which gradient with respect to the parameters to compute.
public enum ParameterGradientMode: Sendable, Hashable {
    /// None.
    case none
    /// Summed over the batch: the training case (data fixed, weights variable).
    case summed
    /// One gradient per point.
    case perPoint
}

/// Values and the gradient of one seeded output combination over a batch.
public struct GradientResult: Sendable, Hashable {
    /// `values[k][i]`: output `k` at point `i`.
    public var values: [[Double]]
    /// `inputGradients[j][i]`: the derivative with respect to input `j` at point `i`.
    public var inputGradients: [[Double]]
    /// `parameterGradients[p][i]`, with ``ParameterGradientMode/perPoint``; else empty.
    public var parameterGradients: [[Double]]
    /// `parameterGradientSum[p]`, with ``ParameterGradientMode/summed``; else empty.
    public var parameterGradientSum: [Double]
}

extension Program {
    /// The outputs' values at every point: `result[k][i]` is output `k` at point `i`.
    ///
    /// - Parameters:
    ///   - inputs: one column per input slot, all of the same length.
    ///   - parameters: one value per parameter slot.
    public func evaluate(inputs: [[Double]], parameters: [Double] = []) throws(EvaluationError) -> [[Double]] {
        let n = try pointCount(inputs, parameters)
        return try withColumns(inputs) { (ins) throws(EvaluationError) in
            try makeColumns(tape.outputs.count, n) { (outs) throws(EvaluationError) in
                try run(count: n, inputs: ins, parameters: parameters, values: outs)
            }
        }
    }

    /// Values and the gradient of one output (or of a seeded combination of outputs) at every point.
    ///
    /// - Parameters:
    ///   - output: the output to differentiate (default: the first).
    ///   - seeds: instead of `output`, the weight of each output: the gradient is that of
    ///     `Σₖ seeds[k]·output[k]` (a vector-Jacobian product).
    ///   - parameterGradient: summed over the batch (default), per point, or none.
    public func valueAndGradient(inputs: [[Double]], parameters: [Double] = [], output: Int = 0,
                                 seeds: [Double]? = nil,
                                 parameterGradient: ParameterGradientMode = .summed) throws(EvaluationError) -> GradientResult {
        guard tape.outputs.indices.contains(output) else {
            throw EvaluationError("output index \(output) is out of range: the tape has \(tape.outputs.count) output(s)")
        }
        let seeds = seeds ?? tape.outputs.indices.map { $0 == output ? 1 : 0 }
        return try gradients(inputs: inputs, parameters: parameters, seedRows: [seeds], parameterGradient: parameterGradient)[0]
    }

    /// The Jacobian at every point: one ``GradientResult`` per output, from one forward sweep
    /// and one reverse sweep per output on each tile.
    public func jacobian(inputs: [[Double]], parameters: [Double] = [],
                         parameterGradient: ParameterGradientMode = .none) throws(EvaluationError) -> [GradientResult] {
        let rows = tape.outputs.indices.map { k in tape.outputs.indices.map { $0 == k ? 1.0 : 0.0 } }
        return try gradients(inputs: inputs, parameters: parameters, seedRows: rows, parameterGradient: parameterGradient)
    }

    private func gradients(inputs: [[Double]], parameters: [Double], seedRows: [[Double]],
                           parameterGradient: ParameterGradientMode) throws(EvaluationError) -> [GradientResult] {
        let n = try pointCount(inputs, parameters)
        let (nOut, nIn, nPar, rows) = (tape.outputs.count, tape.inputs.count, tape.parameters.count, seedRows.count)
        let perPoint = parameterGradient == .perPoint ? nPar : 0
        var sums = [Double](repeating: 0, count: parameterGradient == .summed ? rows * nPar : 0)
        // One flat list of result columns: values, then per row its input and per-point parameter gradients.
        let columns = try withColumns(inputs) { (ins) throws(EvaluationError) in
            try makeColumns(nOut + rows * (nIn + perPoint), n) { (cols) throws(EvaluationError) in
                try sums.withUnsafeMutableBufferPointer { (sumBuf) throws(EvaluationError) in
                    let requests = (0..<rows).map { r in
                        let base = nOut + r * (nIn + perPoint)
                        return GradientRequest(
                            seeds: seedRows[r],
                            inputGradients: Array(cols[base..<base + nIn]),
                            parameterGradients: Array(cols[base + nIn..<base + nIn + perPoint]),
                            parameterGradientSums: parameterGradient == .summed ? sumBuf.baseAddress! + r * nPar : nil)
                    }
                    try run(count: n, inputs: ins, parameters: parameters, values: Array(cols[0..<nOut]), gradients: requests)
                }
            }
        }
        return (0..<rows).map { r in
            let base = nOut + r * (nIn + perPoint)
            return GradientResult(
                values: Array(columns[0..<nOut]),
                inputGradients: Array(columns[base..<base + nIn]),
                parameterGradients: Array(columns[base + nIn..<base + nIn + perPoint]),
                parameterGradientSum: parameterGradient == .summed ? Array(sums[r * nPar..<(r + 1) * nPar]) : [])
        }
    }

    /// The common length of the input columns, after checking counts. A tape without inputs
    /// (a function of its parameters only) is evaluated at one point.
    func pointCount(_ inputs: [[Double]], _ parameters: [Double]) throws(EvaluationError) -> Int {
        let n = inputs.first?.count ?? (tape.inputs.isEmpty ? 1 : 0)
        try check(count: n, inputs: inputs.count, parameters: parameters.count)
        for (slot, column) in inputs.enumerated() where column.count != n {
            throw EvaluationError("input column '\(tape.inputs[slot])' has \(column.count) value(s), but '\(tape.inputs[0])' has \(n): all input columns need the same length")
        }
        return n
    }
}

/// Calls `body` with a pointer to each column: without copying for up to 64 columns (one
/// nested `withUnsafeBufferPointer` per column), and through one contiguous copy beyond that,
/// so that thousands of columns cannot exhaust the stack.
func withColumns<R>(_ columns: [[Double]], _ body: ([UnsafePointer<Double>]) throws(EvaluationError) -> R) throws(EvaluationError) -> R {
    if columns.count > 64 {
        let length = columns.first?.count ?? 0
        let flat = UnsafeMutableBufferPointer<Double>.allocate(capacity: Swift.max(1, columns.count * length))
        defer { flat.deallocate() }
        for (k, column) in columns.enumerated() {
            _ = UnsafeMutableBufferPointer(rebasing: flat[k * length..<k * length + column.count]).initialize(from: column)
        }
        return try body((0..<columns.count).map { UnsafePointer(flat.baseAddress! + $0 * length) })
    }
    func nest(_ k: Int, _ acc: inout [UnsafePointer<Double>]) throws(EvaluationError) -> R {
        if k == columns.count { return try body(acc) }
        return try columns[k].withUnsafeBufferPointer { (buf) throws(EvaluationError) -> R in
            // An empty array may have no storage; any valid address will do for zero reads.
            acc.append(buf.baseAddress ?? UnsafePointer(bitPattern: 8)!)
            return try nest(k + 1, &acc)
        }
    }
    var acc: [UnsafePointer<Double>] = []
    acc.reserveCapacity(columns.count)
    return try nest(0, &acc)
}

/// Makes `count` columns of `length` doubles, lets `body` fill them, and returns them as arrays.
/// The columns are written in place into one allocation and copied out once (a pass over the
/// results, small next to computing them), with no recursion whatever the column count.
func makeColumns(_ count: Int, _ length: Int, _ body: ([UnsafeMutablePointer<Double>?]) throws(EvaluationError) -> Void) throws(EvaluationError) -> [[Double]] {
    let flat = UnsafeMutableBufferPointer<Double>.allocate(capacity: Swift.max(1, count * length))
    defer { flat.deallocate() }
    flat.initialize(repeating: 0)
    try body((0..<count).map { length > 0 ? flat.baseAddress! + $0 * length : nil })
    return (0..<count).map { Array(flat[$0 * length..<($0 + 1) * length]) }
}
