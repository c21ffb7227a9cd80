import Synchronization

/// An object made on first use, then read with one atomic load: no lock and no reference
/// counting on the path every run takes (a program's sweep plans, read by every call).
///
/// Making is serialized by a lock, so `make` runs once; the object is published with a
/// release store and held retained until the owner is destroyed.
struct LazyReference<Object: AnyObject & Sendable>: ~Copyable, Sendable {
    private let slot = Atomic<Unmanaged<Object>?>(nil)
    private let making = Mutex<Void>(())

    init() {}

    deinit { slot.load(ordering: .acquiring)?.release() }

    /// The object, made by `make` if this is the first use. It lives as long as `self`: callers
    /// that outlive neither may use it unretained.
    func get(_ make: () -> Object) -> Unmanaged<Object> {
        if let made = slot.load(ordering: .acquiring) { return made }
        return making.withLock { _ in
            if let made = slot.load(ordering: .acquiring) { return made }
            let made = Unmanaged.passRetained(make())
            slot.store(made, ordering: .releasing)
            return made
        }
    }
}
