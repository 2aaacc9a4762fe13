import KeysmithCore
import KeysmithStore
import Logging
import Synchronization

extension Logger {
    /// Logs a failed background step (a refresh, a flush, a delivery round) at error level — unless the task doing
    /// it is being cancelled, as every background task is at shutdown: then the step was cut short, not broken, and
    /// it is logged at debug (the writers flush once more on their way out).
    package func backgroundFailure(_ message: Logger.Message, error: any Error, metadata: Logger.Metadata = [:]) {
        let cutShort = Task.isCancelled || error is CancellationError
        log(level: cutShort ? .debug : .error, message, metadata: metadata.merging(["error": "\(error)"]) { _, new in new })
    }
}

/// The failures of a background step that runs again and again (every second, or until a batch is written): a
/// database that fails for a moment (a restart, a failover) is logged at warning — the step retries, `/ready`
/// reports the database and requests meanwhile get 50001 — and at error once it has failed for ``grace`` on end, or
/// at once for anything but a database failure.
package final class RetriedFailures: Sendable {
    private struct State {
        var since: ContinuousClock.Instant?
        var failedThisRound = false
    }

    private let state = Mutex(State())
    package let grace: Duration

    package init(grace: Duration = .seconds(30)) {
        self.grace = grace
    }

    /// Runs one round of the step: a round in which nothing failed ends the streak.
    package func round(_ body: () async -> Void) async {
        state.withLock { $0.failedThisRound = false }
        await body()
        state.withLock { if !$0.failedThisRound { $0.since = nil } }
    }

    /// The step succeeded: the streak ends.
    package func succeeded() {
        state.withLock { $0.since = nil }
    }

    package func failed(_ logger: Logger, _ message: Logger.Message, error: any Error, metadata: Logger.Metadata = [:]) {
        let now = ContinuousClock.now
        let since = state.withLock { state in
            state.failedThisRound = true
            if state.since == nil { state.since = now }
            return state.since ?? now
        }
        let cutShort = Task.isCancelled || error is CancellationError
        if !cutShort && Self.isDatabaseFailure(error) && now - since < grace {
            logger.warning(message, metadata: metadata.merging(["error": "\(error)", "retrying": "true"]) { _, new in new })
        } else {
            logger.backgroundFailure(message, error: error, metadata: metadata)
        }
    }

    /// A failure of the database itself (unreachable, restarting, a statement it did not answer), as the store and
    /// its OKX mapping report one.
    static func isDatabaseFailure(_ error: any Error) -> Bool {
        if let error = error as? StoreError { return error.kind == .database }
        if let error = error as? OKXError { return error.code == OKXError.systemError.code }
        return false
    }
}
