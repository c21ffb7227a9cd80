import ArgumentParser

/// The root command: `tapevm <subcommand>`.
@main
struct TapeVMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tapevm",
        abstract: "Values and gradients of functions over many points, on SIMD kernels.",
        discussion: """
            Functions are written in TapeVM's expression language, e.g.
              f(x, y; w) = let s = sigmoid(y) in (x + s) / (sigmoid(x) + w)
            with the inputs before ';' and the parameters (shared by every
            point) after it. 'tapevm ops' lists the instructions with their
            gradient rules.

            The CPU code path is the fastest one the CPU supports; set
            TAPEVM_ISA=swift, avx2 or avx512 to choose one.
            """,
        version: TapeVMCommand.version,
        subcommands: [GradCommand.self, GridCommand.self, BatchCommand.self, OpsCommand.self])

    /// The version printed by `--version`.
    static let version = "0.1.0"
}
