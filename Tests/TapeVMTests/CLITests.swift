import Foundation
import Testing
import TapeVM
import TapeVMIO

/// The `tapevm` executable built next to this test bundle, if it was built.
let tapevmPath: String? = {
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

struct Run { var status: Int32; var stdout: String; var stderr: String }

/// Runs the built `tapevm` with `arguments` (in `directory`, if given; with `environment` added
/// to this process's environment).
func tapevm(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) throws -> Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tapevmPath!)
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
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
        #expect(r.stdout.contains("3 × 4 = 12 points: b ∈ [0, 1] (3), a ∈ [-1, 2] (4)"))
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
        let notCovered = try tapevm(["grid", "f(x) = x"])
        #expect(notCovered.status == 64)
        #expect(notCovered.stderr == "Error: input x has no value: give --grid x=start:stop:count or --at x=value\n")
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

/// `tapevm batch` end to end: files in, files out, compared with `Program` run in the test.
@Suite(.enabled(if: tapevmPath != nil, "the tapevm executable is not next to the test bundle"))
struct BatchCLITests {
    private func temporary(_ name: String) -> String {
        NSTemporaryDirectory() + "tapevm-batchtests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name)"
    }

    private func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// The number after `∂<output>/∂<parameter> = ` in a summary.
    private func summedGradient(_ stdout: String, _ label: String) -> Double? {
        guard let line = stdout.split(separator: "\n").first(where: { $0.contains(label + " = ") }) else { return nil }
        return Double(line.split(separator: "=").last!.trimmingCharacters(in: .whitespaces))
    }

