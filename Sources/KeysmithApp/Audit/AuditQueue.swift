import KeysmithCore
import KeysmithStore
import Synchronization

/// The bounded in-memory queue between request handling and the audit writer. Adding is a short locked append;
/// when the queue is full, adders wait until the writer has drained it (backpressure) — an event is never dropped.
///
/// ```swift
/// await queue.add(record)                  // from the request path
/// let batch = queue.take(maximum: 5_000)  // from the writer
/// ```
public final class AuditQueue: Sendable {
    private struct State: ~Copyable {
        package var records: [AuditRecord] = []
        package var firstUses: [KeyAddressUse] = []
        package var waiters: [CheckedContinuation<Void, Never>] = []
        /// Batches taken by the writer and not yet written (or put back).
        package var inFlight = 0
        package var drainWaiters: [CheckedContinuation<Void, Never>] = []

        package var isDrained: Bool { records.isEmpty && firstUses.isEmpty && inFlight == 0 }
    }

    public let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int = 100_000) {
        self.capacity = max(1, capacity)
    }

    /// Queues a record (and a key's use from an address, for new-IP alerts); waits while the queue is full.
    public func add(_ record: AuditRecord, firstUse: KeyAddressUse? = nil) async {
        while !tryAdd(record, firstUse: firstUse) {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let hasRoom = state.withLock { state in
                    if state.records.count < capacity { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if hasRoom { continuation.resume() }
            }
        }
    }

    private func tryAdd(_ record: AuditRecord, firstUse: KeyAddressUse?) -> Bool {
        state.withLock { state in
            guard state.records.count < capacity else { return false }
            state.records.append(record)
            if let firstUse { state.firstUses.append(firstUse) }
            return true
        }
    }

    /// Takes up to `maximum` of the oldest records (and every pending first use), waking adders that waited for room.
    /// A batch taken counts as in flight until the writer calls ``finished()``.
    public func take(maximum: Int) -> (records: [AuditRecord], firstUses: [KeyAddressUse]) {
        let (batch, waiters) = state.withLock { state in
            let count = min(maximum, state.records.count)
            let records = Array(state.records.prefix(count))
            state.records.removeFirst(count)
            let uses = state.firstUses
            state.firstUses = []
            if !records.isEmpty || !uses.isEmpty { state.inFlight += 1 }
            let waiters = state.waiters
            state.waiters = []
            return ((records, uses), waiters)
        }
        for waiter in waiters { waiter.resume() }
        return batch
    }

    /// Puts a batch that failed to write back at the front, in order.
    package func putBack(_ records: [AuditRecord], firstUses: [KeyAddressUse]) {
        state.withLock { state in
            state.records.insert(contentsOf: records, at: 0)
            state.firstUses.insert(contentsOf: firstUses, at: 0)
        }
    }

    /// The writer is done with a batch it took: written, or put back for the next round.
    package func finished() {
        let waiters = state.withLock { state in
            state.inFlight = max(0, state.inFlight - 1)
            guard state.isDrained else { return [CheckedContinuation<Void, Never>]() }
            defer { state.drainWaiters = [] }
            return state.drainWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once every record queued so far is in the audit chain: the queue is empty and no batch is being
    /// written. (Tests await the writer with it instead of sleeping; it waits as long as the store refuses writes.)
    public func drained() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.isDrained { return true }
                state.drainWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    public var count: Int { state.withLock { $0.records.count } }
}
