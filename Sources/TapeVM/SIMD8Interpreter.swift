import CTapeKernels

/// The Swift interpreter: the forward and reverse sweeps of one tile, in Swift, over
/// `SIMD8<Double>` lanes (the ``InstructionSet/swift`` code path).
///
/// It runs the same plans as the C kernels (`tv_instr`, `tv_rinstr`: opcodes and plane numbers)
/// and the same rules (``OpcodeRule``) on the `SIMD8<Double>` lane. Each instruction is decoded
/// and dispatched once per tile (``Opcode/visitRule(_:)``); the tile loop inside is specialized per
/// rule (and, in reverse, per combination of first-contribution flags), so the loop over the
/// tile's 8-point blocks makes no dynamic Swift call and allocates nothing: the only calls are the
/// lane math functions (SLEEF's, tanh), each one load and one indirect call through the C lane
/// table `tv_lanes`, resolved once for the CPU, with the lanes in registers (and libm's floor and
/// ceil per lane: baseline x86-64 has no vector rounding).
enum SIMD8Interpreter {
    typealias Planes = UnsafePointer<UnsafeMutablePointer<Double>?>

    /// Runs `count` forward instructions over a tile of `tile` points (a multiple of 8).
    static func forward(_ code: UnsafePointer<tv_instr>, _ count: Int, _ V: Planes, _ tile: Int) {
        for k in 0..<count {
            let x = code[k]
            guard let op = Opcode(rawValue: UInt8(truncatingIfNeeded: x.op)) else { continue }
            op.visitRule(ForwardTile(y: V[Int(x.dst)]!, a: V[Int(x.a)]!, b: V[Int(x.b)]!, c: V[Int(x.c)]!,
                                     k: x.imm, tile: tile))
        }
    }

    /// Runs `count` reverse instructions, last to first, over a tile.
    static func reverse(_ code: UnsafePointer<tv_rinstr>, _ count: Int, _ V: Planes, _ A: Planes, _ tile: Int) {
        var k = count - 1
        while k >= 0 {
            let x = code[k]
            k -= 1
            guard let op = Opcode(rawValue: UInt8(truncatingIfNeeded: x.op)) else { continue }
            let planes = ReversePlanes(y: V[Int(x.vdst)]!, g: A[Int(x.gdst)]!, a: V[Int(x.va)]!, b: V[Int(x.vb)]!,
                                       c: V[Int(x.vc)]!, da: A[Int(x.ga)]!, db: A[Int(x.gb)]!, dc: A[Int(x.gc)]!,
                                       k: x.imm, tile: tile)
            switch x.first & 7 {
            case 0: op.visitRule(ReverseTile<First<No, No, No>>(p: planes))
            case 1: op.visitRule(ReverseTile<First<Yes, No, No>>(p: planes))
            case 2: op.visitRule(ReverseTile<First<No, Yes, No>>(p: planes))
            case 3: op.visitRule(ReverseTile<First<Yes, Yes, No>>(p: planes))
            case 4: op.visitRule(ReverseTile<First<No, No, Yes>>(p: planes))
            case 5: op.visitRule(ReverseTile<First<Yes, No, Yes>>(p: planes))
            case 6: op.visitRule(ReverseTile<First<No, Yes, Yes>>(p: planes))
            default: op.visitRule(ReverseTile<First<Yes, Yes, Yes>>(p: planes))
            }
        }
    }
}

@inline(__always)
func load(_ p: UnsafeMutablePointer<Double>, _ i: Int) -> SIMD8<Double> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Double>.self)
}

@inline(__always)
func store(_ v: SIMD8<Double>, _ p: UnsafeMutablePointer<Double>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Double>.self)
}

/// One forward instruction over a tile. Every block of every operand is read before the block
/// of the result is written, so the result may share a plane with an operand.
private struct ForwardTile: RuleVisitor {
    let y, a, b, c: UnsafeMutablePointer<Double>
    let k: Double
    let tile: Int

    @inline(__always)
    func visit<R: OpcodeRule>(_: R.Type) {
        var i = 0
        while i < tile {
            store(R.forward(Operands(load(a, i), load(b, i), load(c, i), k: k)), y, i)
            i &+= 8
        }
    }
}

private struct ReversePlanes {
    let y, g, a, b, c, da, db, dc: UnsafeMutablePointer<Double>
    let k: Double
    let tile: Int
}

/// Compile-time flags, one per operand (first contributions in reverse, active tangents in
/// ``TangentSweep``): tile loops are specialized per combination, so no block tests a flag.
protocol Flag { static var value: Bool { get } }
enum Yes: Flag { static var value: Bool { true } }
enum No: Flag { static var value: Bool { false } }
protocol FirstFlags { static var a: Bool { get }; static var b: Bool { get }; static var c: Bool { get } }
enum First<A: Flag, B: Flag, C: Flag>: FirstFlags {
    static var a: Bool { A.value }
    static var b: Bool { B.value }
    static var c: Bool { C.value }
}

/// One reverse instruction over a tile: each contribution of the rule is stored into its
/// operand's adjoint plane where this is the sweep's first contribution there, else added. All
/// of a block's values are read before any adjoint of it is written (planes may be shared), and
/// contributions are added in operand order (two operands may be one register).
private struct ReverseTile<F: FirstFlags>: RuleVisitor {
    let p: ReversePlanes

    @inline(__always)
    func visit<R: OpcodeRule>(_: R.Type) {
        let p = self.p
        var i = 0
        while i < p.tile {
            let d = R.reverse(Operands(load(p.a, i), load(p.b, i), load(p.c, i), k: p.k), y: load(p.y, i), g: load(p.g, i))
            if let v = d.a { store(F.a ? v : load(p.da, i) + v, p.da, i) }
            if let v = d.b { store(F.b ? v : load(p.db, i) + v, p.db, i) }
            if let v = d.c { store(F.c ? v : load(p.dc, i) + v, p.dc, i) }
            i &+= 8
        }
    }
}
