import ServiceLifecycle

/// Runs `body` now and then every `interval` until the task is cancelled or the service group shuts down: the loop
/// of the lifecycle services that poll.
func repeatUntilShutdown(every interval: Duration, _ body: @escaping @Sendable () async -> Void) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            await body()
            try? await Task.sleep(for: interval)
        }
    }
}
