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
                guard !value.isNaN else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "number out of range: \"\(text)\"")
                }
                wrappedValue = value
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a number: \"\(text)\"")
            }
        } else {
            // Decimal(Double) traps on an infinity and gives NaN beyond Decimal's range: both are decoding errors.
            let number = try container.decode(Double.self)
            let value = number.isFinite ? Decimal(number) : Decimal.nan
            guard !value.isNaN else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "number out of range: \(number)")
            }
            wrappedValue = value
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
///
/// Only times from 1970 to the end of year 9999 (``range``) decode; anything else (`"9223372036854775807"`, a
/// negative time) is a decoding error, so no server value reaches date or offset arithmetic out of range.
@propertyWrapper
public struct OKXMilliseconds: Codable, Sendable, Hashable {
    public var wrappedValue: Date?

    /// The times accepted, in Unix milliseconds: 1970-01-01T00:00:00.000Z through 9999-12-31T23:59:59.999Z.
    public static let range: ClosedRange<Int64> = 0...253_402_300_799_999

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
        } else if let number = try? container.decode(Int64.self) {
            milliseconds = number
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not milliseconds")
        }
        if let milliseconds, !Self.range.contains(milliseconds) {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "time out of range: \(milliseconds)")
        }
        wrappedValue = milliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        guard let date = wrappedValue else { return try container.encode("") }
        guard let milliseconds = Self.milliseconds(of: date) else {
            throw EncodingError.invalidValue(date, .init(codingPath: encoder.codingPath, debugDescription: "time out of range"))
        }
        try container.encode(String(milliseconds))
    }

    /// `date` in whole Unix milliseconds, or nil when that is no `Int64` (an infinite or far-away date).
    static func milliseconds(of date: Date) -> Int64? {
        Int64(exactly: (date.timeIntervalSince1970 * 1000).rounded())
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
