import TapeVM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Plumbing behind the C ABI in TapeVMC.swift: status codes, the per-thread error message,
// handles and argument checks. Nothing here is public.

/// The status codes of `tapevm.h` (`TVM_OK`, `TVM_ERROR_...`).
enum Status: Int32 {
    case ok = 0
    case nullArgument = 1
    case invalidHandle = 2
    case invalidArgument = 3
    case parseError = 4
    case unsupported = 5

    var name: String {
        switch self {
        case .ok: "TVM_OK"
        case .nullArgument: "TVM_ERROR_NULL_ARGUMENT"
        case .invalidHandle: "TVM_ERROR_INVALID_HANDLE"
        case .invalidArgument: "TVM_ERROR_INVALID_ARGUMENT"
        case .parseError: "TVM_ERROR_PARSE"
        case .unsupported: "TVM_ERROR_UNSUPPORTED"
        }
    }
}

/// A failed C call: its status and what went wrong (without the function name, added by ``call(_:_:)``).
struct CallError: Error {
    let status: Status
    let message: String
    init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }
}

// MARK: - The calling thread's last error

/// The key of the per-thread error message: a `strdup`ed C string, freed when replaced or when
/// the thread exits.
private let lastErrorKey: pthread_key_t = {
    var key = pthread_key_t()
    let rc = pthread_key_create(&key) { free($0) }
    precondition(rc == 0, "TapeVMC: pthread_key_create failed with \(rc)")
    return key
}()

/// Replaces the calling thread's message (`nil` clears it).
func setLastError(_ message: String?) {
    let old = pthread_getspecific(lastErrorKey)
    if old == nil && message == nil { return }
    free(old)
    _ = pthread_setspecific(lastErrorKey, message.map { UnsafeRawPointer(duplicate($0)) })
}

/// The calling thread's message, or the empty string.
func lastError() -> UnsafePointer<CChar> {
    guard let p = pthread_getspecific(lastErrorKey) else { return StaticStrings.empty }
    return UnsafePointer(p.assumingMemoryBound(to: CChar.self))
}

/// Runs the body of C function `function`: on success clears the thread's error and returns
/// `TVM_OK`; on failure records "function: message" and returns the error's status.
func call(_ function: String, _ body: () throws(CallError) -> Void) -> Int32 {
    do {
        try body()
        setLastError(nil)
        return Status.ok.rawValue
    } catch {
        setLastError("\(function): \(error.message)")
        return error.status.rawValue
    }
}

/// A `malloc`ed, NUL-terminated copy of `s` (to be released with `free`).
func duplicate(_ s: String) -> UnsafeMutablePointer<CChar> {
    guard let p = strdup(s) else { fatalError("TapeVMC: out of memory copying a string of \(s.utf8.count) bytes") }
    return p
}

/// C strings that live as long as the process.
enum StaticStrings {
    nonisolated(unsafe) static let empty: UnsafePointer<CChar> = UnsafePointer(duplicate(""))
    nonisolated(unsafe) static let version: UnsafePointer<CChar> = UnsafePointer(duplicate(TapeVMCVersion.string))
    nonisolated(unsafe) static let instructionSets: [InstructionSet: UnsafePointer<CChar>] =
        Dictionary(uniqueKeysWithValues: InstructionSet.allCases.map { ($0, UnsafePointer(duplicate($0.rawValue))) })
    nonisolated(unsafe) static let statusNames: [Int32: UnsafePointer<CChar>] = Dictionary(uniqueKeysWithValues:
        [Status.ok, .nullArgument, .invalidHandle, .invalidArgument, .parseError, .unsupported].map { ($0.rawValue, UnsafePointer(duplicate($0.name))) })
    nonisolated(unsafe) static let unknownStatus: UnsafePointer<CChar> = UnsafePointer(duplicate("TVM_UNKNOWN_STATUS"))
}

/// The version `tvm_version` reports.
enum TapeVMCVersion {
    /// The C ABI version, bumped on any incompatible change of `tapevm.h`.
    static let abi = 1
    static let string = "TapeVM C ABI \(abi), tape text format \(Tape.textFormatVersion)"
}

// MARK: - Handles

/// What a `tvm_tape *` points to: a retained tape with its names as C strings (borrowed by
/// callers for the handle's lifetime).
final class TapeHandle {
    let tape: Tape
    let inputNames: [UnsafeMutablePointer<CChar>]
    let parameterNames: [UnsafeMutablePointer<CChar>]
    let outputNames: [UnsafeMutablePointer<CChar>]

