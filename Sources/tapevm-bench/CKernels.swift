import CBenchKernels

/// Batch adapters for the hand-written AVX-512 C kernels (CBenchKernels). Each returns false
/// when the CPU cannot run them; `BenchSystem` then reports the system as n/a.
enum CKernels {
    static var isSupported: Bool { tb_avx512_supported() != 0 }

    static func staged(_ b: Batch, _ o: Outputs) {
        _ = tb_staged(b.count, b.columns[0], b.columns[1], o.values, o.inputGradients[0], o.inputGradients[1])
    }

    static func neuron(_ b: Batch, _ o: Outputs) {
        b.parameters.withUnsafeBufferPointer { w in
            _ = tb_neuron(b.count, b.columns[0], b.columns[1], w.baseAddress, o.values,
                          o.inputGradients[0], o.inputGradients[1], o.parameterSums)
        }
    }

    static func rosenbrock(_ b: Batch, _ o: Outputs) {
        _ = tb_rosenbrock(b.count, b.cInputPointers, o.values, o.cInputGradients)
    }

    static func mlp(_ b: Batch, _ o: Outputs) {
        b.parameters.withUnsafeBufferPointer { p in
            _ = tb_mlp(b.count, b.cInputPointers, p.baseAddress, o.values, o.cInputGradients, o.parameterSums)
        }
    }
}
