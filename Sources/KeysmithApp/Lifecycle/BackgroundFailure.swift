import Logging

extension Logger {
    /// Logs a failed background step (a refresh, a flush, a delivery round) at error level — unless the task doing
    /// it is being cancelled, as every background task is at shutdown: then the step was cut short, not broken, and
    /// it is logged at debug (the writers flush once more on their way out).
    package func backgroundFailure(_ message: Logger.Message, error: any Error, metadata: Logger.Metadata = [:]) {
        let cutShort = Task.isCancelled || error is CancellationError
        log(level: cutShort ? .debug : .error, message, metadata: metadata.merging(["error": "\(error)"]) { _, new in new })
    }
}
