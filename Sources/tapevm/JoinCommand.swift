import ArgumentParser
import TapeVM
import TapeVMIO

/// `tapevm join`: the `.npy` parts of a sharded grid run into the whole grid's array.
struct JoinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Join the .npy parts of 'tapevm grid --shard k/n' into the whole grid's array.",
        discussion: """
            Example (16 parts, from a Slurm array job):
              tapevm join f.part*.npy -o f.npy
            Reads each part's sidecar (<part>.npy.json), checks that the parts are
            the n shards of one grid (same function, axes and columns; each part
            once), and writes their rows in shard order with the grid's shape
            (n1, ..., nk, columns), plus the sidecar. The result is the array an
            unsharded run writes, bit for bit. Parts may be given in any order.
            """)

    @Argument(help: ArgumentHelp("The parts' .npy files.", valueName: "part.npy"))
    var parts: [String]

    @Option(name: [.customShort("o"), .customLong("out")], help: ArgumentHelp("The joined .npy file.", valueName: "file.npy"))
    var outputPath: String

    func run() throws {
        try reportingErrors { () throws(CLIError) in try join() }
    }

    private func join() throws(CLIError) {
        guard !parts.isEmpty else { throw .usage("no parts: give the .npy files that 'tapevm grid --shard' wrote") }
        var described: [(path: String, description: GridFileDescription, shard: GridFileDescription.Shard)] = []
        for path in parts {
            let sidecar = GridFileDescription.path(for: path)
            let description: GridFileDescription
            do {
                description = try GridFileDescription.decode(Array(readTextFile(sidecar).utf8))
            } catch let error as FileError {
                throw .file(error)
            } catch {
                throw .file(FileError(path: sidecar, "not a tapevm grid sidecar: \(error)"))
            }
            guard let shard = description.shard else {
                throw .data("\(path): not a shard (its sidecar has no \"shard\"): it is already a whole grid")
            }
            described.append((path, description, shard))
        }
        described.sort { $0.shard.index < $1.shard.index }
        var whole = described[0].description
        let n = described[0].shard.count
        for (k, part) in described.enumerated() {
            var same = part.description
            same.shard = nil
            same.shape = whole.shape
            whole.shard = nil
            guard same == whole else {
                throw .data("\(part.path) is a part of another grid than \(described[0].path) (function, axes, columns or parameters differ)")
            }
            guard part.shard.count == n else { throw .data("\(part.path) is part \(part.shard.index) of \(part.shard.count), \(described[0].path) of \(n)") }
            guard part.shard.index == k else {
                let missing = part.shard.index > k ? "part \(k) of \(n) is missing" : "part \(k) of \(n) is given twice"
                throw .data("\(missing) (parts count from 0)")
            }
        }
        guard described.count == n else { throw .data("part \(described.count) of \(n) is missing (parts count from 0)") }
        whole.shape = whole.gridShape

        do throws(FileError) {
            let writer = try NPYWriter(path: outputPath, shape: whole.shape)
            let sidecar = try OutputFile(path: GridFileDescription.path(for: outputPath))
            try sidecar.write(whole.encoded())
            let block = UnsafeMutableBufferPointer<Double>.allocate(capacity: 1 << 20)
            defer { block.deallocate() }
            var next = 0
            for part in described {
                let reader = try NPYReader(path: part.path)
                let width = whole.columns.count
                guard reader.header.shape == [part.shard.points, width], part.shard.firstPoint == next, !reader.header.fortranOrder else {
                    throw FileError(path: part.path, "expected the points \(next) to \(next + part.shard.points - 1) as an array (\(part.shard.points), \(width)), found shape \(reader.header.shape) from point \(part.shard.firstPoint)")
                }
                while case let got = try reader.read(into: block), got > 0 {
                    try writer.write(UnsafeBufferPointer(rebasing: block[0..<got]))
                }
                next += part.shard.points
            }
            try writer.finish()
            try sidecar.commit()
        } catch {
            throw .file(error)
        }
        print("wrote \(outputPath): float64 array (\(whole.shape.map(String.init).joined(separator: ", "))) of \(whole.columns.joined(separator: ", ")) from \(n) parts; sidecar \(GridFileDescription.path(for: outputPath))")
    }
}
