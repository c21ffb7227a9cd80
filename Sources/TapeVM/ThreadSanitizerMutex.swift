#if TAPEVM_TSAN
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds for ThreadSanitizer only (`scripts/sanitize thread` passes `-DTAPEVM_TSAN`): a lock with
/// the interface TapeVM uses of `Synchronization.Mutex`, which it shadows in this module, built on
/// `pthread_mutex_t`.
///
/// On Linux `Synchronization.Mutex` locks with atomics and futexes inside the Swift runtime's
/// uninstrumented `libswiftSynchronization`, so ThreadSanitizer never sees the lock and reports
/// every pair of accesses it orders as a race: a minimal program appending to an array under a
/// `Mutex` from 8 threads gets reports; so did the workspace pool of `Program` (a workspace
/// filled by one thread, returned to the pool under the lock, taken by another). ThreadSanitizer
/// intercepts `pthread_mutex_lock`, so with this lock it sees the same critical sections, and any
/// report left is a real race, not a suppressed one. Release and test builds use `Mutex` itself.
final class Mutex<Value>: @unchecked Sendable {
    private var value: Value
    private let lock: UnsafeMutablePointer<pthread_mutex_t> = .allocate(capacity: 1)

    init(_ value: consuming Value) {
        self.value = value
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return try body(&value)
    }
}
#endif
