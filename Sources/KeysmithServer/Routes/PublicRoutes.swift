import Hummingbird
import KeysmithCore

/// Public market-data and system endpoints: no authentication.
struct PublicRoutes {
    let clock: any WallClock

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("public/time") { _, _ in
            OKXResponse([ServerTime(ts: String(clock.milliseconds))])
        }
    }

    struct ServerTime: Encodable, Sendable {
        let ts: String
    }
}
