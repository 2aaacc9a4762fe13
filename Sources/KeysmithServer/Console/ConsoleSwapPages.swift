import Foundation
import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore

/// The perpetual swaps: each one's contract terms, mark price and index, the operator's mark-price pin, the
/// current funding rate with a button to settle it now, and every open position by sub-account valued at the mark.
struct ConsoleSwapPages: ConsoleController {
    let shell: ConsoleShell
    let engine: MatchingEngine
    let marks: MarkPriceService
    let funding: FundingService
    let accounts: AccountService
    let clock: any WallClock

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("swaps", use: guarded { _, context in try await swapsPage(context) })
        group.post("swaps/:inst/mark", use: guarded { request, context in
            try await pin(request, context, instrument: context.parameters.get("inst") ?? "")
        })
        group.post("swaps/:inst/funding", use: guarded { request, context in
            try await settle(request, context, instrument: context.parameters.get("inst") ?? "")
        })
    }

    func swapsPage(_ context: AppRequestContext, errors: [String: String] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let user = try await requireUser(context)
        var rows: [[String: Any]] = []
        for swap in try await engine.allInstruments() where swap.type == .swap {
            var row: [String: Any] = [:]
            row["id"] = swap.id
            row["ctVal"] = "\(swap.contract?.value.text ?? "") \(swap.base)"
            row["tick"] = swap.tickSize.text
            row["lever"] = String(swap.contract?.maximumLeverage ?? 0)
            row["mark"] = try await marks.mark(of: swap)?.text ?? "—"
            row["index"] = try await marks.index(of: swap)?.text ?? "—"
            row["pinned"] = marks.pinned[swap.id] != nil
            row["error"] = errors[swap.id] ?? ""
            let quote = try await funding.quote(swap)
            row["fundingRate"] = quote.rate.text
            row["fundingTime"] = ConsoleViews.time(quote.fundingTime)
            row["lastFunding"] = quote.lastSettled.map { "\($0.rate.text) at \(ConsoleViews.time($0.time))" } ?? "—"
            rows.append(row)
        }
        let (positions, total) = try await positionRows()
        var values: [String: Any] = ["title": "Perpetual swaps", "swaps": rows, "positions": positions]
        if total > positions.count { values["positionsShown"] = "The \(positions.count) largest of \(total) open positions." }
        return page("swaps", values, context, user: user, status: status)
    }

    /// The open positions, by sub-account name, valued at the mark as `account/positions` shows them: the
    /// ``positionRows`` largest (by contracts), and how many there are in all.
    private func positionRows() async throws -> (rows: [[String: Any]], total: Int) {
        var names: [String: String] = [LedgerEntry.insurance: "insurance fund"]
        for account in try await accounts.subAccounts() { names[account.uid] = account.name }
        var rows: [[String: Any]] = []
        let all = try await engine.openPositions(of: nil)
        var instruments: [String: (Instrument, Amount?)] = [:]
        for (position, pending) in all.sorted(by: { $0.position.magnitude > $1.position.magnitude }).prefix(Self.positionRows) {
            let id = position.key.instrument
            if instruments[id] == nil {
                let inst = try await engine.instrument(id)
                instruments[id] = (inst, try await marks.mark(of: inst).flatMap { $0.rescaled(to: inst.tickSize.scale) })
            }
            guard let (inst, mark) = instruments[id] else { continue }
            let item = PositionItem(position, pending: pending, instrument: inst, mark: mark, now: clock.milliseconds)
            let name = names[position.key.account] ?? position.key.account
            rows.append([
                "account": name, "instId": item.instId, "mgnMode": item.mgnMode, "posSide": item.posSide, "pos": item.pos,
                "avgPx": item.avgPx, "markPx": item.markPx.isEmpty ? "—" : item.markPx, "upl": item.upl, "margin": item.margin,
                "liqPx": item.liqPx.isEmpty ? "—" : item.liqPx, "lever": item.lever,
            ])
        }
        let sorted = rows.sorted {
            ($0["account"] as? String ?? "", $0["instId"] as? String ?? "") < ($1["account"] as? String ?? "", $1["instId"] as? String ?? "")
        }
        return (sorted, all.count)
    }

    /// How many positions the page lists at most.
    static let positionRows = 500

    /// How soon after a settlement of an instrument the page refuses another (a second click of the same button).
    static let settlementSpacing: Int64 = 10_000

    /// Settles the perpetual's funding now at the current rate and mark (as `keysmith funding settle`), audited as the
    /// operator.
    func settle(_ request: Request, _ context: AppRequestContext, instrument: String) async throws -> Response {
        let user = try await requireUser(context)
        _ = try await form(request, context)
        let swap = try await engine.instrument(instrument)
        let outcome: FundingOutcome
        // Funding charges every position each time: a second click of the button is not a second settlement.
        if let last = try await funding.quote(swap).lastSettled, last.method == "manual",
            clock.milliseconds - last.time < Self.settlementSpacing
        {
            return try await swapsPage(
                context, errors: [swap.id: "\(swap.id) was settled \((clock.milliseconds - last.time) / 1000) s ago: settle again in a few seconds."],
                status: .conflict)
        }
        do {
            outcome = try await funding.settleNow(swap, origin: origin(request, context, user))
        } catch {
            return try await swapsPage(context, errors: [swap.id: error.msg], status: .badRequest)
        }
        let settled = outcome.settlement
        flash(
            "\(swap.id) funding settled at a rate of \(settled.rate.text) and a mark of \(settled.mark.text): \(outcome.positions) positions.",
            context)
        return redirect("/console/swaps")
    }

    /// Pins the mark price (`px`), or releases the pin (`clear`).
    func pin(_ request: Request, _ context: AppRequestContext, instrument: String) async throws -> Response {
        let user = try await requireUser(context)
        let fields = try await form(request, context)
        let swap = try await engine.instrument(instrument)
        let price = fields["clear"] == nil ? (fields["px"] ?? "").trimmingCharacters(in: .whitespaces) : nil
        do {
            try await marks.pin(swap, at: price, origin: origin(request, context, user))
        } catch {
            return try await swapsPage(context, errors: [swap.id: error.msg], status: .badRequest)
        }
        flash(price.map { "\(swap.id) mark price pinned at \($0)." } ?? "\(swap.id) mark price follows the spot index.", context)
        return redirect("/console/swaps")
    }
}
