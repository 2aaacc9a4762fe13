import KeysmithCore
import KeysmithStore

/// Runs a store call and turns its ``StoreError`` into the OKX error the caller answers with.
package func mapped<T>(_ body: () async throws(StoreError) -> T) async throws(OKXError) -> T {
    do {
        return try await body()
    } catch {
        throw error.okxError
    }
}

extension StoreError {
    /// The one place store errors become OKX errors: by what the error is about where the store says
    /// (``StoreError/Subject``), else by its kind. A database that fails is 50001-style `systemError`, whose message
    /// never carries the store's detail.
    package var okxError: OKXError {
        switch subject {
        case .keyLabel: return .duplicateLabel
        case .keysPerAccount: return .tooManyKeys
        case .activeKey: return .apiKeyDoesNotExist
        case .subAccountName, .masterAccount: return OKXError.alreadyExists("subAcct").with(message: detail)
        case .alertSink: return OKXError.alreadyExists("sink").with(message: detail)
        case .app where kind == .duplicate: return OKXError.alreadyExists("app").with(message: detail)
        case .app, .linkedKeys: return OKXError.parameterError("app").with(message: "Parameter app error: \(detail)")
        case .consoleUser: return OKXError.alreadyExists("email").with(message: detail)
        case .clientOrderID: return .clientOrderIDExists
        case .fundingSettlement: return OKXError.alreadyExists("fundingTime").with(message: detail)
        case .openOrder: return .cancelFailed
        case .currencyScale: return OKXError.parameterError("ccy").with(message: detail)
        case .instrumentScale: return OKXError.parameterError("instId").with(message: detail)
        case .pendingWithdrawal: return OKXError.withdrawalOperationNotAllowed.with(message: detail)
        case .dailyWithdrawal: return .withdrawalAboveDailyLimit
        case .maintenanceWindow: return OKXError.parameterError("id").with(message: detail)
        case .feeLevel: return OKXError.parameterError("level").with(message: detail)
        case .openSwapOrders: return .closePositionsOrOrdersFirst
        case .openCrossOrders: return .cancelCrossOrdersBeforeLeverage
        case .openIsolatedOrders: return .cancelIsolatedOrdersBeforeLeverage
        case nil: break
        }
        switch kind {
        // Every duplicate, missing row or limit a store reports names its subject; one without (a unique index the
        // store did not expect to hit) is a fault, not the caller's: 50001, with no detail.
        case .duplicate, .limitReached, .notFound: return .systemError
        case .insufficientFunds: return .insufficientBalance
        case .outOfRange: return OKXError.parameterError("amt").with(message: "Parameter amt error: \(detail)")
        case .invalidMasterKey, .masterKeyMismatch, .sealing, .database, .file: return .systemError
        }
    }
}
