/// One instruction of a ``FlatTape``: the opcode, up to three operand registers (unused ones 0)
/// and the immediate, in 24 bytes with no heap storage.
struct FlatInstruction: Equatable {
    var opcode: Opcode
    var a: Int32
    var b: Int32
    var c: Int32
    var immediate: Double

    init(_ opcode: Opcode, _ a: Int32 = 0, _ b: Int32 = 0, _ c: Int32 = 0, immediate: Double = 0) {
        self.opcode = opcode
        self.a = a
        self.b = b
        self.c = c
        self.immediate = immediate
    }

    /// Operand `k` (0, 1 or 2).
    @inline(__always) func operand(_ k: Int) -> Int32 { k == 0 ? a : (k == 1 ? b : c) }

    /// Equal opcode, operands and immediate bits (`const nan` equals itself; 0 and -0 differ).
    static func == (x: FlatInstruction, y: FlatInstruction) -> Bool {
        x.opcode == y.opcode && x.a == y.a && x.b == y.b && x.c == y.c && x.immediate.bitPattern == y.immediate.bitPattern
    }

    /// The instruction with `add` and `mul` operands in ascending order: the form
    /// ``FlatInstructionSet`` compares, so that `a + b` and `b + a` are one member.
    @inline(__always) var canonical: FlatInstruction {
        guard (opcode == .add || opcode == .mul) && b < a else { return self }
        var x = self
        swap(&x.a, &x.b)
        return x
    }

    /// A hash of the same fields, for ``FlatInstructionSet``.
    @inline(__always) var hashValue64: UInt64 {
        var h = UInt64(opcode.rawValue) &* 0x9E37_79B9_7F4A_7C15
        h = (h ^ UInt64(UInt32(bitPattern: a))) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ UInt64(UInt32(bitPattern: b)) ^ (UInt64(UInt32(bitPattern: c)) << 32)) &* 0x94D0_49BB_1331_11EB
        h = (h ^ immediate.bitPattern) &* 0x9E37_79B9_7F4A_7C15
        return h ^ (h >> 29)
    }
}

/// Per-opcode facts read in the hot loops of the optimizer and the planner, copied once from
/// the opcode table into memory that is never freed (``Opcode/info`` holds closures and
/// strings, too heavy to fetch per instruction; plain pointers cost no reference counting).
/// Load ``shared`` once per loop, not per instruction.
struct OpcodeFacts: @unchecked Sendable {
    /// What a reverse rule becomes when some operands' contributions go nowhere: see
    /// ``Opcode/reverseWithout(_:)``. `opcode < 0`: no cheaper rule.
    struct Cheaper {
        var opcode: Int16 = -1
        var count: UInt8 = 0
        var operands: (UInt8, UInt8, UInt8) = (0, 0, 0)
    }

    /// The arity, by raw value.
    let arity: UnsafeMutablePointer<Int8>
    /// Whether the opcode has a derivative, by raw value.
    let differentiable: UnsafeMutablePointer<Bool>
    /// The values its reverse rule reads (``ReverseReads`` raw value), by raw value.
    let reverseReads: UnsafeMutablePointer<UInt8>
    /// Bit k: the reverse rule passes the incoming adjoint through to operand k unchanged.
    let passesThrough: UnsafeMutablePointer<UInt8>
    /// By `rawValue · 8 + skipped` (bit k of `skipped`: operand k's contribution goes nowhere).
    let cheaper: UnsafeMutablePointer<Cheaper>

    static let shared = OpcodeFacts()

    private init() {
        let n = Opcode.allCases.count
        arity = .allocate(capacity: n)
        differentiable = .allocate(capacity: n)
        reverseReads = .allocate(capacity: n)
        passesThrough = .allocate(capacity: n)
        cheaper = .allocate(capacity: 8 * n)
        for op in Opcode.allCases {
            let r = Int(op.rawValue)
            arity[r] = Int8(op.info.arity)
            differentiable[r] = op.info.isDifferentiable
            reverseReads[r] = op.reverseReads.rawValue
            var through: UInt8 = 0
            for k in 0..<3 where op.passesAdjointThrough(operand: k) { through |= 1 << k }
            passesThrough[r] = through
            for skipped in 0..<8 {
                var entry = Cheaper()
                if let c = op.reverseWithout(Set((0..<3).filter { skipped & (1 << $0) != 0 })) {
                    entry.opcode = Int16(c.opcode.rawValue)
                    entry.count = UInt8(c.operands.count)
                    let o = c.operands.map(UInt8.init) + [0, 0, 0]
                    entry.operands = (o[0], o[1], o[2])
                }
                (cheaper + 8 * r + skipped).initialize(to: entry)
            }
        }
    }

