"""Perpetual swaps as ccxt (defaultType swap) and python-okx see them: markets, account and position modes,
leverage and position tiers, against a real `keysmith` process."""
import time

import ccxt
import okx.Account as Account
import okx.PublicData as PublicData
import okx.Trade as Trade
import pytest

from conftest import Credentials

pytestmark = pytest.mark.usefixtures("backend")

SWAP = "BTC/USDT:USDT"


def swap_exchange(server, creds: Credentials) -> ccxt.okx:
    ex = ccxt.okx({"apiKey": creds.api_key, "secret": creds.secret, "password": creds.passphrase,
                   "options": {"defaultType": "swap"}})
    ex.urls["api"]["rest"] = server.url
    return ex


def test_ccxt_lists_linear_perpetuals_with_their_contract_terms(server, sub_key):
    ex = swap_exchange(server, sub_key)
    markets = ex.load_markets()
    assert {"BTC/USDT", "ETH/USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"} <= set(markets)
    btc = markets[SWAP]
    assert btc["swap"] and btc["linear"] and not btc["inverse"] and btc["settle"] == "USDT" and btc["active"]
    assert btc["id"] == "BTC-USDT-SWAP" and btc["contractSize"] == 0.01
    assert btc["precision"]["price"] == 0.1 and btc["precision"]["amount"] == 0.01 and btc["limits"]["amount"]["min"] == 0.01
    assert btc["limits"]["leverage"]["max"] == 100
    assert markets["ETH/USDT:USDT"]["contractSize"] == 0.1
    tickers = ex.fetch_tickers()
    assert set(tickers) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}


def test_ccxt_position_mode_leverage_and_tiers(server, sub_key):
    ex = swap_exchange(server, sub_key)
    ex.load_markets()
    assert ex.fetch_position_mode(SWAP)["hedged"] is False
    ex.set_position_mode(True)
    assert ex.fetch_position_mode(SWAP)["hedged"] is True
    ex.set_position_mode(False)
    # What freqtrade sends before each entry: isolated, posSide net, leverage as a float.
    ex.set_leverage(3.0, SWAP, {"mgnMode": "isolated", "posSide": "net"})
    leverage = ex.fetch_leverage(SWAP, {"mgnMode": "isolated", "posSide": "net"})
    assert leverage["marginMode"] == "isolated" and leverage["longLeverage"] == 3 and leverage["shortLeverage"] == 3
    ex.set_leverage(20, SWAP, {"mgnMode": "cross"})
    assert ex.fetch_leverage(SWAP)["longLeverage"] == 20
    with pytest.raises(ccxt.ExchangeError):
        ex.set_leverage(101, SWAP, {"mgnMode": "cross"})
    assert ex.fetch_leverage(SWAP)["longLeverage"] == 20
    tiers = ex.fetch_market_leverage_tiers(SWAP)
    assert tiers[0]["tier"] == 1 and tiers[0]["maxLeverage"] == 100 and tiers[0]["maintenanceMarginRate"] == 0.004
    assert tiers[0]["minNotional"] == 0 and tiers[0]["maxNotional"] == 1000
    assert [t["maxLeverage"] for t in tiers] == sorted((t["maxLeverage"] for t in tiers), reverse=True)


def test_ccxt_swap_order_in_spot_mode_is_refused_with_okx_code(server, sub_key):
    ex = swap_exchange(server, sub_key)
    ex.load_markets()
    api = Account.AccountAPI(sub_key.api_key, sub_key.secret, sub_key.passphrase, False, "0", domain=server.url, debug=False)
    assert api.set_account_level("1")["data"] == [{"acctLv": "1"}]
    try:
        with pytest.raises(ccxt.ExchangeError) as refused:
            ex.create_order(SWAP, "limit", "buy", 1, 30000, {"tdMode": "cross"})
        assert "51010" in str(refused.value)
    finally:
        assert api.set_account_level("2")["code"] == "0"


