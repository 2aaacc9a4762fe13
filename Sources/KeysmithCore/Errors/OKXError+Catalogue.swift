// The OKX v5 error catalogue (okx-v5.md §2.2): code, message and HTTP status, in one place.
// Parameterised messages are functions; everything else is a constant.

extension OKXError {
    // MARK: - General

    public static let operationFailed = OKXError(code: "1", message: "Operation failed.", httpStatus: 200)
    public static let partiallySucceeded = OKXError(code: "2", message: "Bulk operation partially succeeded.", httpStatus: 200)
    public static let apiFrozen = OKXError(code: "50100", message: "API frozen, please contact customer service.", httpStatus: 400)
    public static let emptyBody = OKXError(code: "50000", message: "Body for POST request cannot be empty.", httpStatus: 400)
    public static let serviceUnavailable = OKXError(
        code: "50001", message: "Service temporarily unavailable. Please try again later.", httpStatus: 503)
    public static let jsonSyntax = OKXError(code: "50002", message: "JSON syntax error", httpStatus: 400)
    /// Keysmith answers unknown routes and methods with 50005 and HTTP 404 (OKX documents 410 for retired endpoints).
    public static let endpointNotFound = OKXError(
        code: "50005", message: "API endpoint is inactive or unavailable.", httpStatus: 404)
    public static let invalidContentType = OKXError(
        code: "50006", message: "Invalid Content-Type. Please use \"application/JSON\".", httpStatus: 400)
    public static let tooManyRequests = OKXError(code: "50011", message: "Too Many Requests", httpStatus: 429)
    /// 50011 for a client IP locked out after repeated authentication failures.
    public static let tooManyFailedAttempts = OKXError(
        code: "50011", message: "Too Many Requests: too many failed authentication attempts from this IP", httpStatus: 429)
    public static let systemError = OKXError(code: "50026", message: "System error. Try again later", httpStatus: 500)
    public static let noEndpointPermission = OKXError(
        code: "50030", message: "You don't have permission to use this API endpoint", httpStatus: 200)
    public static let keyMustBeBoundToIP = OKXError(
        code: "50035", message: "This endpoint requires that APIKey must be bound to IP", httpStatus: 403)
    public static let repeatedRequest = OKXError(code: "50042", message: "Repeated request", httpStatus: 200)
    public static let bodyTooLarge = OKXError(code: "50000", message: "Request body is too large.", httpStatus: 413)
    /// A request whose body ended before its declared length or could not be parsed as HTTP.
    public static let incompleteRequest = OKXError(
        code: "51000", message: "Parameter request error: the request body is incomplete or malformed.", httpStatus: 400)

    public static func parameterEmpty(_ name: String) -> OKXError {
        OKXError(code: "50014", message: "Parameter \(name) can not be empty.", httpStatus: 400, parameter: name)
    }

    public static func eitherParameterRequired(_ first: String, _ second: String) -> OKXError {
        OKXError(code: "50015", message: "Either parameter \(first) or \(second) is required", httpStatus: 400, parameter: first)
    }

    public static func alreadyExists(_ what: String) -> OKXError {
        OKXError(code: "50071", message: "\(what) already exists", httpStatus: 200, parameter: what)
    }

    // MARK: - Authentication (501xx)

    public static let environmentMismatch = OKXError(
        code: "50101", message: "APIKey does not match current environment.", httpStatus: 401)
    public static let timestampExpired = OKXError(code: "50102", message: "Timestamp request expired.", httpStatus: 401)
    public static let missingAccessKey = OKXError(
        code: "50103", message: "Request header \"OK-ACCESS-KEY\" cannot be empty.", httpStatus: 401)
    public static let missingPassphrase = OKXError(
        code: "50104", message: "Request header \"OK-ACCESS-PASSPHRASE\" cannot be empty.", httpStatus: 401)
    public static let wrongPassphrase = OKXError(
        code: "50105", message: "Request header \"OK-ACCESS-PASSPHRASE\" incorrect.", httpStatus: 401)
    public static let missingSignature = OKXError(
        code: "50106", message: "Request header \"OK-ACCESS-SIGN\" cannot be empty.", httpStatus: 401)
    public static let missingTimestamp = OKXError(
        code: "50107", message: "Request header \"OK-ACCESS-TIMESTAMP\" cannot be empty.", httpStatus: 401)
    public static let invalidAccessKey = OKXError(code: "50111", message: "Invalid OK-ACCESS-KEY.", httpStatus: 401)
    /// 50111 for a key that existed but whose expiry has passed: the message says so.
    public static let expiredAccessKey = OKXError(
        code: "50111", message: "Invalid OK-ACCESS-KEY. This API key has expired.", httpStatus: 401)
    public static let invalidTimestamp = OKXError(code: "50112", message: "Invalid OK-ACCESS-TIMESTAMP.", httpStatus: 401)
    public static let invalidSignature = OKXError(code: "50113", message: "Invalid signature.", httpStatus: 401)
    public static let invalidAuthorization = OKXError(code: "50114", message: "Invalid authorization.", httpStatus: 401)
    public static let invalidMethod = OKXError(code: "50115", message: "Invalid request method.", httpStatus: 405)
    public static let keyDoesNotExist = OKXError(code: "50119", message: "API key doesn't exist", httpStatus: 200)
    public static let keyLacksPermission = OKXError(
        code: "50120", message: "This API key doesn't have permission to use this function", httpStatus: 200)

