/// `line:column: error: message`, then the source line and a caret under the column: the
/// form of every text-format error (expressions, tape text), as compilers print them.
///
/// Tabs in the line's indentation are kept under the caret, so it lines up however tabs are
/// displayed. Without a source line, only the first line is printed.
func sourceDiagnostic(line: Int, column: Int, message: String, sourceLine: String) -> String {
    let header = "\(line):\(column): error: \(message)"
    guard !sourceLine.isEmpty else { return header }
    let indent = String(sourceLine.prefix(Swift.max(0, column - 1)).map { $0 == "\t" ? "\t" : " " })
    let padding = String(repeating: " ", count: Swift.max(0, column - 1 - sourceLine.count))
    return "\(header)\n\(sourceLine)\n\(indent)\(padding)^"
}
