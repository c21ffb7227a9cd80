import TapeVM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The C ABI of TapeVM: every function declared in `tapevm.h`, exported with `@_cdecl`.
//
// `tapevm.h` (next to this file) is the contract: it documents ownership, lengths, thread
// safety and errors for each function. Handles are `Unmanaged` retains of `TapeHandle` and
// `ProgramHandle`; status codes and the per-thread error message are in Support.swift. No
// function traps on NULL, a handle of the wrong kind, a count that does not match the tape or
// invalid text: each returns a status and leaves a message naming the argument at fault.

// MARK: - Library

/// `const char *tvm_version(void)`: the C ABI and tape text format versions, as a static string.
@_cdecl("tvm_version")
public func tvm_version() -> UnsafePointer<CChar> {
    StaticStrings.version
}

/// `const char *tvm_last_error(void)`: the message of the calling thread's most recent failed
/// call, or `""` if its most recent status-returning call succeeded.
@_cdecl("tvm_last_error")
public func tvm_last_error() -> UnsafePointer<CChar> {
    lastError()
}

/// `const char *tvm_status_name(int status)`: the name of a status code (`"TVM_OK"`, ...).
@_cdecl("tvm_status_name")
public func tvm_status_name(_ status: Int32) -> UnsafePointer<CChar> {
    StaticStrings.statusNames[status] ?? StaticStrings.unknownStatus
}

// MARK: - Tapes

/// `int tvm_tape_from_expression(const char *text, tvm_tape **out_tape)`: compiles the
/// expression language (see `Tape(expression:)`) into a new tape handle.
@_cdecl("tvm_tape_from_expression")
public func tvm_tape_from_expression(_ text: UnsafePointer<CChar>?, _ outTape: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    outTape?.pointee = nil
    return call("tvm_tape_from_expression") { () throws(CallError) in
        let out = try out(outTape, "out_tape")
        let source = try string(text, "text")
        do throws(ExpressionError) {
            out.pointee = makeHandle(TapeHandle(try Tape(expression: source)))
        } catch {
            throw CallError(.parseError, error.description)
        }
    }
}

/// `int tvm_tape_from_text(const char *text, tvm_tape **out_tape)`: reads the tape text
/// format (see `Tape(text:)`) into a new tape handle.
@_cdecl("tvm_tape_from_text")
public func tvm_tape_from_text(_ text: UnsafePointer<CChar>?, _ outTape: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    outTape?.pointee = nil
    return call("tvm_tape_from_text") { () throws(CallError) in
        let out = try out(outTape, "out_tape")
        let source = try string(text, "text")
        do throws(TapeTextError) {
            out.pointee = makeHandle(TapeHandle(try Tape(text: source)))
        } catch {
            throw CallError(.parseError, error.description)
        }
    }
}

/// `int tvm_tape_free(tvm_tape *tape)`: releases a tape handle; `NULL` is a no-op.
@_cdecl("tvm_tape_free")
public func tvm_tape_free(_ tape: OpaquePointer?) -> Int32 {
    call("tvm_tape_free") { () throws(CallError) in try release(tape, as: TapeHandle.self, "tvm_tape") }
}

/// `int tvm_tape_to_text(const tvm_tape *tape, char **out_text)`: the tape in the text
/// format, as a new string the caller releases with `tvm_string_free`.
@_cdecl("tvm_tape_to_text")
public func tvm_tape_to_text(_ tape: OpaquePointer?, _ outText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    outText?.pointee = nil
    return call("tvm_tape_to_text") { () throws(CallError) in
        let out = try out(outText, "out_text")
        out.pointee = duplicate(try tapeHandle(tape).tape.text)
    }
}

/// `void tvm_string_free(char *string)`: releases a string returned by this library; `NULL`
/// is a no-op.
@_cdecl("tvm_string_free")
public func tvm_string_free(_ string: UnsafeMutablePointer<CChar>?) {
    free(string)
}

/// Stores a count of the tape's slots.
private func count(_ function: String, _ tape: OpaquePointer?, _ outCount: UnsafeMutablePointer<UInt>?,
                   _ names: KeyPath<TapeHandle, [UnsafeMutablePointer<CChar>]>) -> Int32 {
    call(function) { () throws(CallError) in
        let out = try out(outCount, "out_count")
        out.pointee = UInt(try tapeHandle(tape)[keyPath: names].count)
    }
}