    public static func ipNotAllowed(_ ip: String) -> OKXError {
        OKXError(code: "50110", message: "Your IP \(ip) is not included in your API key's IP whitelist.", httpStatus: 401)
    }

    // MARK: - Trade (51xxx)

    public static func parameterError(_ name: String) -> OKXError {
        OKXError(code: "51000", message: "Parameter \(name) error", httpStatus: 400, parameter: name)
    }

    public static let instrumentDoesNotExist = OKXError(
        code: "51001", message: "Instrument ID, Instrument ID code or Spread ID doesn't exist.", httpStatus: 200)
    public static let clientOrderIDExists = OKXError(code: "51016", message: "Client order ID already exists.", httpStatus: 200)
    public static let belowMinimumOrderSize = OKXError(
        code: "51020", message: "Your order should meet or exceed the minimum order amount.", httpStatus: 200)
    public static let notMultipleOfLotSize = OKXError(
        code: "51121", message: "Order quantity must be a multiple of the lot size.", httpStatus: 200)
    public static let cancelFailed = OKXError(
        code: "51400", message: "Order cancellation failed as the order has been filled, canceled or does not exist.", httpStatus: 200)
    public static let orderDoesNotExist = OKXError(code: "51603", message: "Order does not exist.", httpStatus: 200)

    // WebSocket (`/ws/v5/...`) events.
    public static let webSocketInvalidTimestamp = OKXError(code: "60004", message: "Invalid timestamp", httpStatus: 200)
    public static let webSocketInvalidKey = OKXError(code: "60005", message: "Invalid apiKey", httpStatus: 200)
    public static let webSocketTimestampExpired = OKXError(code: "60006", message: "Timestamp request expired", httpStatus: 200)
    public static let webSocketInvalidSign = OKXError(code: "60007", message: "Invalid sign", httpStatus: 200)
    public static let webSocketLoginFailed = OKXError(code: "60009", message: "Login failed.", httpStatus: 200)
    public static let webSocketPleaseLogIn = OKXError(code: "60011", message: "Please log in", httpStatus: 200)
    public static let webSocketInvalidRequest = OKXError(code: "60012", message: "Invalid request", httpStatus: 200)
    public static let webSocketInvalidArguments = OKXError(code: "60013", message: "Invalid args", httpStatus: 200)
    public static let webSocketTooFrequent = OKXError(code: "60014", message: "Requests too frequent", httpStatus: 200)
    public static let webSocketNoSuchChannel = OKXError(code: "60018", message: "The channel doesn't exist", httpStatus: 200)
    public static let webSocketWrongPassphrase = OKXError(code: "60024", message: "Wrong passphrase", httpStatus: 200)
    public static let webSocketKeyDoesNotExist = OKXError(code: "60032", message: "API key doesn't exist", httpStatus: 200)
    public static func webSocketInvalidOp(_ op: String) -> OKXError {
        OKXError(code: "60019", message: "Invalid op: \(op.prefix(64))", httpStatus: 200)
    }
    public static let webSocketWrongURL = OKXError(
        code: "60028", message: "The current operation is not supported by this URL. Please use the correct WebSocket URL for the operation.",
        httpStatus: 200)
    /// A trading request carried out after its `expTime`.
    public static let orderExpired = OKXError(code: "50037", message: "Order expired.", httpStatus: 200)
    /// A notice before the server closes a connection (a slow reader, a shutdown).
    public static let webSocketClosing = OKXError(
        code: "64008", message: "The connection will soon be closed for a service upgrade.", httpStatus: 200)

