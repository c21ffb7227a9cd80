/// Kernel code (or any plain C records) in memory that never moves, owned by a plan.
///
/// The executor hands the kernels a pointer to the code on every tile; keeping the code in a
/// fixed allocation, made once when the program is planned, means a run copies nothing.
final class CodeBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
    // Immutable after init, so sharing it between threads is safe.
    let base: UnsafeMutablePointer<Element>
    let count: Int

    init(_ elements: [Element]) {
        count = elements.count
        base = UnsafeMutablePointer<Element>.allocate(capacity: Swift.max(1, elements.count))
        base.initialize(from: elements, count: elements.count)
    }

    /// Takes ownership of `base` (allocated with `UnsafeMutablePointer.allocate`), which holds `count` elements.
    init(adopting base: UnsafeMutablePointer<Element>, count: Int) {
        self.base = base
        self.count = count
    }

    deinit { base.deallocate() }
}
