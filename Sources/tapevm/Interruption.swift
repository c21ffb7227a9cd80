#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Removes the run's temporary files when it is interrupted (Ctrl-C, or the SIGTERM a batch
/// scheduler sends at the time limit), then dies of the signal as it would have.
///
/// The paths are copied into C strings once, before the handlers are installed, and never
/// change afterwards: the handler only reads them and calls `unlink`, which is safe in a
/// signal handler.
enum Interruption {
    nonisolated(unsafe) private static var paths: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    nonisolated(unsafe) private static var count = 0

    /// Installs the handlers for SIGINT, SIGTERM and SIGHUP; call once, with every temporary path.
    static func removeOnSignal(_ temporary: [String]) {
        guard paths == nil, !temporary.isEmpty else { return }
        let list = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: temporary.count)
        for (k, path) in temporary.enumerated() { list[k] = strdup(path) }
        (paths, count) = (list, temporary.count)
        // A parent may have started us with these signals blocked (the mask is inherited):
        // unblock them, since they are now handled.
        var set = sigset_t()
        sigemptyset(&set)
        for sig in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, sig) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { sig in
                if let paths = Interruption.paths {
                    for k in 0..<Interruption.count { if let p = paths[k] { unlink(p) } }
                }
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
    }
}
