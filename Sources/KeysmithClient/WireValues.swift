import Foundation

// OKX sends numbers and times as JSON strings ("0.5", "1597026383085"), and "" where a value is absent. These
// wrappers decode that (and plain JSON numbers, which some endpoints and proxies send) into typed, optional
// values; a missing key decodes as nil. Anything else is a decoding error naming the field.

/// A decimal number sent as a string: `"0.00012"` → 0.00012, `""` → nil.
@propertyWrapper
public struct OKXDecimal: Codable, Sendable, Hashable {
    public var wrappedValue: Decimal?

    public init(wrappedValue: Decimal?) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            wrappedValue = nil
        } else if let text = try? container.decode(String.self) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                wrappedValue = nil
            } else if Self.isNumber(trimmed), let value = Decimal(string: trimmed, locale: Locale(identifier: "en_US_POSIX")) {
                wrappedValue = value
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a number: \"\(text)\"")
            }
        } else {
            wrappedValue = Decimal(try container.decode(Double.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue.map { "\($0)" } ?? "")
    }

    /// `-?digits(.digits)?(e-?digits)?`, nothing else (Foundation's parser would accept a number prefix).
    static func isNumber(_ text: String) -> Bool {
        var rest = Substring(text)
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
        let mantissa = rest.prefix { $0 != "e" && $0 != "E" }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }), parts.contains(where: { !$0.isEmpty })
        else { return false }
        var exponent = rest.dropFirst(mantissa.count)
        guard !exponent.isEmpty else { return true }
        exponent = exponent.dropFirst()
        if exponent.first == "-" || exponent.first == "+" { exponent = exponent.dropFirst() }
        return !exponent.isEmpty && exponent.allSatisfy(\.isASCIIDigit)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// A time sent as Unix milliseconds in a string: `"1597026383085"` → a `Date`, `""` → nil.
@propertyWrapper
public struct OKXMilliseconds: Codable, Sendable, Hashable {
    public var wrappedValue: Date?

    public init(wrappedValue: Date?) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let milliseconds: Int64?
        if container.decodeNil() {
            milliseconds = nil
        } else if let text = try? container.decode(String.self) {
            guard text.isEmpty || Int64(text) != nil else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not milliseconds: \"\(text)\"")
            }
            milliseconds = Int64(text)
        } else {
            milliseconds = try container.decode(Int64.self)
        }
        wrappedValue = milliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue.map { String(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? "")
    }
}

/// A comma-separated list in a string: `"read_only,trade"` → ["read_only", "trade"], `""` → [].
@propertyWrapper
public struct OKXList: Codable, Sendable, Hashable {
    public var wrappedValue: [String]

    public init(wrappedValue: [String]) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            wrappedValue = []
        } else if let list = try? container.decode([String].self) {
            wrappedValue = list
        } else {
            wrappedValue = try container.decode(String.self).split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue.joined(separator: ","))
    }
}

/// A string field that may be absent or null; both read as "".
@propertyWrapper
public struct OKXText: Codable, Sendable, Hashable {
    public var wrappedValue: String

    public init(wrappedValue: String) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            wrappedValue = ""
        } else if let text = try? container.decode(String.self) {
            wrappedValue = text
        } else if let number = try? container.decode(Int64.self) {
            wrappedValue = String(number)
        } else {
            wrappedValue = String(try container.decode(Bool.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

/// A flag OKX sends either as a JSON boolean or as `"true"`/`"false"`; absent reads as false.
@propertyWrapper
public struct OKXFlag: Codable, Sendable, Hashable {
    public var wrappedValue: Bool

    public init(wrappedValue: Bool) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            wrappedValue = false
        } else if let flag = try? container.decode(Bool.self) {
            wrappedValue = flag
        } else {
            let text = try container.decode(String.self)
            guard ["true", "false", ""].contains(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a flag: \"\(text)\"")
            }
            wrappedValue = text == "true"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

// Missing keys decode as the wrapper's empty value rather than failing the whole item.
extension KeyedDecodingContainer {
    public func decode(_ type: OKXDecimal.Type, forKey key: Key) throws -> OKXDecimal {
        try decodeIfPresent(type, forKey: key) ?? OKXDecimal(wrappedValue: nil)
    }

    public func decode(_ type: OKXMilliseconds.Type, forKey key: Key) throws -> OKXMilliseconds {
        try decodeIfPresent(type, forKey: key) ?? OKXMilliseconds(wrappedValue: nil)
    }

    public func decode(_ type: OKXList.Type, forKey key: Key) throws -> OKXList {
        try decodeIfPresent(type, forKey: key) ?? OKXList(wrappedValue: [])
    }

    public func decode(_ type: OKXText.Type, forKey key: Key) throws -> OKXText {
        try decodeIfPresent(type, forKey: key) ?? OKXText(wrappedValue: "")
    }

    public func decode(_ type: OKXFlag.Type, forKey key: Key) throws -> OKXFlag {
        try decodeIfPresent(type, forKey: key) ?? OKXFlag(wrappedValue: false)
    }
}