    init(_ tape: Tape) {
        self.tape = tape
        inputNames = tape.inputs.map(duplicate)
        parameterNames = tape.parameters.map(duplicate)
        outputNames = tape.outputs.map { duplicate($0.name) }
    }

    deinit {
        for p in inputNames + parameterNames + outputNames { free(p) }
    }
}

/// What a `tvm_program *` points to.
final class ProgramHandle {
    let program: Program
    /// The arrays of the last run through the handle, for a call with the same arguments.
    let memo = MemoSlot()
    init(_ program: Program) { self.program = program }
}

/// A new handle owning one retain of `object`.
func makeHandle(_ object: AnyObject) -> OpaquePointer {
    OpaquePointer(Unmanaged.passRetained(object).toOpaque())
}

/// The object behind a handle, which must be a live handle of either kind.
private func object(_ handle: OpaquePointer) -> AnyObject {
    Unmanaged<AnyObject>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// The tape behind argument `name`.
func tapeHandle(_ handle: OpaquePointer?, _ name: String = "tape") throws(CallError) -> TapeHandle {
    guard let handle else { throw CallError(.nullArgument, "\(name) is NULL") }
    guard let tape = object(handle) as? TapeHandle else {
        throw CallError(.invalidHandle, "\(name) is not a tvm_tape handle (a tvm_program?)")
    }
    return tape
}

/// The program behind argument `name`.
func programHandle(_ handle: OpaquePointer?, _ name: String = "program") throws(CallError) -> ProgramHandle {
    guard let handle else { throw CallError(.nullArgument, "\(name) is NULL") }
    guard let program = object(handle) as? ProgramHandle else {
        throw CallError(.invalidHandle, "\(name) is not a tvm_program handle (a tvm_tape?)")
    }
    return program
}

/// Releases a handle made by ``makeHandle(_:)`` if it is of kind `T`.
func release<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type, _ what: String) throws(CallError) {
    guard let handle else { return }
    guard object(handle) is T else { throw CallError(.invalidHandle, "the argument is not a \(what) handle") }
    Unmanaged<AnyObject>.fromOpaque(UnsafeRawPointer(handle)).release()
}

// MARK: - Arguments

/// The Swift string of a C string argument, which must be valid UTF-8.
func string(_ p: UnsafePointer<CChar>?, _ name: String) throws(CallError) -> String {
    guard let p else { throw CallError(.nullArgument, "\(name) is NULL") }
    guard let s = String(validatingCString: p) else { throw CallError(.invalidArgument, "\(name) is not valid UTF-8") }
    return s
}

/// Checks that an out-parameter is not NULL.
func out<T>(_ p: UnsafeMutablePointer<T>?, _ name: String) throws(CallError) -> UnsafeMutablePointer<T> {
    guard let p else { throw CallError(.nullArgument, "\(name) is NULL: nowhere to store the result") }
    return p
}

/// A `size_t` argument as an `Int`.
func int(_ value: UInt, _ name: String) throws(CallError) -> Int {
    guard value <= UInt(Int.max / MemoryLayout<Double>.stride) else {
        throw CallError(.invalidArgument, "\(name) is \(value), which is too large (a negative number passed as size_t?)")
    }
    return Int(value)
}

/// `names` as a readable list for messages: `(x, y)`, or nothing when empty.
func listing(_ names: [String]) -> String {
    names.isEmpty ? "" : " (\(names.joined(separator: ", ")))"
}

/// What a label's slot index names: an input, parameter or output of the tape, or a named
/// column of a population's data set.
enum SlotKind: String {
    case input, parameter, output, column
}

/// The name of a column in an error message, kept as numbers until a message needs it: building
/// the text for every column of every call cost more than a one-point run itself.
struct ColumnLabel {
    /// The C argument: "inputs", "values", "param_gradient_sums", ...
    let argument: StaticString
    /// The entry of the argument (`argument[index]`), or -1 for the whole argument.
    let index: Int
    /// The gradient request the entry belongs to, or -1.
    let request: Int
    /// What `slot` counts, or nil when the entry has no named slot.
    let kind: SlotKind?
    let slot: Int

