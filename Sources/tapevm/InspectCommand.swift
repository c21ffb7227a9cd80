import ArgumentParser
import TapeVM
import TapeVMIO

/// `tapevm inspect`: what a function compiles to and how it runs.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a function's inputs, outputs, instructions and execution plan.",
        discussion: """
            Prints the inputs, parameters and outputs; the number of instructions
            as written and after the optimizer, with the forward and reverse
            sweeps' lengths; a histogram of the opcodes before and after
            optimization; the value and adjoint planes of a tile; the tile size;
            the workspace per thread; and the CPU code path. Reads an expression
            or a .tape file (--file f.tape).
            """)

    @OptionGroup var function: FunctionOptions

    @Option(help: ArgumentHelp("Worker threads the plan is made for (default: every core).", valueName: "n"))
    var threads: Int?

    func run() throws {
        try reportingErrors { () throws(CLIError) in
            let (tape, text) = try function.tape()
            let options = ExecutionOptions(threads: threads)
            warnAboutRequestedInstructionSet(options)
            let program = Program(tape, options: options)
            let optimized = program.optimizedTape
            let st = program.statistics
            func names(_ list: [String]) -> String { list.isEmpty ? "none" : "\(list.count): \(list.joined(separator: ", "))" }
            var out: [(String, String)] = [
                ("function", oneLine(text)),
                ("inputs", names(tape.inputs)),
                ("parameters", names(tape.parameters)),
                ("outputs", names(tape.outputs.map(\.name))),
                ("instructions", "\(tape.instructions.count) as written; \(optimized.instructions.count) after optimization"),
                ("sweeps", "\(st.forwardInstructions) forward, \(st.reverseInstructions) reverse (with gradients)"),
                ("planes", "\(st.valuePlanes) value, \(st.adjointPlanes) adjoint (per tile)"),
                ("tile", "\(program.tileSize) points"),
                ("workspace", "\(program.workspaceBytes) bytes per thread (\(readableBytes(Double(program.workspaceBytes))))"),
            ]
            out += executionSummary(program)
            printTable(out)
            print("opcodes (before → after optimization):")
            var before: [Opcode: Int] = [:], after: [Opcode: Int] = [:]
            for i in tape.instructions { before[i.opcode, default: 0] += 1 }
            for i in optimized.instructions { after[i.opcode, default: 0] += 1 }
            let used = Opcode.allCases.filter { before[$0] != nil || after[$0] != nil }
            let width = used.map(\.mnemonic.count).max() ?? 0
            for op in used {
                let b = String(before[op] ?? 0), a = String(after[op] ?? 0)
                print("  " + op.mnemonic + String(repeating: " ", count: width - op.mnemonic.count)
                      + "  " + String(repeating: " ", count: Swift.max(0, 4 - b.count)) + b + " → " + a)
            }
        }
    }
}

/// `tapevm compile`: an expression to a `.tape` file.
struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Compile an expression to a .tape file, which every command reads with --file.",
        discussion: """
            Example:
              tapevm compile 'f(x, y) = x * exp(-y^2)' -o f.tape
              tapevm grid --file f.tape --grid x=-1:1:100 --grid y=-1:1:100
            The .tape file is TapeVM's text format (one instruction per line,
            constants spelled to round-trip exactly); --optimized writes the
            tape after the optimizer instead of as written.
            """)

    @OptionGroup var function: FunctionOptions

    @Option(name: [.customShort("o"), .customLong("out")], help: ArgumentHelp("The .tape file to write.", valueName: "file.tape"))
    var outputPath: String

    @Flag(help: "Write the tape after the optimizer's passes.")
    var optimized = false

    func run() throws {
        try reportingErrors { () throws(CLIError) in
            let (tape, _) = try function.tape()
            let written = optimized ? tape.optimized() : tape
            do throws(FileError) {
                let file = try OutputFile(path: outputPath)
                try file.write(written.text)
                try file.commit()
            } catch {
                throw .file(error)
            }
            print("wrote \(outputPath): \(written.instructions.count) instructions, inputs \(tape.inputs.joined(separator: ", ")), outputs \(tape.outputs.map(\.name).joined(separator: ", "))")
        }
    }
}
