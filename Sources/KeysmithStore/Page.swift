import KeysmithCore

/// One page of a listing, with OKX's cursors: `after` asks for records older than an id, `before` for newer ones
/// (the `limit` closest to it); `begin` / `end` bound the time. Either way the page is newest first.
public struct Page: Sendable, Hashable {
    /// Records with a smaller id (older).
    public var after: Int64?
    /// Records with a larger id (newer).
    public var before: Int64?
    /// At or after (milliseconds).
    public var begin: Int64?
    /// At or before (milliseconds).
    public var end: Int64?
    public var limit: Int

    public init(after: Int64? = nil, before: Int64? = nil, begin: Int64? = nil, end: Int64? = nil, limit: Int = 100) {
        self.after = after
        self.before = before
        self.begin = begin
        self.end = end
        self.limit = limit
    }

    /// Newest first, except that a page asked for with only `before` takes the records just newer than it (read
    /// oldest first, then reversed).
    package var readsOldestFirst: Bool { before != nil && after == nil }
}
