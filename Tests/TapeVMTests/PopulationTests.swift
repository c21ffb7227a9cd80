import Foundation
import Testing
@testable import TapeVM
import TapeVMC

/// The population API: many tapes over one data set, each result held bit for bit to a
/// ``Program`` run of that tape alone, for any thread count.
@Suite struct PopulationTests {
    static let expressions = [
        "f(x0, x1; a, b) = a * x0^2 + sin(b * x1)",
        "f(x1; c) = exp(c * x1) - x1",
        "f(x1, x0; a, b, c) = (x0 - a) * (x1 + b) / (1 + c * c)",
        "f(x0) = tanh(x0) * x0",
        "f(x0, x1; w) = log(x0 * x0 + w) + x1",
    ]

    static func data(_ n: Int) -> [(name: String, values: [Double])] {
        var rng = SplitMix64(seed: 3)
        return ["x0", "x1"].map { name in (name: name, values: (0..<n).map { _ in Double.random(in: -2...2, using: &rng) }) }
    }

    static func tapes() throws -> [Tape] { try expressions.map { try Tape(expression: $0) } }

    static func parameters(_ tapes: [Tape]) -> [[Double]] {
        tapes.enumerated().map { k, t in (0..<t.parameters.count).map { 0.3 + Double(k) * 0.1 - Double($0) * 0.7 } }
    }

    static func same(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
    }