/// Stores a borrowed pointer to the name of a slot.
private func name(_ function: String, _ tape: OpaquePointer?, _ index: UInt, _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                  _ names: KeyPath<TapeHandle, [UnsafeMutablePointer<CChar>]>, _ kind: String) -> Int32 {
    outName?.pointee = nil
    return call(function) { () throws(CallError) in
        let out = try out(outName, "out_name")
        let list = try tapeHandle(tape)[keyPath: names]
        guard index < UInt(list.count) else {
            throw CallError(.invalidArgument, "index \(index) is out of range: the tape has \(list.count) \(kind)(s)")
        }
        out.pointee = UnsafePointer(list[Int(index)])
    }
}

/// `int tvm_tape_input_count(const tvm_tape *tape, size_t *out_count)`.
@_cdecl("tvm_tape_input_count")
public func tvm_tape_input_count(_ tape: OpaquePointer?, _ outCount: UnsafeMutablePointer<UInt>?) -> Int32 {
    count("tvm_tape_input_count", tape, outCount, \.inputNames)
}

/// `int tvm_tape_parameter_count(const tvm_tape *tape, size_t *out_count)`.
@_cdecl("tvm_tape_parameter_count")
public func tvm_tape_parameter_count(_ tape: OpaquePointer?, _ outCount: UnsafeMutablePointer<UInt>?) -> Int32 {
    count("tvm_tape_parameter_count", tape, outCount, \.parameterNames)
}

/// `int tvm_tape_output_count(const tvm_tape *tape, size_t *out_count)`.
@_cdecl("tvm_tape_output_count")
public func tvm_tape_output_count(_ tape: OpaquePointer?, _ outCount: UnsafeMutablePointer<UInt>?) -> Int32 {
    count("tvm_tape_output_count", tape, outCount, \.outputNames)
}

/// `int tvm_tape_input_name(const tvm_tape *tape, size_t index, const char **out_name)`: a
/// borrowed name, valid while the tape handle lives.
@_cdecl("tvm_tape_input_name")
public func tvm_tape_input_name(_ tape: OpaquePointer?, _ index: UInt, _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    name("tvm_tape_input_name", tape, index, outName, \.inputNames, "input")
}

/// `int tvm_tape_parameter_name(const tvm_tape *tape, size_t index, const char **out_name)`: a
/// borrowed name, valid while the tape handle lives.
@_cdecl("tvm_tape_parameter_name")
public func tvm_tape_parameter_name(_ tape: OpaquePointer?, _ index: UInt, _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    name("tvm_tape_parameter_name", tape, index, outName, \.parameterNames, "parameter")
}

/// `int tvm_tape_output_name(const tvm_tape *tape, size_t index, const char **out_name)`: a
/// borrowed name, valid while the tape handle lives.
@_cdecl("tvm_tape_output_name")
public func tvm_tape_output_name(_ tape: OpaquePointer?, _ index: UInt, _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    name("tvm_tape_output_name", tape, index, outName, \.outputNames, "output")
}

// MARK: - Programs

/// `int tvm_program_new(const tvm_tape *tape, size_t threads, size_t tile_size, const char *isa,
/// tvm_program **out_program)`: optimizes and plans a tape (see `Program.init(_:options:)`).
/// `threads` 0 uses every core, `tile_size` 0 lets the program choose, `isa` `NULL` or `""` is
/// the preferred path, else `"swift"` (or its former name `"portable"`), `"avx2"`, `"avx512"` or `"best"`.
@_cdecl("tvm_program_new")
public func tvm_program_new(_ tape: OpaquePointer?, _ threads: UInt, _ tileSize: UInt, _ isa: UnsafePointer<CChar>?,
                            _ outProgram: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    outProgram?.pointee = nil
    return call("tvm_program_new") { () throws(CallError) in
        let out = try out(outProgram, "out_program")
        let tape = try tapeHandle(tape).tape
        var options = ExecutionOptions()
        if threads > 0 {
            guard threads <= 4096 else { throw CallError(.invalidArgument, "threads is \(threads); expected 0 (every core) to 4096") }
            options.threads = Int(threads)
        }
        if tileSize > 0 {
            guard tileSize <= 1 << 20 else { throw CallError(.invalidArgument, "tile_size is \(tileSize); expected 0 (automatic) to \(1 << 20)") }
            options.tileSize = Int(tileSize)
        }
        if let isa {
            let name = try string(isa, "isa")
            if !name.isEmpty {
                let choice: InstructionSet
                if name == "best" {
                    choice = .best
                } else if let named = InstructionSet(name: name) {
                    choice = named
                } else {
                    throw CallError(.invalidArgument, "isa '\(name)' is not an instruction set: expected NULL, \"\", \"best\", "
                        + InstructionSet.allCases.map { "\"\($0)\"" }.joined(separator: ", "))
                }
                guard choice.isSupported else {
                    throw CallError(.unsupported, "isa '\(name)' is not supported by this CPU (supported: \(InstructionSet.supported.map(\.rawValue).joined(separator: ", ")))")
                }
                options.instructionSet = choice
            }
        }
        out.pointee = makeHandle(ProgramHandle(Program(tape, options: options)))
    }
}

