import TapeVM
import TapeVMIO

/// One axis of a grid: `count` points of one input from `start` to `stop`, both ends included.
struct GridAxis: Equatable {
    /// The input's name.
    var name: String
    /// The input's slot in the tape.
    var slot: Int
    var start: Double
    var stop: Double
    var count: Int

    /// Coordinate `i`: the ends exactly, and `0` exactly at the middle of a symmetric range
    /// with an odd count.
    func coordinate(_ i: Int) -> Double {
        count == 1 ? start : (start * Double(count - 1 - i) + stop * Double(i)) / Double(count - 1)
    }

    /// `name=start:stop:count`.
    var spec: String { "\(name)=\(JSONValue.format(start)):\(JSONValue.format(stop)):\(count)" }
}

/// The points a grid command evaluates: the Cartesian product of its axes in row-major order
/// (the last axis varies fastest), every other input fixed, and the part of it this run
/// computes (`--shard k/n`: the k-th of n contiguous parts; all of it otherwise).
struct GridSpec {
    var axes: [GridAxis]
    /// Inputs without an axis: slot and value.
    var fixed: [(name: String, slot: Int, value: Double)]
    /// The number of input slots of the tape.
    var inputCount: Int
    /// The points of the whole grid computed by this run, as flat row-major indices.
    var range: Range<Int>
    /// `(k, n)` for `--shard k/n`.
    var shard: (index: Int, count: Int)?

    /// The number of points of the whole grid (1 without axes).
    var totalCount: Int { axes.reduce(1) { $0 * $1.count } }
    /// The array shape of the whole grid: one dimension per axis.
    var shape: [Int] { axes.map(\.count) }

    /// The coordinates of flat point `p`, one per axis.
    func coordinates(of p: Int) -> [Double] {
        var rest = p
        var out = [Double](repeating: 0, count: axes.count)
        for d in axes.indices.reversed() {
            out[d] = axes[d].coordinate(rest % axes[d].count)
            rest /= axes[d].count
        }
        return out
    }

    /// The points of part `k` of `n`: contiguous, in order, sizes differing by at most one.
    static func shardRange(_ k: Int, of n: Int, total: Int) -> Range<Int> {
        let (base, extra) = total.quotientAndRemainder(dividingBy: n)
        let start = k * base + Swift.min(k, extra)
        return start..<start + base + (k < extra ? 1 : 0)
    }

    /// A one-line description: `101 × 51 = 5151 points: x ∈ [-1, 1] (101), y ∈ ...; z = 0.5`.
    var summary: String {
        var text = axes.isEmpty ? "1 point" : "\(axes.map { String($0.count) }.joined(separator: " × ")) = \(totalCount) points"
        if !axes.isEmpty {
            text += ": " + axes.map { "\($0.name) ∈ [\(readable($0.start)), \(readable($0.stop))] (\($0.count))" }.joined(separator: ", ")
        }
        if !fixed.isEmpty {
            text += (axes.isEmpty ? ": " : "; ") + fixed.map { "\($0.name) = \(readable($0.value))" }.joined(separator: ", ")
        }
        return text
    }
}

/// Parsing of the grid options into a ``GridSpec``, with one-line errors.
enum GridParsing {
    /// `--grid name=start:stop:count`.
    static func axis(_ text: String, tape: Tape) throws(CLIError) -> GridAxis {
        let quoted = "--grid '\(text)'"
        let example = "expected name=start:stop:count, e.g. x=-3:3:2001"
        guard let eq = text.firstIndex(of: "=") else { throw .usage("\(quoted): \(example)") }
        let name = text[..<eq].trimmingSpaces
        let parts = text[text.index(after: eq)...].split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        guard parts.count == 3 else { throw .usage("\(quoted): \(example)") }
        let slot = try inputSlot(name, option: quoted, tape: tape)
        let start = try Assignments.number(parts[0], context: "\(quoted): start")
        let stop = try Assignments.number(parts[1], context: "\(quoted): stop")
        guard start.isFinite, stop.isFinite else { throw .usage("\(quoted): start and stop must be finite") }
        guard let count = Int(parts[2]), count >= 1 else {
            throw .usage("\(quoted): count '\(parts[2])' is not a positive whole number")
        }
        if count == 1 && start != stop {
            throw .usage("\(quoted): one point cannot span \(readable(start)) to \(readable(stop)): give a count of at least 2, or --at \(name)=value")
        }
        return GridAxis(name: name, slot: slot, start: start, stop: stop, count: count)
    }

