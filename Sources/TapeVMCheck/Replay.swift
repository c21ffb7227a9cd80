import Foundation

/// Replays fuzz inputs from files: the seed corpus and every crash reproducer, in CI.
public enum Replay {
    /// The files under `path` (itself if it is a file), sorted; hidden files are skipped.
    public static func files(_ path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().flatMap { files(path + "/" + $0) }
    }

    /// Runs every file under `paths` through `target`; returns how many were run.
    /// - Throws: ``FuzzFailure`` naming the first file whose input breaks a property.
    public static func run(_ target: FuzzTarget, paths: [String]) throws(FuzzFailure) -> Int {
        var count = 0
        for path in paths {
            for file in files(path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw FuzzFailure("\(file): cannot be read")
                }
                do {
                    try target.run(Array(data))
                } catch {
                    throw FuzzFailure("\(file): \(error)")
                }
                count += 1
            }
        }
        return count
    }
}
