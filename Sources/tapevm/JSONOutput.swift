import TapeVM
import TapeVMIO

/// The value, gradient and parameter gradient of every output at one point.
struct PointResult {
    /// `values[k]`: output `k`.
    var values: [Double]
    /// `gradients[k][j]`: ∂ output `k` / ∂ input `j`.
    var gradients: [[Double]]
    /// `parameterGradients[k][p]`: ∂ output `k` / ∂ parameter `p`.
    var parameterGradients: [[Double]]
}

/// The JSON objects `tapevm grad` prints (the layout is documented in its `--help`).
enum GradJSON {
    /// One point's object.
    ///
    /// One output: `{"value": v, "gradient": {input: ∂}, "parameterGradient": {param: ∂}}`.
    /// Several: each of the three is keyed by output name first
    /// (`"gradient": {output: {input: ∂}}`, a Jacobian). `parameterGradient` is present only
    /// when the function has parameters.
    static func object(_ r: PointResult, tape: Tape) -> JSONValue {
        func byName(_ names: [String], _ xs: [Double]) -> JSONValue {
            .object(zip(names, xs).map { ($0, .number($1)) })
        }
        let outputs = tape.outputs.map(\.name)
        var members: [(String, JSONValue)] = []
        if outputs.count == 1 {
            members.append(("value", .number(r.values[0])))
            members.append(("gradient", byName(tape.inputs, r.gradients[0])))
            if !tape.parameters.isEmpty {
                members.append(("parameterGradient", byName(tape.parameters, r.parameterGradients[0])))
            }
        } else {
            members.append(("value", byName(outputs, r.values)))
            members.append(("gradient", .object(outputs.indices.map { (outputs[$0], byName(tape.inputs, r.gradients[$0])) })))
            if !tape.parameters.isEmpty {
                members.append(("parameterGradient",
                                .object(outputs.indices.map { (outputs[$0], byName(tape.parameters, r.parameterGradients[$0])) })))
            }
        }
        return .object(members)
    }

    /// The text to print: one object on one line, or an array with one object per line.
    static func text(_ objects: [JSONValue], asArray: Bool) -> String {
        guard asArray else { return objects[0].serialized() }
        if objects.isEmpty { return "[]" }
        return "[\n" + objects.map { "  " + $0.serialized() }.joined(separator: ",\n") + "\n]"
    }
}
