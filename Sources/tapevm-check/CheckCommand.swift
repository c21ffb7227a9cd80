import TapeVM
import TapeVMCheck
import Foundation

// tapevm-check: the reliability checks that run outside `swift test`.
//
//   tapevm-check replay TARGET PATH...     run each file (or each file of a directory) through a
//                                          fuzz target's properties; exit 1 on the first failure
//   (fuzzing)                              scripts/fuzz builds this file with -sanitize=fuzzer,address
//                                          and -DTAPEVM_LIBFUZZER: libFuzzer's main then runs the
//                                          target named by TAPEVM_FUZZ_TARGET
//   tapevm-check differential [--tapes N] [--seed S] [--first K]
//                                          random tapes on every path and optimizer level against
//                                          the reference; exit 1 on a mismatch
//   tapevm-check scale N [POINTS]          time and peak memory of build, text, parse, plan, run (on
//                                          POINTS points, 4096 by default) for
//                                          a random tape of N instructions (one size per process)
//   tapevm-check seeds DIRECTORY           writes the initial seed corpus (one directory per target)
//   tapevm-check targets                   the fuzz targets' names

func warn(_ message: String) { FileHandle.standardError.write(Data(message.utf8)) }

func usage() -> Never {
    warn("""
        usage: tapevm-check replay TARGET PATH...
               tapevm-check differential [--tapes N] [--seed S] [--first K]
               tapevm-check scale INSTRUCTIONS [POINTS]
               tapevm-check seeds DIRECTORY
               tapevm-check targets
        targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))

        """)
    exit(64)
}

func target(_ name: String) -> FuzzTarget {
    guard let t = FuzzTarget(rawValue: name) else {
        warn("tapevm-check: unknown fuzz target '\(name)' (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))\n")
        exit(64)
    }
    return t
}

#if !TAPEVM_LIBFUZZER
@main
struct CheckCommand {
    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2 else { usage() }

        switch arguments[1] {
        case "targets":
            print(FuzzTarget.allCases.map(\.rawValue).joined(separator: "\n"))

        case "replay":
            guard arguments.count >= 4 else { usage() }
            let t = target(arguments[2])
            do {
                let count = try Replay.run(t, paths: Array(arguments[3...]))
                print("\(t.rawValue): \(count) input(s) replayed, all properties hold")
            } catch {
                warn("tapevm-check: \(error)\n")
                exit(1)
            }

        case "scale":
            guard arguments.count == 3 || arguments.count == 4, let n = Int(arguments[2]), n > 0 else { usage() }
            let points = arguments.count == 4 ? Int(arguments[3]) : 4096
            guard let points, points > 0 else { usage() }
            do { try Scale.run(instructions: n, points: points) { print($0) } } catch {
                warn("tapevm-check: \(error)\n")
                exit(1)
            }

        case "seeds":
            guard arguments.count == 3 else { usage() }
            do { try Seeds.write(to: arguments[2]) } catch {
                warn("tapevm-check: \(error)\n")
                exit(74)
            }

        case "differential":
            var settings = DifferentialRun.Settings()
            var i = 2
            while i < arguments.count {
                guard i + 1 < arguments.count, let value = UInt64(arguments[i + 1]) else { usage() }
                switch arguments[i] {
                case "--tapes": settings.tapes = Int(value)
                case "--seed": settings.seed = value
                case "--first": settings.first = Int(value)
                default: usage()
                }
                i += 2
            }
            // Flushed per line: progress shows when stdout is a file.
            let ok = DifferentialRun.run(settings) { print($0); fflush(nil) }
            exit(ok ? 0 : 1)

        case "fuzz":
            warn("tapevm-check: this build has no libFuzzer; scripts/fuzz builds one (swift build --sanitize=fuzzer --sanitize=address -Xswiftc -DTAPEVM_LIBFUZZER) and runs it\n")
            exit(64)

        default:
            usage()
        }
    }
}
#endif

#if TAPEVM_LIBFUZZER
/// The fuzz target, from the environment variable TAPEVM_FUZZ_TARGET (scripts/fuzz sets it).
let fuzzTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["TAPEVM_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        warn("tapevm-check: set TAPEVM_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n")
        exit(64)
    }
    return target
}()

/// libFuzzer's entry point (its own `main` runs the fuzzer): one input; a broken property
/// aborts, so libFuzzer saves the input as a crash.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        try fuzzTarget.run(bytes)
    } catch {
        warn("tapevm-check: property failed: \(error)\n")
        abort()
    }
    return 0
}
#endif
