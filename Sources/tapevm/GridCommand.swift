import ArgumentParser
import TapeVM
import TapeVMIO

/// The options `tapevm grid` and `tapevm eval` share: the grid, the outputs, the files.
struct GridOptions: ParsableArguments {
    @Option(name: .customLong("grid"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "An axis: input name, start, stop (both included) and number of points, e.g. --grid x=-3:3:2001. Repeat for more axes; the last varies fastest.",
        valueName: "name=start:stop:count"))
    var axes: [String] = []

    @Option(name: .customLong("at"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Inputs held fixed, e.g. --at z=0.5,w=1 (a slice of a function of more inputs).", valueName: "name=value,..."))
    var fixed: [String] = []

    @Option(help: ArgumentHelp("Two inputs: points along the first and the second, as NXxNY (or N for N×N).", valueName: "nx×ny"))
    var size: String?

    @Option(help: ArgumentHelp("Two inputs: points along the first (overrides --size).", valueName: "n"))
    var nx: Int?

    @Option(help: ArgumentHelp("Two inputs: points along the second (overrides --size).", valueName: "n"))
    var ny: Int?

    @Option(name: .customLong("x"), parsing: .unconditional,
            help: ArgumentHelp("Two inputs: range of the first, as lo:hi (default -3:3).", valueName: "lo:hi"))
    var xRange: String?

    @Option(name: .customLong("y"), parsing: .unconditional,
            help: ArgumentHelp("Two inputs: range of the second, as lo:hi (default -3:3).", valueName: "lo:hi"))
    var yRange: String?

    @Option(help: ArgumentHelp("Compute only the k-th of n contiguous parts of the grid (k from 0), e.g. --shard $SLURM_ARRAY_TASK_ID/16.", valueName: "k/n"))
    var shard: String?

    @Option(name: .customLong("output"), help: ArgumentHelp("For a function with several outputs: one to compute (repeat for more; default: all).", valueName: "name"))
    var outputs: [String] = []

    @Option(name: [.customShort("o"), .customLong("out")], help: ArgumentHelp(
        "Write the results: .npy (with a .npy.json sidecar naming the columns), .csv or .jsonl. Repeat for several files.",
        valueName: "file"))
    var files: [String] = []

    @Option(name: .customLong("csv"), help: .hidden)
    var csvPath: String?

    @Option(help: ArgumentHelp("Worker threads (default: every core).", valueName: "n"))
    var threads: Int?

    @Flag(name: [.customShort("q"), .long], help: "No progress line on stderr.")
    var quiet = false

    @Flag(help: "Add the second partial derivatives of each output: d2f/dx2, d2f/dxdy, d2f/dy2 for two inputs (the upper triangle of the Hessian, row by row).")
    var hessian = false

    @Option(name: .customLong("chunk-points"), help: .hidden)
    var chunkPoints: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let chunkPoints, chunkPoints < 1 || chunkPoints > 1 << 24 { throw ValidationError("--chunk-points must be from 1 to \(1 << 24)") }
    }

    /// Whether any of the two-input shorthands is given.
    var hasShorthand: Bool { size != nil || nx != nil || ny != nil || xRange != nil || yRange != nil }

    /// The axes: from `--grid`, or from the two-input shorthands (`--size`, `--x`, `--y`),
    /// which make the second input the outer axis and the first the inner one, so the array
    /// is `(ny, nx, columns)`.
    func resolvedAxes(tape: Tape, fixed: [(name: String, slot: Int, value: Double)], defaultSize: Bool) throws(CLIError) -> [GridAxis] {
        if !axes.isEmpty {
            if hasShorthand { throw .usage("--size, --nx, --ny, --x and --y describe a two-input grid: use them or --grid, not both") }
            var out: [GridAxis] = []
            for text in axes { out.append(try GridParsing.axis(text, tape: tape)) }
            return out
        }
        let free = tape.inputs.indices.filter { s in !fixed.contains { $0.slot == s } }
        guard hasShorthand || (defaultSize && free.count == 2) else { return [] }
        guard free.count == 2 else {
            throw .usage("--size, --nx, --ny, --x and --y describe a grid of two inputs; \(free.isEmpty ? "no input is left" : "\(free.map { tape.inputs[$0] }.joined(separator: ", ")) \(free.count == 1 ? "is" : "are") left") after --at: use --grid name=start:stop:count")
        }
        var (sx, sy) = (2000, 2000)
        if let size {
            let parts = size.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "x" || $0 == "X" || $0 == "×" })
            guard (1...2).contains(parts.count), let a = Int(parts[0]), let b = Int(parts.last!), a >= 1, b >= 1 else {
                throw .usage("--size '\(size)': expected NXxNY with positive integers, e.g. 2000x2000 (or N for N×N)")
            }
            (sx, sy) = (a, b)
        }
        if let nx { guard nx >= 1 else { throw .usage("--nx must be at least 1, got \(nx)") }; sx = nx }
        if let ny { guard ny >= 1 else { throw .usage("--ny must be at least 1, got \(ny)") }; sy = ny }
        let (x0, x1) = try range(xRange, option: "--x")
        let (y0, y1) = try range(yRange, option: "--y")
        let (first, second) = (free[0], free[1])
        return [GridAxis(name: tape.inputs[second], slot: second, start: y0, stop: y1, count: sy),
                GridAxis(name: tape.inputs[first], slot: first, start: x0, stop: x1, count: sx)]
    }

    private func range(_ text: String?, option: String) throws(CLIError) -> (Double, Double) {
        guard let text else { return (-3, 3) }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .usage("\(option) '\(text)': expected lo:hi, e.g. -3:3") }
        let lo = try Assignments.number(parts[0].trimmingSpaces, context: "\(option) '\(text)': lo")
        let hi = try Assignments.number(parts[1].trimmingSpaces, context: "\(option) '\(text)': hi")
        guard lo.isFinite, hi.isFinite else { throw .usage("\(option) '\(text)': the ends must be finite") }
        return (lo, hi)
    }

    /// The outputs to compute: `--output` names, or all.
    func outputIndices(tape: Tape) throws(CLIError) -> [Int] {
        if outputs.isEmpty { return Array(tape.outputs.indices) }
        var out: [Int] = []
        for name in outputs {
            let k = try outputIndex(name, in: tape)
            if !out.contains(k) { out.append(k) }
        }
        return out
    }
}

