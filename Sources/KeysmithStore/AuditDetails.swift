import Foundation

/// The `details` column of audit events (both backends): a JSON object with sorted keys.
enum AuditDetails {
    /// A JSON object of the details with sorted keys, without a JSONEncoder per event (the batched writer's hot loop).
    static func json(_ details: [String: String]) -> String {
        guard !details.isEmpty else { return "{}" }
        var out = "{"
        for (index, key) in details.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            out += quoted(key) + ":" + quoted(details[key] ?? "")
        }
        return out + "}"
    }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