    /// The whole argument (`"target"`), or entry `index` of it without a slot name (`"values[3]"`).
    init(_ argument: StaticString, index: Int = -1) {
        self.init(argument, index: index, request: -1, kind: nil, slot: 0)
    }

    init(_ argument: StaticString, index: Int, request: Int = -1, kind: SlotKind?, slot: Int) {
        self.argument = argument
        self.index = index
        self.request = request
        self.kind = kind
        self.slot = slot
    }

    /// "inputs[1] (input 'y')", "input_gradients[3] (request 1, input 'y')", "target".
    func text(_ names: (SlotKind, Int) -> String) -> String {
        let argument = "\(self.argument)"
        guard index >= 0 else { return argument }
        guard let kind else { return "\(argument)[\(index)]" }
        let request = self.request >= 0 ? "request \(self.request), " : ""
        return "\(argument)[\(index)] (\(request)\(kind.rawValue) '\(names(kind, slot))')"
    }
}

/// A memory range a run reads or writes, for the overlap check.
struct Column {
    let start: UInt
    let end: UInt
    let written: Bool
    let label: ColumnLabel

    init(_ p: UnsafeRawPointer, doubles: Int, written: Bool, _ label: ColumnLabel) {
        start = UInt(bitPattern: p)
        end = start &+ UInt(doubles * MemoryLayout<Double>.stride)
        self.written = written
        self.label = label
    }
}

/// Fails if a written column overlaps any other column (inputs may overlap each other):
/// ``Program/run(count:inputs:parameters:values:gradients:)`` writes destinations in place.
/// Sorts `columns` in place; `names` gives the name of a label's slot, for the message.
func checkOverlaps(_ columns: inout [Column], names: (SlotKind, Int) -> String) throws(CallError) {
    guard columns.count > 1 else { return }
    // A call's few columns are checked pair by pair (no sort: most of a small call's checking
    // cost); only a call with an overlap, or with many columns, sorts them for its message.
    if columns.count <= 32 && !columns.withUnsafeBufferPointer(anyOverlap) { return }
    columns.sort { $0.start < $1.start }
    // The furthest-reaching column seen so far, of any kind and of written ones.
    var anyReach: Column?
    var writtenReach: Column?
    for c in columns where c.end > c.start {
        if c.written, let a = anyReach, c.start < a.end {
            throw CallError(.invalidArgument, "\(c.label.text(names)) overlaps \(a.label.text(names)): destinations must not overlap the inputs or each other")
        }
        if !c.written, let w = writtenReach, c.start < w.end {
            throw CallError(.invalidArgument, "\(w.label.text(names)) overlaps \(c.label.text(names)): destinations must not overlap the inputs or each other")
        }
        if anyReach == nil || c.end > anyReach!.end { anyReach = c }
        if c.written, writtenReach == nil || c.end > writtenReach!.end { writtenReach = c }
    }
}

/// Whether a written column overlaps another column, pair by pair.
private func anyOverlap(_ columns: UnsafeBufferPointer<Column>) -> Bool {
    for i in columns.indices where columns[i].end > columns[i].start {
        let a = columns[i]
        for j in columns.indices.suffix(from: i + 1) where columns[j].end > columns[j].start {
            let b = columns[j]
            if (a.written || b.written) && a.start < b.end && b.start < a.end { return true }
        }
    }
    return false
}

/// Where a run's input columns are: a table of column pointers (`inputs`), or columns at a fixed
/// stride in one block (`tvm_run_block`'s `input_block`).
enum InputColumns {
    case table(UnsafePointer<UnsafePointer<Double>?>?)
    case block(UnsafePointer<Double>?, stride: Int)
}

/// The inputs and parameters of a run, checked against the tape.
struct RunArguments {
    let program: Program
    let count: Int
    let inputs: [UnsafePointer<Double>]
    let parameters: [Double]
    var columns: [Column] = []

    init(_ handle: OpaquePointer?, _ n: UInt,
         _ inputs: UnsafePointer<UnsafePointer<Double>?>?, _ inputCount: UInt,
         _ params: UnsafePointer<Double>?, _ paramCount: UInt) throws(CallError) {
        try self.init(handle, n, .table(inputs), inputCount, params, paramCount)
    }

