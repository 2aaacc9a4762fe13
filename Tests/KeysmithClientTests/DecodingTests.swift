import Foundation
import KeysmithClient
import Testing

/// Recorded response bodies in the shapes `okx-v5.md` gives (OKX's documentation examples), decoded as the client
/// decodes live responses: string-typed numbers, empty strings for absent values, booleans as JSON booleans.
struct DecodingTests {
    static func decode<T: Decodable>(_ type: T.Type, _ body: String, status: Int = 200) throws -> [T] {
        try OKXClient.decode(type, from: Data(body.utf8), status: status)
    }

    @Test
    func accountConfiguration() throws {
        let body = """
            {"code":"0","msg":"","data":[{"acctLv":"2","acctStpMode":"cancel_maker","autoLoan":false,"ctIsoMode":"automatic",
             "enableSpotBorrow":false,"greeksType":"PA","feeType":"0","ip":"","type":"0","kycLv":"3","label":"v5 test","level":"Lv1",
             "levelTmp":"","liquidationGear":"-1","mainUid":"44705892343619584","mgnIsoMode":"automatic","opAuth":"1",
             "perm":"read_only,withdraw,trade","posMode":"long_short_mode","roleType":"0","spotBorrowAutoRepay":false,"spotOffsetType":"",
             "spotRoleType":"0","spotTraderInsts":[],"traderInsts":[],"uid":"44705892343619584","settleCcy":"USDT","settleCcyList":["USD","USDC","USDG"]}]}
            """
        let config = try #require(try Self.decode(AccountConfiguration.self, body).first)
        #expect(config.perm == ["read_only", "withdraw", "trade"])
        #expect(config.ip == [])
        #expect(config.isMasterAccount)
        #expect(config.canWithdraw)
        #expect(config.acctLv == "2")
        #expect(config.posMode == "long_short_mode")
        #expect(config.label == "v5 test")
    }

    @Test
    func balanceWithEmptyStringsAndStringNumbers() throws {
        let body = """
            {"code":"0","msg":"","data":[{"adjEq":"","totalEq":"41624.32","uTime":"1614846244194","imr":"","isoEq":"",
             "details":[{"ccy":"BTC","eq":"1.5","cashBal":"1.5","availBal":"1.2","frozenBal":"0.3","eqUsd":"","uTime":"1617279471503"},
                        {"ccy":"USDT","eq":"0.000000120","cashBal":"","availBal":"","frozenBal":"0","eqUsd":"0.00000012","uTime":""}]}]}
            """
        let balance = try #require(try Self.decode(AccountBalance.self, body).first)
        #expect(balance.totalEq == Decimal(string: "41624.32"))
        #expect(balance.uTime == Date(timeIntervalSince1970: 1_614_846_244.194))
        #expect(balance.details.count == 2)
        #expect(balance.details[0].availBal == Decimal(string: "1.2"))
        #expect(balance.details[0].frozenBal == Decimal(string: "0.3"))
        #expect(balance.details[0].eqUsd == nil, "empty string reads as absent")
        #expect(balance.details[1].eq == Decimal(string: "0.00000012"))
        #expect(balance.details[1].cashBal == nil)
        #expect(balance.details[1].uTime == nil)
    }

    @Test
    func plainJSONNumbersAndMissingFieldsAreAccepted() throws {
        let body = #"{"code":0,"msg":"","data":[{"instId":"BTC-USDT","last":43250.5,"askPx":"43251","ts":1700000000000}]}"#
        let ticker = try #require(try Self.decode(Ticker.self, body).first)
        #expect(ticker.last == Decimal(string: "43250.5"))
        #expect(ticker.askPx == 43251)
        #expect(ticker.bidPx == nil, "a missing field reads as absent")
        #expect(ticker.ts == Date(timeIntervalSince1970: 1_700_000_000))
    }