def test_python_okx_account_and_public_swap_calls(server, sub_key):
    api = Account.AccountAPI(sub_key.api_key, sub_key.secret, sub_key.passphrase, False, "0", domain=server.url, debug=False)
    public = PublicData.PublicAPI(flag="0", domain=server.url, debug=False)
    instruments = public.get_instruments(instType="SWAP")
    assert instruments["code"] == "0" and {i["instId"] for i in instruments["data"]} == {"BTC-USDT-SWAP", "ETH-USDT-SWAP"}
    tiers = public.get_position_tiers(instType="SWAP", tdMode="isolated", instFamily="ETH-USDT")
    assert tiers["code"] == "0" and tiers["data"][0]["maxSz"] == "5000"
    assert api.set_position_mode("long_short_mode")["data"] == [{"posMode": "long_short_mode"}]
    set_long = api.set_leverage(lever="5", mgnMode="isolated", instId="ETH-USDT-SWAP", posSide="long")
    assert set_long["code"] == "0" and set_long["data"][0]["posSide"] == "long", set_long
    missing = api.set_leverage(lever="5", mgnMode="isolated", instId="ETH-USDT-SWAP")
    assert missing["code"] == "51000" and "posSide" in missing["msg"]
    info = api.get_leverage(mgnMode="isolated", instId="ETH-USDT-SWAP")
    assert [(i["posSide"], i["lever"]) for i in info["data"]] == [("long", "5"), ("short", "10")]
    assert api.get_account_config()["data"][0]["posMode"] == "long_short_mode"
    assert api.set_position_mode("net_mode")["code"] == "0"


def test_mark_price_pinned_from_the_cli_reaches_ccxt_and_python_okx(server, sub_key):
    out = server.cli_json("mark", "set", "BTC-USDT-SWAP", "31000.50")
    assert out == {"instId": "BTC-USDT-SWAP", "markPx": "31000.5", "pinned": "true"}
    listed = {row["instId"]: row for row in server.cli_json("mark", "list")}
    assert listed["BTC-USDT-SWAP"]["markPx"] == "31000.5" and listed["ETH-USDT-SWAP"]["pinned"] == "false"
    ex = swap_exchange(server, sub_key)
    ex.load_markets()
    public = PublicData.PublicAPI(flag="0", domain=server.url, debug=False)
    # A serving node reloads pins every second.
    deadline = time.monotonic() + 10
    while public.get_mark_price(instType="SWAP", instId="BTC-USDT-SWAP")["data"][0]["markPx"] != "31000.5":
        assert time.monotonic() < deadline, "the pin never reached the server"
        time.sleep(0.1)
    assert ex.fetch_mark_price(SWAP)["markPrice"] == 31000.5
    server.cli("mark", "clear", "BTC-USDT-SWAP")
    deadline = time.monotonic() + 10
    while public.get_mark_price(instType="SWAP", instId="BTC-USDT-SWAP")["data"][0]["markPx"] != "":
        assert time.monotonic() < deadline, "the cleared pin stayed"
        time.sleep(0.1)
    off_tick = server.cli("mark", "set", "BTC-USDT-SWAP", "31000.55", check=False)
    assert off_tick.returncode != 0 and "multiple of 0.1" in off_tick.stderr
    assert server.cli_json("mark", "list")[0]["pinned"] == "false"


def test_a_key_scoped_to_swaps_from_the_cli(server):
    out = server.cli_json("apikey", "create", "--subaccount", "bot01trader", "--label", "futures-only", "--perm", "read_only,trade",
                          "--ip", "127.0.0.1", "--products", "swap", "--inst", "BTC-USDT-SWAP")
    listed = next(k for k in server.cli_json("apikey", "list", "--subaccount", "bot01trader") if k["apiKey"] == out["apiKey"])
    assert listed["products"] == "swap" and listed["instruments"] == "BTC-USDT-SWAP"
    key = Credentials(out["apiKey"], out["secretKey"], out["passphrase"])
    ex = swap_exchange(server, key)
    ex.load_markets()
    with pytest.raises(ccxt.ExchangeError) as refused_spot:
        ex.create_order("BTC/USDT", "limit", "buy", 0.001, 30000)
    assert '"sCode":"50120"' in str(refused_spot.value) and "may not trade SPOT" in str(refused_spot.value)
    refused = server.cli("apikey", "create", "--subaccount", "bot01trader", "--label", "bad", "--products", "futures", check=False)
    assert refused.returncode != 0 and "products" in refused.stderr


def swap_trader(server, name: str, usdt: str):
    """A ccxt (defaultType swap) trader on sub-account `name` whose trading balance holds `usdt` USDT."""
    if name != "bot01trader":
        server.cli("subaccount", "create", name)
    out = server.cli_json("apikey", "create", "--subaccount", name, "--label", "swaps", "--perm", "read_only,trade",
                          "--ip", "127.0.0.1", "--rate-limit", "unlimited")
    creds = Credentials(out["apiKey"], out["secretKey"], out["passphrase"])
    server.cli("deposit", "--account", name, "--ccy", "USDT", "--amt", usdt)
    ex = swap_exchange(server, creds)
    ex.load_markets()
    ex.transfer("USDT", float(usdt), "funding", "trading")
    return ex, creds