    init(_ handle: OpaquePointer?, _ n: UInt, _ inputs: InputColumns, _ inputCount: UInt,
         _ params: UnsafePointer<Double>?, _ paramCount: UInt) throws(CallError) {
        let program = try programHandle(handle).program
        self.program = program
        let tape = program.tape
        count = try int(n, "n")
        guard inputCount == UInt(tape.inputs.count) else {
            throw CallError(.invalidArgument, "input_count is \(inputCount), but the tape has \(tape.inputs.count) input(s)\(listing(tape.inputs))")
        }
        guard paramCount == UInt(tape.parameters.count) else {
            throw CallError(.invalidArgument, "param_count is \(paramCount), but the tape has \(tape.parameters.count) parameter(s)\(listing(tape.parameters))")
        }
        let k = tape.inputs.count
        var columns: [UnsafePointer<Double>] = []
        columns.reserveCapacity(k)
        // Inputs, destinations (values, a gradient per input and parameter) and sums, usually.
        self.columns.reserveCapacity(3 * k + tape.outputs.count + 2 * tape.parameters.count + 2)
        if k > 0 {
            for slot in 0..<k {
                let column: UnsafePointer<Double>?
                let label: ColumnLabel
                switch inputs {
                case .table(let table):
                    guard let table else { throw CallError(.nullArgument, "inputs is NULL, but the tape has \(k) input(s)\(listing(tape.inputs))") }
                    column = table[slot]
                    label = ColumnLabel("inputs", index: slot, kind: .input, slot: slot)
                case .block(let block, let stride):
                    column = block.map { $0 + slot * stride }
                    label = ColumnLabel("input_block", index: slot, kind: .input, slot: slot)
                }
                if let column {
                    columns.append(column)
                    self.columns.append(Column(column, doubles: count, written: false, label))
                } else if count == 0 {
                    // Nothing is read from a column of no points.
                    columns.append(UnsafePointer(bitPattern: 8)!)
                } else {
                    throw CallError(.nullArgument, "\(label.text { RunArguments.name(of: program, $0, $1) }) is NULL")
                }
            }
        }
        self.inputs = columns
        if !tape.parameters.isEmpty {
            guard let params else { throw CallError(.nullArgument, "params is NULL, but the tape has \(tape.parameters.count) parameter(s)\(listing(tape.parameters))") }
            parameters = Array(UnsafeBufferPointer(start: params, count: tape.parameters.count))
        } else {
            parameters = []
        }
    }

    /// Optional per-slot destinations: `NULL` with count 0 means none; otherwise exactly one
    /// (possibly `NULL`) pointer per slot of `kind`.
    mutating func destinations(_ p: UnsafePointer<UnsafeMutablePointer<Double>?>?, _ count: UInt,
                               argument: StaticString, countArgument: String, kind: SlotKind) throws(CallError) -> [UnsafeMutablePointer<Double>?] {
        guard let p else {
            guard count == 0 else { throw CallError(.nullArgument, "\(argument) is NULL, but \(countArgument) is \(count) (pass 0 for none)") }
            return []
        }
        let slots = slotCount(kind)
        guard count == UInt(slots) else {
            throw CallError(.invalidArgument, "\(countArgument) is \(count), but the tape has \(slots) \(kind.rawValue)(s)\(listing(slotNames(kind))): pass one pointer (or NULL) per \(kind.rawValue)")
        }
        let result = Array(UnsafeBufferPointer(start: p, count: slots))
        for (slot, dest) in result.enumerated() {
            if let dest { columns.append(Column(dest, doubles: self.count, written: true, ColumnLabel(argument, index: slot, kind: kind, slot: slot))) }
        }
        return result
    }

    /// How many inputs, parameters or outputs the tape has.
    func slotCount(_ kind: SlotKind) -> Int {
        let tape = program.tape
        switch kind {
        case .input: return tape.inputs.count
        case .parameter: return tape.parameters.count
        case .output: return tape.outputs.count
        case .column: return 0
        }
    }

    /// The names of the tape's inputs, parameters or outputs, for messages.
    func slotNames(_ kind: SlotKind) -> [String] {
        (0..<slotCount(kind)).map { RunArguments.name(of: program, kind, $0) }
    }

    /// The name of slot `slot` of the program's tape, for messages.
    static func name(of program: Program, _ kind: SlotKind, _ slot: Int) -> String {
        let tape = program.tape
        switch kind {
        case .input: return tape.inputs[slot]
        case .parameter: return tape.parameters[slot]
        case .output: return tape.outputs[slot].name
        case .column: return "\(slot)"
        }
    }

