import KeysmithStore
import Logging
import ServiceLifecycle

/// Refreshes the key cache as soon as a shared database announces a key change (PostgreSQL `LISTEN/NOTIFY`), on
/// top of ``KeyCacheLoader``'s periodic poll, which stays the reconciliation: a notification lost while the listening
/// connection was down is caught up by the refresh made on every (re)subscription and by the next poll. While the
/// database cannot be read the cache is not confirmed fresh, and authenticated requests get 50001 once the
/// freshness bound has passed (see `ServerConfiguration.cacheFreshnessBound`).
package struct KeyChangeListener: Service {
    package let feed: any KeyChangeFeed
    package let loader: KeyCacheLoader
    package let logger: Logger
    package var retryDelay: Duration = .milliseconds(200)

    package func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown {
                    try await feed.followChanges { _ in
                        do {
                            try await loader.refresh()
                        } catch {
                            logger.warning("key cache refresh after a change notification failed", metadata: ["error": "\(error)"])
                        }
                    }
                }
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                logger.warning("key change notifications interrupted; reconnecting", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: retryDelay)
        }
    }
}