/// `tapevm grid`: value and gradient of a function over a grid of any number of inputs.
struct GridCommand: ParsableCommand {
    static let defaultFunction = "f(x, y) = (x + sigmoid(y)) / (sigmoid(x) + (x + y)^2)"

    static let configuration = CommandConfiguration(
        commandName: "grid",
        abstract: "Value and gradient of a function over a grid of its inputs.",
        discussion: """
            Example (a 3-D grid; the array is (101, 51, 11, 4): f, df/dx, df/dy, df/dz):
              tapevm grid 'f(x, y, z) = x*y*exp(-z^2)' --grid x=-1:1:101 \\
                  --grid y=-1:1:51 --grid z=0:1:11 -o f.npy
            A 2-D slice of a function of more inputs, drawn:
              tapevm grid 'f(x, y, z) = x*y*exp(-z^2)' --grid y=-1:1:200 \\
                  --grid x=-1:1:300 --at z=0.5 --plot slice.svg

            The grid is the Cartesian product of the --grid axes in row-major
            order: the first axis is the outermost, the last varies fastest
            (as numpy.meshgrid(..., indexing='ij') and numpy.load expect).
            Both ends of each axis are points. Inputs without an axis are
            fixed with --at. For two inputs, --size NXxNY, --x lo:hi and
            --y lo:hi are shorthands for --grid second=y:NY --grid first=x:NX
            (array (ny, nx, columns)); without an expression, runs
              \(defaultFunction)
            over 2000 × 2000 points of [-3, 3] × [-3, 3].

            Columns, per point: the value of each output, then the gradient
            of each output with respect to every input (a Jacobian for
            several outputs): f, df/dx, df/dy, ... (--output chooses outputs).
            --hessian adds each output's second partial derivatives, the
            upper triangle of its Hessian row by row: d2f/dx2, d2f/dxdy,
            d2f/dy2 for two inputs; d2f/dx2, d2f/dxdy, d2f/dxdz, d2f/dy2,
            d2f/dydz, d2f/dz2 for three (forward over reverse).

            Files (-o, repeatable; by extension), each written under a
            temporary name and renamed when complete:
              .npy    float64 array (n1, ..., nk, columns); the sidecar
                      <file>.npy.json names the columns and axes.
              .csv    a header row (axes, then columns), one row per point.
              .jsonl  one JSON object per point, keyed by the same names.
            --plot file.svg|file.png draws the first output over a 2-D grid
            or slice: heat map, axes, colour bar and gradient arrows.

            --shard k/n computes only the k-th of n contiguous parts of the
            grid (k = 0 ... n-1): its .npy is (points, columns), and the
            parts, concatenated in order and reshaped to the sidecar's
            gridShape, are the whole grid's array bit for bit
            ('tapevm join' does it).

            Prints a summary: timings (ns/point and Mpoints/s count the time
            spent evaluating, each worker's summed and divided by the
            workers; 'total' is the wall clock, adding making points,
            statistics and files), threads, CPU path, per column min / max /
            mean and the counts of NaN and infinite values, the largest
            finite |∇f| per output, and the columns at the first and last
            point and the grid's centre. A progress line shows on
            stderr when it is a terminal and the run takes over a second
            (--quiet: none).
            """)

