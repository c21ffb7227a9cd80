import TapeVM
import TapeVMC

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `c-abi` fuzz target: the input's first two bytes choose options and a fault to inject,
/// the rest is expression or tape text (C string semantics: cut at the first NUL).
extension FuzzChecks {
    static let statusOK: Int32 = 0, statusNull: Int32 = 1, statusHandle: Int32 = 2, statusArgument: Int32 = 3,
               statusParse: Int32 = 4, statusUnsupported: Int32 = 5

    /// A value no run writes (a signalling NaN with a recognisable payload).
    static let sentinel = Double(bitPattern: 0x7FF4_DEAD_BEEF_0001)

    static func lastError() -> String { String(cString: tvm_last_error()) }

    static func expect(_ status: Int32, _ wanted: Int32, _ call: String) throws(FuzzFailure) {
        guard status == wanted else {
            throw FuzzFailure("\(call): status \(status) (\(String(cString: tvm_status_name(status)))), expected \(wanted) (\(String(cString: tvm_status_name(wanted)))); last error: \(lastError())")
        }
        let message = lastError()
        if wanted == statusOK {
            guard message.isEmpty else { throw FuzzFailure("\(call) succeeded but left the message '\(message)'") }
        } else {
            let function = String(call.prefix { $0 != "(" })
            guard message.hasPrefix(function + ": ") else {
                throw FuzzFailure("\(call) failed with a message that does not start with '\(function): ': '\(message)'")
            }
        }
    }

    static func cABI(_ data: [UInt8]) throws(FuzzFailure) {
        guard data.count >= 2 else { return }
        let options = data[0], fault = data[1]
        let textBytes = Array(data[2...].prefix { $0 != 0 })
        let asText = options & 1 == 1
        let source = String(validating: textBytes, as: UTF8.self)

        var tape: OpaquePointer?
        let status = textBytes.withUnsafeBufferPointer { buffer in
            (Array(buffer) + [0]).withUnsafeBufferPointer { p in
                p.withMemoryRebound(to: CChar.self) { c in
                    asText ? tvm_tape_from_text(c.baseAddress, &tape) : tvm_tape_from_expression(c.baseAddress, &tape)
                }
            }
        }
        let function = asText ? "tvm_tape_from_text" : "tvm_tape_from_expression"
        guard let source else {
            try expect(status, statusArgument, function)
            guard tape == nil else { throw FuzzFailure("\(function) failed but set *out_tape") }
            return
        }
        let swiftTape: Tape? = asText ? try? Tape(text: source) : try? Tape(expression: source)
        guard let swiftTape else {
            try expect(status, statusParse, function)
            guard tape == nil else { throw FuzzFailure("\(function) failed but set *out_tape") }
            return
        }
        try expect(status, statusOK, function)
        guard let tape else { throw FuzzFailure("\(function) succeeded without a handle") }
        defer { _ = tvm_tape_free(tape) }

        try checkTapeHandle(tape, swiftTape)
        if swiftTape.instructions.count > FuzzTarget.differentialInstructionLimit { return }

        // tvm_program_new with fuzzed options.
        let isaChoices: [String?] = [nil, "", "best"] + InstructionSet.allCases.map(\.rawValue) + ["bogus"]
        let isaName = isaChoices[Int(options >> 1 & 7) % isaChoices.count]
        let threads: UInt = ([1, 2, 0, 5000] as [UInt])[Int(options >> 4 & 3)]
        let tile: UInt = ([0, 8, 13, (1 << 20) + 1] as [UInt])[Int(options >> 6 & 3)]
        var program: OpaquePointer?
        let newStatus = { () -> Int32 in
            guard let isaName else { return tvm_program_new(tape, threads, tile, nil, &program) }
            return isaName.withCString { tvm_program_new(tape, threads, tile, $0, &program) }
        }()
        let wantedISA: InstructionSet? = switch isaName {
        case nil, "": InstructionSet.preferred
        case "best": InstructionSet.best
        default: InstructionSet(rawValue: isaName!)
        }
        if threads > 4096 || tile > 1 << 20 || wantedISA == nil {
            try expect(newStatus, statusArgument, "tvm_program_new")
            return
        }
        if !wantedISA!.isSupported {
            try expect(newStatus, statusUnsupported, "tvm_program_new")
            return
        }
        try expect(newStatus, statusOK, "tvm_program_new")
        guard let program else { throw FuzzFailure("tvm_program_new succeeded without a handle") }
        defer { _ = tvm_program_free(program) }

        // Handles of the wrong kind are refused, and nothing is released.
        try expect(tvm_tape_free(program), statusHandle, "tvm_tape_free(program)")
        try expect(tvm_program_free(tape), statusHandle, "tvm_program_free(tape)")
        var name: UnsafePointer<CChar>?
        try expect(tvm_program_instruction_set(program, &name), statusOK, "tvm_program_instruction_set")
        guard let isa = InstructionSet(rawValue: String(cString: name!)), isa == wantedISA else {
            throw FuzzFailure("tvm_program_instruction_set says \(name.map { String(cString: $0) } ?? "nil"), expected \(wantedISA!)")
        }
        let swiftProgram = Program(swiftTape, options: ExecutionOptions(threads: 1, tileSize: tile == 0 ? nil : Int(tile),
                                                                       instructionSet: isa))
        try checkRuns(program, swiftProgram, fault: fault, data: data)
    }