    // Amending an open order (`trade/amend-order`).
    /// Neither `newSz` nor `newPx` was sent.
    public static let amendNeedsSizeOrPrice = OKXError(code: "51500", message: "Either order price or amount is required.", httpStatus: 200)
    /// More orders in one `amend-batch-orders` than it takes.
    public static func tooManyAmendments(_ maximum: Int) -> OKXError {
        OKXError(code: "51501", message: "Maximum \(maximum) orders can be modified.", httpStatus: 200)
    }
    /// The amended order's hold (or what its new fills pay) exceeds the account's balance.
    public static func amendInsufficientBalance(_ currency: String) -> OKXError {
        OKXError(code: "51502", message: "Order modification failed for insufficient \(currency) balance or margin.", httpStatus: 200)
    }
    public static let amendOrderDoesNotExist = OKXError(
        code: "51503", message: "Order modification failed as the order does not exist.", httpStatus: 200)
    /// An order type that never rests (market, ioc, fok) cannot be amended.
    public static let amendUnavailableForType = OKXError(
        code: "51506", message: "Order modification unavailable for the order type.", httpStatus: 200)
    public static let amendOrderCanceled = OKXError(
        code: "51509", message: "Modification failed as the order has been canceled.", httpStatus: 200)
    public static let amendOrderFilled = OKXError(
        code: "51510", message: "Modification failed as the order has been completed.", httpStatus: 200)
    /// A post_only order amended to a price that would take.
    public static let amendPostOnlyWouldTake = OKXError(
        code: "51511", message: "Modification failed as the order price did not meet the requirement for Post Only.", httpStatus: 200)

    public static func insufficientOrderBalance(_ currency: String) -> OKXError {
        OKXError(code: "51008", message: "Order failed. Insufficient \(currency) balance in account", httpStatus: 200)
    }

    /// A SWAP order short of margin: what it holds (margin at its leverage and its fee) exceeds the account's USDT.
    public static func insufficientMargin(_ currency: String) -> OKXError {
        OKXError(code: "51008", message: "Order failed. Insufficient \(currency) margin in account", httpStatus: 200)
    }
    /// A SWAP order that would take its position (with the account's other orders opening it) beyond the largest
    /// tier its leverage allows.
    public static func positionAboveTier(leverage: String, maximum: String) -> OKXError {
        OKXError(
            code: "51004",
            message: "Order failed. Your leverage is \(leverage)x, and the position this order opens would exceed \(maximum) contracts, the largest this leverage allows. Reduce the order size or lower the leverage",
            httpStatus: 200)
    }
    /// A SWAP order priced beyond the limits around the mark price.
    public static func priceOutsideLimit(highest: String, lowest: String) -> OKXError {
        OKXError(
            code: "51006", message: "Order price is not within the price limit (max buy price: \(highest) min sell price: \(lowest))",
            httpStatus: 200)
    }
    /// A reduce-only order (or a closing order of a long/short leg) with no position to close on its side.
    public static let noPositionToReduce = OKXError(
        code: "51169", message: "Order placement failed because you don't have any positions in this direction for this contract.",
        httpStatus: 200)
    /// A reduce-only order in the direction of the position it would grow.
    public static let reduceOnlySameDirection = OKXError(
        code: "51170", message: "Order placement failed. A reduce-only order can't be the same direction as your existing positions.",
        httpStatus: 200)
    /// `close-position` on a position that does not exist.
    public static let positionDoesNotExist = OKXError(code: "51023", message: "Position does not exist.", httpStatus: 200)

    /// An instrument type the account's mode cannot trade (SWAP in spot mode, acctLv 1).
    public static let unsupportedAccountMode = OKXError(
        code: "51010", message: "You can't complete this request under your current account mode.", httpStatus: 200)

    // MARK: - Account settings (59xxx)

    public static let closePositionsOrOrdersFirst = OKXError(
        code: "59000", message: "Settings failed. Close any open positions or orders before modifying settings.", httpStatus: 200)
    public static let cancelIsolatedOrdersBeforeLeverage = OKXError(
        code: "59101",
        message: "Leverage can't be modified. Please cancel all pending isolated margin orders before adjusting the leverage.",
        httpStatus: 200)
    public static func leverageAboveMaximum(_ maximum: Int) -> OKXError {
        OKXError(
            code: "59102", message: "Leverage exceeds the maximum limit (\(maximum)x). Please lower the leverage.", httpStatus: 200,
            parameter: "lever")
    }
    public static let leverageBelowMinimum = OKXError(
        code: "59105", message: "Leverage can't be less than 1. Please increase the leverage.", httpStatus: 400, parameter: "lever")
    public static let cancelCrossOrdersBeforeLeverage = OKXError(
        code: "59107",
        message: "Leverage can't be modified. Please cancel all pending cross-margin orders before adjusting the leverage.",
        httpStatus: 200)

