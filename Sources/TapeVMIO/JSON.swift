/// A JSON value, for printing results as JSON text.
///
/// Objects keep their keys in the order given. Numbers print in the shortest form that
/// reads back as the same `Double` (`-12`, `0.1`, `1e-05`, `6.02e+23`); since JSON has no
/// NaN or infinities, those print as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`
/// (the spelling of JavaScript and of Python's `json` module).
///
/// ```swift
/// let v: JSONValue = .object([("value", .number(-12)), ("ok", .bool(true))])
/// print(v.serialized())   // {"value": -12, "ok": true}
/// ```
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Key–value pairs, printed in this order.
    case object([KeyValuePair])

    /// One member of an object.
    public struct KeyValuePair: Hashable, Sendable {
        public var key: String
        public var value: JSONValue
        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// An object from key–value pairs, in order.
    public static func object(_ pairs: [(String, JSONValue)]) -> JSONValue {
        .object(pairs.map { KeyValuePair($0.0, $0.1) })
    }

    /// The JSON text on one line, with a space after each `:` and `,`.
    public func serialized() -> String {
        var out = ""
        write(to: &out)
        return out
    }

    /// Appends the JSON text to `out`.
    public func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let x): out += JSONValue.format(x)
        case .string(let s): out += JSONValue.quote(s)
        case .array(let items):
            out += "["
            for (k, item) in items.enumerated() {
                if k > 0 { out += ", " }
                item.write(to: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (k, pair) in pairs.enumerated() {
                if k > 0 { out += ", " }
                out += JSONValue.quote(pair.key)
                out += ": "
                pair.value.write(to: &out)
            }
            out += "}"
        }
    }

    /// A `Double` as JSON text: the shortest decimal that reads back as the same value, without
    /// a trailing `.0` (so `-12.0` prints as `-12`); NaN and infinities as the strings `"NaN"`,
    /// `"Infinity"` and `"-Infinity"` (quotes included).
    public static func format(_ x: Double) -> String {
        if x.isNaN { return "\"NaN\"" }
        if x.isInfinite { return x < 0 ? "\"-Infinity\"" : "\"Infinity\"" }
        // Swift's description is the shortest round-trip form: "-12.0", "0.1", "1e-05", "1e+16".
        let text = x.description
        if text.hasSuffix(".0") { return String(text.dropLast(2)) }
        return text
    }

    /// A string as a JSON string literal, with quotes, backslashes and control characters escaped.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