    /// Counts, names (and their range check) and the text round trip of a tape handle.
    static func checkTapeHandle(_ tape: OpaquePointer, _ swiftTape: Tape) throws(FuzzFailure) {
        typealias Count = (OpaquePointer?, UnsafeMutablePointer<UInt>?) -> Int32
        typealias Name = (OpaquePointer?, UInt, UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32
        let slots: [(String, Count, Name, [String])] = [
            ("input", tvm_tape_input_count, tvm_tape_input_name, swiftTape.inputs),
            ("parameter", tvm_tape_parameter_count, tvm_tape_parameter_name, swiftTape.parameters),
            ("output", tvm_tape_output_count, tvm_tape_output_name, swiftTape.outputs.map(\.name)),
        ]
        for (kind, count, name, names) in slots {
            var n: UInt = 0
            try expect(count(tape, &n), statusOK, "tvm_tape_\(kind)_count")
            guard n == UInt(names.count) else { throw FuzzFailure("tvm_tape_\(kind)_count: \(n), expected \(names.count)") }
            for (i, expected) in names.enumerated() {
                var p: UnsafePointer<CChar>?
                try expect(name(tape, UInt(i), &p), statusOK, "tvm_tape_\(kind)_name")
                let cut = String(expected.prefix { $0 != "\0" })
                guard let p, String(cString: p) == cut else {
                    throw FuzzFailure("tvm_tape_\(kind)_name(\(i)): '\(p.map { String(cString: $0) } ?? "NULL")', expected '\(cut)'")
                }
            }
            var p: UnsafePointer<CChar>?
            try expect(name(tape, n, &p), statusArgument, "tvm_tape_\(kind)_name")
            guard p == nil else { throw FuzzFailure("tvm_tape_\(kind)_name out of range set *out_name") }
        }
        var text: UnsafeMutablePointer<CChar>?
        try expect(tvm_tape_to_text(tape, &text), statusOK, "tvm_tape_to_text")
        guard let text else { throw FuzzFailure("tvm_tape_to_text succeeded without text") }
        defer { tvm_string_free(text) }
        guard String(cString: text) == swiftTape.text || swiftTape.text.utf8.contains(0) else {
            throw FuzzFailure("tvm_tape_to_text differs from Tape.text")
        }
        var again: OpaquePointer?
        try expect(tvm_tape_from_text(text, &again), swiftTape.text.utf8.contains(0) ? statusParse : statusOK, "tvm_tape_from_text")
        if let again { _ = tvm_tape_free(again) }
    }

    /// Runs through the C ABI, with at most one injected fault, against the Swift program.
    static func checkRuns(_ program: OpaquePointer, _ swiftProgram: Program, fault: UInt8, data: [UInt8]) throws(FuzzFailure) {
        let tape = swiftProgram.tape
        var rng = SplitMix64(seed: hash(data))
        let n = [0, 1, 5, 9][Int(fault >> 4 & 3)]
        let nIn = tape.inputs.count, nPar = tape.parameters.count, nOut = tape.outputs.count
        let inputs = Differential.points(count: n, inputs: nIn, rng: &rng)
        let parameters = Differential.points(count: 1, inputs: nPar, rng: &rng).map { $0[0] }
        let outputIndex = Int.random(in: 0..<nOut, using: &rng)
        // Which destinations to skip (NULL entries), from the input's hash.
        let skip = (0..<(nOut + nIn + nPar + 1)).map { _ in Int.random(in: 0..<5, using: &rng) == 0 }

        // One block per destination column; the first `nOut` values, then input and parameter gradients.
        let columns = nOut + nIn + nPar
        let stride = Swift.max(n, 1)
        let cBuffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: columns * stride + nPar + 1)
        let swiftBuffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: columns * stride + nPar + 1)
        defer { cBuffer.deallocate(); swiftBuffer.deallocate() }
        cBuffer.initialize(repeating: sentinel)
        swiftBuffer.initialize(repeating: sentinel)
        let column = { (b: UnsafeMutableBufferPointer<Double>, c: Int) -> UnsafeMutablePointer<Double>? in
            skip[c] ? nil : b.baseAddress! + c * stride
        }
        let sumsAt = { (b: UnsafeMutableBufferPointer<Double>) -> UnsafeMutablePointer<Double>? in
            skip[columns] || nPar == 0 ? nil : b.baseAddress! + columns * stride
        }

