"""The ledger through python-okx (FundingAPI, SubAccountAPI, AccountAPI) and across a crash of the server."""
import json
import signal
import threading
import time

import okx.Account as Account
import okx.Funding as Funding
import okx.SubAccount as SubAccount

from conftest import Credentials, start_serve


def funding_api(server, creds: Credentials) -> Funding.FundingAPI:
    return Funding.FundingAPI(creds.api_key, creds.secret, creds.passphrase, False, "0", domain=server.url, debug=False)


def test_master_funds_a_sub_account_and_the_balance_appears(server, sub_key):
    server.cli("deposit", "--account", "master", "--ccy", "USDT", "--amt", "1000")
    master = funding_api(server, server.master)
    moved = master.funds_transfer(ccy="USDT", amt="300", from_="6", to="18", type="1", subAcct="bot01trader")
    assert moved["code"] == "0", moved
    state = master.transfer_state(transId=moved["data"][0]["transId"])
    assert state["data"][0]["state"] == "success" and state["data"][0]["subAcct"] == "bot01trader"
    # The platform's view, with the sub-account's own key (the seed's last step).
    balance = Account.AccountAPI(sub_key.api_key, sub_key.secret, sub_key.passphrase, False, "0", domain=server.url,
                                 debug=False).get_account_balance()
    usdt = next(d for d in balance["data"][0]["details"] if d["ccy"] == "USDT")
    assert usdt["availBal"] == "300" and usdt["eq"] == "300"
    sub = SubAccount.SubAccountAPI(server.master.api_key, server.master.secret, server.master.passphrase, False, "0",
                                   domain=server.url, debug=False)
    assert sub.get_account_balance(subAcct="bot01trader")["data"][0]["details"][0]["availBal"] == "300"
    assert master.get_balances(ccy="USDT")["data"][0]["availBal"] == "700"
    currencies = {c["ccy"]: c for c in master.get_currencies()["data"]}
    assert currencies["BTC"]["chain"] == "BTC-Bitcoin" and currencies["USDT"]["canWd"] is True


def test_python_okx_withdrawal_and_deposit_history(server):
    server.cli("deposit", "--account", "master", "--ccy", "USDT", "--amt", "50")
    server.cli("address", "add", "--ccy", "USDT", "--addr", "TXYZpythonOkx0001")
    api = funding_api(server, server.master)
    done = api.withdrawal(ccy="USDT", amt="5", dest="4", toAddr="TXYZpythonOkx0001", chain="USDT-TRC20")
    assert done["code"] == "0", done
    history = api.get_withdrawal_history(ccy="USDT")
    assert history["data"][0]["wdId"] == done["data"][0]["wdId"] and history["data"][0]["state"] == "0"
    assert api.get_deposit_history(ccy="USDT")["data"][0]["amt"] == "50"
    address = api.get_deposit_address(ccy="USDT")["data"][0]
    assert address["chain"] == "USDT-TRC20" and address["addr"].startswith("T")


def test_every_acknowledged_transfer_survives_a_crash(server, tmp_path):
    out = server.cli_json("apikey", "create", "--subaccount", "bot01trader", "--label", "loader", "--perm", "read_only,trade",
                          "--ip", "127.0.0.1", "--rate-limit", "unlimited")
    creds = Credentials(out["apiKey"], out["secretKey"], out["passphrase"])
    server.cli("deposit", "--account", "bot01trader", "--ccy", "USDT", "--amt", "100000")
    acknowledged, stop = [], threading.Event()

    def load(worker):
        api = funding_api(server, creds)
        n = 0
        while not stop.is_set():
            n += 1
            client_id = f"w{worker}n{n}"
            try:
                reply = api._request_with_params("POST", "/api/v5/asset/transfer",
                                                 {"ccy": "USDT", "amt": "1", "from": "6", "to": "18", "clientId": client_id})
            except Exception:
                return  # the server is gone
            if reply.get("code") == "0":
                acknowledged.append(client_id)

    threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    while len(acknowledged) < 200:
        time.sleep(0.01)
    server.expect_exit()
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    stop.set()
    for t in threads:
        t.join()
    server.process = start_serve(server.data_dir, server.port, server.log_path)
    api = funding_api(server, creds)
    for client_id in acknowledged:
        state = api._request_with_params("GET", "/api/v5/asset/transfer-state", {"clientId": client_id})
        assert state["data"] and state["data"][0]["state"] == "success", client_id
    balances = {(b["account"], b["ccy"]): b for b in server.cli_json("balance", "--account", "bot01trader")}
    funding = float(balances[("funding (6)", "USDT")]["available"])
    trading = float(balances[("trading (18)", "USDT")]["available"])
    assert funding + trading == 100000 and trading >= len(acknowledged)


