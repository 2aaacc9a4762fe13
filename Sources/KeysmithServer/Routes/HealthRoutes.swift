import Hummingbird
import KeysmithApp
import KeysmithStore

/// Load-balancer probes, outside the OKX API: `/health` answers while the process serves HTTP (liveness);
/// `/ready` answers 200 only when the database is reachable and the key cache is confirmed fresh, else 503 with
/// the failing check named.
struct HealthRoutes {
    let cache: KeyCache
    let postgres: PostgresDatabase?
    let freshnessBound: Duration

    func register(on router: Router<AppRequestContext>) {
        router.get("health") { _, _ in
            Self.response(.ok, #"{"status":"ok"}"#)
        }
        router.get("ready") { _, _ in
            var failing: [String] = []
            if let postgres, await !postgres.isReachable(timeout: freshnessBound) { failing.append("database") }
            if postgres != nil, !cache.isFresh(within: freshnessBound) { failing.append("key-cache") }
            guard failing.isEmpty else {
                let names = failing.map { "\"\($0)\"" }.joined(separator: ",")
                return Self.response(.serviceUnavailable, #"{"status":"unavailable","failing":[\#(names)]}"#)
            }
            return Self.response(.ok, #"{"status":"ready"}"#)
        }
    }

    private static func response(_ status: HTTPResponse.Status, _ json: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }
}