    /// Fails if a destination overlaps another column.
    mutating func checkColumns() throws(CallError) {
        let program = self.program
        try checkOverlaps(&columns) { kind, slot in RunArguments.name(of: program, kind, slot) }
    }

    /// Runs the program, after checking that no destination overlaps another column.
    mutating func run(values: [UnsafeMutablePointer<Double>?], gradients: [GradientRequest] = []) throws(CallError) {
        try checkColumns()
        do {
            try program.run(count: count, inputs: inputs, parameters: parameters, values: values, gradients: gradients)
        } catch {
            throw CallError(.invalidArgument, error.message)
        }
    }

    /// Runs as ``run(values:gradients:)`` and returns what it ran with, for a ``CallMemo``.
    mutating func runKept(values: [UnsafeMutablePointer<Double>?], gradients: [GradientRequest] = []) throws(CallError) -> MemoArrays {
        try run(values: values, gradients: gradients)
        return MemoArrays(run: self, values: values, gradients: gradients)
    }
}

// MARK: - Forward mode and second order

extension RunArguments {
    /// A direction over the inputs, per point (`columns`: one column of n doubles per input) or
    /// shared (`shared`: one double per input); exactly one of the two unless the tape has no inputs.
    mutating func direction(_ columns: UnsafePointer<UnsafePointer<Double>?>?, _ shared: UnsafePointer<Double>?,
                            columnsArgument: StaticString, sharedArgument: String) throws(CallError) -> [TangentSeed] {
        let names = program.tape.inputs
        if names.isEmpty { return [] }
        switch (columns, shared) {
        case (nil, nil):
            throw CallError(.nullArgument, "\(columnsArgument) and \(sharedArgument) are both NULL: give the direction per point or shared")
        case (.some, .some):
            throw CallError(.invalidArgument, "\(columnsArgument) and \(sharedArgument) are both given: pass one of them, the other NULL")
        case (.some(let columns), nil):
            var seeds: [TangentSeed] = []
            for (slot, name) in names.enumerated() {
                if let column = columns[slot] {
                    seeds.append(.perPoint(column))
                    self.columns.append(Column(column, doubles: count, written: false, ColumnLabel(columnsArgument, index: slot, kind: .input, slot: slot)))
                } else if count == 0 {
                    seeds.append(.zero)
                } else {
                    throw CallError(.nullArgument, "\(columnsArgument)[\(slot)] (input '\(name)') is NULL")
                }
            }
            return seeds
        case (nil, .some(let shared)):
            return (0..<names.count).map { .shared(shared[$0]) }
        }
    }

    /// Runs a tangent sweep of `program` (this run's program or its gradient program), after
    /// checking that no destination overlaps another column.
    mutating func runTangents(_ program: Program, values: [UnsafeMutablePointer<Double>?], tangents: [TangentRequest]) throws(CallError) {
        try checkColumns()
        do {
            try program.runTangents(count: count, inputs: inputs, parameters: parameters, values: values, tangents: tangents)
        } catch {
            throw CallError(.invalidArgument, error.message)
        }
    }

    /// The program of the gradient tape of output `index`, after checking the index.
    func gradientProgram(_ index: UInt) throws(CallError) -> Program {
        let tape = program.tape
        guard index < UInt(tape.outputs.count) else {
            throw CallError(.invalidArgument, "output_index \(index) is out of range: the tape has \(tape.outputs.count) output(s)\(listing(tape.outputs.map(\.name)))")
        }
        do {
            return try program.gradientProgram(output: Int(index))
        } catch {
            throw CallError(.invalidArgument, error.message)
        }
    }

    /// The input columns as arrays (for the array-level second-order functions).
    var inputArrays: [[Double]] { inputs.map { Array(UnsafeBufferPointer(start: $0, count: count)) } }
}

// MARK: - Functions of the expression language, and gradient rows

/// The expression language's functions with their names, mnemonics and summaries as C strings
/// that live as long as the process (for `tvm_function_info`).
enum FunctionTable {
    struct Entry {
        let name: UnsafePointer<CChar>
        let mnemonic: UnsafePointer<CChar>
        let summary: UnsafePointer<CChar>
        let argumentCount: Int
        let integerExponent: Bool
    }

