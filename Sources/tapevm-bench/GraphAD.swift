import Foundation
import TapeVM

/// A node of a per-point object graph, micrograd style: a value, its adjoint, the nodes it was
/// computed from, and a closure that pushes its adjoint to them.
final class Node {
    var value: Double
    var grad = 0.0
    let parents: [Node]
    var backward: (() -> Void)?
    /// The pass that last visited this node in the topological sort.
    var mark = 0

    init(_ value: Double, _ parents: [Node] = []) {
        self.value = value
        self.parents = parents
    }
}

/// Dynamic per-point reverse-mode AD: for every point, walk the tape building one `Node` per
/// instruction (each a gate with its own backward closure), sort the graph topologically from
/// the output, and run the closures in reverse order. Parameters are persistent nodes shared by
/// all points of a batch, so their adjoints accumulate into the batch sum as in micrograd.
/// Math: Foundation (glibc) functions.
struct GraphAD {
    let tape: Tape
    private var pass = 0

    init(_ tape: Tape) { self.tape = tape }

    mutating func run(_ batch: Batch, _ out: Outputs) {
        let params = batch.parameters.map { Node($0) }
        let output = tape.outputs[0].register.index
        var nodes: [Node] = []
        nodes.reserveCapacity(tape.instructions.count)
        var topo: [Node] = []
        var stack: [(Node, Int)] = []
        for i in 0..<batch.count {
            nodes.removeAll(keepingCapacity: true)
            for ins in tape.instructions {
                let o = ins.operands
                switch ins.opcode {
                case .input: nodes.append(Node(batch.columns[Int(ins.immediate)][i]))
                case .param: nodes.append(params[Int(ins.immediate)])
                case .const: nodes.append(Node(ins.immediate))
                default:
                    nodes.append(Gate.make(ins.opcode, o.count > 0 ? nodes[o[0].index] : nil,
                                           o.count > 1 ? nodes[o[1].index] : nil,
                                           o.count > 2 ? nodes[o[2].index] : nil, ins.immediate))
                }
            }
            // Topological order by depth-first search from the output (iterative: tapes are deep).
            pass += 1
            topo.removeAll(keepingCapacity: true)
            let root = nodes[output]
            root.mark = pass
            stack.append((root, 0))
            while let (n, next) = stack.last {
                if next < n.parents.count {
                    stack[stack.count - 1].1 = next + 1
                    let p = n.parents[next]
                    if p.mark != pass {
                        p.mark = pass
                        stack.append((p, 0))
                    }
                } else {
                    topo.append(n)
                    stack.removeLast()
                }
            }
            root.grad = 1
            for n in topo.reversed() { n.backward?() }
            out.values[i] = root.value
            for g in out.inputGradients { g[i] = 0 }
            for (k, ins) in tape.instructions.enumerated() where ins.opcode == .input {
                out.inputGradients[Int(ins.immediate)][i] += nodes[k].grad
            }
        }
        for (k, p) in params.enumerated() { out.parameterSums[k] = p.grad }
        // Break nothing: closures hold their output node unowned, so the graph frees itself.
    }
}

