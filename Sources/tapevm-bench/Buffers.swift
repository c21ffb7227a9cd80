import TapeVM

/// The points of one batch, column by column (one column of `count` doubles per input), and
/// the parameter values shared by every point. Every system reads the same `Batch`.
final class Batch {
    let count: Int
    let columns: [UnsafeMutablePointer<Double>]
    let parameters: [Double]
    /// `columns` as the read-only pointers `Program.run` takes.
    let inputPointers: [UnsafePointer<Double>]
    /// The same as C's `const double *const *`.
    let cInputPointers: [UnsafePointer<Double>?]

    /// `count` points drawn uniformly from `range`, point by point from a seeded generator, so
    /// a smaller batch with the same seed holds the first points of a larger one.
    init(count: Int, inputs: Int, range: ClosedRange<Double>, parameters: [Double], seed: UInt64) {
        self.count = count
        self.parameters = parameters
        let columns = (0..<inputs).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, count)) }
        var rng = SplitMix64(seed: seed)
        for i in 0..<count {
            for c in columns { c[i] = Double.random(in: range, using: &rng) }
        }
        self.columns = columns
        self.inputPointers = columns.map { UnsafePointer($0) }
        self.cInputPointers = inputPointers
    }

    deinit { for c in columns { c.deallocate() } }

    /// The inputs of point `i`.
    func point(_ i: Int) -> [Double] { columns.map { $0[i] } }
}

/// Where a system writes its results for one batch: the first output's value at every point,
/// its gradient with respect to every input at every point, and its gradient with respect to
/// the parameters summed over the batch.
final class Outputs {
    let count: Int
    let values: UnsafeMutablePointer<Double>
    let inputGradients: [UnsafeMutablePointer<Double>]
    /// The same as C's `double *const *`.
    let cInputGradients: [UnsafeMutablePointer<Double>?]
    let parameterSums: UnsafeMutablePointer<Double>
    let parameterCount: Int

    init(count: Int, inputs: Int, parameters: Int) {
        self.count = count
        self.parameterCount = parameters
        values = .allocate(capacity: Swift.max(1, count))
        inputGradients = (0..<inputs).map { _ in .allocate(capacity: Swift.max(1, count)) }
        cInputGradients = inputGradients
        parameterSums = .allocate(capacity: Swift.max(1, parameters))
        values.initialize(repeating: 0, count: Swift.max(1, count))
        for g in inputGradients { g.initialize(repeating: 0, count: Swift.max(1, count)) }
        parameterSums.initialize(repeating: 0, count: Swift.max(1, parameters))
    }

    deinit {
        values.deallocate()
        for g in inputGradients { g.deallocate() }
        parameterSums.deallocate()
    }

    /// Fills every result with NaN, so a system that forgets one fails verification.
    func poison() {
        values.update(repeating: .nan, count: count)
        for g in inputGradients { g.update(repeating: .nan, count: count) }
        parameterSums.update(repeating: .nan, count: parameterCount)
    }
}

/// A system's value + gradient over a whole batch, written into `Outputs`.
typealias BatchKernel = (Batch, Outputs) -> Void