    nonisolated(unsafe) static let entries: [Entry] = Tape.expressionFunctions.map { f in
        Entry(name: UnsafePointer(duplicate(f.name)), mnemonic: UnsafePointer(duplicate(f.opcode.mnemonic)),
              summary: UnsafePointer(duplicate(f.opcode.info.summary)), argumentCount: f.argumentCount,
              integerExponent: f.opcode.info.immediate == .exponent)
    }
}

extension RunArguments {
    /// Optional destinations for `rows` gradient rows: `NULL` with count 0 means none; otherwise
    /// exactly `rows × slots` (possibly `NULL`) pointers, row after row. Returns one array per row.
    mutating func destinationRows(_ p: UnsafePointer<UnsafeMutablePointer<Double>?>?, _ count: UInt, rows: Int,
                                  argument: StaticString, countArgument: String, kind: SlotKind) throws(CallError) -> [[UnsafeMutablePointer<Double>?]] {
        guard let p else {
            guard count == 0 else { throw CallError(.nullArgument, "\(argument) is NULL, but \(countArgument) is \(count) (pass 0 for none)") }
            return Array(repeating: [], count: rows)
        }
        let slots = slotCount(kind)
        let expected = rows * slots
        guard count == UInt(expected) else {
            throw CallError(.invalidArgument, "\(countArgument) is \(count), but \(rows) request(s) × \(slots) \(kind.rawValue)(s)\(listing(slotNames(kind))) need \(expected): pass one pointer (or NULL) per request and \(kind.rawValue)")
        }
        return (0..<rows).map { r in
            (0..<slots).map { slot in
                let dest = p[r * slots + slot]
                if let dest {
                    columns.append(Column(dest, doubles: self.count, written: true,
                                          ColumnLabel(argument, index: r * slots + slot, request: r, kind: kind, slot: slot)))
                }
                return dest
            }
        }
    }
}

// MARK: - Populations

/// The checked arguments of `tvm_population_evaluate`.
struct PopulationArguments {
    static let stopOnNonFinite: UInt32 = 1
    static let exact: UInt32 = 2

    let tapes: [Tape]
    let count: Int
    let names: [String]
    let columns: [UnsafePointer<Double>]
    let target: UnsafePointer<Double>?
    let parameters: [UnsafeBufferPointer<Double>]
    let options: ExecutionOptions
    let stopOnNonFinite: Bool

    init(tapeCount: UInt, tapes: UnsafePointer<OpaquePointer?>?, n: UInt,
         columnNames: UnsafePointer<UnsafePointer<CChar>?>?, columns: UnsafePointer<UnsafePointer<Double>?>?,
         columnCount: UInt, target: UnsafePointer<Double>?, params: UnsafePointer<UnsafePointer<Double>?>?,
         threads: UInt, flags: UInt32) throws(CallError) {
        let k = try int(tapeCount, "tape_count")
        count = try int(n, "n")
        let c = try int(columnCount, "column_count")
        guard flags & ~(Self.stopOnNonFinite | Self.exact) == 0 else {
            throw CallError(.invalidArgument, "flags is \(flags): only TVM_POPULATION_STOP_ON_NONFINITE (1) and TVM_POPULATION_EXACT (2) are defined")
        }
        guard threads <= 4096 else { throw CallError(.invalidArgument, "threads is \(threads), more than 4096") }
        var list: [Tape] = []
        if k > 0 {
            guard let tapes else { throw CallError(.nullArgument, "tapes is NULL, but tape_count is \(k)") }
            for i in 0..<k { list.append(try tapeHandle(tapes[i], "tapes[\(i)]").tape) }
        }
        self.tapes = list
        var names: [String] = [], cols: [UnsafePointer<Double>] = []
        if c > 0 {
            guard let columnNames else { throw CallError(.nullArgument, "column_names is NULL, but column_count is \(c)") }
            guard let columns else { throw CallError(.nullArgument, "columns is NULL, but column_count is \(c)") }
            for j in 0..<c {
                names.append(try string(columnNames[j], "column_names[\(j)]"))
                if let column = columns[j] {
                    cols.append(column)
                } else if count == 0 {
                    cols.append(UnsafePointer(bitPattern: 8)!)  // nothing is read from a column of no rows
                } else {
                    throw CallError(.nullArgument, "columns[\(j)] (column '\(names[j])') is NULL")
                }
            }
        }
        self.names = names
        self.columns = cols
        self.target = target
        var parameters: [UnsafeBufferPointer<Double>] = []
        for (i, tape) in list.enumerated() {
            let p = tape.parameters.count
            if p == 0 { parameters.append(UnsafeBufferPointer(start: nil, count: 0)); continue }
            guard let params else { throw CallError(.nullArgument, "params is NULL, but tapes[\(i)] has \(p) parameter(s)\(listing(tape.parameters))") }
            guard let values = params[i] else { throw CallError(.nullArgument, "params[\(i)] is NULL, but tapes[\(i)] has \(p) parameter(s)\(listing(tape.parameters))") }
            parameters.append(UnsafeBufferPointer(start: values, count: p))
        }
        self.parameters = parameters
        options = ExecutionOptions(threads: threads == 0 ? nil : Int(threads),
                                   optimization: flags & Self.exact != 0 ? .exact : .all)
        stopOnNonFinite = flags & Self.stopOnNonFinite != 0
    }

