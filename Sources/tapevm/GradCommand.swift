import ArgumentParser
import TapeVM
import TapeVMIO

/// `tapevm grad`: value and gradient at a few points, as JSON.
struct GradCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grad",
        abstract: "Value and gradient at given points, as JSON.",
        discussion: """
            Example:
              tapevm grad 'f(x,y,z) = (x+y)*z' --at x=-2,y=5,z=-4
              {"value": -12, "gradient": {"x": -4, "y": -4, "z": 3}}

            Prints one JSON object per point; with several --at, a JSON array
            of them in the order given, one object per line. Members:
              "value"              the function's value
              "gradient"           {input: derivative}, every input
              "parameterGradient"  {parameter: derivative}, only when the
                                   function has parameters
            With several outputs (several definitions, or a tuple body), each
            member is keyed by output name first:
              "value": {output: value}
              "gradient": {output: {input: derivative}}    (the Jacobian)
              "parameterGradient": {output: {parameter: derivative}}
            Each output is differentiated on its own (the instructions it
            depends on), so an infinity in one output cannot put a NaN into
            another's gradient.

            Numbers are printed in the shortest form that reads back as the
            same double (-12, 0.1, 1e-05). JSON has no NaN or infinity: they
            are printed as the strings "NaN", "Infinity" and "-Infinity".

            Second order and forward mode (inputs only):
              --jvp x=1,y=0  adds "jvp": the derivative along that direction,
                             ∇f·v (forward mode), {output: number} with
                             several outputs
              --hessian      adds "hessian": {input: {input: ∂²f}} (the full
                             symmetric matrix; row r is the derivative of
                             ∂f/∂r), {output: {...}} with several outputs
            Example:
              tapevm grad 'f(x,y) = 100*(y - x^2)^2 + (1 - x)^2' \\
                  --at x=1.5,y=0.5 --hessian --jvp x=1,y=2

            --at and --param take name=value lists (any order, each name
            exactly once) or bare values in the function's order
            (--at=-2,5,-4). A value is a decimal number, nan, inf or -inf.
            A function without inputs needs no --at.
            """)

    @OptionGroup var function: FunctionOptions

    @Option(name: .customLong("at"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "A point: input values by name or in order, e.g. --at x=-2,y=5,z=-4. Repeat for more points.",
        valueName: "name=value,..."))
    var points: [String] = []

    @Option(name: .customLong("jvp"), parsing: .unconditional, help: ArgumentHelp(
        "A direction: adds \"jvp\", the derivative along it at each point (forward mode), e.g. --jvp x=1,y=0.",
        valueName: "name=value,..."))
    var jvp: String?

    @Flag(name: .customLong("hessian"), help: "Adds \"hessian\": the second derivatives with respect to the inputs at each point.")
    var hessian = false

    func run() throws {
        try reportingErrors { () throws(CLIError) in
            let (tape, _) = try function.tape()
            let parameters = try function.parameterValues(for: tape)
            var rows: [[Double]] = []
            for text in points {
                rows.append(try Assignments.parse(text, option: "--at", names: tape.inputs, kind: "input",
                                                  others: tape.parameters, otherKind: "parameter", otherOption: "--param"))
            }
            if points.isEmpty {
                guard tape.inputs.isEmpty else {
                    throw .usage("no point: give the inputs' values with --at \(tape.inputs.map { "\($0)=..." }.joined(separator: ","))")
                }
                rows = [[]]
            }
            let direction = try jvp.map { (text) throws(CLIError) in
                try Assignments.parse(text, option: "--jvp", names: tape.inputs, kind: "input",
                                      others: tape.parameters, otherKind: "parameter", otherOption: "--param")
            }
            let program = Program(tape)
            let inputs = (0..<tape.inputs.count).map { j in rows.map { $0[j] } }
            var objects: [JSONValue]
            do throws(EvaluationError) {
                let results = try evaluate(program, points: rows, parameters: parameters)
                objects = results.map { GradJSON.object($0, tape: tape) }
                if let direction {
                    let tangents = try program.jvp(inputs: inputs, parameters: parameters, sharedDirection: direction).tangents[0]
                    for i in objects.indices {
                        objects[i] = appending(objects[i], "jvp", byOutput(tape) { .number(tangents[$0][i]) })
                    }
                }
                if hessian {
                    let hessians = try tape.outputs.indices.map { (k) throws(EvaluationError) in
                        try program.hessian(inputs: inputs, parameters: parameters, output: k)
                    }
                    for i in objects.indices {
                        objects[i] = appending(objects[i], "hessian", byOutput(tape) { k in
                            let h = hessians[k].hessian(at: i)
                            return .object(tape.inputs.indices.map { r in
                                (tape.inputs[r], .object(tape.inputs.indices.map { (tape.inputs[$0], .number(h[r][$0])) }))
                            })
                        })
                    }
                }
            } catch {
                throw .evaluation(error)
            }
            print(GradJSON.text(objects, asArray: points.count > 1))
        }
    }

    /// Values and the full Jacobian (inputs and parameters) at each point: one forward sweep
    /// and one reverse sweep per output (each reverse sweep differentiates its own output only,
    /// so one output's NaNs cannot leak into another's gradient).
    func evaluate(_ program: Program, points: [[Double]], parameters: [Double]) throws(EvaluationError) -> [PointResult] {
        let tape = program.tape
        let (n, nOut, nIn, nPar) = (points.count, tape.outputs.count, tape.inputs.count, tape.parameters.count)
        let inputs = (0..<nIn).map { j in points.map { $0[j] } }
        let rows = try program.jacobian(inputs: inputs, parameters: parameters, parameterGradient: .perPoint)
        return (0..<n).map { i in
            PointResult(values: (0..<nOut).map { rows[0].values[$0][i] },
                        gradients: rows.map { row in (0..<nIn).map { row.inputGradients[$0][i] } },
                        parameterGradients: rows.map { row in (0..<nPar).map { row.parameterGradients[$0][i] } })
        }
    }

    /// One value for a single output, `{output: value}` for several.
    func byOutput(_ tape: Tape, _ value: (Int) -> JSONValue) -> JSONValue {
        tape.outputs.count == 1 ? value(0) : .object(tape.outputs.indices.map { (tape.outputs[$0].name, value($0)) })
    }

    /// `object` with one more member at the end.
    func appending(_ object: JSONValue, _ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var members) = object else { return object }
        members.append(JSONValue.KeyValuePair(key, value))
        return .object(members)
    }
}