    // MARK: - Funding (58xxx)

    public static let accountBlocked = OKXError(code: "58004", message: "Account blocked.", httpStatus: 200)
    public static let transferAmountNotPositive = OKXError(
        code: "58114", message: "Transfer amount must be greater than 0", httpStatus: 400)
    public static let subAccountDoesNotExist = OKXError(code: "58115", message: "Sub-account does not exist.", httpStatus: 200)
    public static let transferExceedsAvailable = OKXError(
        code: "58116", message: "Transfer exceeds the available amount.", httpStatus: 200)
    public static let sameFromAndTo = OKXError(
        code: "58123", message: "The From parameter cannot be the same as the To parameter.", httpStatus: 200)
    public static let masterKeyTransferType = OKXError(
        code: "58127",
        message: "Main account API key does not support current transfer 'type' parameter. Please refer to the API documentation.",
        httpStatus: 200)
    public static let subKeyTransferType = OKXError(
        code: "58128",
        message: "Sub-account API key does not support current transfer 'type' parameter. Please refer to the API documentation.",
        httpStatus: 200)
    public static let insufficientBalance = OKXError(code: "58350", message: "Insufficient balance.", httpStatus: 200)
    public static let withdrawalAboveDailyLimit = OKXError(
        code: "58201", message: "Withdrawal amount exceeds daily withdrawal limit.", httpStatus: 200)
    public static let addWithdrawalAddress = OKXError(code: "58203", message: "Please add a withdrawal address.", httpStatus: 200)
    public static let withdrawalAboveMaximum = OKXError(
        code: "58205", message: "Withdrawal amount exceeds the upper limit.", httpStatus: 200)
    public static let withdrawalBelowMinimum = OKXError(
        code: "58206", message: "Withdrawal amount is less than the lower limit.", httpStatus: 200)
    public static let withdrawalAddressNotVerified = OKXError(
        code: "58207", message: "Withdrawal address isn't on the verified address list.", httpStatus: 200)
    public static let subAccountCannotWithdraw = OKXError(
        code: "58209", message: "Sub-accounts don't support withdrawals or deposits. Please use your main account instead",
        httpStatus: 200)
    public static let withdrawalDoesNotExist = OKXError(code: "58215", message: "Withdrawal ID does not exist.", httpStatus: 200)
    public static let withdrawalOperationNotAllowed = OKXError(code: "58216", message: "Operation not allowed.", httpStatus: 200)

    public static func withdrawalNotSupported(_ currency: String, _ chain: String) -> OKXError {
        OKXError(
            code: "58200", message: "Withdrawal from \(currency) to \(chain) is currently not supported for this currency.", httpStatus: 200)
    }

    public static func noTransferOutPermission(_ name: String) -> OKXError {
        OKXError(code: "58119", message: "\(name) Sub-account has no permission to transfer out, please set first.", httpStatus: 200)
    }

    public static func parameterMismatch(_ name: String) -> OKXError {
        OKXError(code: "58129", message: "\(name) is incorrect or \(name) does not match with 'type'", httpStatus: 200, parameter: name)
    }

    // MARK: - Sub-accounts and API keys (59xxx)

    public static let masterAccountOnly = OKXError(
        code: "59500", message: "Only the APIKey of the main account has permission", httpStatus: 200)
    public static let tooManyKeys = OKXError(
        code: "59501", message: "Only 50 APIKeys can be created per account", httpStatus: 200, parameter: "subAcct")
    public static let duplicateLabel = OKXError(
        code: "59502", message: "Note name cannot be duplicate with the currently created APIKey note name", httpStatus: 200,
        parameter: "label")
    public static let tooManyIPs = OKXError(
        code: "59503", message: "Each APIKey can bind up to 20 IP addresses", httpStatus: 200, parameter: "ip")
    public static let passphraseFormat = OKXError(
        code: "59505", message: "The passphrase format is incorrect", httpStatus: 200, parameter: "passphrase")
    public static let apiKeyDoesNotExist = OKXError(code: "59506", message: "APIKey does not exist", httpStatus: 200)

    public static let transferBetweenSameSubAccount = OKXError(
        code: "59507", message: "The two accounts involved in a transfer must be two different sub accounts under the same parent account",
        httpStatus: 200)

    public static func subAccountSuspended(_ name: String) -> OKXError {
        OKXError(code: "59508", message: "The sub account of \(name) is suspended", httpStatus: 200)
    }
}