/// `int tvm_program_free(tvm_program *program)`: releases a program handle; `NULL` is a no-op.
@_cdecl("tvm_program_free")
public func tvm_program_free(_ program: OpaquePointer?) -> Int32 {
    call("tvm_program_free") { () throws(CallError) in try release(program, as: ProgramHandle.self, "tvm_program") }
}

/// `int tvm_program_tape(const tvm_program *program, tvm_tape **out_tape)`: a new handle to
/// the tape the program was made from (its interface: names and slots).
@_cdecl("tvm_program_tape")
public func tvm_program_tape(_ program: OpaquePointer?, _ outTape: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    outTape?.pointee = nil
    return call("tvm_program_tape") { () throws(CallError) in
        let out = try out(outTape, "out_tape")
        out.pointee = makeHandle(TapeHandle(try programHandle(program).program.tape))
    }
}

/// `int tvm_program_instruction_set(const tvm_program *program, const char **out_name)`: the
/// SIMD path the program runs, as a static string.
@_cdecl("tvm_program_instruction_set")
public func tvm_program_instruction_set(_ program: OpaquePointer?, _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    outName?.pointee = nil
    return call("tvm_program_instruction_set") { () throws(CallError) in
        let out = try out(outName, "out_name")
        out.pointee = StaticStrings.instructionSets[try programHandle(program).program.options.instructionSet]
    }
}

// MARK: - Running

/// `int tvm_evaluate(const tvm_program *program, size_t n, const double *const *inputs,
/// size_t input_count, const double *params, size_t param_count, double *const *values,
/// size_t value_count)`: the outputs' values at `n` points (see `Program.run`).
@_cdecl("tvm_evaluate")
public func tvm_evaluate(_ program: OpaquePointer?, _ n: UInt,
                         _ inputs: UnsafePointer<UnsafePointer<Double>?>?, _ inputCount: UInt,
                         _ params: UnsafePointer<Double>?, _ paramCount: UInt,
                         _ values: UnsafePointer<UnsafeMutablePointer<Double>?>?, _ valueCount: UInt) -> Int32 {
    call("tvm_evaluate") { () throws(CallError) in
        let handle = try programHandle(program)
        try handle.memo.runTables(handle.program, entry: 1, n: n, inputs: UnsafeRawPointer(inputs), inputCount: inputCount,
                                  params: params, paramCount: paramCount,
                                  ColumnTable(table: UnsafeRawPointer(values), count: valueCount, slots: handle.program.outputCount)) {
            () throws(CallError) -> MemoArrays in
            var run = try RunArguments(program, n, inputs, inputCount, params, paramCount)
            let values = try run.destinations(values, valueCount, argument: "values", countArgument: "value_count", kind: .output)
            return try run.runKept(values: values)
        }
    }
}

