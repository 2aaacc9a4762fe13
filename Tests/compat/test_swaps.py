"""Perpetual swaps as ccxt (defaultType swap) and python-okx see them: markets, account and position modes,
leverage and position tiers, against a real `keysmith` process."""
import time

import ccxt
import okx.Account as Account
import okx.PublicData as PublicData
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
