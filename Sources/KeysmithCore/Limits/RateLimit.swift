/// A request-rate limit: `N` requests per period, or unlimited.
///
/// Text form (CLI flags, store): `unlimited`, `100/s`, `20/2s`, `5/500ms`, `600/m`.
///
/// ```swift
/// let limit = try RateLimit(parsing: "20/2s")   // .limit(requests: 20, periodMilliseconds: 2000)
/// limit.text                                    // "20/2s"
/// ```
public enum RateLimit: Sendable, Hashable {
    case unlimited
    case limit(requests: Int, periodMilliseconds: Int64)

    public init(parsing text: String) throws(OKXError) {
        let trimmed = text.lowercased().trimmingSpacesAndTabs()
        if trimmed == "unlimited" {
            self = .unlimited
            return
        }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let requests = Int(parts[0]), requests > 0, requests <= 1_000_000,
            let period = Self.milliseconds(parts[1]), period > 0, period <= 86_400_000
        else {
            throw OKXError.parameterError("rateLimit").with(
                message: "Parameter rateLimit error: use N/s, N/2s, N/500ms, N/m or unlimited (got '\(text)')")
        }
        self = .limit(requests: requests, periodMilliseconds: period)
    }

    /// The canonical text form.
    public var text: String {
        switch self {
        case .unlimited: return "unlimited"
        case .limit(let requests, let period):
            if period % 60_000 == 0 { return "\(requests)/\(period == 60_000 ? "" : String(period / 60_000))m" }
            if period % 1000 == 0 { return "\(requests)/\(period == 1000 ? "" : String(period / 1000))s" }
            return "\(requests)/\(period)ms"
        }
    }

    private static func milliseconds(_ unit: Substring) -> Int64? {
        for (suffix, scale) in [("ms", Int64(1)), ("s", 1000), ("m", 60_000)] where unit.hasSuffix(suffix) {
            let count = unit.dropLast(suffix.count)
            if count.isEmpty { return scale }
            guard let value = Int64(count), value > 0, value <= 86_400_000 else { return nil }
            return value * scale
        }
        return nil
    }
}

extension String {
    func trimmingSpacesAndTabs() -> String {
        String(Substring(self).trimmingSpaces())
    }
}
