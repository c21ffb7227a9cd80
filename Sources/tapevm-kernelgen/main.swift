// tapevm-kernelgen: writes the C kernel source generated from the opcode rules.
//
//   tapevm-kernelgen [DIR]   writes the files into DIR (default Sources/CTapeKernels)
//   tapevm-kernelgen --check [DIR]   exits 1 when a committed file differs (prints which)
import Foundation
import TapeVMKernelGen

var arguments = Array(CommandLine.arguments.dropFirst())
let check = arguments.first == "--check"
if check { arguments.removeFirst() }
let directory = URL(fileURLWithPath: arguments.first ?? "Sources/CTapeKernels")
var stale: [String] = []
for (path, contents) in KernelSource.files {
    let url = directory.appendingPathComponent(path)
    let current = try? String(contentsOf: url, encoding: .utf8)
    if current == contents { continue }
    stale.append(path)
    if !check {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.appendingPathExtension("tmp")
        try contents.write(to: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary.path, url.path) == 0 else {
            FileHandle.standardError.write(Data("tapevm-kernelgen: cannot write \(url.path)\n".utf8))
            exit(1)
        }
        print("wrote \(url.path)")
    }
}
if check && !stale.isEmpty {
    FileHandle.standardError.write(Data("out of date: \(stale.joined(separator: ", ")); run scripts/generate-kernels\n".utf8))
    exit(1)
}
