import KeysmithCore

/// The messages of the four refusals users ask about most (50102 clock, 50113 signature, 50101 environment, 50110
/// address): OKX's code and first sentence, then what the server saw and how to fix it. They name only what the
/// request itself sent and the server's time — never a secret, a passphrase or the signature the server expected.
enum AuthenticationHelp {
    /// 50102: how far the caller's clock is from the server's, and which is ahead.
    static func skew(signedAt signed: Int64, now: Int64) -> String {
        let (difference, overflow) = signed.subtractingReportingOverflow(now)
        let skew = overflow ? "more than 292 million years" : "\(difference.magnitude) ms"
        let side = signed > now ? "ahead of" : "behind"
        return "Timestamp request expired. The request was signed at \(signed) ms and the server's time is \(now) ms: your clock is"
            + " \(skew) \(side) the server's (30 s are allowed). Correct it from GET /api/v5/public/time or any answer's x-server-time header."
    }

    /// 50113: the prehash layout the server verified, with the method and path it saw.
    static func prehash(of request: SignedRequest, timestamp: String, algorithm: SignatureAlgorithm) -> String {
        let scheme = algorithm == .ed25519 ? "an Ed25519 signature" : "base64(HMAC-SHA256(secret, prehash))"
        return "Invalid signature. The server verified \(scheme) over prehash = timestamp + method + requestPath + body, which it read as"
            + " \"\(shortened(timestamp, 40))\" + \"\(request.method)\" + \"\(shortened(request.target, 200))\" + \(request.body.readableBytes) body bytes."
            + " Sign exactly these: the OK-ACCESS-TIMESTAMP header's text, the method in upper case, the path with its query string as sent,"
            + " and the body's bytes as sent (none for GET)."
    }

    /// 50101: which environment the key belongs to and the header value that selects it.
    static func environment(of key: APIKey) -> String {
        switch key.environment {
        case .demo:
            "APIKey does not match current environment. This is a demo-trading key: send the header x-simulated-trading: 1."
        case .live:
            "APIKey does not match current environment. This is a live-trading key: send no x-simulated-trading header (or x-simulated-trading: 0)."
        }
    }

    /// 50110: the address the server saw, and where it came from.
    static func address(of request: SignedRequest) -> String {
        let ip = request.clientIP?.description ?? "unknown"
        let source =
            if request.forwardedBy != nil {
                "the address X-Forwarded-For named, forwarded by a trusted proxy"
            } else {
                "the connection's own address; no trusted proxy forwarded it"
            }
        return "Your IP \(ip) is not included in your API key's IP whitelist (\(source)). Add it to the key's IP list or call from an allowed address."
    }

    private static func shortened(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }
}