    /// Checks the destinations (none may overlap another or a column) and runs.
    func run(values: UnsafePointer<UnsafeMutablePointer<Double>?>?, paramGradients: UnsafePointer<UnsafeMutablePointer<Double>?>?,
             jacobians: UnsafePointer<UnsafeMutablePointer<Double>?>?, losses: UnsafeMutablePointer<Double>?,
             nonFiniteRows: UnsafeMutablePointer<UInt>?) throws(CallError) {
        let k = tapes.count
        var ranges: [Column] = []
        for (j, column) in columns.enumerated() {
            ranges.append(Column(column, doubles: count, written: false, ColumnLabel("columns", index: j, kind: .column, slot: j)))
        }
        if let target { ranges.append(Column(target, doubles: count, written: false, ColumnLabel("target"))) }
        func collect(_ array: UnsafePointer<UnsafeMutablePointer<Double>?>?, _ label: StaticString,
                     _ doubles: (Int) -> Int) -> [UnsafeMutablePointer<Double>?] {
            guard let array else { return [] }
            return (0..<k).map { i in
                if let p = array[i] { ranges.append(Column(p, doubles: doubles(i), written: true, ColumnLabel(label, index: i))) }
                return array[i]
            }
        }
        let valueList = collect(values, "values") { _ in count }
        let gradientList = collect(paramGradients, "param_gradients") { tapes[$0].parameters.count }
        let jacobianList = collect(jacobians, "jacobians") { tapes[$0].parameters.count * count }
        if losses != nil && target == nil {
            throw CallError(.invalidArgument, "losses is not NULL, but there is no target column to compute a loss against")
        }
        if let losses { ranges.append(Column(losses, doubles: k, written: true, ColumnLabel("losses"))) }
        if let nonFiniteRows { ranges.append(Column(nonFiniteRows, doubles: k, written: true, ColumnLabel("nonfinite_rows"))) }
        try checkOverlaps(&ranges) { _, j in names[j] }
        let request = PopulationRequest(gradient: !gradientList.isEmpty, jacobian: !jacobianList.isEmpty,
                                        values: !valueList.isEmpty, stopOnNonFinite: stopOnNonFinite)
        var counts = [Int](repeating: 0, count: k)
        var stopped = [Bool](repeating: false, count: k)
        var lossScratch = [Double](repeating: 0, count: target != nil && losses == nil ? k : 0)
        try counts.withUnsafeMutableBufferPointer { (c) throws(CallError) in
            try stopped.withUnsafeMutableBufferPointer { (s) throws(CallError) in
                try lossScratch.withUnsafeMutableBufferPointer { (l) throws(CallError) in
                    let destinations = PopulationDestinations(
                        values: valueList.isEmpty ? nil : { valueList[$0] },
                        gradient: gradientList.isEmpty ? nil : { gradientList[$0] },
                        jacobian: jacobianList.isEmpty ? nil : { jacobianList[$0] },
                        losses: target == nil ? nil : (losses ?? l.baseAddress),
                        nonFiniteRows: c.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!,
                        stopped: s.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!)
                    do throws(EvaluationError) {
                        try Population.run(tapes, count: count, names: names, columns: columns, target: target,
                                           parameters: parameters, destinations: destinations, request: request,
                                           options: options)
                    } catch {
                        throw CallError(.invalidArgument, error.message)
                    }
                }
            }
        }
        if let nonFiniteRows { for i in 0..<k { nonFiniteRows[i] = UInt(counts[i]) } }
    }
}
