/// Text taken from a file, ready to quote in a one-line error message: control characters, line
/// and paragraph separators, format characters, unassigned code points, quotes and backslashes
/// are escaped as in a Swift string literal (`\n`, `\u{85}`), and text longer than `limit`
/// characters is cut there with `…`. Other characters, non-ASCII letters included, are kept.
func excerpt(_ text: some StringProtocol, limit: Int = 40) -> String {
    var shown = ""
    for (k, scalar) in text.unicodeScalars.enumerated() {
        if k == limit { return shown + "…" }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            shown += scalar.escaped(asASCII: true)
        default:
            shown += scalar == "'" || scalar == "\"" || scalar == "\\" ? scalar.escaped(asASCII: true) : String(scalar)
        }
    }
    return shown
}

/// A byte of a file, quoted for an error message: itself when printable ASCII, else `\u{XX}`.
func excerpt(byte: UInt8) -> String {
    excerpt(String(Character(Unicode.Scalar(byte))), limit: 1)
}
