/// OKX's `tdMode` for derivatives: margin shared by the account's cross positions, or set aside per position.
public enum MarginMode: String, Sendable, Hashable, CaseIterable, Codable {
    case cross
    case isolated
}

/// OKX's `posSide`: `net` in one-way mode (the sign of the position is its direction), `long` or `short` legs in
/// long/short mode.
public enum PositionSide: String, Sendable, Hashable, CaseIterable, Codable {
    case net
    case long
    case short
}

/// How a SWAP order fits the account's modes, checked before anything else about it.
public enum SwapOrderRules {
    /// The margin mode and position side of a SWAP order by an account in `level` and `mode`:
    /// - spot mode (acctLv 1) cannot trade swaps: 51010;
    /// - `tdMode` is `cross` or `isolated` (51000 otherwise: `cash` is for spot);
    /// - one-way mode takes `posSide` `net` or none; long/short mode requires `long` or `short` on every order —
    ///   anything else is 51000 "Parameter posSide error", the failure users meet most.
    public static func check(level: AccountLevel, mode: PositionMode, tradeMode: String, positionSide: String?) throws(OKXError)
        -> (margin: MarginMode, side: PositionSide)
    {
        guard level != .spot else { throw OKXError.unsupportedAccountMode }
        guard let margin = MarginMode(rawValue: tradeMode) else {
            throw OKXError.parameterError("tdMode").with(message: "Parameter tdMode error: SWAP orders use cross or isolated")
        }
        return (margin, try side(positionSide, mode: mode))
    }

    /// The position side `text` names in `mode` (see ``check(level:mode:tradeMode:positionSide:)``); also the rule of
    /// `set-leverage` for isolated margin.
    public static func side(_ text: String?, mode: PositionMode) throws(OKXError) -> PositionSide {
        switch (mode, text.flatMap(PositionSide.init(rawValue:))) {
        case (.net, nil) where text == nil, (.net, .net?): return .net
        case (.longShort, .long?): return .long
        case (.longShort, .short?): return .short
        case (.net, _):
            throw OKXError.parameterError("posSide").with(message: "Parameter posSide error: this account is in net_mode (one-way): posSide is net or left out")
        case (.longShort, _):
            throw OKXError.parameterError("posSide").with(
                message: "Parameter posSide error: this account is in long_short_mode: posSide long or short is required")
        }
    }
}

/// A leverage setting: from 1× to the instrument's maximum in steps of 0.01 (OKX's `lever`, sent as text or a JSON
/// number such as `3.0`).
public struct Leverage: Sendable, Hashable, CustomStringConvertible, Codable {
    /// Hundredths.
    public let hundredths: Int64

    public static let scale = 2

    public init?(hundredths: Int64) {
        guard hundredths >= 100 else { return nil }
        self.hundredths = hundredths
    }

    /// Hundredths as a number; below 1× does not decode.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let leverage = Leverage(hundredths: try container.decode(Int64.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "leverage below 1")
        }
        self = leverage
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hundredths)
    }

    /// `text` as a leverage within 1…`maximum` (59105 below 1, 59102 above the maximum, 51000 for anything that is
    /// not a number with at most two decimals).
    public static func parse(_ text: String, maximum: Int) throws(OKXError) -> Leverage {
        // A JSON number such as 3.0 arrives with trailing zeros, which the parser accepts beyond the scale.
        guard let amount = Amount(parsing: text, scale: scale) else {
            throw OKXError.parameterError("lever").with(message: "Parameter lever error: a number from 1 with at most 2 decimals")
        }
        guard let leverage = Leverage(hundredths: amount.units) else { throw OKXError.leverageBelowMinimum }
        guard leverage.hundredths <= Int64(maximum) * 100 else { throw OKXError.leverageAboveMaximum(maximum) }
        return leverage
    }

    /// OKX's text: `"5"`, `"2.5"`.
    public var description: String { Amount(units: hundredths, scale: Self.scale).text }

    /// Keysmith's leverage for a position nobody set one for (OKX's default for a new account on its web site).
    public static let `default` = Leverage(hundredths: 1000)!
}

/// An account's leverage for one instrument and margin mode: cross margin has one per instrument (`side` nil),
/// isolated margin one per position side (`net`, or `long` and `short` in long/short mode).
public struct LeverageSetting: Sendable, Hashable {
    public var instrument: String
    public var marginMode: MarginMode
    public var side: PositionSide?
    public var leverage: Leverage

    public init(instrument: String, marginMode: MarginMode, side: PositionSide?, leverage: Leverage) {
        self.instrument = instrument
        self.marginMode = marginMode
        self.side = marginMode == .cross ? nil : side
        self.leverage = leverage
    }
}

/// The leverage settings of one account, with ``Leverage/default`` for what it never set.
public struct LeverageSettings: Sendable, Hashable {
    public var settings: [LeverageSetting]

    public init(_ settings: [LeverageSetting] = []) {
        self.settings = settings
    }

    /// The leverage of positions of `instrument` in `marginMode` on `side` (ignored for cross margin).
    public func leverage(instrument: String, marginMode: MarginMode, side: PositionSide) -> Leverage {
        let wanted: PositionSide? = marginMode == .cross ? nil : side
        return settings.first { $0.instrument == instrument && $0.marginMode == marginMode && $0.side == wanted }?.leverage
            ?? .default
    }
}
