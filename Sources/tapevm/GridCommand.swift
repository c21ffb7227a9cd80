import ArgumentParser
import TapeVM
import TapeVMIO

/// `tapevm grid`: value and gradient of a two-input function over an N×M grid.
struct GridCommand: ParsableCommand {
    static let defaultFunction = "f(x, y) = (x + sigmoid(y)) / (sigmoid(x) + (x + y)^2)"

    static let configuration = CommandConfiguration(
        commandName: "grid",
        abstract: "Value and gradient of f(x, y) over a grid.",
        discussion: """
            Without an expression, runs the built-in function
              \(defaultFunction)
            over 2000 × 2000 points of [-3, 3] × [-3, 3].

            The first input varies along --x, the second along --y; both ends of
            each range are grid points. The grid streams through the evaluator
            in blocks of 262144 points, so memory stays bounded whatever the
            grid size, and files are written block by block.

            Prints a summary: timings (ns/point and Mpoints/s count the time
            spent evaluating; 'total' adds making points and writing files),
            threads, CPU path, min / max / mean of f over its finite values,
            max |∇f|, and the value and gradient at the first corner, the
            centre and the last corner of the grid.

            Files (each optional):
              --out file.npy  float64 array of shape (ny, nx, 3): [f, df/dx,
                              df/dy] at row j (j-th y), column i (i-th x);
                              load with numpy.load.
              --csv file.csv  header x,y,f,df/dx,df/dy, then one row per point
                              (about 80 bytes per point); nan, inf, -inf.
              --png file.png  heat map of f (viridis, 1st to 99th percentile),
                              darker where |∇f| is large; at most 1000 × 1000
                              pixels (averaging points); largest y at the top.
            """)

    @OptionGroup var function: FunctionOptions

    @Option(help: ArgumentHelp("Grid points along x and y, as NXxNY (or N for N×N).", valueName: "nx×ny"),
            transform: GridSize.parse)
    var size = GridSize(nx: 2000, ny: 2000)

    @Option(help: ArgumentHelp("Points along x (overrides --size).", valueName: "n"))
    var nx: Int?

    @Option(help: ArgumentHelp("Points along y (overrides --size).", valueName: "n"))
    var ny: Int?

    @Option(name: .customLong("x"), parsing: .unconditional,
            help: ArgumentHelp("Range of the first input, as lo:hi.", valueName: "lo:hi"),
            transform: AxisRange.parse)
    var xRange = AxisRange(lo: -3, hi: 3)

    @Option(name: .customLong("y"), parsing: .unconditional,
            help: ArgumentHelp("Range of the second input, as lo:hi.", valueName: "lo:hi"),
            transform: AxisRange.parse)
    var yRange = AxisRange(lo: -3, hi: 3)

    @Option(help: ArgumentHelp("Worker threads (default: every core).", valueName: "n"))
    var threads: Int?

    @Option(help: ArgumentHelp("For a function with several outputs: the one to evaluate (default: the first).", valueName: "name"))
    var output: String?

    @Option(name: .customLong("out"), help: ArgumentHelp("Write [f, df/dx, df/dy] as a .npy array of shape (ny, nx, 3).", valueName: "file.npy"))
    var npyPath: String?

    @Option(name: .customLong("csv"), help: ArgumentHelp("Write x,y,f,df/dx,df/dy rows as CSV (big!).", valueName: "file.csv"))
    var csvPath: String?

