import ArgumentParser

/// The root command: `tapevm <subcommand>`.
@main
struct TapeVMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tapevm",
        abstract: "Compile a function to a tape; evaluate values and gradients over many points with SIMD kernels.",
        discussion: """
            Functions are written in TapeVM's expression language, for example
              f(x, y; w) = let s = sigmoid(y) in (x + s) / (sigmoid(x) + (x + y)^2)
            with the inputs before ';' and the parameters (shared by every point) after it.
            Run 'tapevm ops' for the instruction set and each instruction's gradient rule.

            The CPU code path is the fastest one the CPU supports; set TAPEVM_ISA=portable,
            avx2 or avx512 to force one.
            """,
        version: TapeVMCommand.version,
        subcommands: [GradCommand.self, GridCommand.self, OpsCommand.self])

    /// The version printed by `--version`.
    static let version = "0.1.0"
}
