import Foundation
import Testing
import TapeVM

/// The `tapevm` executable built next to this test bundle, if it was built.
private let tapevmPath: String? = {
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = bundle.deletingLastPathComponent()
    // swift test runs .../debug/TapeVMPackageTests.xctest (Linux) or .../debug/X.xctest/Contents/MacOS/X.
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("tapevm").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}()

private struct Run { var status: Int32; var stdout: String; var stderr: String }

private func tapevm(_ arguments: [String]) throws -> Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tapevmPath!)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
               stderr: String(decoding: e, as: UTF8.self))
}

/// End-to-end checks of the command-line tool; skipped when the binary was not built.
@Suite(.enabled(if: tapevmPath != nil, "the tapevm executable is not next to the test bundle"))
struct CLITests {
    @Test func gradPrintsValueAndGradientAsJSON() throws {
        let r = try tapevm(["grad", "f(x,y,z) = (x+y)*z", "--at", "x=-2,y=5,z=-4"])
        #expect(r.status == 0)
        #expect(r.stdout == "{\"value\": -12, \"gradient\": {\"x\": -4, \"y\": -4, \"z\": 3}}\n")
    }

    @Test func gradWithParametersAndSeveralPoints() throws {
        let r = try tapevm(["grad", "f(x; w) = w * x^2", "--at", "x=1", "--at=-3", "--param", "w=0.5"])
        #expect(r.status == 0)
        #expect(r.stdout == """
            [
              {"value": 0.5, "gradient": {"x": 1}, "parameterGradient": {"w": 1}},
              {"value": 4.5, "gradient": {"x": -3}, "parameterGradient": {"w": 9}}
            ]

            """)
    }

    @Test func errorsAreOneLineWithAnExitCode() throws {
        let missing = try tapevm(["grad", "f(x,y) = x*y", "--at", "x=1"])
        #expect(missing.status == 64)
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr == "Error: --at 'x=1': missing input 'y' (the function's inputs are x, y)\n")
        let bad = try tapevm(["grad", "f(x) = x +* 2", "--at", "x=1"])
        #expect(bad.status == 65)
        #expect(bad.stderr.hasPrefix("<expression>:1:"))
        #expect(bad.stderr.contains("^"))
        let number = try tapevm(["grad", "f(x) = x", "--at", "x=1.2.3"])
        #expect(number.status == 64)
        #expect(number.stderr.contains("'1.2.3' is not a number"))
    }

    @Test func gridWritesTheNPYItSummarizes() throws {
        let path = NSTemporaryDirectory() + "tapevm-clitests-\(getpid()).npy"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try tapevm(["grid", "f(a, b) = a * b^2", "--size", "4x3", "--x", "-1:2", "--y=0:1", "--out", path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("4 × 3 = 12 points"))
        let npy = try NPYReader(path: path)
        #expect(npy.header.shape == [3, 4, 3])
        let data = try npy.readAll()
        for j in 0..<3 {
            for i in 0..<4 {
                let (a, b) = (-1 + Double(i), Double(j) / 2)
                let k = 3 * (j * 4 + i)
                #expect(data[k] == a * b * b)
                #expect(data[k + 1] == b * b)
                #expect(data[k + 2] == a * (2 * b))
            }
        }
        let wrongArity = try tapevm(["grid", "f(x) = x"])
        #expect(wrongArity.status == 65)
        #expect(wrongArity.stderr.contains("exactly 2 inputs"))
    }

    @Test func opsListsTheWholeTable() throws {
        let r = try tapevm(["ops"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == Opcode.allCases.count + 1)
        for op in Opcode.allCases {
            #expect(lines.contains { $0.hasPrefix(op.mnemonic + " ") })
        }
    }
}
