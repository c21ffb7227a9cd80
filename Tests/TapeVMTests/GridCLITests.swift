import Foundation
import Testing
import TapeVM
import TapeVMIO

/// A fresh empty directory for one test's files.
private func scratchDirectory() throws -> String {
    let dir = NSTemporaryDirectory() + "tapevm-gridcli-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

private func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

/// A JSON object file.
private func json(_ path: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
}

/// Whether `python3` with NumPy can be run.
private let numpyAvailable: Bool = {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", "import numpy"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}()

/// `tapevm grid`, `eval`, `join`, `inspect` and `compile`, run as a user would: the built binary.
@Suite(.enabled(if: tapevmPath != nil, "the tapevm executable is not next to the test bundle"))
struct GridCLITests {
    static let function = "f(x, y, z) = x*y*exp(-z^2)"
    static let axes = ["--grid", "x=-1:1:101", "--grid", "y=-1:1:51", "--grid", "z=0:1:11"]

    /// The issue's example: a (101, 51, 11, 4) array of f and its gradient, row-major over the
    /// --grid flags, equal to the formulas (to a few ulps: SLEEF's exp against the C library's).
    /// The largest difference between an array over `Self.axes` (x = -1:1:101, y = -1:1:51,
    /// z = 0:1:11, row-major, its columns last) and `want(x, y, z, exp(-z²))` at each point.
    static func largestDifference(_ data: [Double], _ want: (Double, Double, Double, Double) -> [Double]) -> Double {
        var worst = 0.0
        var base = 0
        for i in 0..<101 {
            for j in 0..<51 {
                for k in 0..<11 {
                    let (x, y, z) = (Double(i - 50) / 50, Double(j - 25) / 25, Double(k) / 10)
                    let row = want(x, y, z, exp(-z * z))
                    for (c, w) in row.enumerated() { worst = max(worst, abs(data[base + c] - w)) }
                    base += row.count
                }
            }
        }
        return base == data.count ? worst : .infinity
    }

    @Test func threeAxisGridWritesTheArrayItDescribes() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try tapevm(["grid", Self.function] + Self.axes + ["-o", "f.npy"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "no progress line when stderr is not a terminal")
        #expect(r.stdout.contains("101 × 51 × 11 = 56661 points"))
        #expect(r.stdout.contains("f.npy: float64 array (101, 51, 11, 4) of f, df/dx, df/dy, df/dz"))
        let npy = try NPYReader(path: dir + "/f.npy")
        #expect(npy.header.shape == [101, 51, 11, 4])
        let worst = Self.largestDifference(try npy.readAll()) { x, y, z, e in [x * y * e, y * e, x * e, -2 * z * x * y * e] }
        #expect(worst < 1e-14, "largest difference \(worst)")
        let sidecar = try json(dir + "/f.npy.json")
        #expect(sidecar["columns"] as? [String] == ["f", "df/dx", "df/dy", "df/dz"])
        #expect((sidecar["axes"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["x", "y", "z"])
        #expect(sidecar["gridShape"] as? [Int] == [101, 51, 11, 4])

        guard numpyAvailable else { return }
        // NumPy reads it, and it matches NumPy's own computation.
        let script = """
            import json, numpy as np
            a = np.load('f.npy')
            names = json.load(open('f.npy.json'))['columns']
            x, y, z = np.meshgrid(np.linspace(-1, 1, 101), np.linspace(-1, 1, 51), np.linspace(0, 1, 11), indexing='ij')
            e = np.exp(-z**2)
            ref = np.stack([x*y*e, y*e, x*e, -2*z*x*y*e], axis=-1)
            assert a.shape == (101, 51, 11, 4) and a.dtype == np.float64, a.shape
            assert names == ['f', 'df/dx', 'df/dy', 'df/dz'], names
            print(np.abs(a - ref).max())
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let difference = try #require(Double(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(difference < 1e-14)
    }

    /// `--shard k/n` parts, joined by `tapevm join` (given in any order), are the unsharded
    /// file bit for bit; so is their plain concatenation.
    @Test func shardsJoinToTheSameBytes() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = "f(x, y, z; w) = sin(w*x) * y + z / (1 + x^2)"
        let grid = ["--grid", "x=-2:2:7", "--grid", "y=0:1:5", "--grid", "z=-1:3:3", "--param", "w=1.5"]
        #expect(try tapevm(["grid", f] + grid + ["-o", "whole.npy"], in: dir).status == 0)
        var concatenated: [Double] = []
        for k in 0..<4 {
            let r = try tapevm(["grid", f] + grid + ["--shard", "\(k)/4", "-o", "part\(k).npy"], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
            let part = try NPYReader(path: "\(dir)/part\(k).npy")
            #expect(part.header.shape == [k < 1 ? 27 : 26, 4])   // 105 points: 27 + 26 + 26 + 26
            concatenated += try part.readAll()
        }
        let whole = try NPYReader(path: dir + "/whole.npy")
        #expect(whole.header.shape == [7, 5, 3, 4])
        #expect(try whole.readAll().map(\.bitPattern) == concatenated.map(\.bitPattern))
        let joined = try tapevm(["join", "part2.npy", "part0.npy", "part3.npy", "part1.npy", "-o", "joined.npy"], in: dir)
        #expect(joined.status == 0, "\(joined.stderr)")
        #expect(try bytes(dir + "/joined.npy") == bytes(dir + "/whole.npy"))
        #expect(try bytes(dir + "/joined.npy.json") == bytes(dir + "/whole.npy.json"))
        let incomplete = try tapevm(["join", "part0.npy", "part1.npy", "part3.npy", "-o", "bad.npy"], in: dir)
        #expect(incomplete.status == 65)
        #expect(incomplete.stderr == "Error: part 2 of 4 is missing (parts count from 0)\n")
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad.npy"))
    }

    /// A bad grid spec or output path: one line on stderr, a non-zero exit, and no file (not
    /// even a temporary one).
    @Test func badGridSpecsAndOutputPathsAreOneLineAndLeaveNoFile() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cases: [([String], Int32, String)] = [
            (["--grid", "x=-1:1"], 64, "--grid 'x=-1:1': expected name=start:stop:count, e.g. x=-3:3:2001"),
            (["--grid", "x=-1:one:5"], 64, "--grid 'x=-1:one:5': stop: 'one' is not a number"),
            (["--grid", "x=-1:1:0"], 64, "--grid 'x=-1:1:0': count '0' is not a positive whole number"),
            (["--grid", "w=0:1:3"], 64, "--grid 'w=0:1:3': unknown input 'w' (the function's inputs are x, y, z)"),
            (["--grid", "x=0:1:3", "--grid", "x=0:1:4"], 64, "--grid: input 'x' has two axes"),
            (["--grid", "x=0:1:3", "--at", "y=1"], 64, "input z has no value: give --grid z=start:stop:count or --at z=value"),
            (["--grid", "x=0:1:3", "--at", "y=1,z=0", "--shard", "2/2"], 64, "--shard '2/2': need 0 ≤ k < n (parts count from 0: 0/2 to 1/2)"),
            (["--grid", "x=0:1:3", "--grid", "y=0:1:3", "--at", "z=0", "--plot", "p.gif"], 64, "--plot p.gif: unknown picture type: use .svg or .png"),
        ]
        for (arguments, status, message) in cases {
            let r = try tapevm(["grid", Self.function] + arguments + ["-o", "out.npy"], in: dir)
            #expect(r.status == status, "\(arguments)")
            #expect(r.stderr == "Error: \(message)\n")
            #expect(r.stdout.isEmpty)
        }
        let ok = Self.axes
        try FileManager.default.createDirectory(atPath: dir + "/adirectory.npy", withIntermediateDirectories: false)
        let paths: [(String, Int32, String)] = [
            ("missing-dir/f.npy", 74, "missing-dir/f.npy: cannot open for writing: No such file or directory"),
            ("f.txt", 64, "--out f.txt: unknown file type: use .npy, .csv or .jsonl"),
            ("adirectory.npy", 74, "adirectory.npy: cannot write: it is a directory"),
        ]
        for (path, status, message) in paths {
            let r = try tapevm(["grid", Self.function] + ok + ["-o", path], in: dir)
            #expect(r.status == status, "\(path)")
            #expect(r.stderr == "Error: \(message)\n")
        }
        try FileManager.default.removeItem(atPath: dir + "/adirectory.npy")
        // A good file and a bad one: the good one is not left behind either.
        let r = try tapevm(["grid", Self.function] + ok + ["-o", "good.npy", "-o", "missing-dir/f.csv"], in: dir)
        #expect(r.status == 74)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    /// Interrupted (SIGTERM, as a scheduler's time limit sends), the run removes its temporary
    /// files and dies of the signal.
    @Test func interruptedRunsLeaveNoFiles() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tapevmPath!)
        // Far too many points to finish before it is stopped.
        process.arguments = ["grid", "--size", "20000", "-o", "f.npy", "--quiet"]
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait until the sweep is writing data (the handlers are installed before it starts).
        var running = false
        for _ in 0..<400 where !running {
            usleep(50_000)
            let files = try FileManager.default.contentsOfDirectory(atPath: dir)
            running = files.contains { name in
                name.hasPrefix(".f.npy.") && !name.contains(".json") &&
                    ((try? FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.size] as? Int) ?? 0) > 1 << 20
            }
        }
        #expect(running)
        process.terminate()
        for _ in 0..<200 where process.isRunning { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGTERM)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    /// The SVG has the parts a reader needs: title, axis names, tick labels, colour bar with
    /// values, and arrows; the PNG is a PNG of the same size.
    @Test func plotsHaveAxesLabelsColourBarAndArrows() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try tapevm(["grid", Self.function, "--grid", "y=-1:1:40", "--grid", "x=-1:1:60", "--at", "z=0.5",
                            "--plot", "p.svg", "--plot", "p.png"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let svg = String(decoding: try bytes(dir + "/p.svg"), as: UTF8.self)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains(">f(x, y, z) = x*y*exp(-z^2)</text>"))
        #expect(svg.contains(">f over x and y at z = 0.5</text>"))
        for label in [">x</text>", ">y</text>", ">−1</text>", ">0.5</text>", ">f</text>"] {
            #expect(svg.contains(label), "\(label)")
        }
        #expect(svg.components(separatedBy: "<image ").count - 1 == 2, "heat map and colour bar")
        #expect(svg.components(separatedBy: "<polygon ").count - 1 > 100, "arrow heads")
        #expect(svg.contains("rotate(-90"), "the vertical axis's name is turned")
        let png = try bytes(dir + "/p.png")
        #expect(Array(png[0..<8]) == PNGWriter.signature)
        let size = svg.firstMatch(of: /width="([\d.]+)" height="([\d.]+)"/).map { (Double($0.1)!, Double($0.2)!) }
        let w = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, h = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(size.map { (Int($0.0), Int($0.1)) } ?? (0, 0) == (w, h))
        let line = try tapevm(["grid", Self.function] + Self.axes + ["--plot", "q.svg"], in: dir)
        #expect(line.status == 64)
        #expect(line.stderr == "Error: --plot draws a 2-D grid or slice: this grid has 3 axes of more than one point (x, y, z); fix the others with --at\n")
    }

    /// `inspect` prints the counts; a compiled `.tape` runs like its expression.
    @Test func inspectCompileAndTapeFiles() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try tapevm(["inspect", "f(x, y; w) = w * x^2 + x^2 + y"], in: dir)
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        for prefix in ["inputs        2: x, y", "parameters    1: w", "outputs       1: f", "instructions  ", "sweeps        ",
                       "planes        ", "tile          ", "workspace     ", "CPU path      ", "opcodes (before → after optimization):"] {
            #expect(lines.contains { $0.hasPrefix(prefix) }, "\(prefix)")
        }
        let program = Program(try Tape(expression: "f(x, y; w) = w * x^2 + x^2 + y"))
        #expect(lines.contains("tile          \(program.tileSize) points"))
        #expect(lines.contains { $0.hasPrefix("CPU path      \(program.instructionSet.rawValue) ") })
        #expect(lines.contains { $0.hasPrefix("  powi") && $0.hasSuffix("2 → 0") } || lines.contains { $0.hasPrefix("  powi") })

        #expect(try tapevm(["compile", Self.function, "-o", "f.tape"], in: dir).status == 0)
        #expect(try tapevm(["grid", "--file", "f.tape"] + Self.axes + ["-o", "a.npy"], in: dir).status == 0)
        #expect(try tapevm(["grid", Self.function] + Self.axes + ["-o", "b.npy"], in: dir).status == 0)
        #expect(try bytes(dir + "/a.npy") == bytes(dir + "/b.npy"))
    }

    /// `eval` writes values only; CSV and JSON lines carry the axes and the same names;
    /// several outputs give the Jacobian's columns.
    @Test func evalTextFilesAndSeveralOutputs() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = "f(x, y) = x * y\ng(x, y) = x + 2*y"
        let r = try tapevm(["grid", f, "--grid", "x=0:1:3", "--grid", "y=-1:1:2", "-o", "j.npy", "-o", "j.csv", "-o", "j.jsonl"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try json(dir + "/j.npy.json")["columns"] as? [String] == ["f", "g", "df/dx", "df/dy", "dg/dx", "dg/dy"])
        #expect(try NPYReader(path: dir + "/j.npy").readAll().prefix(6) == [-0, -2, -1, 0, 1, 2])
        let csv = String(decoding: try bytes(dir + "/j.csv"), as: UTF8.self).split(separator: "\n")
        #expect(csv.first == "x,y,f,g,df/dx,df/dy,dg/dx,dg/dy")
        #expect(csv.count == 7 && csv[6] == "1,1,1,3,1,1,1,2")
        let jsonl = String(decoding: try bytes(dir + "/j.jsonl"), as: UTF8.self).split(separator: "\n")
        #expect(jsonl.count == 6)
        #expect(jsonl[5] == "{\"x\": 1, \"y\": 1, \"f\": 1, \"g\": 3, \"df/dx\": 1, \"df/dy\": 1, \"dg/dx\": 1, \"dg/dy\": 2}")

        let e = try tapevm(["eval", f, "--grid", "x=0:1:3", "--grid", "y=-1:1:2", "--output", "g", "-o", "v.npy"], in: dir)
        #expect(e.status == 0, "\(e.stderr)")
        let values = try NPYReader(path: dir + "/v.npy")
        #expect(values.header.shape == [3, 2, 1])
        #expect(try values.readAll() == [-2, 2, -1.5, 2.5, -1, 3])
        let point = try tapevm(["eval", "f(x, y) = x / y", "--at", "x=1,y=0"], in: dir)
        #expect(point.stdout.contains("f         no finite value; 0 NaN, 1 infinite"))
    }

    /// `--hessian` adds each output's upper Hessian triangle, named with the inputs, to every
    /// file format; the numbers are the analytic second derivatives (Rosenbrock: exact).
    @Test func hessianColumnsAreTheAnalyticSecondDerivatives() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rosenbrock = "f(x, y) = 100*(y - x^2)^2 + (1 - x)^2"
        let r = try tapevm(["grid", rosenbrock, "--grid", "x=-2:2:9", "--grid", "y=-1:3:5", "--hessian",
                            "-o", "r.npy", "-o", "r.csv", "-o", "r.jsonl"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let names = ["f", "df/dx", "df/dy", "d2f/dx2", "d2f/dxdy", "d2f/dy2"]
        #expect(try json(dir + "/r.npy.json")["columns"] as? [String] == names)
        for name in names { #expect(r.stdout.contains("\n\(name.padding(toLength: 10, withPad: " ", startingAt: 0))min "), "\(name)") }
        let npy = try NPYReader(path: dir + "/r.npy")
        #expect(npy.header.shape == [9, 5, 6])
        let a = try npy.readAll()
        var rows: [[Double]] = []
        for i in 0..<9 {
            for j in 0..<5 {
                let (x, y) = (Double(i - 4) / 2, Double(j - 1))
                let want = [100 * (y - x * x) * (y - x * x) + (1 - x) * (1 - x), -400 * x * (y - x * x) - 2 * (1 - x),
                            200 * (y - x * x), 1200 * x * x - 400 * y + 2, -400 * x, 200]
                let got = Array(a[6 * (i * 5 + j)..<6 * (i * 5 + j + 1)])
                #expect(got == want, "at x=\(x), y=\(y)")
                rows.append([x, y] + got)
            }
        }
        let csv = String(decoding: try bytes(dir + "/r.csv"), as: UTF8.self).split(separator: "\n")
        #expect(csv.first == "x,y,f,df/dx,df/dy,d2f/dx2,d2f/dxdy,d2f/dy2")
        #expect(csv.dropFirst().map { $0.split(separator: ",").map { Double($0)! } } == rows)
        let jsonl = String(decoding: try bytes(dir + "/r.jsonl"), as: UTF8.self).split(separator: "\n")
        #expect(jsonl.count == 45)
        #expect(jsonl.last == "{\"x\": 2, \"y\": 3, \"f\": 101, \"df/dx\": 802, \"df/dy\": -200, \"d2f/dx2\": 3602, \"d2f/dxdy\": -800, \"d2f/dy2\": 200}")

        // Three inputs: the six entries of the upper triangle, row by row.
        let g = try tapevm(["grid", Self.function] + Self.axes + ["--hessian", "-o", "g.npy"], in: dir)
        #expect(g.status == 0, "\(g.stderr)")
        #expect(try json(dir + "/g.npy.json")["columns"] as? [String]
                == ["f", "df/dx", "df/dy", "df/dz", "d2f/dx2", "d2f/dxdy", "d2f/dxdz", "d2f/dy2", "d2f/dydz", "d2f/dz2"])
        let b = try NPYReader(path: dir + "/g.npy")
        #expect(b.header.shape == [101, 51, 11, 10])
        let worst = Self.largestDifference(try b.readAll()) { x, y, z, e in
            [x * y * e, y * e, x * e, -2 * z * x * y * e,
             0, e, -2 * z * y * e, 0, -2 * z * x * e, x * y * (4 * z * z - 2) * e]
        }
        #expect(worst < 1e-14, "largest difference \(worst)")

        // Shards of a --hessian grid join to the unsharded file's bytes.
        let small = ["--grid", "x=-1:1:7", "--grid", "y=-1:1:5", "--grid", "z=0:1:3", "--hessian"]
        #expect(try tapevm(["grid", Self.function] + small + ["-o", "whole.npy"], in: dir).status == 0)
        for k in 0..<3 {
            #expect(try tapevm(["grid", Self.function] + small + ["--shard", "\(k)/3", "-o", "part\(k).npy"], in: dir).status == 0)
        }
        #expect(try tapevm(["join", "part0.npy", "part1.npy", "part2.npy", "-o", "joined.npy"], in: dir).status == 0)
        #expect(try bytes(dir + "/joined.npy") == bytes(dir + "/whole.npy"))

        // tapevm eval has no second derivatives: one line, usage exit, no file.
        let e = try tapevm(["eval", rosenbrock, "--grid", "x=0:1:3", "--grid", "y=0:1:3", "--hessian", "-o", "e.npy"], in: dir)
        #expect(e.status == 64)
        #expect(e.stderr == "Error: --hessian: 'tapevm eval' computes values only; use 'tapevm grid --hessian' for second derivatives\n")
        #expect(!FileManager.default.fileExists(atPath: dir + "/e.npy"))
    }

    /// `Program.runHessian` writes only the entries asked for, each the bits of
    /// `Program.hessian`'s, with the values and gradient of `Program.run`.
    @Test func runHessianWritesTheEntriesAskedFor() throws {
        let program = Program(try Tape(expression: Self.function))
        let n = 37
        let x = (0..<n).map { Double($0) / 18 - 1 }, y = x.map { 0.5 - $0 * $0 }, z = x.map { sin(3 * $0) }
        let full = try program.hessian(inputs: [x, y, z])
        var columns = [[Double]](repeating: [], count: 1 + 3 + 9)
        let out = columns.indices.map { _ in UnsafeMutablePointer<Double>.allocate(capacity: n) }
        defer { out.forEach { $0.deallocate() } }
        out.forEach { $0.initialize(repeating: .nan, count: n) }
        let ins: [UnsafeMutablePointer<Double>] = [x, y, z].map { column in
            let p = UnsafeMutablePointer<Double>.allocate(capacity: n)
            p.initialize(from: column, count: n)
            return p
        }
        defer { ins.forEach { $0.deallocate() } }
        var hessian: [[UnsafeMutablePointer<Double>?]] = []
        for r in 0..<3 {
            var row: [UnsafeMutablePointer<Double>?] = []
            for c in 0..<3 { row.append(r <= c ? out[4 + 3 * r + c] : nil) }
            hessian.append(row)
        }
        try program.runHessian(count: n, inputs: ins.map { UnsafePointer($0) }, parameters: [],
                               values: [out[0]], gradient: [out[1], out[2], out[3]], hessian: hessian)
        for k in columns.indices { columns[k] = Array(UnsafeBufferPointer(start: out[k], count: n)) }
        #expect(columns[0] == full.values[0])
        for j in 0..<3 { #expect(columns[1 + j] == full.gradient[j]) }
        for r in 0..<3 {
            for c in 0..<3 {
                let got = columns[4 + 3 * r + c]
                if r <= c {
                    #expect(got.map(\.bitPattern) == (0..<n).map { full.hessian(at: $0)[r][c].bitPattern }, "(\(r), \(c))")
                } else {
                    let untouched = got.allSatisfy { $0.isNaN }
                    #expect(untouched, "(\(r), \(c)) not asked for, not written")
                }
            }
        }
        let values = try program.evaluate(inputs: [x, y, z])
        #expect(columns[0] == values[0])
        #expect(throws: EvaluationError.self) {
            try program.runHessian(count: 0, inputs: [], parameters: [], values: [], gradient: [], hessian: [])
        }
    }

    /// The summary's statistics: min and max over every value (a lane's smaller value is not
    /// lost), NaN and infinity counts, the largest finite |∇f|, and the same numbers for any
    /// thread count.
    @Test func summaryStatisticsAndLargestGradient() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let line = { (r: Run, name: String) -> String? in
            r.stdout.split(separator: "\n").first { $0.hasPrefix(name.padding(toLength: 10, withPad: " ", startingAt: 0)) }.map(String.init)
        }
        for (f, summary) in [("f(x) = x", "min 0, max 15, mean 7.5"), ("f(x) = -x", "min -15, max -0, mean -7.5")] {
            let r = try tapevm(["eval", f, "--grid", "x=0:15:16"], in: dir)
            #expect(line(r, "f") == "f         " + summary, "\(r.stdout)")
        }
        // Long enough for the vector pass, with the extremes in every lane position.
        let wave = try tapevm(["grid", "f(x) = sin(x) / x", "--grid", "x=-40:40:1001"], in: dir)
        #expect(wave.status == 0, "\(wave.stderr)")
        #expect(line(wave, "f")?.hasPrefix("f         min -0.217214, max 0.998934,") == true, "\(wave.stdout)")
        #expect(line(wave, "f")?.hasSuffix("; 1 NaN, 0 infinite") == true, "0/0 at x = 0")

        let grid = ["grid", "f(x, y) = x * y", "--grid", "x=-1:1:201", "--grid", "y=-1:1:101", "--chunk-points", "512"]
        let one = try tapevm(grid + ["--threads", "1"], in: dir)
        #expect(one.status == 0, "\(one.stderr)")
        #expect(line(one, "|∇f|") == "|∇f|      max 1.41421 (largest finite)")
        let two = try tapevm(grid + ["--threads", "2"], in: dir)
        let stable = { (r: Run) in r.stdout.split(separator: "\n").filter { !$0.hasPrefix("time") && !$0.hasPrefix("threads") } }
        #expect(stable(two) == stable(one))
        // An infinite gradient is left out of the largest |∇f|; g has no finite gradient at all.
        let inf = try tapevm(["grid", "f(x, y) = 1 / x + y\ng(x, y) = 1 / (x - x)", "--grid", "x=-1:1:3", "--grid", "y=0:2:3"], in: dir)
        #expect(line(inf, "|∇f|") == "|∇f|      max 1.41421 (largest finite)", "\(inf.stdout)")
        #expect(line(inf, "|∇g|") == "|∇g|      max 0 (largest finite)", "\(inf.stdout)")
        #expect(line(inf, "df/dx")?.hasSuffix("; 0 NaN, 3 infinite") == true, "\(inf.stdout)")
    }
}
