import KeysmithCore
import KeysmithStore

extension Leverage {
    /// The insurance fund's positions hold no margin (the fund's own balance answers for them).
    static let unmargined = Leverage(hundredths: .max)!
}

extension MatchingEngine {
    /// Whether any position is open: from memory once the engine has loaded, else from the store (so a watcher
    /// does not load the books of a server nobody trades on).
    public func anyOpenPosition() async throws(OKXError) -> Bool {
        if isLoaded { return positions.values.contains { $0.isOpen } }
        let store = self.store
        return try await mapped { @Sendable () async throws(StoreError) in try await store.anyOpenPosition() }
    }

    /// Liquidates every position of `inst` whose margin and profit at `mark` no longer exceed its maintenance
    /// margin: it closes at its bankruptcy price (its loss takes its whole margin; what rounding leaves goes to the
    /// insurance fund), the ``LedgerEntry/insurance`` fund takes over the contracts at that price (so every contract
    /// still has its other side), the position's closing orders are cancelled, and each liquidation is audited with
    /// a `position.liquidated` alert. The account's balance is never touched: it loses what the position held.
    /// Returns the positions liquidated.
    public func liquidate(_ inst: Instrument, mark: Amount, origin: AuditOrigin) async throws(OKXError) -> [ClosedPosition] {
        try await exclusively { () async throws(OKXError) in try await liquidateHoldingTheEngine(inst, mark: mark, origin: origin) }
    }

    private func liquidateHoldingTheEngine(_ inst: Instrument, mark: Amount, origin: AuditOrigin) async throws(OKXError)
        -> [ClosedPosition]
    {
        try await load()
        guard inst.type == .swap, let mark = mark.rescaled(to: inst.tickSize.scale), mark.units > 0 else { return [] }
        let now = clock.milliseconds
        let insuranceKey = PositionKey(account: LedgerEntry.insurance, instrument: inst.id, marginMode: .cross, side: .net)
        var updated: [PositionKey: Position] = [:]
        var closed: [ClosedPosition] = [], fundClosed: [ClosedPosition] = [], details: [[String: String]] = [], cancelled: [Order] = []
        var insuranceDelta: Int64 = 0, clearingDelta: Int64 = 0
        var entries: [LedgerEntry] = []
        let held = positions.values.filter { $0.key.instrument == inst.id && $0.isOpen && $0.key.account != LedgerEntry.insurance }
        for position in held.sorted(by: { $0.id < $1.id }) {
            guard let profit = position.profit(at: mark.units, instrument: inst),
                let notional = inst.settlementUnits(Int128(mark.units) * Int128(position.magnitude), roundingUp: false)
            else { continue }
            let maintenance = PositionTiers.maintenance(of: inst, size: position.magnitude, notional: notional)
            guard Int128(position.margin) + Int128(profit) <= Int128(maintenance),
                let bankruptcy = position.bankruptcyPrice(instrument: inst)
            else { continue }
            let closing: OrderSide = position.direction > 0 ? .sell : .buy
            var liquidated = position
            var insurance = updated[insuranceKey] ?? positions[insuranceKey] ?? Position(key: insuranceKey, leverage: .unmargined, at: now)
            guard
                let change = liquidated.apply(
                    closing, price: bankruptcy, size: position.magnitude, instrument: inst, leverage: position.leverage,
                    trade: position.lastTrade, at: now),
                let taken = insurance.apply(
                    closing.opposite, price: bankruptcy, size: position.magnitude, instrument: inst, leverage: .unmargined,
                    trade: position.lastTrade, at: now),
                var record = change.closedPosition
            else { continue }
            // The margin left at the bankruptcy price (rounding) goes to the fund as the liquidation's fee: the
            // account's record then shows all it lost (its realised loss and fees come to its whole margin).
            guard let fee = Int64(exactly: Int128(record.position.fee) + Int128(change.payout)) else { continue }
            record.position.fee = fee
            // The margin left at the bankruptcy price (≥ 0, rounding) and what the fund's own position realised.
            let toFund = Int128(change.payout) + Int128(taken.payout) - Int128(taken.addedMargin)
            guard let fund = Int64(exactly: Int128(insuranceDelta) + toFund), let clearing = Int64(exactly: Int128(clearingDelta) - toFund)
            else { continue }
            insuranceDelta = fund
            clearingDelta = clearing
            for order in swapOrders(position.key, side: closing, closes: true) where order.closes(position.key, side: closing) {
                var canceled = order
                if order.frozen > 0 {
                    entries.append(
                        LedgerEntry(account: order.account, kind: .trading, currency: inst.quote, availableDelta: order.frozen, frozenDelta: -order.frozen))
                }
                canceled.frozen = 0
                canceled.state = .canceled
                canceled.updatedAt = now
                cancelled.append(canceled)
            }
            updated[position.key] = liquidated
            updated[insuranceKey] = insurance
            closed.append(record)
            if let netted = taken.closedPosition { fundClosed.append(netted) }
            details.append([
                "instId": inst.id, "posId": String(position.id), "posSide": position.key.side.rawValue,
                "mgnMode": position.key.marginMode.rawValue, "pos": Amount(units: position.size, scale: inst.lotSize.scale).text,
                "markPx": mark.text, "bkPx": Amount(units: bankruptcy, scale: inst.tickSize.scale).text,
                "margin": Amount(units: position.margin, scale: inst.quoteScale).text,
            ])
        }
        guard !closed.isEmpty else { return [] }
        if insuranceDelta != 0 {
            entries.append(LedgerEntry(account: LedgerEntry.insurance, kind: .trading, currency: inst.quote, availableDelta: insuranceDelta))
            entries.append(LedgerEntry(account: LedgerEntry.clearing, kind: .trading, currency: inst.quote, availableDelta: clearingDelta))
        }
        var liquidation = Liquidation(
            instrument: inst.id, positions: updated.values.sorted { $0.id < $1.id }, closed: closed, details: details,
            movement: entries.isEmpty ? nil : LedgerMovement(entries: entries), cancelled: cancelled)
        liquidation.fundClosed = fundClosed
        let audit = origin.record(at: now, account: "", target: inst.id, alert: .positionLiquidated)
        let store = self.store
        let saved: [Position]
        do {
            saved = try await store.liquidate(liquidation, audit: audit)
        } catch {
            throw error.okxError
        }
        for position in saved { positions[position.key] = position }
        for order in cancelled {
            if let price = order.price { books[inst.id]?.remove(id: order.id, side: order.side, price: price) }
            setOpen(order.id, nil)
        }
        publish(instrument: inst.id, orders: cancelled, fills: [], positions: saved, movements: liquidation.movement.map { [$0] } ?? [],
            cause: "liquidation")
        return closed
    }
}