    @Test(arguments: ["abc", "1.2.3", "12abc", "--1", ".", "1e", "0x10"])
    func malformedNumbersAreDecodingErrorsNamingTheField(_ value: String) {
        let body = #"{"code":"0","msg":"","data":[{"ccy":"BTC","bal":"\#(value)","availBal":"1","frozenBal":"0"}]}"#
        #expect {
            _ = try Self.decode(AssetBalance.self, body)
        } throws: { error in
            guard case .decoding(let reason) = error as? OKXClientError else { return false }
            return reason.contains("bal")
        }
    }

    /// Values no Decimal or Date can hold: decoding errors naming the field, never a NaN, a trap or a far-away date.
    @Test(arguments: [
        #""last":1e300"#, #""last":-1e300"#, #""last":"1e200""#, #""last":"1e99999999999999999999""#,
        #""ts":"9223372036854775807""#, #""ts":9223372036854775807"#, #""ts":"-1""#, #""ts":"253402300800000""#,
        #""ts":1e30"#,
    ])
    func outOfRangeValuesAreDecodingErrorsNamingTheField(_ field: String) {
        let body = #"{"code":"0","msg":"","data":[{"instId":"BTC-USDT",\#(field)}]}"#
        let name = String(field.dropFirst().prefix { $0 != "\"" })
        #expect {
            _ = try Self.decode(Ticker.self, body)
        } throws: { error in
            guard case .decoding(let reason) = error as? OKXClientError else { return false }
            return reason.contains(name)
        }
    }

    @Test
    func datesBeyondMillisecondsAreEncodingErrors() throws {
        let encoder = JSONEncoder()
        for date in [Date(timeIntervalSince1970: 1e300), Date(timeIntervalSince1970: -1e300), Date(timeIntervalSince1970: .infinity)] {
            #expect(throws: EncodingError.self) { try encoder.encode([OKXMilliseconds(wrappedValue: date)]) }
        }
        let encoded = try encoder.encode([OKXMilliseconds(wrappedValue: Date(timeIntervalSince1970: 1_700_000_000.5))])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["1700000000500"]"#)
    }

    @Test(arguments: ["0.1", "-2.5", "1e-8", "100", "0", "+3", "1E+2"])
    func wellFormedNumbersDecode(_ value: String) throws {
        let body = #"{"code":"0","msg":"","data":[{"ccy":"BTC","bal":"\#(value)"}]}"#
        let item = try #require(try Self.decode(AssetBalance.self, body).first)
        #expect(item.bal == Decimal(string: value.replacingOccurrences(of: "+", with: "")))
    }

    @Test
    func subAccountsWithBooleans() throws {
        let body = """
            {"code":"0","msg":"","data":[{"type":"1","enable":true,"subAcct":"test-1","uid":"446556018520336384","label":"test",
             "mobile":"","gAuth":false,"frozenFunc":[],"canTransOut":true,"ts":"1597026383085","subAcctLv":"1","firstLvSubAcct":"test-1","ifDma":false},
             {"type":"1","enable":"false","subAcct":"test-2","canTransOut":false,"ts":""}]}
            """
        let accounts = try Self.decode(SubAccount.self, body)
        #expect(accounts.map(\.subAcct) == ["test-1", "test-2"])
        #expect(accounts[0].enable && accounts[0].canTransOut)
        #expect(!accounts[1].enable && !accounts[1].canTransOut)
        #expect(accounts[1].uid == "")
        #expect(accounts[1].ts == nil)
    }

    @Test
    func createdKeyKeepsItsSecretInsideTheCredentials() throws {
        let body = """
            {"code":"0","msg":"","data":[{"subAcct":"test-1","label":"v5","apiKey":"8f2b6c3a-aaaa-bbbb-cccc-111122223333",
             "secretKey":"9D1C2E3F4A5B6C7D8E9FA0B1C2D3E4F5","passphrase":"Abcdef1!x","perm":"read_only,trade","ip":"1.1.1.1,2.2.2.2","ts":"1597026383085"}]}
            """
        let created = try #require(try Self.decode(CreatedAPIKey.self, body).first)
        #expect(created.credentials.apiKey == "8f2b6c3a-aaaa-bbbb-cccc-111122223333")
        #expect(created.ip == ["1.1.1.1", "2.2.2.2"])
        #expect(created.perm == ["read_only", "trade"])
        #expect(!"\(created)".contains("9D1C2E3F4A5B6C7D8E9FA0B1C2D3E4F5"))
        #expect(!"\(created)".contains("Abcdef1!x"))
    }

    @Test
    func transferWithdrawalAndOrderResults() throws {
        let transfer = try #require(try Self.decode(TransferResult.self, #"{"code":"0","msg":"","data":[{"transId":"754147","ccy":"USDT","clientId":"","from":"6","amt":"0.1","to":"18"}]}"#).first)
        #expect(transfer.transId == "754147")
        #expect(transfer.amt == Decimal(string: "0.1"))
        let withdrawal = try #require(try Self.decode(WithdrawalResult.self, #"{"code":"0","msg":"","data":[{"amt":"0.1","wdId":"67485","ccy":"BTC","clientId":"","chain":"BTC-Bitcoin"}]}"#).first)
        #expect(withdrawal.wdId == "67485")
        let order = try #require(try Self.decode(Order.self, """
            {"code":"0","msg":"","data":[{"instId":"BTC-USDT","ordId":"312269865356374016","clOrdId":"b1","px":"999","sz":"3","ordType":"limit",
             "side":"buy","state":"partially_filled","accFillSz":"1","avgPx":"999","fee":"-0.001","feeCcy":"BTC","cTime":"1597026383085","uTime":"1597026383085"}]}
            """).first)
        #expect(order.state == "partially_filled")
        #expect(order.accFillSz == 1)
        #expect(order.fee == Decimal(string: "-0.001"))
    }

    @Test
    func errorsCarryTheCodeAndMessage() {
        #expect(throws: OKXClientError.api(code: "50113", message: "Invalid Sign", httpStatus: 401, items: [])) {
            _ = try Self.decode(AccountConfiguration.self, #"{"code":"50113","msg":"Invalid Sign","data":[]}"#, status: 401)
        }
    }

    @Test
    func aRefusedOrderSurfacesItsItemCode() throws {
        let body = #"{"code":"1","msg":"","data":[{"clOrdId":"b7","ordId":"","sCode":"51008","sMsg":"Order failed. Insufficient USDT balance in account.","tag":"","ts":"1695190491421"}]}"#
        do {
            _ = try Self.decode(OrderAck.self, body)
            Issue.record("expected an error")
        } catch let error as OKXClientError {
            #expect(error.code == "51008")
            #expect("\(error)".contains("Insufficient USDT balance"))
            guard case .api(_, _, _, let items) = error else {
                Issue.record("not an API error: \(error)")
                return
            }
            #expect(items == [.init(code: "51008", message: "Order failed. Insufficient USDT balance in account.", id: "b7")])
        }
    }

    @Test(arguments: ["<html>502 Bad Gateway</html>", "", #"{"error":"not found"}"#])
    func nonOKXBodiesAreHTTPErrors(_ body: String) {
        #expect {
            _ = try Self.decode(ServerTime.self, body, status: 502)
        } throws: { error in
            guard case .http(let status, _) = error as? OKXClientError else { return false }
            return status == 502
        }
    }
}
