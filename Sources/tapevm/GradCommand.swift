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
            let results: [PointResult]
            do throws(EvaluationError) {
                results = try evaluate(tape, points: rows, parameters: parameters)
            } catch {
                throw .evaluation(error)
            }
            let objects = results.map { GradJSON.object($0, tape: tape) }
            print(GradJSON.text(objects, asArray: points.count > 1))
        }
    }

    /// Values and the full Jacobian (inputs and parameters) at each point: one forward sweep
    /// and one reverse sweep per output (each reverse sweep differentiates its own output only,
    /// so one output's NaNs cannot leak into another's gradient).
    func evaluate(_ tape: Tape, points: [[Double]], parameters: [Double]) throws(EvaluationError) -> [PointResult] {
        let (n, nOut, nIn, nPar) = (points.count, tape.outputs.count, tape.inputs.count, tape.parameters.count)
        let inputs = (0..<nIn).map { j in points.map { $0[j] } }
        let rows = try Program(tape).jacobian(inputs: inputs, parameters: parameters, parameterGradient: .perPoint)
        return (0..<n).map { i in
            PointResult(values: (0..<nOut).map { rows[0].values[$0][i] },
                        gradients: rows.map { row in (0..<nIn).map { row.inputGradients[$0][i] } },
                        parameterGradients: rows.map { row in (0..<nPar).map { row.parameterGradients[$0][i] } })
        }
    }
}
