import Hummingbird
import KeysmithApp
import KeysmithCore

/// `GET /api/v5/system/status` (public): the operator's maintenance windows in OKX's shape. Without `state` it
/// lists the scheduled and ongoing ones, so a healthy server answers an empty list.
struct SystemRoutes {
    let maintenance: MaintenanceService
    let clock: any WallClock

    func register(on group: RouterGroup<AppRequestContext>) {
        group.get("system/status") { request, _ throws(OKXError) -> OKXResponse<MaintenanceItem> in
            let params = OKXParameters(query: request.uri.query)
            let now = clock.milliseconds
            let wanted: Set<MaintenanceWindow.State>
            if let text = params.optional("state") {
                // OKX's states; pre_open never happens here (a window reopens trading at once).
                guard text == "pre_open" || MaintenanceWindow.State(rawValue: text) != nil else { throw OKXError.parameterError("state") }
                wanted = MaintenanceWindow.State(rawValue: text).map { [$0] } ?? []
            } else {
                wanted = [.scheduled, .ongoing]
            }
            return OKXResponse(maintenance.current.filter { wanted.contains($0.state(at: now)) }.map { MaintenanceItem($0, now: now) })
        }
    }
}

/// A `system/status` item.
struct MaintenanceItem: Encodable, Sendable {
    let begin: String
    let end: String
    let env = "1"
    let href = ""
    let maintType = "1"
    let preOpenBegin = ""
    let scheDesc = ""
    let serviceType: String
    let state: String
    let system = "unified"
    let title: String

    init(_ window: MaintenanceWindow, now: Int64) {
        begin = String(window.begin)
        end = String(window.actualEnd)
        serviceType = window.serviceType
        state = window.state(at: now).rawValue
        title = window.title
    }
}