/// `int tvm_value_and_gradient(const tvm_program *program, size_t n, const double *const *inputs,
/// size_t input_count, const double *params, size_t param_count, size_t output_index,
/// double *const *values, size_t value_count, double *const *input_gradients,
/// size_t input_gradient_count, double *param_gradient_sum, double *const *param_gradients,
/// size_t param_gradient_count)`: values and the gradient of one output at `n` points, from one
/// forward and one reverse sweep per tile (see `Program.run` and `GradientRequest`).
@_cdecl("tvm_value_and_gradient")
public func tvm_value_and_gradient(_ program: OpaquePointer?, _ n: UInt,
                                   _ inputs: UnsafePointer<UnsafePointer<Double>?>?, _ inputCount: UInt,
                                   _ params: UnsafePointer<Double>?, _ paramCount: UInt,
                                   _ outputIndex: UInt,
                                   _ values: UnsafePointer<UnsafeMutablePointer<Double>?>?, _ valueCount: UInt,
                                   _ inputGradients: UnsafePointer<UnsafeMutablePointer<Double>?>?, _ inputGradientCount: UInt,
                                   _ paramGradientSum: UnsafeMutablePointer<Double>?,
                                   _ paramGradients: UnsafePointer<UnsafeMutablePointer<Double>?>?, _ paramGradientCount: UInt) -> Int32 {
    call("tvm_value_and_gradient") { () throws(CallError) in
        let handle = try programHandle(program)
        let p = handle.program
        try handle.memo.runTables(
            p, entry: 2, n: n, inputs: UnsafeRawPointer(inputs), inputCount: inputCount, params: params, paramCount: paramCount,
            ColumnTable(table: UnsafeRawPointer(values), count: valueCount, slots: p.outputCount),
            ColumnTable(table: UnsafeRawPointer(inputGradients), count: inputGradientCount, slots: p.inputCount),
            ColumnTable(table: UnsafeRawPointer(paramGradients), count: paramGradientCount, slots: p.parameterCount),
            extra: (outputIndex, UInt(bitPattern: paramGradientSum))) { () throws(CallError) -> MemoArrays in
            let tape = p.tape
            var run = try RunArguments(program, n, inputs, inputCount, params, paramCount)
            guard outputIndex < UInt(tape.outputs.count) else {
                throw CallError(.invalidArgument, "output_index \(outputIndex) is out of range: the tape has \(tape.outputs.count) output(s)\(listing(tape.outputs.map(\.name)))")
            }
            let values = try run.destinations(values, valueCount, argument: "values", countArgument: "value_count", kind: .output)
            let inputGradients = try run.destinations(inputGradients, inputGradientCount, argument: "input_gradients",
                                                      countArgument: "input_gradient_count", kind: .input)
            let paramGradients = try run.destinations(paramGradients, paramGradientCount, argument: "param_gradients",
                                                      countArgument: "param_gradient_count", kind: .parameter)
            if let paramGradientSum, !tape.parameters.isEmpty {
                run.columns.append(Column(paramGradientSum, doubles: tape.parameters.count, written: true, ColumnLabel("param_gradient_sum")))
            }
            let seeds = tape.outputs.indices.map { $0 == Int(outputIndex) ? 1.0 : 0.0 }
            return try run.runKept(values: values, gradients: [GradientRequest(
                seeds: seeds, inputGradients: inputGradients, parameterGradients: paramGradients,
                parameterGradientSums: tape.parameters.isEmpty ? nil : paramGradientSum)])
        }
    }
}

// MARK: - Forward mode and second order

/// `int tvm_jvp(const tvm_program *program, size_t n, const double *const *inputs,
/// size_t input_count, const double *params, size_t param_count,
/// const double *const *direction_columns, const double *direction, double *const *values,
/// size_t value_count, double *const *tangents, size_t tangent_count)`: values and every
/// output's derivative along a direction (forward mode; see `Program.runTangents`).
@_cdecl("tvm_jvp")
public func tvm_jvp(_ program: OpaquePointer?, _ n: UInt,
                    _ inputs: UnsafePointer<UnsafePointer<Double>?>?, _ inputCount: UInt,
                    _ params: UnsafePointer<Double>?, _ paramCount: UInt,
                    _ directionColumns: UnsafePointer<UnsafePointer<Double>?>?, _ direction: UnsafePointer<Double>?,
                    _ values: UnsafePointer<UnsafeMutablePointer<Double>?>?, _ valueCount: UInt,
                    _ tangents: UnsafePointer<UnsafeMutablePointer<Double>?>?, _ tangentCount: UInt) -> Int32 {
    call("tvm_jvp") { () throws(CallError) in
        var run = try RunArguments(program, n, inputs, inputCount, params, paramCount)
        let seeds = try run.direction(directionColumns, direction, columnsArgument: "direction_columns", sharedArgument: "direction")
        let values = try run.destinations(values, valueCount, argument: "values", countArgument: "value_count", kind: .output)
        let tangents = try run.destinations(tangents, tangentCount, argument: "tangents", countArgument: "tangent_count", kind: .output)
        try run.runTangents(run.program, values: values, tangents: [TangentRequest(inputTangents: seeds, outputTangents: tangents)])
    }
}

