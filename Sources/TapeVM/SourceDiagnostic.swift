/// `line:column: error: message`, then the source line and a caret under the column: the
/// form of every text-format error (expressions, tape text), as compilers print them.
///
/// Tabs in the line's indentation are kept under the caret, so it lines up however tabs are
/// displayed. Without a source line, only the first line is printed. A line longer than
/// ``sourceExcerptWidth`` characters is shown as a window of that width around the column, cut
/// ends marked `…`, so a huge generated expression does not flood the terminal.
func sourceDiagnostic(line: Int, column: Int, message: String, sourceLine: String) -> String {
    let header = "\(line):\(column): error: \(message)"
    guard !sourceLine.isEmpty else { return header }
    var shown = sourceLine, caretColumn = column
    let chars = Array(sourceLine)
    if chars.count > sourceExcerptWidth {
        // The column at about two thirds of the window, the window inside the line.
        let start = Swift.max(0, Swift.min(column - 1 - sourceExcerptWidth * 2 / 3, chars.count - sourceExcerptWidth))
        let end = Swift.min(chars.count, start + sourceExcerptWidth)
        shown = (start > 0 ? "…" : "") + String(chars[start..<end]) + (end < chars.count ? "…" : "")
        caretColumn = column - start + (start > 0 ? 1 : 0)
    }
    let indent = String(shown.prefix(Swift.max(0, caretColumn - 1)).map { $0 == "\t" ? "\t" : " " })
    let padding = String(repeating: " ", count: Swift.max(0, caretColumn - 1 - shown.count))
    return "\(header)\n\(shown)\n\(indent)\(padding)^"
}

/// The most characters of a source line an error shows (see `sourceDiagnostic`).
let sourceExcerptWidth = 120