    /// Whether the opcode has a derivative, by raw value (the same as `differentiable`).
    static var isDifferentiable: UnsafeMutablePointer<Bool> { shared.differentiable }
}

extension Opcode {
    /// The arity, from the flat copy of the table (no `OpcodeInfo` copy per read).
    /// `PlannerTests` holds it to `info.arity` for every opcode.
    @inline(__always) var flatArity: Int { Int(OpcodeFacts.shared.arity[Int(rawValue)]) }
}

/// A tape as flat arrays: what the optimizer and the planner work on. Converting from and to
/// ``Tape`` is linear; passes over a flat tape allocate nothing per instruction.
struct FlatTape {
    var instructions: [FlatInstruction]
    /// The register of each output.
    var outputs: [Int32]

    init(instructions: [FlatInstruction], outputs: [Int32]) {
        self.instructions = instructions
        self.outputs = outputs
    }

    /// The flat form of a (valid) tape.
    init(_ tape: Tape) {
        instructions = []
        instructions.reserveCapacity(tape.instructions.count)
        for x in tape.instructions {
            let o = x.operands
            let n = o.count
            instructions.append(FlatInstruction(x.opcode, n > 0 ? Int32(truncatingIfNeeded: o[0].index) : 0,
                                                n > 1 ? Int32(truncatingIfNeeded: o[1].index) : 0,
                                                n > 2 ? Int32(truncatingIfNeeded: o[2].index) : 0, immediate: x.immediate))
        }
        outputs = tape.outputs.map { Int32(truncatingIfNeeded: $0.register.index) }
    }

    /// A ``Tape`` with these instructions and outputs and the names of `names`.
    func tape(names: Tape) -> Tape {
        let ins = instructions.map { x -> Instruction in
            switch x.opcode.flatArity {
            case 0: Instruction(x.opcode, [], immediate: x.immediate)
            case 1: Instruction(x.opcode, [Register(Int(x.a))], immediate: x.immediate)
            case 2: Instruction(x.opcode, [Register(Int(x.a)), Register(Int(x.b))], immediate: x.immediate)
            default: Instruction(x.opcode, [Register(Int(x.a)), Register(Int(x.b)), Register(Int(x.c))], immediate: x.immediate)
            }
        }
        let outs = zip(names.outputs, outputs).map { Output(name: $0.name, register: Register(Int($1))) }
        do {
            return try Tape(instructions: ins, inputs: names.inputs, parameters: names.parameters, outputs: outs)
        } catch {
            preconditionFailure("optimizer produced an invalid tape: \(error)")
        }
    }

    /// How many times each register is read, outputs included: a fusion may absorb a result
    /// only where its one reader is the fused instruction.
    func useCounts(into uses: inout [Int32]) {
        uses.removeAll(keepingCapacity: true)
        uses.append(contentsOf: repeatElement(0, count: instructions.count))
        for x in instructions {
            let n = x.opcode.flatArity
            if n > 0 { uses[Int(x.a)] += 1 }
            if n > 1 { uses[Int(x.b)] += 1 }
            if n > 2 { uses[Int(x.c)] += 1 }
        }
        for o in outputs { uses[Int(o)] += 1 }
    }
}

/// An open-addressing hash set of instructions, stored as their indices into an instruction
/// buffer the caller passes to each call: the optimizer's table of constants and of common
/// subexpressions. Members are compared in ``FlatInstruction/canonical`` form. Reset in time
/// proportional to the tape; its storage only grows.
struct FlatInstructionSet {
    private var slots: [Int32] = []
    private var mask = 0

    /// Empties the set and sizes it for up to `count` members.
    mutating func reset(for count: Int) {
        var capacity = 16
        while capacity < 2 * count { capacity <<= 1 }
        if slots.count < capacity {
            slots = [Int32](repeating: -1, count: capacity)
        } else {
            slots.withUnsafeMutableBufferPointer { s in
                for i in 0..<capacity { s[i] = -1 }
            }
        }
        mask = capacity - 1
    }

    /// The index of a member equal to `x`, or nil.
    func find(_ x: FlatInstruction, in instructions: UnsafePointer<FlatInstruction>) -> Int32? {
        let key = x.canonical
        return slots.withUnsafeBufferPointer { slots in
            var i = Int(truncatingIfNeeded: key.hashValue64) & mask
            while true {
                let s = slots[i]
                if s < 0 { return nil }
                if instructions[Int(s)].canonical == key { return s }
                i = (i + 1) & mask
            }
        }
    }

    /// Adds `index` (whose instruction is not yet a member).
    mutating func insert(_ index: Int32, in instructions: UnsafePointer<FlatInstruction>) {
        let mask = self.mask
        slots.withUnsafeMutableBufferPointer { slots in
            var i = Int(truncatingIfNeeded: instructions[Int(index)].canonical.hashValue64) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = index
        }
    }
}
