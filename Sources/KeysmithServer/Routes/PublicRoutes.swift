import Hummingbird
import KeysmithCore

/// Public market-data and system endpoints: no authentication.
struct PublicRoutes {
    let clock: any WallClock

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("public/time") { _, _ in
            // A fixed shape with only digits inside: filled in, not encoded.
            OKXBody(ByteBuffer(string: #"{"code":"0","msg":"","data":[{"ts":"\#(clock.milliseconds)"}]}"#))
        }
    }
}
