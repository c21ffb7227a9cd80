import Foundation
import Testing
import TapeVM

/// `TAPEVM_MATH=portable` (read once per process, so checked through the CLI in child processes):
/// every path gives the same bits, even where the default mode's stated exception applies (a
/// `sin`/`cos`/`tan` lane beside a huge argument in the same vector), and an unknown mode warns.
@Suite(.enabled(if: tapevmPath != nil, "the tapevm executable is not next to the test bundle"))
struct PortableMathTests {
    @Test func everyPathGivesTheSameBits() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tapevm-portable-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Huge, NaN and infinite arguments share 8-lane groups with ordinary ones.
        let xs = ["0.7", "1e6", "-3.25", "nan", "2.5e-3", "inf", "17", "-0.0", "1e300", "0.125", "-40", "3"]
        try ("x\n" + xs.joined(separator: "\n") + "\n").write(toFile: dir + "/in.csv", atomically: true, encoding: .utf8)
        let function = "f(x; w) = sin(w * x) + cos(x) * tan(x) + exp(-x * x) + pow(abs(x) + 1, w) + atan2(x, w) + erfc(x)"
        var outputs: [InstructionSet: String] = [:]
        for isa in InstructionSet.supported {
            let out = dir + "/out-\(isa).csv"
            let r = try tapevm(["batch", function, "--in", dir + "/in.csv", "--param", "w=1.5", "--out", out, "--threads", "1"],
                               environment: ["TAPEVM_MATH": "portable", "TAPEVM_ISA": isa.rawValue])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(!r.stderr.contains("warning"), "\(r.stderr)")
            outputs[isa] = try String(contentsOfFile: out, encoding: .utf8)
        }
        #expect(Set(outputs.values).count == 1, "\(outputs)")
    }

    @Test func anUnknownModeWarns() throws {
        let r = try tapevm(["inspect", "f(x) = sin(x)"], environment: ["TAPEVM_MATH": "fast"])
        #expect(r.status == 0)
        #expect(r.stderr.contains("warning: TAPEVM_MATH=fast is not a math mode (native, portable); using native"), "\(r.stderr)")
    }
}
