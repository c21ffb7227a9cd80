import Foundation
import TapeVM

/// Time and memory of the tape pipeline at a given size (`tapevm-check scale N`): build a random
/// tape of N instructions, print it as text, parse the text back, make a `Program` (optimizer
/// and plans) and run value and gradient on `points` points (4096 by default). Run once per size in its own process
/// (the peak resident size is per process) to see that both grow linearly.
public enum Scale {
    /// The peak resident set of this process so far, in MiB.
    static func peakMiB() -> Double {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_maxrss) / 1024   // KiB on Linux
    }

    /// CPU seconds this process has used (all threads): on a shared machine the measure that
    /// does not depend on what else runs.
    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    public static func run(instructions: Int, points: Int = 4096, log: (String) -> Void) throws {
        var stages: [(String, Double, Double)] = []
        func stage<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
            let start = cpuSeconds()
            let result = try body()
            stages.append((name, cpuSeconds() - start, peakMiB()))
            return result
        }
        let tape = stage("build") {
            Tape.random(instructions: instructions, inputs: 4, parameters: 2, outputs: 2,
                        opcodes: Tape.smoothOpcodes, allLive: true, seed: 1)
        }
        let text = stage("print text") { tape.text }
        let parsed = try stage("parse text") { try Tape(text: text) }
        precondition(parsed == tape, "the parsed tape differs")
        for pass in Differential.singlePasses {
            _ = stage("optimize: pass \(Differential.describe(pass))") { parsed.optimized(pass) }
        }
        _ = stage("optimize: all passes") { parsed.optimized(.all) }
        let program = stage("Program (optimize, plan)") { Program(parsed, options: ExecutionOptions(threads: 1)) }
        let n = points
        let inputs: [[Double]] = (0..<4).map { (j: Int) -> [Double] in
            (0..<n).map { (i: Int) -> Double in Double((i * 7 + j) % 97) / 50 - 1 }
        }
        let r = try stage("value+gradient, \(n) points") { try program.valueAndGradient(inputs: inputs, parameters: [0.5, -0.25]) }
        let finite = r.values[0].filter { $0.isFinite }.count
        log("scale: \(tape.instructions.count) instructions, text \(text.utf8.count / 1_048_576) MiB, "
            + "\(program.optimizedTape.instructions.count) after optimization, \(finite)/\(n) finite values")
        for (name, seconds, peak) in stages {
            let label = name.padding(toLength: 34, withPad: " ", startingAt: 0)
            log("  " + label + String(format: "%9.3f s CPU  %9.1f ns/instruction  peak RSS %8.1f MiB", seconds,
                                      seconds * 1e9 / Double(tape.instructions.count), peak))
        }
    }
}