    @OptionGroup var function: FunctionOptions
    @OptionGroup var grid: GridOptions

    @Option(help: ArgumentHelp("Draw the first output over the 2-D grid: heat map, axes, colour bar, gradient arrows (repeatable).", valueName: "file.svg|file.png"))
    var plot: [String] = []

    @Option(name: .customLong("png"), help: .hidden)
    var pngPath: String?

    func validate() throws { try grid.validate() }

    func run() throws {
        try reportingErrors { () throws(CLIError) in
            try GridRun(function: function, grid: grid, gradients: true, plotPaths: plot + (pngPath.map { [$0] } ?? []),
                        defaultFunction: GridCommand.defaultFunction).run()
        }
    }
}

/// `tapevm eval`: values only, over a grid or at one point.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Values of a function over a grid of its inputs (no gradients).",
        discussion: """
            Takes the options of 'tapevm grid' and computes the outputs' values
            only (one forward sweep per point: faster, and the columns are the
            outputs; no --hessian). With every input fixed by --at, evaluates
            one point:
              tapevm eval 'f(x, y) = x * y' --at x=2,y=3
            """)

    @OptionGroup var function: FunctionOptions
    @OptionGroup var grid: GridOptions

    @Option(help: ArgumentHelp("Draw the first output over the 2-D grid (no arrows: no gradients; repeatable).", valueName: "file.svg|file.png"))
    var plot: [String] = []

    func validate() throws { try grid.validate() }

    func run() throws {
        try reportingErrors { () throws(CLIError) in
            try GridRun(function: function, grid: grid, gradients: false, plotPaths: plot, defaultFunction: nil).run()
        }
    }
}

/// One run of `grid` or `eval`: checks everything (files opened) before the first point.
struct GridRun {
    var function: FunctionOptions
    var grid: GridOptions
    var gradients: Bool
    var plotPaths: [String]
    var defaultFunction: String?

    func run() throws(CLIError) {
        let (tape, text) = try function.tape(default: defaultFunction)
        let parameters = try function.parameterValues(for: tape)
        let fixed = try GridParsing.fixed(grid.fixed, tape: tape)
        let axes = try grid.resolvedAxes(tape: tape, fixed: fixed, defaultSize: defaultFunction != nil)
        let shard = try grid.shard.map { (s) throws(CLIError) in try GridParsing.shard(s) }
        let spec = try GridParsing.spec(axes: axes, fixed: fixed, shard: shard, tape: tape)
        if grid.hessian && !gradients {
            throw .usage("--hessian: 'tapevm eval' computes values only; use 'tapevm grid --hessian' for second derivatives")
        }
        let columns = GridColumns(tape: tape, outputs: try grid.outputIndices(tape: tape), gradients: gradients, hessians: grid.hessian)

        var files = grid.files
        if let csv = grid.csvPath { files.append(csv) }
        var formats: [GridFileFormat] = []
        for path in files {
            guard let f = GridFileFormat.of(path) else {
                throw .usage("--out \(path): unknown file type: use .npy, .csv or .jsonl")
            }
            formats.append(f)
        }
        let options = ExecutionOptions(threads: grid.threads)
        let program = Program(tape, options: options)
        warnAboutRequestedInstructionSet(options)

        let stats = GridStatistics(grid: spec, columns: columns)
        var sinks: [any GridSink] = []
        var plots: [GridPlotSink] = []
        for path in plotPaths {
            plots.append(try GridPlotSink(path: path, grid: spec, columns: columns, tape: tape, title: oneLine(text)))
        }
        let description = GridFileDescription(function: text, columns: columns.names, grid: spec,
                                              parameters: Array(zip(tape.parameters, parameters)))
        for (path, format) in zip(files, formats) {
            switch format {
            case .npy: sinks.append(try NPYGridSink(path: path, description: description))
            case .csv, .jsonl: sinks.append(try TextGridSink(path: path, format: format, grid: spec, columns: columns.names))
            }
        }
        sinks += plots as [any GridSink]
        Interruption.removeOnSignal(sinks.flatMap(\.temporaryPaths))

        // The sweep makes the threads: each worker runs the program on one thread.
        var workerOptions = options
        workerOptions.threads = 1
        let sweep = GridSweep(program: Program(tape, options: workerOptions), parameters: parameters, columns: columns,
                              threads: options.resolvedThreads,
                              chunkPoints: grid.chunkPoints ?? GridSweep.chunkPoints(inputs: tape.inputs.count, columns: columns.count,
                                                                                      tile: program.tileSize))
        let timing = try sweep.run(spec, statistics: stats, sinks: sinks,
                                   progress: Progress.make(total: spec.range.count, quiet: grid.quiet))
        printSummary(tape: tape, program: program, text: text, parameters: parameters, spec: spec, columns: columns,
                     timing: timing, stats: stats, files: zip(files, formats).map { ($0, $1) }, plots: plots)
    }