    @Test func csvRoundTripMatchesProgram() throws {
        let (input, output) = (temporary("in.csv"), temporary("out.csv"))
        defer { try? FileManager.default.removeItem(atPath: input); try? FileManager.default.removeItem(atPath: output) }
        let xs = (0..<50).map { Double($0) * 0.37 - 9 }, ys = (0..<50).map { sin(Double($0)) }
        // Columns in another order than the inputs, and one that is not an input.
        try write("y,label,x\n" + zip(xs, ys).map { "\($1),point,\($0)" }.joined(separator: "\n") + "\n", to: input)
        let expression = "f(x, y; w) = w * tanh(x) * y + exp(-y^2)"
        let r = try tapevm(["batch", expression, "--in", input, "--param", "w=1.5", "--out", output, "--block-rows", "16"])
        #expect(r.status == 0)
        #expect(r.stderr.contains("ignoring column label"))
        #expect(r.stdout.contains("rows        50"))
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "f,df/dx,df/dy")
        let rows = lines.dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
        #expect(rows.count == 50)
        let program = Program(try Tape(expression: expression))
        let expected = try program.valueAndGradient(inputs: [xs, ys], parameters: [1.5])
        for i in 0..<50 {
            #expect(rows[i] == [expected.values[0][i], expected.inputGradients[0][i], expected.inputGradients[1][i]])
        }
        #expect(summedGradient(r.stdout, "∂f/∂w") != nil)
    }

    @Test func npyRoundTripWithSeveralOutputsAndPerPointParameters() throws {
        let (input, output) = (temporary("in.npy"), temporary("out.npy"))
        defer { try? FileManager.default.removeItem(atPath: input); try? FileManager.default.removeItem(atPath: output) }
        let n = 70
        let xs = (0..<n).map { Double($0) / 7 - 3 }, ys = (0..<n).map { cos(Double($0)) }
        let writer = try NPYWriter(path: input, shape: [n, 2])
        try writer.write(zip(xs, ys).flatMap { [$0, $1] })
        try writer.finish()
        let expression = "f(x, y; a, b) = (a * x * y, sigmoid(b * x) + y)"
        let r = try tapevm(["batch", expression, "--in", input, "--param", "a=2,b=-0.5", "--output", "f[1]",
                            "--per-point-params", "--out", output, "--block-rows", "32", "--threads", "2"])
        #expect(r.status == 0)
        let npy = try NPYReader(path: output)
        #expect(npy.header.shape == [n, 6])   // out0, out1, d/dx, d/dy, d/da, d/db
        let data = try npy.readAll()
        let program = Program(try Tape(expression: expression))
        let expected = try program.valueAndGradient(inputs: [xs, ys], parameters: [2, -0.5], output: 1, parameterGradient: .perPoint)
        for i in 0..<n {
            let row = Array(data[6 * i..<6 * i + 6])
            #expect(row == [expected.values[0][i], expected.values[1][i], expected.inputGradients[0][i],
                            expected.inputGradients[1][i], expected.parameterGradients[0][i], expected.parameterGradients[1][i]])
        }
        // A 1-D array for a function of one input.
        let one = try NPYWriter(path: input, shape: [3])
        try one.write([1, 2, 3])
        try one.finish()
        let r1 = try tapevm(["batch", "f(t) = t^2", "--in", input, "--out", output])
        #expect(r1.status == 0)
        #expect(try NPYReader(path: output).readAll() == [1, 2, 4, 4, 9, 6])
    }

    @Test func summedParameterGradientIsTheSumOfPerPointGradients() throws {
        let (input, output) = (temporary("data.csv"), temporary("per-point.npy"))
        defer { try? FileManager.default.removeItem(atPath: input); try? FileManager.default.removeItem(atPath: output) }
        // A least-squares loss: ∂/∂w = Σ 2(wx + b - y)x, ∂/∂b = Σ 2(wx + b - y); integers keep sums exact.
        let xs = (0..<37).map { Double($0 % 11) - 5 }, ys = (0..<37).map { Double($0 % 7) }
        try write("x,y\n" + zip(xs, ys).map { "\($0),\($1)" }.joined(separator: "\n"), to: input)
        let expression = "loss(x, y; w, b) = (w * x + b - y)^2"
        var expectedW = 0.0, expectedB = 0.0
        for (x, y) in zip(xs, ys) {
            expectedW += 2 * (3 * x - 1 - y) * x
            expectedB += 2 * (3 * x - 1 - y)
        }
        var summaries: [String] = []
        for threads in ["1", "4"] {
            let r = try tapevm(["batch", expression, "--in", input, "--param", "w=3,b=-1", "--threads", threads,
                                "--block-rows", "10", "--per-point-params", "--out", output])
            #expect(r.status == 0)
            #expect(summedGradient(r.stdout, "∂loss/∂w") == expectedW)
            #expect(summedGradient(r.stdout, "∂loss/∂b") == expectedB)
            summaries.append(r.stdout.split(separator: "\n").filter { $0.contains("∂") }.joined(separator: "\n"))
            // The per-point columns sum to the same totals.
            let data = try NPYReader(path: output).readAll()
            #expect(stride(from: 3, to: data.count, by: 5).reduce(0) { $0 + data[$1] } == expectedW)
            #expect(stride(from: 4, to: data.count, by: 5).reduce(0) { $0 + data[$1] } == expectedB)
        }
        #expect(summaries[0] == summaries[1])
        // And the library's own batch sum agrees.
        let sum = try Program(try Tape(expression: expression)).valueAndGradient(inputs: [xs, ys], parameters: [3, -1]).parameterGradientSum
        #expect(sum == [expectedW, expectedB])
    }

    @Test func errorsAreOneLineWithAnExitCode() throws {
        let (csv, npy, out) = (temporary("bad.csv"), temporary("wide.npy"), temporary("out.npy"))
        defer { for p in [csv, npy, out] { try? FileManager.default.removeItem(atPath: p) } }
        let f = "f(x, y) = x * y"
        try write("x,y\n1,2\n3,abc\n", to: csv)
        let bad = try tapevm(["batch", f, "--in", csv, "--out", out])
        #expect(bad.status == 74)
        #expect(bad.stderr == "Error: \(csv): line 3, column 2 (y): 'abc' is not a number\n")
        #expect(!FileManager.default.fileExists(atPath: out))   // no half-written output

        try write("x,z\n1,2\n", to: csv)
        let missing = try tapevm(["batch", f, "--in", csv])
        #expect(missing.status == 65)
        #expect(missing.stderr == "Error: \(csv): no column for input y (the header names 'x', 'z')\n")

        let wide = try NPYWriter(path: npy, shape: [2, 3])
        try wide.write([1, 2, 3, 4, 5, 6])
        try wide.finish()
        let shape = try tapevm(["batch", f, "--in", npy])
        #expect(shape.status == 65)
        #expect(shape.stderr == "Error: \(npy): array of shape (2, 3) has 3 column(s), the function has 2 input(s): expected shape (N, 2) for the inputs x, y\n")

        let unknown = try tapevm(["batch", f, "--in", "points.txt"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr == "Error: --in points.txt: unknown file type: use a .csv or .npy file, or say which with --format csv|npy\n")

        let unreadable = try tapevm(["batch", f, "--in", temporary("missing.csv")])
        #expect(unreadable.status == 74)
        #expect(unreadable.stderr.contains("cannot open for reading: No such file or directory"))

        let notNPY = try tapevm(["batch", f, "--in", csv, "--format", "npy"])
        #expect(notNPY.status == 74)
        #expect(notNPY.stderr.hasPrefix("Error: \(csv): not a .npy file"))
    }

    /// A hostile input of each documented kind (README, Limits) is one error line (expression
    /// errors add the source line and a caret), a non-zero exit code, and no output file.
    @Test func hostileInputsGetOneLineErrors() throws {
        let (npy, out) = (temporary("hostile.npy"), temporary("out.npy"))
        defer { for p in [npy, out] { try? FileManager.default.removeItem(atPath: p) } }
        let deep = ExpressionError.maximumNesting + 10
        let expressions = [
            "f(x) = " + String(repeating: "(", count: deep) + "x" + String(repeating: ")", count: deep),   // nesting
            "f(x) = powi(x, \(TapeLimits.maximumExponent + 1))",                                          // exponent
            "f(" + String(repeating: "n", count: TapeLimits.maximumNameBytes + 1) + ") = 1",               // name
            "f(x) = x\u{1} + 1",                                                                           // garbage
        ]
        for e in expressions {
            let r = try tapevm(["grad", e, "--at", "1"])
            #expect(r.status == 65, "\(r.stderr.prefix(200))")
            #expect(r.stderr.hasPrefix("<expression>:1:"))
            #expect(r.stderr.split(separator: "\n").count <= 3)
        }
        // A .npy header announcing more than the file holds, a shape beyond any array size, a
        // header longer than the file.
        func header(_ dictionary: String) -> [UInt8] {
            var text = Array(dictionary.utf8)
            while (10 + text.count + 1) % 64 != 0 { text.append(0x20) }
            text.append(0x0A)
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.count & 255), UInt8(text.count >> 8)] + text
        }
        let files: [([UInt8], String)] = [
            (header("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,), }") + [UInt8](repeating: 0, count: 80),
             "truncated .npy data"),
            (header("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }"), "is not a valid array size"),
            ([0x93] + Array("NUMPY".utf8) + [2, 0, 0, 0, 0, 128], "announces"),
        ]
        for (bytes, message) in files {
            try Data(bytes).write(to: URL(fileURLWithPath: npy))
            let r = try tapevm(["batch", "f(x) = x", "--in", npy, "--out", out])
            #expect(r.status == 74)
            #expect(r.stderr.hasPrefix("Error: \(npy): ") && r.stderr.contains(message), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }
}