/// `int tvm_hvp(const tvm_program *program, size_t n, const double *const *inputs,
/// size_t input_count, const double *params, size_t param_count, size_t output_index,
/// const double *const *direction_columns, const double *direction,
/// double *const *input_gradients, size_t input_gradient_count, double *const *hvp,
/// size_t hvp_count)`: the gradient and a Hessian-vector product of one output at every point
/// (forward over reverse; see `Program.hvp`).
@_cdecl("tvm_hvp")
public func tvm_hvp(_ program: OpaquePointer?, _ n: UInt,
                    _ inputs: UnsafePointer<UnsafePointer<Double>?>?, _ inputCount: UInt,
                    _ params: UnsafePointer<Double>?, _ paramCount: UInt, _ outputIndex: UInt,
                    _ directionColumns: UnsafePointer<UnsafePointer<Double>?>?, _ direction: UnsafePointer<Double>?,
                    _ inputGradients: UnsafePointer<UnsafeMutablePointer<Double>?>?, _ inputGradientCount: UInt,
                    _ hvp: UnsafePointer<UnsafeMutablePointer<Double>?>?, _ hvpCount: UInt) -> Int32 {
    call("tvm_hvp") { () throws(CallError) in
        var run = try RunArguments(program, n, inputs, inputCount, params, paramCount)
        let tape = run.program.tape
        let gradient = try run.gradientProgram(outputIndex)
        let seeds = try run.direction(directionColumns, direction, columnsArgument: "direction_columns", sharedArgument: "direction")
        let grads = try run.destinations(inputGradients, inputGradientCount, argument: "input_gradients",
                                         countArgument: "input_gradient_count", kind: .input)
        let products = try run.destinations(hvp, hvpCount, argument: "hvp", countArgument: "hvp_count", kind: .input)
        // The gradient program's outputs: this tape's outputs, ∂f/∂ each input, ∂f/∂ each parameter.
        func layout(_ columns: [UnsafeMutablePointer<Double>?]) -> [UnsafeMutablePointer<Double>?] {
            let none = [UnsafeMutablePointer<Double>?](repeating: nil, count: tape.outputs.count)
            return none + (columns.isEmpty ? Array(repeating: nil, count: tape.inputs.count) : columns)
                + Array(repeating: nil, count: tape.parameters.count)
        }
        try run.runTangents(gradient, values: layout(grads),
                            tangents: [TangentRequest(inputTangents: seeds, outputTangents: layout(products))])
    }
}

/// `int tvm_hessian(const tvm_program *program, size_t n, const double *const *inputs,
/// size_t input_count, const double *params, size_t param_count, size_t output_index,
/// double *hessians)`: the full Hessian of one output with respect to the inputs at every
/// point, `hessians[(i*m + r)*m + c]` (m inputs; see `Program.hessian`).
@_cdecl("tvm_hessian")
public func tvm_hessian(_ program: OpaquePointer?, _ n: UInt,
                        _ inputs: UnsafePointer<UnsafePointer<Double>?>?, _ inputCount: UInt,
                        _ params: UnsafePointer<Double>?, _ paramCount: UInt, _ outputIndex: UInt,
                        _ hessians: UnsafeMutablePointer<Double>?) -> Int32 {
    call("tvm_hessian") { () throws(CallError) in
        var run = try RunArguments(program, n, inputs, inputCount, params, paramCount)
        _ = try run.gradientProgram(outputIndex)
        let m = run.program.tape.inputs.count
        let (size, overflow) = run.count.multipliedReportingOverflow(by: m * m)
        guard !overflow else { throw CallError(.invalidArgument, "n = \(n) points of \(m)×\(m) Hessians do not fit in memory") }
        guard let hessians else {
            if size == 0 { return }
            throw CallError(.nullArgument, "hessians is NULL: pass n·input_count² = \(size) doubles")
        }
        run.columns.append(Column(hessians, doubles: size, written: true, ColumnLabel("hessians")))
        try run.checkColumns()
        do throws(EvaluationError) {
            let h = try run.program.hessian(inputs: run.inputArrays, parameters: run.parameters, output: Int(outputIndex))
            h.hessians.withUnsafeBufferPointer { hessians.update(from: $0.baseAddress!, count: size) }
        } catch {
            throw CallError(.invalidArgument, error.message)
        }
    }
}

