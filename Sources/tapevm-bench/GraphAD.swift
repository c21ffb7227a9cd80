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
/// Math: TapeVM's own rules on `Double` (SLEEF), so only the execution model differs.
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
                    nodes.append(Gate.make(ins.opcode, o.map { nodes[$0.index] }, ins.immediate))
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

/// A gate: the forward value from the opcode's rule on `Double`, and a backward closure that
/// runs its reverse rule and pushes the contributions to the parents.
enum Gate {
    static func make(_ op: Opcode, _ parents: [Node], _ k: Double) -> Node {
        func value(_ i: Int) -> Double { i < parents.count ? parents[i].value : 0 }
        let x = Operands(value(0), value(1), value(2), k: k)
        let out = Node(op.forward(x), parents)
        guard op.info.isDifferentiable else { return out }
        out.backward = { [unowned out] in
            let d = op.reverse(x, y: out.value, g: out.grad)
            for (i, p) in parents.enumerated() { p.grad += d[i] ?? 0 }
        }
        return out
    }
}
