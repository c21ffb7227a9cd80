import ArgumentParser
import Foundation
import TapeVM
import TapeVMC

/// `tapevm-bench --population`: TapeVM as the evaluation backend of a symbolic-regression
/// engine. Random expressions of 10–50 nodes over 5 inputs with 5 parameters (seeded) are
/// scored over one data set, end to end: making each program included, through
/// ``Population/evaluate(_:columns:parameters:target:request:options:)``.
struct PopulationBench {
    let expressions: Int
    let rows: [Int]
    let repeats: Int
    let seed: UInt64

    /// A random expression tree of `nodes` nodes (binary and unary operators as in PySR's
    /// defaults; leaves are inputs and parameters), as a tape declaring all 5 inputs and 5 parameters.
    static func expression(nodes: Int, rng: inout SplitMix64) -> Tape {
        let b = TapeBuilder()
        let x = (0..<5).map { b.input("x\($0)") }
        let c = (0..<5).map { b.parameter("c\($0)") }
        func tree(_ n: Int) -> Register {
            if n <= 1 { return Int.random(in: 0..<2, using: &rng) == 0 ? x.randomElement(using: &rng)! : c.randomElement(using: &rng)! }
            if n == 2 || Int.random(in: 0..<4, using: &rng) == 0 {
                let a = tree(n - 1)
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: return b.sin(a)
                case 1: return b.cos(a)
                case 2: return b.exp(a)
                case 3: return b.square(a)
                default: return b.tanh(a)
                }
            }
            let left = Int.random(in: 1...(n - 2), using: &rng)
            let (l, r) = (tree(left), tree(n - 1 - left))
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return b.add(l, r)
            case 1: return b.sub(l, r)
            case 2: return b.mul(l, r)
            default: return b.div(l, r)
            }
        }
        b.output("f", tree(nodes))
        do { return try b.build() } catch { fatalError("tapevm-bench: \(error)") }
    }

    private func pad(_ x: Any, _ width: Int) -> String {
        let s = "\(x)"
        return s + String(repeating: " ", count: Swift.max(0, width - s.count))
    }

    /// This thread's CPU time in seconds: unlike wall time, it leaves out the time other
    /// processes hold the core (the machines here are shared).
    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Median wall and CPU µs per call of `body`, over `repeats` samples of `calls` calls.
    static func micro(calls: Int, repeats: Int, _ body: () -> Void) -> (wall: Double, cpu: Double) {
        var wall: [Double] = [], cpu: [Double] = []
        body()
        for _ in 0..<repeats {
            let t0 = nowNanoseconds(), c0 = cpuSeconds()
            for _ in 0..<calls { body() }
            cpu.append((cpuSeconds() - c0) * 1e6 / Double(calls))
            wall.append(Double(nowNanoseconds() - t0) * 1e-3 / Double(calls))
        }
        return (wall.sorted()[repeats / 2], cpu.sorted()[repeats / 2])
    }

    /// A value + gradient call of `tape`'s program (1 thread) at one point (inputs 0.5,
    /// parameters 0.25), into buffers allocated once (never freed: the benchmark's lifetime);
    /// it returns the value.
    static func onePointCall(_ tape: Tape) -> () -> Double {
        let program = Program(tape, options: ExecutionOptions(threads: 1))
        let inputs = tape.inputs.map { _ in UnsafeMutablePointer<Double>.allocate(capacity: 1) }
        let grads = tape.inputs.map { _ in Optional(UnsafeMutablePointer<Double>.allocate(capacity: 1)) }
        let value = UnsafeMutablePointer<Double>.allocate(capacity: 1)
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, tape.parameters.count))
        for p in inputs { p.initialize(to: 0.5) }
        let request = [GradientRequest(seeds: [1], inputGradients: grads, parameterGradientSums: tape.parameters.isEmpty ? nil : sums)]
        let params = Array(repeating: 0.25, count: tape.parameters.count)
        let ins = inputs.map { UnsafePointer($0) }
        let values: [UnsafeMutablePointer<Double>?] = [value]
        return {
            try! program.run(count: 1, inputs: ins, parameters: params, values: values, gradients: request)
            return value.pointee
        }
    }

    /// The same call through the C ABI (`tvm_value_and_gradient`), as a C caller's loop makes
    /// it: the same tables of column pointers every call.
    static func onePointCABICall(_ tape: Tape) -> () -> Double {
        var handle: OpaquePointer?, program: OpaquePointer?
        guard tvm_tape_from_text(tape.text, &handle) == 0, tvm_program_new(handle, 1, 0, nil, &program) == 0 else {
            fatalError("tapevm-bench: C ABI: \(String(cString: tvm_last_error()))")
        }
        _ = tvm_tape_free(handle)
        let (k, q) = (tape.inputs.count, tape.parameters.count)
        let inputs = UnsafeMutablePointer<UnsafePointer<Double>?>.allocate(capacity: k)
        let grads = UnsafeMutablePointer<UnsafeMutablePointer<Double>?>.allocate(capacity: k)
        let values = UnsafeMutablePointer<UnsafeMutablePointer<Double>?>.allocate(capacity: 1)
        for j in 0..<k {
            let x = UnsafeMutablePointer<Double>.allocate(capacity: 1)
            x.initialize(to: 0.5)
            inputs[j] = UnsafePointer(x)
            grads[j] = .allocate(capacity: 1)
        }
        values[0] = .allocate(capacity: 1)
        let params = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, q))
        params.initialize(repeating: 0.25, count: Swift.max(1, q))
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, q))
        return {
            let status = tvm_value_and_gradient(program, 1, inputs, UInt(k), params, UInt(q), 0, values, 1, grads, UInt(k),
                                                q == 0 ? nil : sums, nil, 0)
            precondition(status == 0, String(cString: tvm_last_error()))
            return values[0]!.pointee
        }
    }

    /// Fixed costs, one thread: making a Program, and a value + gradient call at one point.
    func overheads(_ tapes: [Tape], _ sizes: [Int]) throws {
        print("fixed costs, 1 thread (median µs; wall clock, and this thread's CPU time, which leaves out time the shared host takes):")
        let one = ExecutionOptions(threads: 1)
        let thirty = tapes.indices.filter { sizes[$0] == 30 }.prefix(200).map { tapes[$0] }
        var k = 0
        let p30 = Self.micro(calls: 200, repeats: repeats + 2) {
            blackHole(Double(Program(thirty[k % thirty.count], options: one).tape.instructions.count)); k += 1
        }
        print(String(format: "  Program, 30-node expression (%d of them, default passes):      %8.2f wall  %8.2f CPU", thirty.count, p30.wall, p30.cpu))
        let program30 = { (t: Tape) -> Void in
            let p = Program(t, options: one)
            blackHole(Double(p.statistics.forwardInstructions))
        }
        let p30g = Self.micro(calls: 200, repeats: repeats + 2) { program30(thirty[k % thirty.count]); k += 1 }
        print(String(format: "  ... and its gradient plan (what value + gradient runs need):   %8.2f wall  %8.2f CPU", p30g.wall, p30g.cpu))
        let rosenbrock = Tapes.rosenbrock()
        let pr = Self.micro(calls: 100, repeats: repeats + 2) { program30(rosenbrock) }
        print(String(format: "  Program + plans, Rosenbrock-8 (%d instructions):                %8.2f wall  %8.2f CPU", rosenbrock.instructions.count, pr.wall, pr.cpu))
        let big = Tape.random(instructions: 1_000_000, inputs: 4, parameters: 2, opcodes: Tape.smoothOpcodes, allLive: true, seed: 5)
        let pb = Self.micro(calls: 1, repeats: 1) { program30(big) }
        print(String(format: "  Program + plans, %d instructions (random, all live):       %8.0f wall  %8.0f CPU", big.instructions.count, pb.wall, pb.cpu))
        for c in [Tapes.seedCircuit(), Tapes.neuron()] {
            let call = Self.onePointCall(c)
            let t = Self.micro(calls: 20_000, repeats: repeats + 2) { _ = call() }
            print(String(format: "  value + gradient at 1 point, %@ (%d instructions):     %8.3f wall  %8.3f CPU",
                         c.inputs.count == 3 ? "(x+y)*z  " : "neuron   ", c.instructions.count, t.wall, t.cpu))
        }
        for c in [Tapes.seedCircuit(), Tapes.neuron()] {
            let call = Self.onePointCABICall(c)
            let t = Self.micro(calls: 20_000, repeats: repeats + 2) { _ = call() }
            print(String(format: "  ... through the C ABI, %@ (tvm_value_and_gradient):      %8.3f wall  %8.3f CPU",
                         c.inputs.count == 3 ? "(x+y)*z" : "neuron ", t.wall, t.cpu))
        }
        print()
    }

    /// The seeded expressions, their node counts and parameter values (`rng` is left where the
    /// data set's columns start).
    func population(_ rng: inout SplitMix64) -> (tapes: [Tape], sizes: [Int], parameters: [[Double]]) {
        var tapes: [Tape] = []
        var sizes: [Int] = []
        for _ in 0..<expressions {
            sizes.append(Int.random(in: 10...50, using: &rng))
            tapes.append(Self.expression(nodes: sizes.last!, rng: &rng))
        }
        let parameters = tapes.indices.map { _ in (0..<5).map { _ in Double.random(in: -1...1, using: &rng) } }
        return (tapes, sizes, parameters)
    }

    /// One step of the benchmark, run once (see `--population-step`).
    enum Step: String, ExpressibleByArgument, CaseIterable {
        case program, point, rows, dump
    }

    func run(step: Step) throws {
        var rng = SplitMix64(seed: seed)
        let (tapes, _, parameters) = population(&rng)
        let n = rows[0]
        let columns = (0..<5).map { j in (name: "x\(j)", values: (0..<n).map { _ in Double.random(in: -2...2, using: &rng) }) }
        let one = ExecutionOptions(threads: 1)
        switch step {
        case .program:
            var instructions = 0
            for t in tapes { instructions += Program(t, options: one).statistics.forwardInstructions }
            print("\(tapes.count) programs with gradient plans: \(instructions) forward instructions")
        case .point:
            let call = Self.onePointCall(Tapes.neuron())
            var value = 0.0
            for _ in 0..<expressions { value = call() }
            print("\(expressions) calls at 1 point: value \(value)")
        case .rows:
            let r = try Population.evaluate(tapes, columns: columns, parameters: parameters, options: one)
            print("\(tapes.count) tapes at \(n) rows: \(r.count) results")
        case .dump:
            // Every kind of result, as bits: values, Jacobian, summed gradient, loss, counts.
            let target = (0..<n).map { _ in Double.random(in: -2...2, using: &rng) }
            func bits(_ xs: [Double]) -> String { xs.map { String($0.bitPattern, radix: 16) }.joined(separator: " ") }
            for (name, t) in [("", nil), ("loss ", Optional(target))] {
                let request = PopulationRequest(gradient: true, jacobian: true, values: true)
                let r = try Population.evaluate(tapes, columns: columns, parameters: parameters, target: t, request: request, options: one)
                for (k, x) in r.enumerated() {
                    print("\(name)tape \(k) values \(bits(x.values))")
                    print("\(name)tape \(k) gradient \(bits(x.gradient)) loss \(x.loss.map { bits([$0]) } ?? "-") nonfinite \(x.nonFiniteRows)")
                    for (p, j) in x.jacobian.enumerated() { print("\(name)tape \(k) jacobian \(p) \(bits(j))") }
                }
            }
            // Programs over the same tapes: values and input gradients per row, all threads.
            for (k, t) in tapes.enumerated() {
                let r = try Program(t).valueAndGradient(inputs: columns.map(\.values), parameters: parameters[k])
                print("program \(k) values \(bits(r.values[0])) inputs \(r.inputGradients.map(bits).joined(separator: " | ")) sum \(bits(r.parameterGradientSum))")
            }
        }
    }

    func run() throws {
        var rng = SplitMix64(seed: seed)
        let (tapes, sizes, parameters) = population(&rng)
        let nodes = sizes.reduce(0, +)
        try overheads(tapes, sizes)
        let threads = ExecutionOptions.coreCount
        let meanNodes = Double(nodes) / Double(expressions)
        print("tapevm-bench --population: \(expressions) random expressions of 10–50 nodes (mean \(String(format: "%.1f", meanNodes)), "
              + "leaves included), 5 inputs, 5 parameters, seed \(seed); instruction set \(InstructionSet.preferred); "
              + "/proc/loadavg \(loadavg())")
        print("end to end: Program (default passes) + run, per expression; median of \(repeats) repeats; "
              + "ns/node·row = time / (Σ nodes × rows); fixed = time per expression at 1 row; "
              + "1 thread: this thread's CPU time, all threads: wall time")
        print()
        print("rows    mode          threads   expr/s      ns/node·row   µs/expr   fixed µs/expr")
        for n in rows {
            let columns = (0..<5).map { j in (name: "x\(j)", values: (0..<n).map { _ in Double.random(in: -2...2, using: &rng) }) }
            let one = columns.map { (name: $0.name, values: [$0.values[0]]) }
            for gradient in [false, true] {
                for t in threads > 1 ? [1, threads] : [1] {
                    let options = ExecutionOptions(threads: t)
                    let request = PopulationRequest(gradient: gradient)
                    func time(_ cols: [(name: String, values: [Double])], _ count: Int) throws -> Double {
                        let subset = Array(tapes.prefix(count)), params = Array(parameters.prefix(count))
                        var samples: [Double] = []
                        for _ in 0..<repeats {
                            let t0 = nowNanoseconds(), c0 = Self.cpuSeconds()
                            let r = try Population.evaluate(subset, columns: cols, parameters: params, request: request, options: options)
                            // One thread: CPU time (the host is shared); all threads: wall time.
                            samples.append(t == 1 ? Self.cpuSeconds() - c0 : Double(nowNanoseconds() - t0) * 1e-9)
                            blackHole(Double(r.count))
                        }
                        return samples.sorted()[samples.count / 2]
                    }
                    // At 10,000 rows a tenth of the expressions gives the same per-expression figures.
                    let count = n >= 10_000 ? Swift.max(1, expressions / 10) : expressions
                    let seconds = try time(columns, count)
                    let fixed = try time(one, expressions)
                    let countNodes = Double(sizes.prefix(count).reduce(0, +))
                    let line = "\(pad(n, 7)) \(pad(gradient ? "value+grad" : "values", 13)) \(pad(t, 9)) "
                        + String(format: "%-11.0f %-13.3f %-9.2f %.2f", Double(count) / seconds, seconds * 1e9 / (countNodes * Double(n)),
                                 seconds * 1e6 / Double(count), fixed * 1e6 / Double(expressions))
                    print(line)
                }
            }
        }
        print()
        print("value+grad: the value and the parameter gradient summed over the rows (and the count of non-finite rows)")
        print("/proc/loadavg at end \(loadavg())")
    }
}