def pin_mark(server, ex, price: str) -> None:
    """Pins BTC-USDT-SWAP's mark with the CLI and waits until the running server reads it (it reloads pins each second)."""
    server.cli("mark", "set", "BTC-USDT-SWAP", price)
    deadline = time.monotonic() + 15
    while float(ex.fetch_mark_price(SWAP)["markPrice"] or 0) != float(price):
        assert time.monotonic() < deadline, "the server never read the pinned mark"
        time.sleep(0.1)


def test_ccxt_opens_and_closes_a_swap_position_with_exact_pnl(server):
    maker, _ = swap_trader(server, "bot01trader", "10000")
    taker, creds = swap_trader(server, "bot02trader", "10000")
    taker.set_leverage(5, SWAP, {"mgnMode": "cross"})
    pin_mark(server, taker, "30000")  # SWAP orders are priced within 5 % of the mark
    ask = maker.create_order(SWAP, "limit", "sell", 2, 30000, {"tdMode": "cross"})
    assert [o["id"] for o in maker.fetch_open_orders(SWAP)] == [ask["id"]]
    bid = taker.create_order(SWAP, "market", "buy", 2, None, {"tdMode": "cross"})
    filled = taker.fetch_order(bid["id"], SWAP)
    assert filled["status"] == "closed" and filled["filled"] == 2 and filled["average"] == 30000
    # 2 contracts of 0.01 BTC at 30000: 600 USDT, 120 of margin at 5x, a taker fee of 0.3.
    assert filled["fee"]["cost"] == 0.3 and filled["fee"]["currency"] == "USDT"
    pin_mark(server, taker, "31000")
    [position] = taker.fetch_positions([SWAP])
    assert position["symbol"] == SWAP and position["side"] == "long" and position["contracts"] == 2
    assert position["entryPrice"] == 30000 and position["markPrice"] == 31000 and position["unrealizedPnl"] == 20
    assert position["leverage"] == 5 and position["marginMode"] == "cross" and position["notional"] == 620
    [short] = maker.fetch_positions([SWAP])
    assert short["side"] == "short" and short["contracts"] == 2 and short["unrealizedPnl"] == -20
    balance = taker.fetch_balance()
    assert balance["USDT"]["free"] == 9879.7 and balance["USDT"]["total"] == 10019.7

    # Funding, settled now by the running server at the operator's request: the long pays 620 x 0.01 %.
    assert taker.fetch_funding_rate(SWAP)["fundingRate"] == 0.0001
    settled = server.cli_json("funding", "settle", "--inst", "BTC-USDT-SWAP")
    assert settled[0]["fundingRate"] == "0.0001" and settled[0]["markPx"] == "31000", settled
    [paid] = taker.fetch_funding_history(SWAP)
    assert paid["amount"] == -0.062 and paid["code"] == "USDT" and paid["symbol"] == SWAP
    [received] = maker.fetch_funding_history(SWAP)
    assert received["amount"] == 0.062
    assert [r["fundingRate"] for r in taker.fetch_funding_rate_history(SWAP)] == [0.0001]

    # Closed at the mark: +20 realised, a taker fee of 0.31.
    maker.create_order(SWAP, "limit", "buy", 2, 31000, {"tdMode": "cross", "reduceOnly": True})
    with pytest.raises(ccxt.ExchangeError) as same_way:
        taker.create_order(SWAP, "market", "buy", 1, None, {"tdMode": "cross", "reduceOnly": True})
    assert "51170" in str(same_way.value)
    taker.create_order(SWAP, "market", "sell", 2, None, {"tdMode": "cross", "reduceOnly": True})
    assert taker.fetch_positions([SWAP]) == []
    assert taker.fetch_balance()["USDT"]["total"] == 10019.328
    trades = taker.fetch_my_trades(SWAP)
    assert sorted(t["price"] for t in trades) == [30000, 31000] and all(t["fee"]["currency"] == "USDT" for t in trades)

    # python-okx reads the same position history and refuses an order that needs more margin than there is.
    account = Account.AccountAPI(creds.api_key, creds.secret, creds.passphrase, False, "0", domain=server.url, debug=False)
    history = account.get_positions_history(instType="SWAP")
    assert history["code"] == "0" and history["data"][0]["pnl"] == "20" and history["data"][0]["direction"] == "long"
    assert history["data"][0]["realizedPnl"] == "19.328" and history["data"][0]["closeAvgPx"] == "31000"
    assert history["data"][0]["fundingFee"] == "-0.062"
    trade = Trade.TradeAPI(creds.api_key, creds.secret, creds.passphrase, False, "0", domain=server.url, debug=False)
    refused = trade.place_order(instId="BTC-USDT-SWAP", tdMode="isolated", side="buy", ordType="limit", sz="10000", px="30000")
    assert refused["code"] == "1" and refused["data"][0]["sCode"] == "51008", refused
    placed = trade.place_order(instId="BTC-USDT-SWAP", tdMode="isolated", side="buy", ordType="limit", sz="1", px="29000",
                               clOrdId="okxswap1")
    assert placed["code"] == "0", placed
    pending = trade.get_order_list(instType="SWAP")
    assert pending["data"][0]["clOrdId"] == "okxswap1" and pending["data"][0]["tdMode"] == "isolated"
    assert pending["data"][0]["posSide"] == "net" and pending["data"][0]["lever"] == "10"
    assert account.get_positions(instType="SWAP")["data"] == []
    # Amended with python-okx: a new price and size in place, and a batch answering for each item.
    amended = trade.amend_order(instId="BTC-USDT-SWAP", clOrdId="okxswap1", newSz="3", newPx="29500", reqId="amend1")
    assert amended["code"] == "0" and amended["data"][0]["reqId"] == "amend1", amended
    assert amended["data"][0]["ordId"] == placed["data"][0]["ordId"]
    order = trade.get_order(instId="BTC-USDT-SWAP", clOrdId="okxswap1")["data"][0]
    assert order["sz"] == "3" and order["px"] == "29500" and order["state"] == "live"
    batch = trade.amend_multiple_orders([
        {"instId": "BTC-USDT-SWAP", "clOrdId": "okxswap1", "newPx": "29600"},
        {"instId": "BTC-USDT-SWAP", "ordId": "99999999", "newPx": "29600"},
        {"instId": "BTC-USDT-SWAP", "clOrdId": "okxswap1", "newPx": "40000"},
    ])
    assert batch["code"] == "2" and [d["sCode"] for d in batch["data"]] == ["0", "51503", "51006"], batch
    assert trade.get_order(instId="BTC-USDT-SWAP", clOrdId="okxswap1")["data"][0]["px"] == "29600"


