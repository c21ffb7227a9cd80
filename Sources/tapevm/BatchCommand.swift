import ArgumentParser
import TapeVM
import TapeVMIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `tapevm batch`: value and gradient at every point of a data file, with the parameter
/// gradient summed over the data set.
struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Value and gradient at the points of a CSV or .npy file; parameter gradient summed over them.",
        discussion: """
            Example (a loss over a data set: data fixed, weights variable):
              tapevm batch 'loss(x, y; w, b) = (w * x + b - y)^2' \\
                  --in data.csv --param w=0.5,b=0 --out result.npy

            Input (--in; the extension decides, --format overrides):
              .csv  a header row of column names, then one row per point.
                    Columns are matched to the function's inputs by name;
                    other columns are ignored (a note on stderr says which).
                    Numbers are decimal, nan, inf or -inf.
              .npy  a float64 array of shape (N, inputs), columns in the
                    function's input order, or (N,) for one input.
            The file is read in blocks of --block-rows rows (65536), each
            run through the evaluator in preallocated buffers, so memory stays
            bounded whatever the file size.

            Output (--out, optional; by extension): one row per point of
              each output's value, then the gradient of the chosen output
              (--output, default the first) with respect to each input, then
              with --per-point-params with respect to each parameter.
              .npy  float64 array of shape (N, columns).
              .csv  a header naming the columns (f,df/dx,df/dy), then rows.

            Always prints a summary: rows, time (ns/point counts the time
            spent evaluating; 'total' adds reading and writing), threads,
            CPU path, min / max / mean of each output over its finite values,
            and the gradient of the chosen output with respect to each
            parameter summed over every row, one line each:
              ∂f/∂w = 12.5
            (the shortest decimal that reads back as the same double). The
            sum is taken per block in block order: the same bits whatever
            --threads is.

            Errors are one line on stderr: exit code 64 for bad arguments
            (unknown file type), 65 for a function or data that do not fit
            (missing columns, wrong shape), 74 for files that cannot be read
            or written (including malformed CSV: line and column are given).
            """)

    @OptionGroup var function: FunctionOptions

    @Option(name: .customLong("in"), help: ArgumentHelp("The points: a .csv file with a header row, or a float64 .npy of shape (N, inputs).", valueName: "file"))
    var inputPath: String

    @Option(name: .customLong("format"), help: ArgumentHelp("The format of --in, when its extension does not say.", valueName: "csv|npy"))
    var inputFormat: PointFormat?

    @Option(name: .customLong("out"), help: ArgumentHelp("Write values and gradients per point as .npy (N × columns) or .csv.", valueName: "file"))
    var outputPath: String?

    @Option(help: ArgumentHelp("For a function with several outputs: the one to differentiate (default: the first).", valueName: "name"))
    var output: String?

    @Flag(help: "Also write each point's gradient with respect to the parameters to --out.")
    var perPointParams = false

    @Option(help: ArgumentHelp("Worker threads (default: every core).", valueName: "n"))
    var threads: Int?

    @Option(help: ArgumentHelp("Rows read and evaluated per block.", valueName: "n"))
    var blockRows = 65536

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if blockRows < 1 || blockRows > 1 << 24 { throw ValidationError("--block-rows must be from 1 to \(1 << 24), got \(blockRows)") }
        if perPointParams && outputPath == nil { throw ValidationError("--per-point-params adds columns to --out: give --out file.npy or file.csv") }
    }

    func run() throws {
        try reportingErrors { () throws(CLIError) in try batch() }
    }

    private func batch() throws(CLIError) {
        let clock = ContinuousClock()
        let begin = clock.now
        let (tape, text) = try function.tape()
        guard !tape.inputs.isEmpty else {
            throw .data("batch needs a function of at least one input, read from the columns of --in; this one has none (use tapevm grad)")
        }
        let parameters = try function.parameterValues(for: tape, inputOption: "--in")
        let chosen = try outputIndex(output, in: tape)
        var outputFormat: PointFormat?
        if let outputPath {
            guard let f = PointFormat.of(outputPath) else {
                throw .usage("--out \(outputPath): unknown file type: use a .npy or .csv file")
            }
            if sameFile(outputPath, inputPath) { throw .usage("--out \(outputPath) is the --in file: it would be overwritten") }
            outputFormat = f
        }
        let source = try openPoints(path: inputPath, format: inputFormat, inputs: tape.inputs)

        let options = ExecutionOptions(threads: threads)
        warnAboutRequestedInstructionSet(options)
        let program = Program(tape, options: options)

        let outputName = tape.outputs[chosen].name
        let (nOut, nPar) = (tape.outputs.count, tape.parameters.count)
        var header = tape.outputs.map(\.name) + tape.inputs.map { "d\(outputName)/d\($0)" }
        if perPointParams { header += tape.parameters.map { "d\(outputName)/d\($0)" } }

        var sink: (any ResultSink)?
        if let outputPath, let outputFormat {
            switch outputFormat {
            case .npy: sink = try NPYResultSink(path: outputPath, columns: header.count, rows: source.count)
            case .csv: sink = try CSVResultSink(path: outputPath, header: header)
            }
        }
        let result: BatchLoop.Result
        do throws(CLIError) {
            let loop = BatchLoop(program: program, parameters: parameters, output: chosen,
                                 perPointParameters: perPointParams, blockRows: blockRows)
            result = try loop.run(source, sink: sink)
            try sink?.finish()
        } catch {
            // No half-written file left behind: the sink's temporary file goes with it.
            sink = nil
            throw error
        }

        var out: [(String, String)] = []
        out.append(("input", "\(inputPath): \(source.summary)"))
        out.append(("function", oneLine(text)))
        if nOut > 1 { out.append(("output", "\(outputName) differentiated (of \(tape.outputs.map(\.name).joined(separator: ", ")))")) }
        if nPar > 0 {
            out.append(("parameters", zip(tape.parameters, parameters).map { "\($0)=\(readable($1))" }.joined(separator: ", ")))
        }
        out.append(("rows", "\(result.rows)"))
        let run = result.runTime.seconds, total = (clock.now - begin).seconds
        let perPoint = result.rows > 0 ? "\(format(run / Double(result.rows) * 1e9, "%.1f")) ns/point" : "no points"
        out.append(("time", "\(format(run, "%.3f")) s evaluating (\(perPoint)); \(format(total, "%.3f")) s total"))
        out += executionSummary(program)
        for k in 0..<nOut { out.append((tape.outputs[k].name, result.statistics[k].text)) }
        if let outputPath {
            let shape = "(\(result.rows), \(header.count))"
            out.append(("wrote", "\(outputPath): \(outputFormat == .npy ? "float64 array \(shape)" : "\(result.rows) rows") of \(header.joined(separator: ","))"))
        }
        printTable(out)
        if nPar > 0 {
            print("gradient of \(outputName) with respect to the parameters, summed over the \(result.rows) rows:")
            for (name, sum) in zip(tape.parameters, result.parameterGradientSum) {
                print("  ∂\(outputName)/∂\(name) = \(JSONValue.format(sum))")
            }
        }
    }

    /// Whether two paths name the same existing file.
    private func sameFile(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}

