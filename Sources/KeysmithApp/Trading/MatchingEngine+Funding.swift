import KeysmithCore
import KeysmithStore

/// What one funding settlement moved.
public struct FundingOutcome: Sendable, Hashable {
    public var settlement: FundingSettlement
    /// Positions that paid or received.
    public var positions: Int
    /// Settlement units paid by the payers (from their available balance, then their margin) and received.
    public var paid: Int64
    public var received: Int64
}

extension MatchingEngine {
    /// Settles funding of `inst` at the settlement's rate: each open position's notional at the settlement's mark
    /// times the rate, paid by longs to shorts when the rate is positive (the other way when negative). A payer pays
    /// from its available balance, then from the position's margin; receivers share what the payers paid (in full
    /// whenever the payers' rounded-up shares cover their rounded-down ones), and what is left goes to the
    /// ``LedgerEntry/insurance`` fund, so the movement sums to zero and never draws on the fund. One transaction with the settlement record and its audit event; `.duplicate` (refused) when the
    /// instrument was settled at that time already.
    public func settleFunding(_ settlement: FundingSettlement, inst: Instrument, origin: AuditOrigin) async throws(OKXError)
        -> FundingOutcome
    {
        try await exclusively { () async throws(OKXError) in try await settleHoldingTheEngine(settlement, inst: inst, origin: origin) }
    }

    private func settleHoldingTheEngine(_ settlement: FundingSettlement, inst: Instrument, origin: AuditOrigin) async throws(OKXError)
        -> FundingOutcome
    {
        try await load()
        guard let mark = settlement.mark.rescaled(to: inst.tickSize.scale) else { throw OKXError.parameterError("markPx") }
        // The insurance fund's positions neither pay nor receive (it holds no margin and next to no balance).
        let held = positions.values.filter { $0.key.instrument == inst.id && $0.isOpen && $0.key.account != LedgerEntry.insurance }
            .sorted { $0.id < $1.id }
        var available: [String: Int64] = [:]
        var entries: [LedgerEntry] = [], changes: [FundingChange] = [], updated: [Position] = []
        var paid: Int64 = 0, received: Int64 = 0
        var owed: [(position: Position, amount: Int64)] = []
        for position in held where settlement.rate.units != 0 {
            guard let value = inst.settlementUnits(Int128(mark.units) * Int128(position.magnitude), roundingUp: false) else {
                throw Self.tooLarge
            }
            let pays = (settlement.rate.units > 0) == (position.direction > 0)
            let amount = Funding.payment(value: value, rate: settlement.rate, paying: pays)
            guard amount > 0 else { continue }
            guard pays else {
                owed.append((position, amount))
                continue
            }
            var moved = position
            let account = position.key.account
            if available[account] == nil {
                available[account] = try await ledger.tradingAvailable(account: account, currency: inst.quote)
            }
            let fromAvailable = min(available[account] ?? 0, amount)
            available[account] = (available[account] ?? 0) - fromAvailable
            let fromMargin = min(moved.margin, amount - fromAvailable)
            if fromAvailable > 0 {
                entries.append(LedgerEntry(account: account, kind: .trading, currency: inst.quote, availableDelta: -fromAvailable))
            }
            if fromMargin > 0 {
                entries.append(LedgerEntry(account: LedgerEntry.clearing, kind: .trading, currency: inst.quote, availableDelta: -fromMargin))
            }
            moved.margin -= fromMargin
            moved.fundingFee = moved.fundingFee.subtractingClamped(fromAvailable + fromMargin)
            moved.updatedAt = settlement.time
            paid = paid.addingClamped(fromAvailable + fromMargin)
            changes.append(FundingChange(position: position.id, marginTaken: fromMargin, funding: -(fromAvailable + fromMargin)))
            updated.append(moved)
        }
        // Receivers share what was paid: in full when it covers them (it does unless a payer could not pay, or
        // rounding of many positions leaves a unit short), else each in proportion, rounded down.
        let owedTotal = owed.reduce(Int128(0)) { $0 + Int128($1.amount) }
        for (position, full) in owed {
            let amount = owedTotal <= Int128(paid) ? full : Int64(Int128(full) * Int128(paid) / owedTotal)
            guard amount > 0 else { continue }
            var moved = position
            entries.append(LedgerEntry(account: position.key.account, kind: .trading, currency: inst.quote, availableDelta: amount))
            moved.fundingFee = moved.fundingFee.addingClamped(amount)
            moved.updatedAt = settlement.time
            received = received.addingClamped(amount)
            changes.append(FundingChange(position: position.id, marginTaken: 0, funding: amount))
            updated.append(moved)
        }
        let rest = paid.subtractingClamped(received)
        if rest != 0 {
            entries.append(LedgerEntry(account: LedgerEntry.insurance, kind: .trading, currency: inst.quote, availableDelta: rest))
        }
        let audit = origin.record(
            at: clock.milliseconds, account: "", target: inst.id,
            details: [
                "fundingTime": String(settlement.time), "fundingRate": settlement.rate.text, "markPx": settlement.mark.text,
                "method": settlement.method, "positions": String(changes.count),
            ])
        let store = self.store
        let movement = entries.isEmpty ? nil : LedgerMovement(entries: entries)
        let changed = changes
        do {
            try await store.settleFunding(settlement, movement: movement, positions: changed, audit: audit)
        } catch {
            throw error.okxError
        }
        for position in updated { positions[position.key] = position }
        publish(instrument: nil, orders: [], fills: [], positions: updated, movements: movement.map { [$0] } ?? [], cause: "funding_fee")
        return FundingOutcome(settlement: settlement, positions: changes.count, paid: paid, received: received)
    }
}