    @Test(arguments: [1, 8, 100, 5000])
    func matchesProgramRunsForAnyThreadCount(rows: Int) throws {
        let tapes = try Self.tapes()
        let columns = Self.data(rows)
        let params = Self.parameters(tapes)
        var previous: [PopulationResult]?
        for threads in [1, 2, 3, 8] {
            let results = try Population.evaluate(tapes, columns: columns, parameters: params,
                                                  request: PopulationRequest(gradient: true, jacobian: true, values: true),
                                                  options: ExecutionOptions(threads: threads))
            for (k, tape) in tapes.enumerated() {
                let inputs = tape.inputs.map { name in columns.first { $0.name == name }!.values }
                let program = Program(tape, options: ExecutionOptions(threads: 1))
                let summed = try program.valueAndGradient(inputs: inputs, parameters: params[k])
                let perRow = try program.valueAndGradient(inputs: inputs, parameters: params[k], parameterGradient: .perPoint)
                #expect(Self.same(results[k].values, summed.values[0]))
                #expect(Self.same(results[k].gradient, summed.parameterGradientSum))
                #expect(results[k].jacobian.count == tape.parameters.count)
                for p in 0..<tape.parameters.count { #expect(Self.same(results[k].jacobian[p], perRow.parameterGradients[p])) }
                #expect(results[k].loss == nil)
                #expect(!results[k].stoppedEarly)
            }
            if let previous { #expect(previous == results, "threads \(threads)") }
            previous = results
        }
    }

    @Test func lossModeIsTheSquaredResidualAndItsGradient() throws {
        let tapes = try Self.tapes()
        let columns = Self.data(300)
        let params = Self.parameters(tapes)
        let target = columns[0].values.map { 0.5 * $0 }
        let results = try Population.evaluate(tapes, columns: columns, parameters: params, target: target,
                                              request: PopulationRequest(gradient: true, jacobian: true, values: true),
                                              options: ExecutionOptions(threads: 2))
        for (k, tape) in tapes.enumerated() {
            // The same loss written out as a tape: f's instructions, then (f - y)^2.
            let b = TapeBuilder()
            var map: [Register] = []
            for x in tape.instructions {
                switch x.opcode {
                case .input: map.append(b.input(tape.inputs[Int(x.immediate)]))
                case .param: map.append(b.parameter(tape.parameters[Int(x.immediate)]))
                default: map.append(b.emit(x.opcode, x.operands.map { map[$0.index] }, immediate: x.immediate))
                }
            }
            let y = b.input("target")
            b.output("loss", b.square(b.sub(map[tape.outputs[0].register.index], y)))
            let lossTape = try b.build()
            let inputs = lossTape.inputs.map { name in name == "target" ? target : columns.first { $0.name == name }!.values }
            let r = try Program(lossTape, options: ExecutionOptions(threads: 1)).valueAndGradient(inputs: inputs, parameters: params[k])
            var sum = 0.0
            for v in r.values[0] { sum += v }
            #expect(results[k].loss.map { $0.bitPattern } == sum.bitPattern, "tape \(k)")
            #expect(Self.same(results[k].gradient, r.parameterGradientSum), "tape \(k)")
            // The Jacobian stays the model's, not the loss's.
            let model = try Program(tape, options: ExecutionOptions(threads: 1)).valueAndGradient(
                inputs: tape.inputs.map { name in columns.first { $0.name == name }!.values }, parameters: params[k],
                parameterGradient: .perPoint)
            #expect(Self.same(results[k].jacobian.flatMap { $0 }, model.parameterGradients.flatMap { $0 }))
        }
    }

    @Test func countsNonFiniteRowsAndStopsEarly() throws {
        // log(x0) is NaN for x0 < 0 and −∞ at 0; sqrt(a·x0) is NaN for x0 < 0, and at 0 its
        // value is finite but its parameter gradient is not (0·∞).
        let tapes = try [Tape(expression: "f(x0; a) = a * log(x0)"), Tape(expression: "f(x0; a) = sqrt(a * x0)"),
                         Tape(expression: "f(x0; a) = a * x0")]
        var x = (0..<10_000).map { Double($0 % 7) + 1 }
        x[3] = -1; x[9000] = -2; x[9001] = 0
        let columns = [(name: "x0", values: x)]
        let params: [[Double]] = [[1], [1], [1]]
        let all = try Population.evaluate(tapes, columns: columns, parameters: params, options: ExecutionOptions(threads: 1))
        #expect(all.map(\.nonFiniteRows) == [3, 3, 0])
        let valuesOnly = try Population.evaluate(tapes, columns: columns, parameters: params,
                                                 request: PopulationRequest(gradient: false), options: ExecutionOptions(threads: 1))
        #expect(valuesOnly.map(\.nonFiniteRows) == [3, 2, 0], "without gradients only values count")
        let stopped = try Population.evaluate(tapes, columns: columns, parameters: params, target: x,
                                              request: PopulationRequest(values: true, stopOnNonFinite: true),
                                              options: ExecutionOptions(threads: 2))
        #expect(stopped.map(\.stoppedEarly) == [true, true, false])
        #expect(stopped[0].loss!.isNaN && stopped[0].gradient[0].isNaN)
        #expect(stopped[0].nonFiniteRows == 1, "the first chunk (8192 rows) holds one bad row")
        #expect(!stopped[0].values[8191].isNaN && stopped[0].values[8192].isNaN)
        #expect(stopped[2].loss == 0 && stopped[2].nonFiniteRows == 0)
    }

    /// Finite rows whose gradient sum overflows are not counted (the count falls back to the
    /// rows), and a row whose value is finite but whose gradient is not is, with summed
    /// gradients and without.
    @Test func gradientSumsOnlyShortcutTheCount() throws {
        let tapes = try [Tape(expression: "f(x0; a) = a * x0"), Tape(expression: "f(x0; a) = sqrt(a * x0)")]
        var x = [Double](repeating: 1e308, count: 64)
        x[5] = 0
        let columns = [(name: "x0", values: x)]
        for request in [PopulationRequest(), PopulationRequest(gradient: false, jacobian: true)] {
            let r = try Population.evaluate(tapes, columns: columns, parameters: [[1], [1]], request: request,
                                            options: ExecutionOptions(threads: 1))
            #expect(r.map(\.nonFiniteRows) == [0, 1], "\(request)")
            if request.gradient { #expect(r[0].gradient[0] == .infinity) }
        }
    }

    @Test func errorsNameTheTape() throws {
        let columns = Self.data(4)
        let two = try Tape(expression: "f(x0, x1) = x0\ng(x0, x1) = x1")
        #expect(throws: EvaluationError.self) {
            try Population.evaluate([two], columns: columns, parameters: [[]])
        }
        let extra = try Tape(expression: "f(x0, z) = x0 + z"), wrong = try Tape(expression: "f(x0; a) = a * x0")
        do throws(EvaluationError) {
            _ = try Population.evaluate([extra], columns: columns, parameters: [[]])
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("tape 0: input 'z' is not a column"))
        }
        do throws(EvaluationError) {
            _ = try Population.evaluate([wrong], columns: columns, parameters: [[1, 2]])
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("tape 0: expected 1 parameter value(s) (a), got 2"))
        }
        #expect(throws: EvaluationError.self) {
            try Population.evaluate([], columns: columns, parameters: [], target: [1])
        }
    }

    @Test func theCABIMatchesSwift() throws {
        let tapes = try Self.tapes()
        let columns = Self.data(50)
        let params = Self.parameters(tapes)
        let target = columns[1].values
        let swift = try Population.evaluate(tapes, columns: columns, parameters: params, target: target,
                                            request: PopulationRequest(gradient: true, jacobian: true, values: true))
        var handles: [OpaquePointer?] = []
        for e in Self.expressions {
            var h: OpaquePointer?
            #expect(e.withCString { tvm_tape_from_expression($0, &h) } == 0)
            handles.append(h)
        }
        defer { for h in handles { _ = tvm_tape_free(h) } }
        let n = 50
        var values = tapes.map { _ in [Double](repeating: 0, count: n) }
        var gradients = tapes.map { [Double](repeating: 0, count: Swift.max(1, $0.parameters.count)) }
        var jacobians = tapes.map { [Double](repeating: 0, count: Swift.max(1, $0.parameters.count * n)) }
        var losses = [Double](repeating: 0, count: tapes.count)
        var nonFinite = [UInt](repeating: 9, count: tapes.count)
        let names = ["x0", "x1"].map { (s: String) in strdup(s)! }
        defer { for p in names { free(p) } }
        let status = withColumns(columns.map(\.values) + [target] + params.map { $0.isEmpty ? [0] : $0 }
                                 + values + gradients + jacobians) { (p) -> Int32 in
            let namePointers: [UnsafePointer<CChar>?] = names.map { UnsafePointer($0) }
            let paramPointers: [UnsafePointer<Double>?] = (0..<tapes.count).map { p[3 + $0] }
            let k = tapes.count
            let mutable = { (i: Int) -> UnsafeMutablePointer<Double>? in UnsafeMutablePointer(mutating: p[3 + k + i]) }
            let v = (0..<k).map { mutable($0) }, g = (0..<k).map { mutable(k + $0) }, j = (0..<k).map { mutable(2 * k + $0) }
            return tvm_population_evaluate(UInt(k), handles, UInt(n), namePointers, [Optional(p[0]), Optional(p[1])], 2, p[2], paramPointers, 2, 0,
                                           v, g, j, &losses, &nonFinite)
        } copyBack: { columns in
            for k in tapes.indices {
                values[k] = columns[3 + tapes.count + k]
                gradients[k] = columns[3 + 2 * tapes.count + k]
                jacobians[k] = columns[3 + 3 * tapes.count + k]
            }
        }
        #expect(status == 0, "\(String(cString: tvm_last_error()))")
        for (k, r) in swift.enumerated() {
            #expect(Self.same(values[k], r.values))
            #expect(Self.same(Array(gradients[k].prefix(tapes[k].parameters.count)), r.gradient))
            #expect(Self.same(Array(jacobians[k].prefix(tapes[k].parameters.count * n)), r.jacobian.flatMap { $0 }))
            #expect(losses[k].bitPattern == r.loss!.bitPattern)
            #expect(nonFinite[k] == UInt(r.nonFiniteRows))
        }
        // Errors: a NULL tape array, losses without a target.
        #expect(tvm_population_evaluate(1, nil, 0, nil, nil, 0, nil, nil, 1, 0, nil, nil, nil, nil, nil) == 1)
        #expect(String(cString: tvm_last_error()).contains("tapes is NULL"))
        var loss = 0.0
        let rc = tvm_population_evaluate(1, handles, 0, nil, nil, 0, nil, nil, 1, 0, nil, nil, nil, &loss, nil)
        #expect(rc == 3 || rc == 1)
    }
}

