/// What an API key may do. `read_only` is always present (every key may read; ``APIKey`` and the OKX parser add
/// it); `trade` and `withdraw` are granted explicitly.
///
/// ```swift
/// let perms = try Permissions(okx: "read_only,trade")   // [.readOnly, .trade]
/// perms.okxString                                       // "read_only,trade"
/// perms.contains(.withdraw)                             // false
/// ```
public struct Permissions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    public static let readOnly = Permissions(rawValue: 1 << 0)
    public static let trade = Permissions(rawValue: 1 << 1)
    public static let withdraw = Permissions(rawValue: 1 << 2)

    /// Parses OKX's comma form (`read_only,trade`). Empty means read-only; whitespace around names is ignored.
    /// OKX's own examples also write `read`; it is accepted as `read_only`.
    public init(okx text: String) throws(OKXError) {
        var permissions = Permissions.readOnly
        for part in text.split(separator: ",") {
            let name = part.trimmingSpaces()
            guard let permission = Permissions.byName[name] else {
                throw OKXError.parameterError("perm")
                    .with(message: "Parameter perm error: unknown permission '\(name)' (use read_only, trade, withdraw)")
            }
            permissions.insert(permission)
        }
        self = permissions
    }

    /// The OKX comma form, in the fixed order `read_only,trade,withdraw`.
    public var okxString: String {
        var names = ["read_only"]
        if contains(.trade) { names.append("trade") }
        if contains(.withdraw) { names.append("withdraw") }
        return names.joined(separator: ",")
    }

    private static let byName: [Substring: Permissions] = [
        "read_only": .readOnly, "read": .readOnly, "trade": .trade, "withdraw": .withdraw,
    ]
}

extension Permissions: CustomStringConvertible {
    public var description: String { okxString }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var slice = self
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
