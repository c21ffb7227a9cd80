import ArgumentParser
import TapeVM

/// `tapevm ops`: the instruction set, from the opcode table.
struct OpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "List the instruction set and its gradient rules.",
        discussion: """
            The table is the library's own (Opcode.allCases and Opcode.info),
            so it always lists the instruction set the kernels run. In
            expressions, call an instruction by its mnemonic with as many
            arguments as its arity; input, param and const are written as
            names and numbers.
            """)

    func run() {
        let rows = Opcode.allCases.map { op in
            let info = op.info
            let imm: String = switch info.immediate {
            case .none: "-"
            case .slot: "slot"
            case .value: "value"
            case .exponent: "exponent"
            }
            return [info.mnemonic, String(info.arity), imm, info.isDifferentiable ? "yes" : "no", info.summary]
        }
        let header = ["mnemonic", "arity", "immediate", "gradient", "rule"]
        let widths = (0..<4).map { c in ([header] + rows).map { $0[c].count }.max()! }
        func line(_ cells: [String]) -> String {
            (0..<4).map { cells[$0] + String(repeating: " ", count: widths[$0] - cells[$0].count) }.joined(separator: "  ")
                + "  " + cells[4]
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }
}