/// `withColumns` from the library, with a copy-back of the (mutated) columns for the C test.
private func withColumns<R>(_ columns: [[Double]], _ body: ([UnsafePointer<Double>]) -> R,
                            copyBack: ([[Double]]) -> Void) -> R {
    var storage = columns
    let n = storage.count
    let result: R = {
        var pointers: [UnsafeMutablePointer<Double>] = []
        for k in 0..<n {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, storage[k].count))
            p.initialize(from: storage[k], count: storage[k].count)
            pointers.append(p)
        }
        defer { for p in pointers { p.deallocate() } }
        let r = body(pointers.map { UnsafePointer($0) })
        for k in 0..<n { storage[k] = Array(UnsafeBufferPointer(start: pointers[k], count: storage[k].count)) }
        return r
    }()
    copyBack(storage)
    return result
}

/// The symbolic-regression example next to this test bundle, if it was built.
private let examplePath: String? = {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("symbolic-regression").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}()

@Suite(.enabled(if: examplePath != nil, "the symbolic-regression example is not next to the test bundle"))
struct SymbolicRegressionExampleTests {
    /// The example recovers its formula (exit status 0) and prints its progress.
    @Test func recoversTheFormula() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: examplePath!)
        process.arguments = ["--seed", "4"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("generation  1:"))
        #expect(text.contains("recovered: y ="))
    }
}
