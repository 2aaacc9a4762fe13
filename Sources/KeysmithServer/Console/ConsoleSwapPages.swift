import Foundation
import HTTPTypes
import Hummingbird
import KeysmithApp
import KeysmithCore

/// The perpetual swaps: each one's contract terms, mark price and index, and the operator's mark-price pin.
struct ConsoleSwapPages: ConsoleController {
    let shell: ConsoleShell
    let engine: MatchingEngine
    let marks: MarkPriceService

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("swaps", use: guarded { _, context in try await swapsPage(context) })
        group.post("swaps/:inst/mark", use: guarded { request, context in
            try await pin(request, context, instrument: context.parameters.get("inst") ?? "")
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
            rows.append(row)
        }
        return page("swaps", ["title": "Perpetual swaps", "swaps": rows], context, user: user, status: status)
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
