/// An OKX v5 error: the `code` and `msg` of the response envelope and the HTTP status that goes with them.
///
/// This file and ``OKXError+Catalogue.swift`` are the one place where Keysmith maps failures to OKX codes and
/// HTTP statuses. A message never contains a secret, a passphrase, a signature or a request body.
///
/// ```swift
/// throw OKXError.invalidSignature            // {"code":"50113","msg":"Invalid signature.","data":[]}, HTTP 401
/// throw OKXError.parameterEmpty("subAcct")   // {"code":"50014","msg":"Parameter subAcct can not be empty.",...}, HTTP 400
/// ```
public struct OKXError: Error, Sendable, Hashable {
    /// The OKX code, a string of digits (`"50113"`).
    public let code: String
    /// The human-readable message sent as `msg`.
    public let message: String
    /// The HTTP status OKX answers with for this code.
    public let httpStatus: Int
    /// For rate limits: when to retry, sent as `Retry-After` (whole seconds, rounded up).
    public var retryAfterMilliseconds: Int64?
    /// The request parameter the error is about, where there is one (`label`, `passphrase`, `perm`…): never sent
    /// on the wire, but a form (the console) shows the error next to that field.
    public var parameter: String?

    public init(code: String, message: String, httpStatus: Int, retryAfterMilliseconds: Int64? = nil, parameter: String? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.parameter = parameter
    }

    /// The same code and status with a more specific message.
    public func with(message: String) -> OKXError {
        OKXError(code: code, message: message, httpStatus: httpStatus, retryAfterMilliseconds: retryAfterMilliseconds, parameter: parameter)
    }

    /// The same error with a retry hint.
    public func retrying(after milliseconds: Int64) -> OKXError {
        var error = self
        error.retryAfterMilliseconds = milliseconds
        return error
    }
}

extension OKXError: CustomStringConvertible {
    public var description: String { "\(message) (OKX code \(code))" }
}
