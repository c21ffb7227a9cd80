/// Parsing of `name=value,...` lists: the points of `--at` and the values of `--param`.
///
/// A list gives every name exactly once, either all by name (`x=-2,y=5`, any order) or all by
/// position in the function's order (`-2,5`). Numbers are decimal (`-2`, `0.5`, `1e-3`), or
/// `nan`, `inf`, `-inf`.
enum Assignments {
    /// The values of `names`, in their order, from one list.
    ///
    /// - Parameters:
    ///   - text: the list, e.g. `x=-2,y=5,z=-4`.
    ///   - option: the option it came from, for messages (`--at`).
    ///   - names: the names to fill, in slot order.
    ///   - kind: what they are, for messages (`input`).
    ///   - others: names of the other kind (parameters for `--at`), to point at the right option.
    static func parse(_ text: String, option: String, names: [String], kind: String,
                      others: [String] = [], otherKind: String = "", otherOption: String = "") throws(CLIError) -> [Double] {
        let quoted = "\(option) '\(text)'"
        let listing = names.isEmpty ? "the function has no \(kind)s" : "the function's \(kind)s are \(names.joined(separator: ", "))"
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        if names.isEmpty {
            guard text.trimmingSpaces.isEmpty else { throw .usage("\(quoted): \(listing)") }
            return []
        }
        if let k = items.firstIndex(where: \.isEmpty) {
            throw .usage("\(quoted): item \(k + 1) is empty")
        }
        let named = items.filter { $0.contains("=") }
        if named.isEmpty {
            // All by position.
            guard items.count == names.count else {
                throw .usage("\(quoted): expected \(names.count) value(s) in the order \(names.joined(separator: ", ")), got \(items.count)")
            }
            var values: [Double] = []
            for (name, item) in zip(names, items) {
                values.append(try number(item, context: "\(quoted): \(kind) '\(name)'"))
            }
            return values
        }
        guard named.count == items.count else {
            let bare = items.first { !$0.contains("=") }!
            throw .usage("\(quoted): '\(bare)' has no name: give all values as name=value, or all by position")
        }
        var values = [Double?](repeating: nil, count: names.count)
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0].trimmingSpaces, valueText = parts[1].trimmingSpaces
            guard !name.isEmpty else { throw .usage("\(quoted): '\(item)' has no name before '='") }
            guard let slot = names.firstIndex(of: name) else {
                if others.contains(name) {
                    throw .usage("\(quoted): '\(name)' is \(otherKind == "input" ? "an" : "a") \(otherKind), not \(kind == "input" ? "an" : "a") \(kind): give it with \(otherOption)")
                }
                throw .usage("\(quoted): unknown \(kind) '\(name)' (\(listing))")
            }
            guard values[slot] == nil else { throw .usage("\(quoted): \(kind) '\(name)' is given twice") }
            values[slot] = try number(valueText, context: "\(quoted): \(kind) '\(name)'")
        }
        let missing = values.indices.filter { values[$0] == nil }.map { names[$0] }
        if !missing.isEmpty {
            throw .usage("\(quoted): missing \(kind)\(missing.count > 1 ? "s" : "") \(missing.map { "'\($0)'" }.joined(separator: ", ")) (\(listing))")
        }
        return values.map { $0! }
    }

    /// A number: decimal (`-2`, `0.5`, `1e-3`), or `nan`, `inf`, `-inf`, `infinity`.
    static func number(_ text: String, context: String) throws(CLIError) -> Double {
        guard !text.isEmpty else { throw .usage("\(context): no value after '='") }
        let lower = text.lowercased()
        let body = lower.hasPrefix("-") || lower.hasPrefix("+") ? String(lower.dropFirst()) : lower
        if ["nan", "inf", "infinity"].contains(body) {
            return body == "nan" ? .nan : lower.hasPrefix("-") ? -.infinity : .infinity
        }
        // Plain decimal syntax only (no hex floats, no "0x", no "_").
        let allowed = body.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "-" || $0 == "+") }
        guard allowed, body.first.map({ $0.isNumber || $0 == "." }) == true, let x = Double(text) else {
            throw .usage("\(context): '\(text)' is not a number")
        }
        guard x.isFinite else { throw .usage("\(context): '\(text)' is out of range for a double") }
        return x
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