def test_mark_candles_and_order_sizes_through_ccxt_and_python_okx(server):
    trader, creds = swap_trader(server, "bot03trader", "1000")
    pin_mark(server, trader, "30000")
    # python-okx: at the mark, 10x and the taker rate a contract holds 30 USDT and pays 0.15: 33.16 contracts.
    account = Account.AccountAPI(creds.api_key, creds.secret, creds.passphrase, False, "0", domain=server.url, debug=False)
    sized = account.get_max_order_size(instId="BTC-USDT-SWAP", tdMode="cross")
    assert sized["code"] == "0" and sized["data"][0]["maxBuy"] == "33.16" and sized["data"][0]["maxSell"] == "33.16", sized
    available = account.get_max_avail_size(instId="BTC-USDT-SWAP", tdMode="isolated")
    assert available["code"] == "0" and available["data"][0]["availBuy"] == "1000", available

    # The serving node records the mark each second: ccxt's fetch_mark_ohlcv reads the minutes back.
    def candles_until(check):
        deadline = time.monotonic() + 15
        while True:
            candles = trader.fetch_mark_ohlcv(SWAP, "1m")
            if candles and check(candles):
                return candles
            assert time.monotonic() < deadline, f"the mark was never recorded: {candles}"
            time.sleep(0.2)

    candles_until(lambda c: c[-1][4] == 30000)
    pin_mark(server, trader, "30500")
    candles = candles_until(lambda c: c[-1][4] == 30500)
    assert max(c[2] for c in candles) == 30500 and min(c[3] for c in candles) == 30000
    assert all(c[0] % 60000 == 0 for c in candles) and candles == sorted(candles)
    public = PublicData.PublicAPI(flag="0", domain=server.url, debug=False)
    hourly = public._request_with_params("GET", "/api/v5/market/mark-price-candles", {"instId": "BTC-USDT-SWAP", "bar": "1H"})
    assert hourly["code"] == "0" and hourly["data"][0][4] == "30500", hourly  # the newest hour first
