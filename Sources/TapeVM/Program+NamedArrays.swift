extension Program {
    /// The input columns in slot order from a dictionary keyed by input name.
    ///
    /// - Throws: ``EvaluationError`` naming a missing or unknown input.
    public func inputColumns(_ named: [String: [Double]]) throws(EvaluationError) -> [[Double]] {
        if let unknown = named.keys.filter({ tape.inputSlot(named: $0) == nil }).sorted().first {
            throw EvaluationError("unknown input '\(unknown)': the tape's inputs are \(tape.inputs.joined(separator: ", "))")
        }
        var columns: [[Double]] = []
        for name in tape.inputs {
            guard let column = named[name] else {
                throw EvaluationError("missing input '\(name)': the tape's inputs are \(tape.inputs.joined(separator: ", "))")
            }
            columns.append(column)
        }
        return columns
    }

    /// The parameter values in slot order from a dictionary keyed by parameter name.
    ///
    /// - Throws: ``EvaluationError`` naming a missing or unknown parameter.
    public func parameterValues(_ named: [String: Double]) throws(EvaluationError) -> [Double] {
        if let unknown = named.keys.filter({ tape.parameterSlot(named: $0) == nil }).sorted().first {
            throw EvaluationError("unknown parameter '\(unknown)': the tape's parameters are \(tape.parameters.joined(separator: ", "))")
        }
        var values: [Double] = []
        for name in tape.parameters {
            guard let value = named[name] else {
                throw EvaluationError("missing parameter '\(name)': the tape's parameters are \(tape.parameters.joined(separator: ", "))")
            }
            values.append(value)
        }
        return values
    }

    /// ``evaluate(inputs:parameters:)`` with inputs and parameters by name.
    public func evaluate(_ inputs: [String: [Double]], parameters: [String: Double] = [:]) throws(EvaluationError) -> [[Double]] {
        try evaluate(inputs: inputColumns(inputs), parameters: parameterValues(parameters))
    }

    /// ``valueAndGradient(inputs:parameters:output:seeds:parameterGradient:)`` with inputs and
    /// parameters by name; read the results by name with ``GradientResult/gradient(_:in:)``.
    public func valueAndGradient(_ inputs: [String: [Double]], parameters: [String: Double] = [:], output: String? = nil,
                                 parameterGradient: ParameterGradientMode = .summed) throws(EvaluationError) -> GradientResult {
        var index = 0
        if let output {
            guard let k = tape.outputIndex(named: output) else {
                throw EvaluationError("unknown output '\(output)': the tape's outputs are \(tape.outputs.map(\.name).joined(separator: ", "))")
            }
            index = k
        }
        return try valueAndGradient(inputs: inputColumns(inputs), parameters: parameterValues(parameters),
                                    output: index, parameterGradient: parameterGradient)
    }
}

extension GradientResult {
    /// The derivative with respect to the input or parameter called `name`: per point for an
    /// input (or a parameter with ``ParameterGradientMode/perPoint``), or a one-element array
    /// holding the batch sum for a parameter with ``ParameterGradientMode/summed``.
    /// `nil` when the tape has no such name or the result does not hold that gradient.
    public func gradient(_ name: String, in tape: Tape) -> [Double]? {
        if let slot = tape.inputSlot(named: name), slot < inputGradients.count { return inputGradients[slot] }
        if let slot = tape.parameterSlot(named: name) {
            if slot < parameterGradients.count { return parameterGradients[slot] }
            if slot < parameterGradientSum.count { return [parameterGradientSum[slot]] }
        }
        return nil
    }
}