/// `int tvm_param_hessian_sum(const tvm_program *program, size_t n, const double *const *inputs,
/// size_t input_count, const double *params, size_t param_count, size_t output_index,
/// double *hessian)`: the Hessian of one output with respect to the parameters summed over the
/// n points, `hessian[p*param_count + q]` (see `Program.parameterHessianSum`).
@_cdecl("tvm_param_hessian_sum")
public func tvm_param_hessian_sum(_ program: OpaquePointer?, _ n: UInt,
                                  _ inputs: UnsafePointer<UnsafePointer<Double>?>?, _ inputCount: UInt,
                                  _ params: UnsafePointer<Double>?, _ paramCount: UInt, _ outputIndex: UInt,
                                  _ hessian: UnsafeMutablePointer<Double>?) -> Int32 {
    call("tvm_param_hessian_sum") { () throws(CallError) in
        let run = try RunArguments(program, n, inputs, inputCount, params, paramCount)
        _ = try run.gradientProgram(outputIndex)
        let p = run.program.tape.parameters.count
        guard let hessian else {
            if p == 0 { return }
            throw CallError(.nullArgument, "hessian is NULL: pass param_count² = \(p * p) doubles")
        }
        do throws(EvaluationError) {
            let h = try run.program.parameterHessianSum(inputs: run.inputArrays, parameters: run.parameters, output: Int(outputIndex))
            for (r, row) in h.enumerated() { for (c, v) in row.enumerated() { hessian[r * p + c] = v } }
        } catch {
            throw CallError(.invalidArgument, error.message)
        }
    }
}

// MARK: - Functions of the expression language

/// `int tvm_function_count(size_t *out_count)`: how many functions the expression language can
/// call (see `tvm_function_info`).
@_cdecl("tvm_function_count")
public func tvm_function_count(_ outCount: UnsafeMutablePointer<UInt>?) -> Int32 {
    call("tvm_function_count") { () throws(CallError) in
        try out(outCount, "out_count").pointee = UInt(FunctionTable.entries.count)
    }
}

/// `int tvm_function_info(size_t index, const char **out_name, const char **out_mnemonic,
/// size_t *out_argument_count, int *out_integer_exponent, const char **out_summary)`: function
/// `index` of the expression language (sorted by name), with static strings.
@_cdecl("tvm_function_info")
public func tvm_function_info(_ index: UInt, _ outName: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                              _ outMnemonic: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                              _ outArgumentCount: UnsafeMutablePointer<UInt>?,
                              _ outIntegerExponent: UnsafeMutablePointer<Int32>?,
                              _ outSummary: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    outName?.pointee = nil
    outMnemonic?.pointee = nil
    outSummary?.pointee = nil
    return call("tvm_function_info") { () throws(CallError) in
        let name = try out(outName, "out_name"), mnemonic = try out(outMnemonic, "out_mnemonic")
        let argumentCount = try out(outArgumentCount, "out_argument_count")
        let integerExponent = try out(outIntegerExponent, "out_integer_exponent"), summary = try out(outSummary, "out_summary")
        let entries = FunctionTable.entries
        guard index < UInt(entries.count) else {
            throw CallError(.invalidArgument, "index \(index) is out of range: the expression language has \(entries.count) function(s)")
        }
        let entry = entries[Int(index)]
        name.pointee = entry.name
        mnemonic.pointee = entry.mnemonic
        argumentCount.pointee = UInt(entry.argumentCount)
        integerExponent.pointee = entry.integerExponent ? 1 : 0
        summary.pointee = entry.summary
    }
}

// MARK: - Several gradients in one run

