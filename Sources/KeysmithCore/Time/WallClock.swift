import Foundation

/// Wall-clock time in milliseconds since the Unix epoch. Injected everywhere time matters so that tests use a
/// fixed clock instead of sleeping.
public protocol WallClock: Sendable {
    var milliseconds: Int64 { get }
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    public init() {}

    public var milliseconds: Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