    private func printSummary(tape: Tape, program: Program, text: String, parameters: [Double], spec: GridSpec, columns: GridColumns,
                              timing: GridSweep.Timing, stats: GridStatistics, files: [(String, GridFileFormat)], plots: [GridPlotSink]) {
        let run = timing.run.seconds, total = timing.total.seconds
        let points = Double(spec.range.count)
        var out: [(String, String)] = []
        out.append(("function", oneLine(text)))
        if tape.outputs.count > 1 {
            out.append(("outputs", "\(columns.outputs.map { tape.outputs[$0].name }.joined(separator: ", ")) (of \(tape.outputs.map(\.name).joined(separator: ", ")))"))
        }
        if !tape.parameters.isEmpty {
            out.append(("parameters", zip(tape.parameters, parameters).map { "\($0)=\(readable($1))" }.joined(separator: ", ")))
        }
        out.append(("grid", spec.summary))
        if let (k, n) = spec.shard {
            out.append(("shard", "part \(k) of \(n) (from 0): points \(spec.range.lowerBound) to \(spec.range.upperBound - 1) of \(spec.totalCount) (\(spec.range.count))"))
        }
        let perPoint = points > 0 ? "\(format(run / points * 1e9, "%.1f")) ns/point, \(format(points / run / 1e6, "%.2f")) Mpoints/s" : "no points"
        out.append(("time", "\(format(run, "%.3f")) s evaluating (\(perPoint)); \(format(total, "%.3f")) s total (\(format(100 * run / Swift.max(total, 1e-12), "%.0f"))% evaluating)"))
        let st = program.statistics
        out.append(("tape", "\(tape.instructions.count) instructions; after optimization \(st.forwardInstructions) forward, \(st.reverseInstructions) reverse"))
        out += executionSummary(program)
        for (c, name) in columns.names.enumerated() { out.append((name, stats.columns[c].text)) }
        for (k, o) in columns.outputs.enumerated() where columns.gradients {
            out.append(("|∇\(tape.outputs[o].name)|", "max \(readable(stats.maxGradientNorm[k])) (largest finite)"))
        }
        for (n, s) in stats.samples.enumerated() where !s.columns.isEmpty {
            let at = spec.axes.isEmpty ? "" : "(" + zip(spec.axes, s.coordinates).map { "\($0.name)=\(readable($1))" }.joined(separator: ", ") + ")  "
            out.append((n == 0 ? "samples" : "", at + zip(columns.names, s.columns).map { "\($0) = \(readable($1))" }.joined(separator: ", ")))
        }
        var wrote: [String] = []
        let shape = GridFileDescription(function: "", columns: columns.names, grid: spec, parameters: []).shape
        for (path, format) in files {
            switch format {
            case .npy: wrote.append("\(path): float64 array (\(shape.map(String.init).joined(separator: ", "))\(shape.count == 1 ? "," : "")) of \(columns.names.joined(separator: ", ")); sidecar \(GridFileDescription.path(for: path))")
            case .csv: wrote.append("\(path): \(spec.range.count) rows of \((spec.axes.map(\.name) + columns.names).joined(separator: ","))")
            case .jsonl: wrote.append("\(path): \(spec.range.count) JSON objects with \((spec.axes.map(\.name) + columns.names).joined(separator: ", "))")
            }
        }
        wrote += plots.map(\.summary)
        for (k, line) in wrote.enumerated() { out.append((k == 0 ? "wrote" : "", line)) }
        printTable(out)
    }
}