/// `int tvm_gradients(const tvm_program *program, size_t n, const double *const *inputs,
/// size_t input_count, const double *params, size_t param_count, const double *seeds,
/// size_t request_count, double *const *values, size_t value_count,
/// double *const *input_gradients, size_t input_gradient_count, double *param_gradient_sums,
/// double *const *param_gradients, size_t param_gradient_count)`: values and `request_count`
/// gradients of weighted sums of the outputs (vector-Jacobian products; identity rows give the
/// Jacobian) from one forward sweep and one reverse sweep per request on each tile.
@_cdecl("tvm_gradients")
public func tvm_gradients(_ program: OpaquePointer?, _ n: UInt,
                          _ inputs: UnsafePointer<UnsafePointer<Double>?>?, _ inputCount: UInt,
                          _ params: UnsafePointer<Double>?, _ paramCount: UInt,
                          _ seeds: UnsafePointer<Double>?, _ requestCount: UInt,
                          _ values: UnsafePointer<UnsafeMutablePointer<Double>?>?, _ valueCount: UInt,
                          _ inputGradients: UnsafePointer<UnsafeMutablePointer<Double>?>?, _ inputGradientCount: UInt,
                          _ paramGradientSums: UnsafeMutablePointer<Double>?,
                          _ paramGradients: UnsafePointer<UnsafeMutablePointer<Double>?>?, _ paramGradientCount: UInt) -> Int32 {
    call("tvm_gradients") { () throws(CallError) in
        var run = try RunArguments(program, n, inputs, inputCount, params, paramCount)
        let tape = run.program.tape
        let outputs = tape.outputs.count, parameters = tape.parameters.count
        guard requestCount <= 1 << 20 else {
            throw CallError(.invalidArgument, "request_count is \(requestCount); expected at most \(1 << 20)")
        }
        let rows = Int(requestCount)
        if rows > 0 && outputs > 0 && seeds == nil {
            throw CallError(.nullArgument, "seeds is NULL, but request_count is \(rows): pass request_count × \(outputs) output weight(s)")
        }
        let values = try run.destinations(values, valueCount, argument: "values", countArgument: "value_count", kind: .output)
        let inputRows = try run.destinationRows(inputGradients, inputGradientCount, rows: rows, argument: "input_gradients",
                                                countArgument: "input_gradient_count", kind: .input)
        let paramRows = try run.destinationRows(paramGradients, paramGradientCount, rows: rows, argument: "param_gradients",
                                                countArgument: "param_gradient_count", kind: .parameter)
        let sums = parameters > 0 && rows > 0 ? paramGradientSums : nil
        if let sums {
            run.columns.append(Column(sums, doubles: rows * parameters, written: true, ColumnLabel("param_gradient_sums")))
        }
        let requests = (0..<rows).map { r in
            GradientRequest(seeds: Array(UnsafeBufferPointer(start: seeds.map { $0 + r * outputs }, count: outputs)),
                            inputGradients: inputRows[r], parameterGradients: paramRows[r],
                            parameterGradientSums: sums.map { $0 + r * parameters })
        }
        try run.run(values: values, gradients: requests)
    }
}

// MARK: - One block

