import Synchronization
import TapeVM

/// The Swift arguments of a program handle's last run, kept for the next call with the same raw
/// arguments: a C caller in a loop passes the same columns call after call, and rebuilding the
/// checked Swift arrays (five or six allocations) and checking the columns cost several times
/// the run itself at a few points. A call whose raw arguments (the entry point, the point count,
/// every count and column pointer, the seeds' bits) are the memo's runs with the memo's very
/// arrays: they passed every check before, and the program then reuses its transfer lists and
/// set-up. Only the parameter values are copied in: they change from call to call.
final class CallMemo: @unchecked Sendable {
    /// The raw arguments the arrays were made from.
    let key: [UInt]
    let count: Int
    let inputs: [UnsafePointer<Double>]
    /// Overwritten with each call's parameter values (the program does not keep this array,
    /// so writing it in place never copies it).
    @exclusivity(unchecked) var parameters: [Double]
    let values: [UnsafeMutablePointer<Double>?]
    let gradients: [GradientRequest]

    init(key: [UInt], _ arrays: MemoArrays) {
        self.key = key
        count = arrays.run.count
        inputs = arrays.run.inputs
        parameters = arrays.run.parameters
        values = arrays.values
        gradients = arrays.gradients
    }
}

/// What a call's slow path ran with: checked arguments, value destinations and requests.
struct MemoArrays {
    let run: RunArguments
    let values: [UnsafeMutablePointer<Double>?]
    let gradients: [GradientRequest]
}

/// A program handle's memo slot: taken by one call at a time (a concurrent call with the same
/// arguments takes the slow path), given back after the run.
struct MemoSlot: ~Copyable, Sendable {
    private let slot = Atomic<Unmanaged<CallMemo>?>(nil)

    init() {}

    deinit { slot.load(ordering: .acquiring)?.release() }

    /// Runs the call whose raw arguments `fill` writes into `words` words: with the memo's
    /// arrays when they are this call's, else through `slow`, which checks and runs the call
    /// and returns what it ran with, kept for the next call. `params` must hold the program's
    /// parameter count of values whenever `slow` would accept the call.
    func run(_ program: Program, words: Int, fill: (UnsafeMutableBufferPointer<UInt>) -> Void,
             params: UnsafePointer<Double>?, slow: () throws(CallError) -> MemoArrays) throws(CallError) {
        // Calls with very many columns are not worth a memo (and keys stay on the stack).
        guard words <= 512 else {
            _ = try slow()
            return
        }
        // The key lives on the stack only while it is written and compared: the run happens
        // after, with the memo taken out of the slot (or with the key copied, for a new memo).
        enum Lookup { case hit(Unmanaged<CallMemo>), miss([UInt]) }
        let lookup: Lookup = withUnsafeTemporaryAllocation(of: UInt.self, capacity: words) { key in
            fill(key)
            if let taken = slot.exchange(nil, ordering: .acquiring) {
                let hit = taken._withUnsafeGuaranteedRef { memo in
                    memo.key.withUnsafeBufferPointer { kept in
                        guard kept.count == key.count else { return false }
                        for i in 0..<kept.count where kept[i] != key[i] { return false }
                        return true
                    }
                }
                if hit { return .hit(taken) }
                keep(taken)
            }
            return .miss(Array(key))
        }
        switch lookup {
        case .hit(let taken):
            defer { keep(taken) }
            let ran = taken._withUnsafeGuaranteedRef { memo -> Result<Void, CallError> in
                for i in memo.parameters.indices { memo.parameters[i] = params![i] }
                do throws(EvaluationError) {
                    try program.run(count: memo.count, inputs: memo.inputs, parameters: memo.parameters,
                                    values: memo.values, gradients: memo.gradients)
                    return .success(())
                } catch {
                    return .failure(CallError(.invalidArgument, error.message))
                }
            }
            try ran.get()
        case .miss(let key):
            let arrays = try slow()
            keep(.passRetained(CallMemo(key: key, arrays)))
        }
    }

    /// Puts `memo` in the slot, releasing what it replaces.
    private func keep(_ memo: Unmanaged<CallMemo>) {
        slot.exchange(memo, ordering: .acquiringAndReleasing)?.release()
    }
}

/// Writes a call's raw arguments into its memo key, word by word.
struct KeyWriter {
    let key: UnsafeMutableBufferPointer<UInt>
    var at = 0

    init(_ key: UnsafeMutableBufferPointer<UInt>) { self.key = key }

    @inline(__always) mutating func word(_ w: UInt) {
        key[at] = w
        at += 1
    }

    /// A table argument: its count, then its entries.
    @inline(__always) mutating func columns(_ t: ColumnTable) {
        word(t.count)
        table(t.table, t.slots)
    }

    /// `count` entries of a table of column pointers (none when the table is NULL).
    @inline(__always) mutating func table(_ p: UnsafeRawPointer?, _ count: Int) {
        guard let p else { return }
        for i in 0..<count { word(p.load(fromByteOffset: i * MemoryLayout<UInt>.stride, as: UInt.self)) }
    }
}

/// A C argument that is a table of column pointers, one per slot of a kind: the table, the
/// count the caller passed with it, and the tape's number of such slots.
struct ColumnTable {
    let table: UnsafeRawPointer?
    let count: UInt
    let slots: Int

    static var none: ColumnTable { ColumnTable(table: nil, count: 0, slots: 0) }

    /// The words of its key: the count, then the entries.
    var words: Int { 1 + (table == nil ? 0 : slots) }

    /// NULL with a count of 0, or one entry per slot: what a call the slow path accepts has.
    var plain: Bool { table == nil ? count == 0 : count == UInt(slots) }
}

extension MemoSlot {
    /// A call of a table-style entry point (`tvm_evaluate`, `tvm_value_and_gradient`): its
    /// tables of column pointers with their counts, and two more words it reads. Calls whose
    /// counts are not the tape's (or whose tables are NULL with a count) go to `slow` without a
    /// memo: its checks explain them.
    func runTables(_ program: Program, entry: UInt, n: UInt, inputs: UnsafeRawPointer?, inputCount: UInt,
                   params: UnsafePointer<Double>?, paramCount: UInt, _ a: ColumnTable, _ b: ColumnTable = .none,
                   _ c: ColumnTable = .none, extra: (UInt, UInt) = (0, 0),
                   slow: () throws(CallError) -> MemoArrays) throws(CallError) {
        let k = program.inputCount, q = program.parameterCount
        guard inputCount == UInt(k) && (inputs != nil || k == 0) && paramCount == UInt(q) && (params != nil || q == 0)
                && a.plain && b.plain && c.plain else {
            _ = try slow()
            return
        }
        let words = 5 + (inputs == nil ? 0 : k) + a.words + b.words + c.words
        try run(program, words: words, fill: { key in
            var w = KeyWriter(key)
            w.word(entry)
            w.word(n)
            w.word(inputs == nil ? 0 : 1)
            w.word(extra.0)
            w.word(extra.1)
            w.table(inputs, k)
            w.columns(a)
            w.columns(b)
            w.columns(c)
        }, params: params, slow: slow)
    }
}