/// Streams points through `Program.run` a block at a time, in preallocated buffers: values of
/// every output, the gradient of one output with respect to every input (and, if asked, every
/// parameter) per point, and its parameter gradient summed over all points.
struct BatchLoop {
    var program: Program
    var parameters: [Double]
    /// The output differentiated.
    var output: Int
    /// Whether result rows hold per-point parameter gradients.
    var perPointParameters: Bool
    var blockRows: Int

    struct Result {
        var rows = 0
        /// Time inside `Program.run`.
        var runTime = Duration.zero
        /// Per output.
        var statistics: [ColumnStatistics]
        /// Per parameter: Σ over rows of ∂ output / ∂ parameter, summed block by block in order.
        var parameterGradientSum: [Double]
    }

    func run(_ source: any PointSource, sink: (any ResultSink)?) throws(CLIError) -> Result {
        let tape = program.tape
        let (nOut, nIn, nPar) = (tape.outputs.count, tape.inputs.count, tape.parameters.count)
        let width = nOut + nIn + (perPointParameters ? nPar : 0)
        let cap = Swift.max(1, Swift.min(blockRows, source.count ?? blockRows))
        let inputBuffer = UnsafeMutablePointer<Double>.allocate(capacity: nIn * cap)
        let resultBuffer = UnsafeMutablePointer<Double>.allocate(capacity: width * cap)
        let blockSums = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, nPar))
        defer { inputBuffer.deallocate(); resultBuffer.deallocate(); blockSums.deallocate() }
        inputBuffer.initialize(repeating: 0, count: nIn * cap)
        resultBuffer.initialize(repeating: 0, count: width * cap)
        blockSums.initialize(repeating: 0, count: Swift.max(1, nPar))
        let inputs = (0..<nIn).map { inputBuffer + $0 * cap }
        let columns = (0..<width).map { resultBuffer + $0 * cap }
        let request = GradientRequest(
            seeds: (0..<nOut).map { $0 == output ? 1 : 0 },
            inputGradients: Array(columns[nOut..<nOut + nIn]),
            parameterGradients: perPointParameters ? Array(columns[(nOut + nIn)...]) : [],
            parameterGradientSums: nPar > 0 ? blockSums : nil)
        let values = Array(columns[0..<nOut]).map { Optional($0) }
        let constInputs = inputs.map { UnsafePointer($0) }
        let constColumns = columns.map { UnsafePointer($0) }

        var result = Result(statistics: Array(repeating: ColumnStatistics(), count: nOut),
                            parameterGradientSum: Array(repeating: 0, count: nPar))
        let clock = ContinuousClock()
        while true {
            let n = try source.read(into: inputs, rows: cap)
            if n == 0 { break }
            let t0 = clock.now
            do throws(EvaluationError) {
                try program.run(count: n, inputs: constInputs, parameters: parameters, values: values, gradients: [request])
            } catch {
                throw .evaluation(error)
            }
            result.runTime += clock.now - t0
            for p in 0..<nPar { result.parameterGradientSum[p] += blockSums[p] }
            for k in 0..<nOut { result.statistics[k].add(columns[k], count: n) }
            try sink?.write(constColumns, rows: n)
            result.rows += n
        }
        return result
    }
}
