import Foundation
import TapeVM

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

    func run() throws {
        var rng = SplitMix64(seed: seed)
        var tapes: [Tape] = []
        var sizes: [Int] = []
        for _ in 0..<expressions {
            sizes.append(Int.random(in: 10...50, using: &rng))
            tapes.append(Self.expression(nodes: sizes.last!, rng: &rng))
        }
        let nodes = sizes.reduce(0, +)
        let parameters = tapes.indices.map { _ in (0..<5).map { _ in Double.random(in: -1...1, using: &rng) } }
        let threads = ExecutionOptions.coreCount
        let meanNodes = Double(nodes) / Double(expressions)
        print("tapevm-bench --population: \(expressions) random expressions of 10–50 nodes (mean \(String(format: "%.1f", meanNodes)), "
              + "leaves included), 5 inputs, 5 parameters, seed \(seed); instruction set \(InstructionSet.preferred); "
              + "/proc/loadavg \(loadavg())")
        print("end to end: Program (default passes) + run, per expression; median of \(repeats) repeats; "
              + "ns/node·row = time / (Σ nodes × rows); fixed = time per expression at 1 row")
        print()
        print("rows    mode          threads   expr/s      ns/node·row   µs/expr   fixed µs/expr")
        for n in rows {
            let columns = (0..<5).map { j in (name: "x\(j)", values: (0..<n).map { _ in Double.random(in: -2...2, using: &rng) }) }
            let one = columns.map { (name: $0.name, values: [$0.values[0]]) }
            for gradient in [false, true] {
                for t in [1, threads] where t == 1 || threads > 1 {
                    let options = ExecutionOptions(threads: t)
                    let request = PopulationRequest(gradient: gradient)
                    func time(_ cols: [(name: String, values: [Double])], _ count: Int) throws -> Double {
                        let subset = Array(tapes.prefix(count)), params = Array(parameters.prefix(count))
                        var samples: [Double] = []
                        for _ in 0..<repeats {
                            let t0 = nowNanoseconds()
                            let r = try Population.evaluate(subset, columns: cols, parameters: params, request: request, options: options)
                            samples.append(Double(nowNanoseconds() - t0) * 1e-9)
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