    @Option(name: .customLong("png"), help: ArgumentHelp("Write a heat map of f shaded by |∇f| (≤ 1000×1000 pixels).", valueName: "file.png"))
    var pngPath: String?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let nx, nx < 1 { throw ValidationError("--nx must be at least 1, got \(nx)") }
        if let ny, ny < 1 { throw ValidationError("--ny must be at least 1, got \(ny)") }
        let (nx, ny) = (nx ?? size.nx, ny ?? size.ny)
        let (points, overflow) = nx.multipliedReportingOverflow(by: ny)
        if overflow || points > 1 << 50 { throw ValidationError("a \(nx) × \(ny) grid has too many points") }
    }

    func run() throws {
        try reportingErrors { () throws(CLIError) in try sweep() }
    }

    private func sweep() throws(CLIError) {
        let (tape, text) = try function.tape(default: GridCommand.defaultFunction)
        guard tape.inputs.count == 2 else {
            throw .data("grid needs a function of exactly 2 inputs; this one has \(tape.inputs.count)\(tape.inputs.isEmpty ? "" : " (\(tape.inputs.joined(separator: ", ")))")")
        }
        let parameters = try function.parameterValues(for: tape)
        let outputIndex = try outputIndex(output, in: tape)
        let outputName = tape.outputs[outputIndex].name
        let grid = GridSpec(nx: nx ?? size.nx, ny: ny ?? size.ny, x: xRange, y: yRange)
        let options = ExecutionOptions(threads: threads)
        // The sweep seeds only the chosen output: the others cannot leak NaN into its gradient.
        let program = Program(tape, options: options)
        warnAboutRequestedInstructionSet(options)

        let stats = GridStatistics(grid: grid)
        var sinks: [any GridSink] = [stats]
        if let npyPath { sinks.append(try NPYSink(path: npyPath, grid: grid)) }
        if let csvPath {
            printError("warning: --csv writes \(grid.count) rows (about \(readableBytes(Double(grid.count) * 80))); --out file.npy is smaller and faster")
            sinks.append(try CSVSink(path: csvPath, inputs: tape.inputs, output: outputName))
        }
        if let pngPath { sinks.append(PNGSink(path: pngPath, grid: grid)) }

        let timing = try GridSweep(program: program, parameters: parameters, output: outputIndex).run(grid, sinks: sinks)
        printSummary(tape: tape, program: program, text: text, output: outputName, grid: grid, options: options, timing: timing, stats: stats)
    }

    private func printSummary(tape: Tape, program: Program, text: String, output: String, grid: GridSpec, options: ExecutionOptions,
                              timing: GridSweep.Timing, stats: GridStatistics) {
        let (a, b) = (tape.inputs[0], tape.inputs[1])
        let run = timing.run.seconds
        let points = Double(grid.count)
        var out: [(String, String)] = []
        out.append(("function", oneLine(text)))
        if tape.outputs.count > 1 { out.append(("output", "\(output) (of \(tape.outputs.map(\.name).joined(separator: ", ")))")) }
        if !tape.parameters.isEmpty {
            out.append(("parameters", zip(tape.parameters, try! function.parameterValues(for: tape)).map { "\($0)=\(readable($1))" }.joined(separator: ", ")))
        }
        out.append(("grid", "\(grid.nx) × \(grid.ny) = \(grid.count) points, \(a) ∈ [\(readable(grid.x.lo)), \(readable(grid.x.hi))], \(b) ∈ [\(readable(grid.y.lo)), \(readable(grid.y.hi))]"))
        out.append(("time", "\(format(run, "%.3f")) s evaluating (\(format(run / points * 1e9, "%.1f")) ns/point, \(format(points / run / 1e6, "%.2f")) Mpoints/s); \(format(timing.total.seconds, "%.3f")) s total"))
        let st = program.statistics
        out.append(("tape", "\(tape.instructions.count) instructions; after optimization \(st.forwardInstructions) forward, \(st.reverseInstructions) reverse"))
        out += executionSummary(options)
        var fLine = "min \(readable(stats.minimum)), max \(readable(stats.maximum)), mean \(readable(stats.mean))"
        if stats.nonFiniteValues > 0 { fLine += " (over finite values; \(stats.nonFiniteValues) NaN or infinite)" }
        out.append((output, stats.finiteCount > 0 ? fLine : "no finite value"))
        var gLine = "max \(readable(stats.maxGradientNorm))"
        if stats.nonFiniteGradients > 0 { gLine += " (\(stats.nonFiniteGradients) NaN or infinite)" }
        out.append(("|∇\(output)|", gLine))
        for (n, s) in stats.samples.enumerated() {
            out.append((n == 0 ? "samples" : "",
                        "\(output)(\(readable(s.x)), \(readable(s.y))) = \(readable(s.f)), ∇ = (\(readable(s.dfdx)), \(readable(s.dfdy)))"))
        }
        if let npyPath { out.append(("wrote", "\(npyPath): float64 array (\(grid.ny), \(grid.nx), 3) of [\(output), d\(output)/d\(a), d\(output)/d\(b)]")) }
        if let csvPath { out.append((npyPath == nil ? "wrote" : "", "\(csvPath): \(grid.count) rows of \(a),\(b),\(output),d\(output)/d\(a),d\(output)/d\(b)")) }
        if let pngPath {
            let (w, h) = (Swift.min(grid.nx, PNGSink.maximumSide), Swift.min(grid.ny, PNGSink.maximumSide))
            out.append((npyPath == nil && csvPath == nil ? "wrote" : "", "\(pngPath): \(w) × \(h) heat map of \(output)"))
        }
        printTable(out)
    }
}

/// `--size NXxNY`.
struct GridSize: CustomStringConvertible {
    var nx: Int
    var ny: Int

    static func parse(_ text: String) throws -> GridSize {
        let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "x" || $0 == "X" || $0 == "×" })
        guard (1...2).contains(parts.count), let nx = Int(parts[0]), let ny = Int(parts.last!), nx >= 1, ny >= 1 else {
            throw ValidationError("expected NXxNY with positive integers, e.g. 2000x2000 (or N for N×N)")
        }
        return GridSize(nx: nx, ny: ny)
    }

    var description: String { "\(nx)x\(ny)" }
}

/// `--x lo:hi`.
struct AxisRange: CustomStringConvertible {
    var lo: Double
    var hi: Double

    static func parse(_ text: String) throws -> AxisRange {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw ValidationError("expected lo:hi, e.g. -3:3")
        }
        do throws(CLIError) {
            let lo = try Assignments.number(parts[0].trimmingSpaces, context: "lo")
            let hi = try Assignments.number(parts[1].trimmingSpaces, context: "hi")
            guard lo.isFinite, hi.isFinite else { throw CLIError.usage("the ends must be finite") }
            return AxisRange(lo: lo, hi: hi)
        } catch {
            throw ValidationError(error.message)
        }
    }

    var description: String { "\(JSONValue.format(lo)):\(JSONValue.format(hi))" }
}