/// `int tvm_run_block(const tvm_block_run *run)`: one run described by a record of ten
/// pointer-sized words (see `tapevm.h`), its results written into one block: values, then per
/// request its input gradients and per-point parameter gradients, then parameter gradient sums.
/// For bindings whose foreign calls cost per argument (Python's ctypes): one argument, and the
/// record may sit in the caller's result block (it is read before anything is written).
@_cdecl("tvm_run_block")
public func tvm_run_block(_ record: UnsafeRawPointer?) -> Int32 {
    call("tvm_run_block") { () throws(CallError) in
        guard let record else { throw CallError(.nullArgument, "run is NULL") }
        let word = { (i: Int) in record.load(fromByteOffset: i * MemoryLayout<UInt>.stride, as: UInt.self) }
        let pointer = { (i: Int) in UnsafeRawPointer(bitPattern: word(i)) }
        let handle = OpaquePointer(pointer(BlockRecord.program))
        let n = word(BlockRecord.n)
        let inputTable = pointer(BlockRecord.inputs)?.assumingMemoryBound(to: UnsafePointer<Double>?.self)
        let inputBlock = pointer(BlockRecord.inputBlock)?.assumingMemoryBound(to: Double.self)
        let inputStride = try int(word(BlockRecord.inputStride), "input_stride")
        let params = pointer(BlockRecord.params)?.assumingMemoryBound(to: Double.self)
        let seeds = pointer(BlockRecord.seeds)?.assumingMemoryBound(to: Double.self)
        let requestCount = word(BlockRecord.requestCount)
        let flags = word(BlockRecord.flags)
        let block = UnsafeMutableRawPointer(bitPattern: word(BlockRecord.block))?.assumingMemoryBound(to: Double.self)

        let program = try programHandle(handle).program
        let tape = program.tape
        let m = tape.outputs.count, k = tape.inputs.count, q = tape.parameters.count
        let inputs: InputColumns = inputTable != nil || k == 0 ? .table(inputTable) : .block(inputBlock, stride: inputStride)
        if inputTable == nil && inputBlock == nil && k > 0 {
            throw CallError(.nullArgument, "inputs and input_block are both NULL, but the tape has \(k) input(s)\(listing(tape.inputs))")
        }
        var run = try RunArguments(handle, n, inputs, UInt(k), params, UInt(q))
        guard flags & ~BlockRecord.knownFlags == 0 else {
            throw CallError(.invalidArgument, "flags is \(flags): only TVM_BLOCK_INPUT_GRADIENTS (1) and TVM_BLOCK_PER_POINT_PARAM_GRADIENTS (2) are defined")
        }
        guard requestCount <= 1 << 20 else {
            throw CallError(.invalidArgument, "request_count is \(requestCount); expected at most \(1 << 20)")
        }
        let r = Int(requestCount)
        if r > 0 && m > 0 && seeds == nil {
            throw CallError(.nullArgument, "seeds is NULL, but request_count is \(r): pass request_count × \(m) output weight(s)")
        }
        let inputGradients = flags & BlockRecord.inputGradients != 0
        let perPoint = flags & BlockRecord.perPointParamGradients != 0
        let kg = inputGradients ? k : 0, qg = perPoint ? q : 0
        // Columns of n doubles: values, then per request kg + qg; then r × q sums without perPoint.
        let (perRequest, o1) = r.multipliedReportingOverflow(by: kg + qg)
        let (rows, o2) = perRequest.addingReportingOverflow(m)
        let (columnDoubles, o3) = rows.multipliedReportingOverflow(by: run.count)
        let sums = perPoint ? 0 : r * q
        let (size, o4) = columnDoubles.addingReportingOverflow(sums)
        guard !(o1 || o2 || o3 || o4), size <= Int.max / MemoryLayout<Double>.stride else {
            throw CallError(.invalidArgument, "the block of n = \(n) points × \(rows) columns does not fit in memory")
        }
        guard let block else {
            if size == 0 {
                try run.run(values: [])
                return
            }
            throw CallError(.nullArgument, "block is NULL, but the results need \(size) doubles")
        }
        run.columns.append(Column(block, doubles: size, written: true, ColumnLabel("block")))
        let count = run.count
        let values = (0..<m).map { Optional(block + $0 * count) }
        let requests = (0..<r).map { request in
            let base = block + (m + request * (kg + qg)) * count
            return GradientRequest(
                seeds: Array(UnsafeBufferPointer(start: seeds.map { $0 + request * m }, count: m)),
                inputGradients: (0..<kg).map { Optional(base + $0 * count) },
                parameterGradients: (0..<qg).map { Optional(base + (kg + $0) * count) },
                parameterGradientSums: sums > 0 ? block + columnDoubles + request * q : nil)
        }
        try run.run(values: values, gradients: requests)
    }
}

/// The word offsets of `tvm_block_run`'s fields and its flags.
enum BlockRecord {
    static let program = 0, n = 1, inputs = 2, inputBlock = 3, inputStride = 4, params = 5, seeds = 6,
               requestCount = 7, flags = 8, block = 9
    static let inputGradients: UInt = 1
    static let perPointParamGradients: UInt = 2
    static let knownFlags = inputGradients | perPointParamGradients
}

// MARK: - Populations

@_cdecl("tvm_population_evaluate")
public func tvm_population_evaluate(_ tapeCount: UInt, _ tapes: UnsafePointer<OpaquePointer?>?, _ n: UInt,
                                    _ columnNames: UnsafePointer<UnsafePointer<CChar>?>?,
                                    _ columns: UnsafePointer<UnsafePointer<Double>?>?, _ columnCount: UInt,
                                    _ target: UnsafePointer<Double>?,
                                    _ params: UnsafePointer<UnsafePointer<Double>?>?,
                                    _ threads: UInt, _ flags: UInt32,
                                    _ values: UnsafePointer<UnsafeMutablePointer<Double>?>?,
                                    _ paramGradients: UnsafePointer<UnsafeMutablePointer<Double>?>?,
                                    _ jacobians: UnsafePointer<UnsafeMutablePointer<Double>?>?,
                                    _ losses: UnsafeMutablePointer<Double>?,
                                    _ nonFiniteRows: UnsafeMutablePointer<UInt>?) -> Int32 {
    call("tvm_population_evaluate") { () throws(CallError) in
        let population = try PopulationArguments(tapeCount: tapeCount, tapes: tapes, n: n, columnNames: columnNames,
                                                 columns: columns, columnCount: columnCount, target: target, params: params,
                                                 threads: threads, flags: flags)
        try population.run(values: values, paramGradients: paramGradients, jacobians: jacobians, losses: losses,
                           nonFiniteRows: nonFiniteRows)
    }
}