/// One gate per opcode: the forward value and the backward closure.
enum Gate {
    static func make(_ op: Opcode, _ a: Node?, _ b: Node?, _ c: Node?, _ k: Double) -> Node {
        switch op {
        case .neg: return unary(a!, -a!.value) { g, _, _ in -g }
        case .recip: return unary(a!, 1 / a!.value) { g, _, y in -(g * y * y) }
        case .square: return unary(a!, a!.value * a!.value) { g, x, _ in g * (2 * x) }
        case .sqrt: return unary(a!, a!.value.squareRoot()) { g, _, y in g / (2 * y) }
        case .exp: return unary(a!, Foundation.exp(a!.value)) { g, _, y in g * y }
        case .log: return unary(a!, Foundation.log(a!.value)) { g, x, _ in g / x }
        case .sigmoid: return unary(a!, 1 / (1 + Foundation.exp(-a!.value))) { g, _, y in g * (y * (1 - y)) }
        case .tanh: return unary(a!, Foundation.tanh(a!.value)) { g, _, y in g * (1 - y * y) }
        case .sin: return unary(a!, Foundation.sin(a!.value)) { g, x, _ in g * Foundation.cos(x) }
        case .cos: return unary(a!, Foundation.cos(a!.value)) { g, x, _ in -(g * Foundation.sin(x)) }
        case .abs: return unary(a!, Swift.abs(a!.value)) { g, x, _ in x > 0 ? g : x < 0 ? -g : 0 }
        case .relu: return unary(a!, Swift.max(a!.value, 0)) { g, x, _ in x > 0 ? g : 0 }
        case .softplus:
            let x = a!.value
            return unary(a!, Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))) { g, x, _ in
                g / (1 + Foundation.exp(-x))
            }
        case .log1p: return unary(a!, Foundation.log1p(a!.value)) { g, x, _ in g / (1 + x) }
        case .expm1: return unary(a!, Foundation.expm1(a!.value)) { g, _, y in g * (y + 1) }
        case .powi: return unary(a!, Foundation.pow(a!.value, k)) { g, x, _ in g * (k * Foundation.pow(x, k - 1)) }
        case .add: return binary(a!, b!, a!.value + b!.value) { g, _, _, _ in (g, g) }
        case .sub: return binary(a!, b!, a!.value - b!.value) { g, _, _, _ in (g, -g) }
        case .mul: return binary(a!, b!, a!.value * b!.value) { g, x, y, _ in (g * y, g * x) }
        case .div: return binary(a!, b!, a!.value / b!.value) { g, _, y, f in (g / y, -(g * f / y)) }
        case .pow:
            return binary(a!, b!, Foundation.pow(a!.value, b!.value)) { g, x, y, f in
                (g * (y * Foundation.pow(x, y - 1)), g * (Foundation.log(x == 0 ? 1 : x) * f))
            }
        case .max:
            return binary(a!, b!, Swift.max(a!.value, b!.value)) { g, x, y, _ in
                x > y ? (g, 0) : x < y ? (0, g) : (0.5 * g, 0.5 * g)
            }
        case .min:
            return binary(a!, b!, Swift.min(a!.value, b!.value)) { g, x, y, _ in
                x < y ? (g, 0) : x > y ? (0, g) : (0.5 * g, 0.5 * g)
            }
        case .logaddexp:
            let (x, y) = (a!.value, b!.value)
            let v = x == y ? x + M_LN2 : Swift.max(x, y) + Foundation.log1p(Foundation.exp(-Swift.abs(x - y)))
            return binary(a!, b!, v) { g, x, y, _ in
                x == y ? (0.5 * g, 0.5 * g) : (g / (1 + Foundation.exp(y - x)), g / (1 + Foundation.exp(x - y)))
            }
        case .lt: return Node(a!.value < b!.value ? 1 : 0)
        case .le: return Node(a!.value <= b!.value ? 1 : 0)
        case .gt: return Node(a!.value > b!.value ? 1 : 0)
        case .ge: return Node(a!.value >= b!.value ? 1 : 0)
        case .eq: return Node(a!.value == b!.value ? 1 : 0)
        case .ne: return Node(a!.value != b!.value ? 1 : 0)
        case .select:
            let (cond, p, q) = (a!, b!, c!)
            let out = Node(cond.value != 0 ? p.value : q.value, [cond, p, q])
            out.backward = { [unowned out] in
                if cond.value != 0 { p.grad += out.grad } else { q.grad += out.grad }
            }
            return out
        case .muladd:
            let (x, y, z) = (a!, b!, c!)
            let out = Node(x.value * y.value + z.value, [x, y, z])
            out.backward = { [unowned out] in
                let g = out.grad
                x.grad += g * y.value
                y.grad += g * x.value
                z.grad += g
            }
            return out
        case .addk: return unary(a!, a!.value + k) { g, _, _ in g }
        case .mulk: return unary(a!, a!.value * k) { g, _, _ in g * k }
        case .rsubk: return unary(a!, k - a!.value) { g, _, _ in -g }
        case .divk: return unary(a!, a!.value / k) { g, _, _ in g / k }
        case .rdivk: return unary(a!, k / a!.value) { g, x, y in -(g * y / x) }
        case .sqdiff:
            let d = a!.value - b!.value
            return binary(a!, b!, d * d) { g, x, y, _ in let c = g * (2 * (x - y)); return (c, -c) }
        case .mulkadd: return binary(a!, b!, a!.value * k + b!.value) { g, _, _, _ in (g * k, g) }
        case .sqdiffk:
            let d = k - a!.value
            return unary(a!, d * d) { g, x, _ in -(g * (2 * (k - x))) }
        case .input, .param, .const:
            fatalError("leaves are made by GraphAD.run")
        }
    }

    /// A one-operand gate; `rule(g, a, y)` is what it adds to `a`'s adjoint.
    private static func unary(_ a: Node, _ value: Double, _ rule: @escaping (Double, Double, Double) -> Double) -> Node {
        let out = Node(value, [a])
        out.backward = { [unowned out] in a.grad += rule(out.grad, a.value, out.value) }
        return out
    }

    /// A two-operand gate; `rule(g, a, b, y)` is what it adds to the adjoints of `a` and `b`.
    private static func binary(_ a: Node, _ b: Node, _ value: Double,
                               _ rule: @escaping (Double, Double, Double, Double) -> (Double, Double)) -> Node {
        let out = Node(value, [a, b])
        out.backward = { [unowned out] in
            let (da, db) = rule(out.grad, a.value, b.value, out.value)
            a.grad += da
            b.grad += db
        }
        return out
    }
}