    /// The slot of input `name`, or an error saying what `name` is.
    static func inputSlot(_ name: String, option: String, tape: Tape) throws(CLIError) -> Int {
        guard !name.isEmpty else { throw .usage("\(option): no input name before '='") }
        if let slot = tape.inputSlot(named: name) { return slot }
        if tape.parameters.contains(name) {
            throw .usage("\(option): '\(name)' is a parameter, not an input: give it with --param")
        }
        throw .usage("\(option): unknown input '\(name)' (\(tape.inputs.isEmpty ? "the function has no inputs" : "the function's inputs are \(tape.inputs.joined(separator: ", "))"))")
    }

    /// `--at name=value,...` (several allowed): inputs held fixed.
    static func fixed(_ texts: [String], tape: Tape) throws(CLIError) -> [(name: String, slot: Int, value: Double)] {
        var out: [(name: String, slot: Int, value: Double)] = []
        for text in texts {
            for item in text.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingSpaces }) {
                let quoted = "--at '\(text)'"
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw .usage("\(quoted): '\(item)' is not name=value") }
                let name = parts[0].trimmingSpaces
                let slot = try inputSlot(name, option: quoted, tape: tape)
                guard !out.contains(where: { $0.slot == slot }) else { throw .usage("\(quoted): input '\(name)' is given twice") }
                out.append((name, slot, try Assignments.number(parts[1].trimmingSpaces, context: "\(quoted): input '\(name)'")))
            }
        }
        return out
    }

    /// `--shard k/n`: `0 ≤ k < n`.
    static func shard(_ text: String) throws(CLIError) -> (index: Int, count: Int) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw .usage("--shard '\(text)': expected k/n, the k-th of n parts counting from 0, e.g. 3/16")
        }
        guard n >= 1, k >= 0, k < n else {
            throw .usage("--shard '\(text)': need 0 ≤ k < n (parts count from 0: 0/\(Swift.max(n, 1)) to \(Swift.max(n, 1) - 1)/\(Swift.max(n, 1)))")
        }
        return (k, n)
    }

    /// The grid: `--grid` axes in the order given, `--at` values, and every input covered
    /// exactly once.
    static func spec(axes: [GridAxis], fixed: [(name: String, slot: Int, value: Double)], shard: (index: Int, count: Int)?,
                     tape: Tape) throws(CLIError) -> GridSpec {
        for (k, a) in axes.enumerated() {
            if axes[..<k].contains(where: { $0.slot == a.slot }) { throw .usage("--grid: input '\(a.name)' has two axes") }
            if fixed.contains(where: { $0.slot == a.slot }) { throw .usage("input '\(a.name)' has both --grid and --at") }
        }
        let missing = tape.inputs.indices.filter { s in !axes.contains { $0.slot == s } && !fixed.contains { $0.slot == s } }
        if !missing.isEmpty {
            let names = missing.map { tape.inputs[$0] }
            throw .usage("input\(names.count > 1 ? "s" : "") \(names.joined(separator: ", ")) \(names.count > 1 ? "have" : "has") no value: give --grid \(names[0])=start:stop:count or --at \(names[0])=value")
        }
        var total = 1
        for a in axes {
            let (product, overflow) = total.multipliedReportingOverflow(by: a.count)
            guard !overflow, product <= 1 << 50 else {
                throw .usage("the grid \(axes.map { String($0.count) }.joined(separator: " × ")) has too many points (at most 2^50)")
            }
            total = product
        }
        let range = shard.map { GridSpec.shardRange($0.index, of: $0.count, total: total) } ?? 0..<total
        return GridSpec(axes: axes, fixed: fixed, inputCount: tape.inputs.count, range: range, shard: shard)
    }
}