        // The Swift side: Program.run, the entry point the C ABI is documented to match.
        let inputPointers = inputs.map { column -> UnsafePointer<Double> in
            let p = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, column.count))
            p.initialize(from: column, count: column.count)
            return UnsafePointer(p)
        }
        defer { for p in inputPointers { UnsafeMutablePointer(mutating: p).deallocate() } }
        do {
            try swiftProgram.run(count: n, inputs: inputPointers, parameters: parameters,
                                 values: (0..<nOut).map { column(swiftBuffer, $0) },
                                 gradients: [GradientRequest(seeds: (0..<nOut).map { $0 == outputIndex ? 1 : 0 },
                                                             inputGradients: (0..<nIn).map { column(swiftBuffer, nOut + $0) },
                                                             parameterGradients: (0..<nPar).map { column(swiftBuffer, nOut + nIn + $0) },
                                                             parameterGradientSums: sumsAt(swiftBuffer))])
        } catch {
            throw FuzzFailure("Program.run failed: \(error)")
        }

        // The C side, with one injected fault (or none).
        var cInputs: [UnsafePointer<Double>?] = inputPointers.map { $0 }
        var values = (0..<nOut).map { column(cBuffer, $0) }
        var inputGradients = (0..<nIn).map { column(cBuffer, nOut + $0) }
        let paramGradients = (0..<nPar).map { column(cBuffer, nOut + nIn + $0) }
        var inputCount = UInt(nIn), paramCount = UInt(nPar), index = UInt(outputIndex)
        var valueCount = UInt(nOut), inputGradientCount = UInt(nIn)
        var expected = statusOK
        var nullInputs = false
        switch fault & 15 {
        case 1: inputCount += 1; expected = statusArgument
        case 2 where nPar > 0: paramCount -= 1; expected = statusArgument
        case 3: index = UInt(nOut) + UInt(fault >> 6); expected = statusArgument
        case 4: valueCount += 1; expected = statusArgument
        case 5: inputGradientCount = inputGradientCount == 0 ? 1 : 0; expected = inputGradientCount == 1 ? statusArgument : statusNull
        case 6 where n > 0 && nIn > 0 && values[0] != nil:
            inputGradients[0] = values[0]; expected = statusArgument        // two destinations overlap
        case 7 where n > 0 && nIn > 0 && values[0] != nil:
            cInputs[0] = UnsafePointer(values[0]!); expected = statusArgument  // a destination overlaps an input
        case 8 where nIn > 0: nullInputs = true; expected = statusNull
        case 9 where n > 0 && nIn > 0: cInputs[0] = nil; expected = statusNull
        case 10: values = []; valueCount = 0                                // NULL with 0: "none"
        default: break
        }
        let status = cInputs.withUnsafeBufferPointer { ins in
            values.withUnsafeBufferPointer { vals in
                inputGradients.withUnsafeBufferPointer { igs in
                    paramGradients.withUnsafeBufferPointer { pgs in
                        parameters.withUnsafeBufferPointer { ps in
                            tvm_value_and_gradient(program, UInt(n), nullInputs ? nil : ins.baseAddress, inputCount,
                                                   ps.baseAddress, paramCount, index,
                                                   (fault & 15 == 10 ? nil : vals.baseAddress), valueCount,
                                                   igs.baseAddress, inputGradientCount,
                                                   sumsAt(cBuffer), pgs.baseAddress, UInt(nPar))
                        }
                    }
                }
            }
        }
        // The "none" arrays (count 0 with NULL) may legitimately fail with NULL_ARGUMENT when
        // the tape has slots of that kind; anything else must be exactly the expected status.
        if expected == statusNull && status == statusArgument || expected == statusArgument && status == statusNull {
            try expect(status, status, "tvm_value_and_gradient")
        } else {
            try expect(status, expected, "tvm_value_and_gradient")
        }
        if status != statusOK {
            guard cBuffer.allSatisfy({ $0.bitPattern == sentinel.bitPattern }) else {
                throw FuzzFailure("tvm_value_and_gradient failed (\(lastError())) but wrote to a destination")
            }
            return
        }
        for c in 0..<(columns * stride + nPar) {
            if fault & 15 == 10 && c < nOut * stride { continue }   // values were not asked for
            guard Differential.same(cBuffer[c], swiftBuffer[c]) else {
                throw FuzzFailure("tvm_value_and_gradient: element \(c) is \(cBuffer[c]), Program.run gives \(swiftBuffer[c])")
            }
        }

        // tvm_evaluate: the same values.
        let evaluated = UnsafeMutableBufferPointer<Double>.allocate(capacity: nOut * stride)
        defer { evaluated.deallocate() }
        evaluated.initialize(repeating: sentinel)
        let evalValues = (0..<nOut).map { Optional(evaluated.baseAddress! + $0 * stride) }
        let evalStatus = cInputs.withUnsafeBufferPointer { ins in
            evalValues.withUnsafeBufferPointer { vals in
                parameters.withUnsafeBufferPointer { ps in
                    tvm_evaluate(program, UInt(n), ins.baseAddress, UInt(nIn), ps.baseAddress, UInt(nPar), vals.baseAddress, UInt(nOut))
                }
            }
        }
        try expect(evalStatus, statusOK, "tvm_evaluate")
        for k in 0..<nOut where !skip[k] {
            for i in 0..<n where !Differential.same(evaluated[k * stride + i], swiftBuffer[k * stride + i]) {
                throw FuzzFailure("tvm_evaluate: output \(k) at point \(i) is \(evaluated[k * stride + i]), Program.run gives \(swiftBuffer[k * stride + i])")
            }
        }
    }
}
