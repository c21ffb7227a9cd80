import CTapeKernels

/// Forward mode on the Swift interpreter's lane: one tile's values and their tangents along `D`
/// directions, in one pass over the tape.
///
/// A tangent comes from the same rules as the gradient, with no rule of its own: an operand's
/// local derivative is a scalar and every reverse rule is linear in its adjoint `g`, so the
/// tangent of `y = op(a, b, c)` is `ẏ = Σₖ reverse(x, y: y, g: ẋₖ)[k]`, the reverse rule run
/// once per active operand with `g` set to that operand's tangent, keeping that operand's
/// contribution (the other contributions are dead code in the specialized loop). So routing
/// rules (`abs`, `relu`, `max`, `min`, `select`) select a tangent rather than multiply it by
/// 0 or 1, ties split it ½/½ and kinks use the gradient's subgradients, exactly as the
/// gradient does; operands without a tangent (``TangentPlan``) contribute nothing.
///
/// As in ``SIMD8Interpreter``, each instruction is dispatched once per tile through
/// ``Opcode/visitRule(_:)``, and the loop over the tile's 8-point blocks is specialized per rule
/// and per combination of active operands.
enum TangentSweep {
    typealias Planes = UnsafePointer<UnsafeMutablePointer<Double>?>

    /// Runs the code over a tile of `tile` points (a multiple of 8): value planes `V`, tangent
    /// planes `T` (plane `p·directions + d`).
    static func run(_ code: UnsafePointer<TangentInstruction>, _ count: Int, _ V: Planes, _ T: Planes,
                    directions: Int, tile: Int) {
        for k in 0..<count {
            let x = code[k]
            guard let op = Opcode(rawValue: UInt8(truncatingIfNeeded: x.op)) else { continue }
            let D = directions
            let p = TangentPlanes(y: V[Int(x.dst)]!, a: V[Int(x.a)]!, b: V[Int(x.b)]!, c: V[Int(x.c)]!,
                                  ty: T + Int(x.dst) * D, ta: T + Int(x.a) * D, tb: T + Int(x.b) * D,
                                  tc: T + Int(x.c) * D, k: x.imm, directions: D, tile: tile)
            switch x.active & 7 {
            case 0: op.visitRule(TangentTile<Active<No, No, No>>(p: p))
            case 1: op.visitRule(TangentTile<Active<Yes, No, No>>(p: p))
            case 2: op.visitRule(TangentTile<Active<No, Yes, No>>(p: p))
            case 3: op.visitRule(TangentTile<Active<Yes, Yes, No>>(p: p))
            case 4: op.visitRule(TangentTile<Active<No, No, Yes>>(p: p))
            case 5: op.visitRule(TangentTile<Active<Yes, No, Yes>>(p: p))
            case 6: op.visitRule(TangentTile<Active<No, Yes, Yes>>(p: p))
            default: op.visitRule(TangentTile<Active<Yes, Yes, Yes>>(p: p))
            }
        }
    }
}

private struct TangentPlanes {
    let y, a, b, c: UnsafeMutablePointer<Double>
    /// The first of `directions` consecutive tangent plane pointers of the result and of each operand.
    let ty, ta, tb, tc: TangentSweep.Planes
    let k: Double
    let directions: Int
    let tile: Int
}

/// Which operands carry a tangent, at compile time (the interpreter's per-operand flags).
private typealias Active = First

/// One instruction over a tile: per 8-point block, the operands are loaded, the value computed,
/// then each direction's tangent (operand tangents read before the result's is stored, so
/// planes may be shared as in the value sweep), then the value stored.
private struct TangentTile<F: FirstFlags>: RuleVisitor {
    let p: TangentPlanes

    @inline(__always)
    func visit<R: OpcodeRule>(_: R.Type) {
        let p = self.p
        let active = F.a || F.b || F.c
        if !active {
            var i = 0
            while i < p.tile {
                store(R.forward(Operands(load(p.a, i), load(p.b, i), load(p.c, i), k: p.k)), p.y, i)
                i &+= 8
            }
            return
        }
        if p.directions == 1 {
            // One direction (a JVP, an HVP): the tangent planes are resolved once per tile.
            let (ty, ta, tb, tc) = (p.ty[0]!, p.ta[0]!, p.tb[0]!, p.tc[0]!)
            var i = 0
            while i < p.tile {
                let x = Operands(load(p.a, i), load(p.b, i), load(p.c, i), k: p.k)
                let y = R.forward(x)
                store(tangent(R.self, x, y, ta, tb, tc, i), ty, i)
                store(y, p.y, i)
                i &+= 8
            }
            return
        }
        var i = 0
        while i < p.tile {
            let x = Operands(load(p.a, i), load(p.b, i), load(p.c, i), k: p.k)
            let y = R.forward(x)
            for d in 0..<p.directions {
                store(tangent(R.self, x, y, p.ta[d]!, p.tb[d]!, p.tc[d]!, i), p.ty[d]!, i)
            }
            store(y, p.y, i)
            i &+= 8
        }
    }

    /// `ẏ = Σₖ reverse(x, y, g: ẋₖ)[k]` over the active operands, for one block.
    @inline(__always)
    func tangent<R: OpcodeRule>(_: R.Type, _ x: Operands<SIMD8<Double>>, _ y: SIMD8<Double>,
                                _ ta: UnsafeMutablePointer<Double>, _ tb: UnsafeMutablePointer<Double>,
                                _ tc: UnsafeMutablePointer<Double>, _ i: Int) -> SIMD8<Double> {
        var t: SIMD8<Double>?
        if F.a, let v = R.reverse(x, y: y, g: load(ta, i)).a { t = v }
        if F.b, let v = R.reverse(x, y: y, g: load(tb, i)).b { t = t.map { $0 + v } ?? v }
        if F.c, let v = R.reverse(x, y: y, g: load(tc, i)).c { t = t.map { $0 + v } ?? v }
        return t ?? SIMD8(repeating: 0)
    }
}