/// `tapevm grad --jvp/--hessian` (forward mode and second order).
extension CLITests {
    /// The example: the Hessian [[2502, -600], [-600, 200]] and jvp = ∂f/∂x + 2·∂f/∂y.
    @Test func gradHessianAndJVP() throws {
        let r = try tapevm(["grad", "f(x,y) = 100*(y - x^2)^2 + (1 - x)^2", "--at", "x=1.5,y=0.5", "--hessian", "--jvp", "x=1,y=2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == """
            {"value": 306.5, "gradient": {"x": 1051, "y": -350}, "jvp": 351, "hessian": {"x": {"x": 2502, "y": -600}, "y": {"x": -600, "y": 200}}}

            """)
        let several = try tapevm(["grad", "f(x,y) = (x*y, x^3)", "--at", "1,2", "--at", "2,0", "--jvp=0,1", "--hessian"])
        #expect(several.stdout == """
            [
              {"value": {"f[0]": 2, "f[1]": 1}, "gradient": {"f[0]": {"x": 2, "y": 1}, "f[1]": {"x": 3, "y": 0}}, "jvp": {"f[0]": 1, "f[1]": 0}, "hessian": {"f[0]": {"x": {"x": 0, "y": 1}, "y": {"x": 1, "y": 0}}, "f[1]": {"x": {"x": 6, "y": 0}, "y": {"x": 0, "y": 0}}}},
              {"value": {"f[0]": 0, "f[1]": 8}, "gradient": {"f[0]": {"x": 0, "y": 2}, "f[1]": {"x": 12, "y": 0}}, "jvp": {"f[0]": 2, "f[1]": 0}, "hessian": {"f[0]": {"x": {"x": 0, "y": 1}, "y": {"x": 1, "y": 0}}, "f[1]": {"x": {"x": 12, "y": 0}, "y": {"x": 0, "y": 0}}}}
            ]

            """, "\(several.stdout)")
        let bad = try tapevm(["grad", "f(x; w) = w*x", "--at", "1", "--param", "w=2", "--jvp", "w=1"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--jvp 'w=1': 'w' is a parameter"))
    }
}