def test_python_okx_trade_and_market_apis(server):
    import okx.MarketData as MarketData
    import okx.PublicData as PublicData
    import okx.Trade as Trade
    out = server.cli_json("apikey", "create", "--subaccount", "bot01trader", "--label", "trader", "--perm", "read_only,trade",
                          "--ip", "127.0.0.1", "--rate-limit", "unlimited")
    creds = Credentials(out["apiKey"], out["secretKey"], out["passphrase"])
    server.cli("deposit", "--account", "bot01trader", "--ccy", "USDT", "--amt", "1000")
    funding_api(server, creds).funds_transfer(ccy="USDT", amt="1000", from_="6", to="18")
    trade = Trade.TradeAPI(creds.api_key, creds.secret, creds.passphrase, False, "0", domain=server.url, debug=False)
    placed = trade.place_order(instId="BTC-USDT", tdMode="cash", side="buy", ordType="limit", sz="0.01", px="20000",
                               clOrdId="pyokx1")
    assert placed["code"] == "0" and placed["data"][0]["clOrdId"] == "pyokx1", placed
    order_id = placed["data"][0]["ordId"]
    assert trade.get_order(instId="BTC-USDT", ordId=order_id)["data"][0]["state"] == "live"
    assert [o["ordId"] for o in trade.get_order_list(instId="BTC-USDT")["data"]] == [order_id]
    refused = trade.place_order(instId="BTC-USDT", tdMode="cash", side="buy", ordType="limit", sz="1", px="20000")
    assert refused["code"] == "1" and refused["data"][0]["sCode"] == "51008"
    assert trade.cancel_order(instId="BTC-USDT", ordId=order_id)["data"][0]["sCode"] == "0"
    market = MarketData.MarketAPI(flag="0", domain=server.url, debug=False)
    assert market.get_orderbook(instId="BTC-USDT")["code"] == "0"
    assert market.get_ticker(instId="BTC-USDT")["data"][0]["instId"] == "BTC-USDT"
    instruments = PublicData.PublicAPI(flag="0", domain=server.url, debug=False).get_instruments(instType="SPOT")
    assert {i["instId"] for i in instruments["data"]} == {"BTC-USDT", "ETH-USDT"}


def test_currencies_and_instruments_are_configurable(server):
    import okx.PublicData as PublicData
    from conftest import stop
    server.cli("currency", "set", "SOL", "--name", "Solana", "--decimals", "9", "--chain", "SOL-Solana", "--fee", "0.01",
               "--min-wd", "0.1")
    server.cli("instrument", "set", "SOL-USDT", "--tick", "0.01", "--lot", "0.001", "--min", "0.01")
    assert "SOL-USDT" in server.cli("instrument", "list").stdout
    server.cli("deposit", "--account", "master", "--ccy", "SOL", "--amt", "1.123456789")
    assert any(b["ccy"] == "SOL" and b["available"] == "1.123456789" for b in server.cli_json("balance"))
    bad = server.cli("instrument", "set", "XYZ-USDT", "--tick", "0.1", "--lot", "1", "--min", "1", check=False)
    assert bad.returncode != 0 and "XYZ" in bad.stderr
    stop(server.process)
    server.process = start_serve(server.data_dir, server.port, server.log_path)
    listed = PublicData.PublicAPI(flag="0", domain=server.url, debug=False).get_instruments(instType="SPOT")["data"]
    sol = next(i for i in listed if i["instId"] == "SOL-USDT")
    assert sol["tickSz"] == "0.01" and sol["lotSz"] == "0.001" and sol["minSz"] == "0.01"
