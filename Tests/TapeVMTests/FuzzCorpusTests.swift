import Foundation
import Testing
import TapeVM
@testable import TapeVMCheck

/// Every fuzz input kept in the repository — the seed corpus (Fuzz/corpus/TARGET) and every
/// crash reproducer ever found (Fuzz/crashes/TARGET) — still keeps its target's properties.
/// This is the CI replay of the fuzzers' findings (scripts/fuzz runs the fuzzers themselves).
@Suite struct FuzzCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz").path

    @Test(arguments: FuzzTarget.allCases)
    func corpusAndReproducersReplay(target: FuzzTarget) throws {
        let corpus = Self.root + "/corpus/" + target.rawValue
        let crashes = Self.root + "/crashes/" + target.rawValue
        #expect(Replay.files(corpus).count >= 5, "the seed corpus of \(target.rawValue) is missing or nearly empty")
        let count = try Replay.run(target, paths: [corpus, crashes])
        #expect(count == Replay.files(corpus).count + Replay.files(crashes).count)
    }

    /// The checks can fail: an error position outside the text, a signed zero, a wrong status.
    @Test func propertiesCatchFaults() throws {
        try FuzzTarget.expression.run(Array("f(x, y) = x * y + sin(x)".utf8))
        #expect(throws: FuzzFailure.self) {
            try FuzzChecks.checkPosition(line: 3, column: 1, message: "m", lines: FuzzChecks.expressionLines("f(x) = x"))
        }
        #expect(throws: FuzzFailure.self) {
            try FuzzChecks.checkPosition(line: 1, column: 40, message: "m", lines: FuzzChecks.tapeTextLines("f(x) = x"))
        }
        #expect(!Differential.same(0, -0.0) && Differential.same(.nan, -.nan))
        #expect(throws: FuzzFailure.self) { try FuzzChecks.expect(3, 0, "tvm_evaluate") }
    }
}
