"""ccxt (unmodified, default options) against a real `keysmith` process: markets, balances, transfers and the
exception classes ccxt raises for Keysmith's errors."""
import ccxt
import pytest

from conftest import Credentials

# Every test here runs on SQLite and, when the test script started PostgreSQL, on a PostgreSQL-backed server.
pytestmark = pytest.mark.usefixtures("backend")


def exchange(server, creds: Credentials, **extra) -> ccxt.okx:
    ex = ccxt.okx({"apiKey": creds.api_key, "secret": creds.secret, "password": creds.passphrase, **extra})
    ex.urls["api"]["rest"] = server.url
    return ex


@pytest.fixture()
def funded(server, sub_key):
    """bot01trader holds 1000 USDT and 0.5 BTC in funding; its key is `sub_key`."""
    server.cli("deposit", "--account", "bot01trader", "--ccy", "USDT", "--amt", "1000")
    server.cli("deposit", "--account", "bot01trader", "--ccy", "BTC", "--amt", "0.5")
    return sub_key


def test_load_markets_with_default_options(server, sub_key):
    ex = exchange(server, sub_key)
    markets = ex.load_markets()
    assert {"BTC/USDT", "ETH/USDT"} <= set(markets)
    btc = markets["BTC/USDT"]
    assert btc["spot"] and btc["active"] and btc["precision"]["price"] == 0.1 and btc["limits"]["amount"]["min"] == 0.00001
    # Currencies came from the signed asset/currencies call, with their chain and fee.
    assert ex.currencies["USDT"]["networks"]["TRC20"]["fee"] == 1.0


def test_fetch_balance_and_transfer(server, funded):
    ex = exchange(server, funded)
    funding = ex.fetch_balance({"type": "funding"})
    assert funding["USDT"]["free"] == 1000 and funding["BTC"]["total"] == 0.5
    moved = ex.transfer("USDT", 250, "funding", "trading")
    assert moved["id"] and moved["amount"] == 250
    trading = ex.fetch_balance()
    assert trading["USDT"]["free"] == 250 and trading["USDT"]["used"] == 0
    assert ex.fetch_balance({"type": "funding"})["USDT"]["free"] == 750


def test_wrong_passphrase_is_an_authentication_error(server, sub_key):
    ex = exchange(server, Credentials(sub_key.api_key, sub_key.secret, "Wrong-pass-1"))
    with pytest.raises(ccxt.AuthenticationError):
        ex.load_markets()


def test_ip_not_allowed_is_permission_denied(server):
    out = server.cli_json("apikey", "create", "--subaccount", "bot01trader", "--label", "far", "--ip", "203.0.113.7")
    ex = exchange(server, Credentials(out["apiKey"], out["secretKey"], out["passphrase"]))
    with pytest.raises(ccxt.PermissionDenied):
        ex.fetch_balance()


def test_expired_timestamp_is_invalid_nonce(server, sub_key):
    ex = exchange(server, sub_key, enableRateLimit=False)  # ccxt's throttle reads the same (shifted) clock
    ex.load_markets()
    real = ex.milliseconds
    ex.milliseconds = lambda: real() - 120_000
    with pytest.raises(ccxt.InvalidNonce):
        ex.fetch_balance()


def test_transfer_beyond_the_balance_is_refused(server, funded):
    ex = exchange(server, funded)
    with pytest.raises(ccxt.ExchangeError) as raised:
        ex.transfer("USDT", 5000, "funding", "trading")
    assert "58116" in str(raised.value)
    assert ex.fetch_balance({"type": "funding"})["USDT"]["free"] == 1000


def test_withdraw_with_the_master_key(server):
    server.cli("deposit", "--account", "master", "--ccy", "USDT", "--amt", "100")
    server.cli("address", "add", "--ccy", "USDT", "--addr", "TXYZccxtAddress0001")
    ex = exchange(server, server.master)
    ex.load_markets()
    done = ex.withdraw("USDT", 10, "TXYZccxtAddress0001", params={"network": "TRC20"})
    assert done["id"] and done["amount"] == 10
    pending = server.cli_json("withdrawal", "list", "--pending")
    assert [w["wdId"] for w in pending] == [done["id"]] and pending[0]["fee"] == "1"
    funding = ex.fetch_balance({"type": "funding"})["USDT"]
    assert funding["free"] == 89 and funding["used"] == 11
    with pytest.raises(ccxt.InsufficientFunds):
        ex.withdraw("USDT", 95, "TXYZccxtAddress0001", params={"network": "TRC20"})
    with pytest.raises(ccxt.InvalidAddress):
        ex.withdraw("USDT", 10, "TSomewhereElse", params={"network": "TRC20"})
    server.cli("withdrawal", "approve", done["id"])
    assert ex.fetch_balance({"type": "funding"})["USDT"]["total"] == 89


def trader(server, name, ccy, amount):
    """A trading key of sub-account `name` whose trading balance holds `amount` of `ccy`."""
    if name != "bot01trader":
        server.cli("subaccount", "create", name)
    out = server.cli_json("apikey", "create", "--subaccount", name, "--label", "ccxt", "--perm", "read_only,trade",
                          "--ip", "127.0.0.1", "--rate-limit", "unlimited")
    creds = Credentials(out["apiKey"], out["secretKey"], out["passphrase"])
    server.cli("deposit", "--account", name, "--ccy", ccy, "--amt", amount)
    ex = exchange(server, creds)
    ex.transfer(ccy, float(amount), "funding", "trading")
    return ex


def test_orders_with_ccxt_defaults(server):
    seller = trader(server, "bot01trader", "BTC", "1")
    buyer = trader(server, "bot02trader", "USDT", "10000")
    ask = seller.create_order("BTC/USDT", "limit", "sell", 0.1, 30000)   # POST trade/batch-orders, array body
    assert ask["id"]
    assert [o["id"] for o in seller.fetch_open_orders("BTC/USDT")] == [ask["id"]]
    assert buyer.fetch_order_book("BTC/USDT")["asks"][0][:2] == [30000, 0.1]
    bid = buyer.create_order("BTC/USDT", "limit", "buy", 0.1, 30500)
    filled = seller.fetch_order(ask["id"], "BTC/USDT")
    assert filled["status"] == "closed" and filled["filled"] == 0.1 and filled["average"] == 30000
    assert buyer.fetch_order(bid["id"], "BTC/USDT")["status"] == "closed"
    # The buyer took: 0.1 % of the 0.1 BTC it received went to fees.
    assert buyer.fetch_balance()["BTC"]["free"] == 0.0999 and buyer.fetch_balance()["USDT"]["free"] == 7000
    assert seller.fetch_ticker("BTC/USDT")["last"] == 30000
    with pytest.raises(ccxt.OrderNotFound):
        seller.cancel_order(ask["id"], "BTC/USDT")
    with pytest.raises(ccxt.OrderNotFound):
        seller.fetch_order("999999", "BTC/USDT")
    with pytest.raises(ccxt.InsufficientFunds):
        buyer.create_order("BTC/USDT", "limit", "buy", 1, 30000)
    resting = seller.create_order("BTC/USDT", "limit", "sell", 0.2, 35000)
    canceled = seller.cancel_order(resting["id"], "BTC/USDT")
    assert canceled["id"] == resting["id"]
    assert seller.fetch_order(resting["id"], "BTC/USDT")["status"] == "canceled"
    assert seller.fetch_balance()["BTC"]["free"] == 0.9


def test_trades_read_back_with_exact_prices(server):
    """fetch_my_trades and fetch_order_trades (trade/fills-history), fetch_closed_orders (orders-history) and a large
    fetch_trades limit, checked for values: the prices reported are the prices matched."""
    seller = trader(server, "bot01trader", "BTC", "1")
    buyer = trader(server, "bot02trader", "USDT", "10000")
    first_ask = seller.create_order("BTC/USDT", "limit", "sell", 0.00166583, 30015)
    first = buyer.create_order("BTC/USDT", "limit", "buy", 0.00166583, 30015)
    seller.create_order("BTC/USDT", "limit", "sell", 0.01, 30020)
    second = buyer.create_order("BTC/USDT", "limit", "buy", 0.01, 30020)

    order = buyer.fetch_order(first["id"], "BTC/USDT")
    assert order["average"] == 30015 and order["filled"] == 0.00166583 and order["status"] == "closed"
    mine = buyer.fetch_my_trades("BTC/USDT")
    assert sorted((t["price"], t["amount"], t["side"], t["takerOrMaker"]) for t in mine) == [
        (30015, 0.00166583, "buy", "taker"), (30020, 0.01, "buy", "taker")]
    of_first = buyer.fetch_order_trades(first["id"], "BTC/USDT")
    assert [(t["order"], t["price"], t["amount"]) for t in of_first] == [(first["id"], 30015, 0.00166583)]
    assert [t["order"] for t in buyer.fetch_order_trades(second["id"], "BTC/USDT")] == [second["id"]]
    maker = seller.fetch_order_trades(first_ask["id"], "BTC/USDT")
    assert [(t["side"], t["takerOrMaker"], t["price"]) for t in maker] == [("sell", "maker", 30015)]
    closed = buyer.fetch_closed_orders("BTC/USDT")
    assert {o["id"]: o["average"] for o in closed} == {first["id"]: 30015, second["id"]: 30020}
    # A limit above OKX's maximum answers what there is, not an error.
    public = buyer.fetch_trades("BTC/USDT", limit=1000)
    assert sorted(t["price"] for t in public) == [30015, 30020]


def test_fetch_status_follows_the_operators_maintenance_window(server):
    """`keysmith maintenance` (another process) schedules a window: ccxt's fetch_status reports it, orders raise
    OnMaintenance while it runs, and trading resumes when the operator ends it."""
    import time

    ex = trader(server, "bot01trader", "USDT", "1000")
    assert ex.fetch_status()["status"] == "ok"
    window = server.cli_json("maintenance", "schedule", "--title", "Engine upgrade", "--end", "1h")
    assert window["state"] == "ongoing" and window["serviceType"] == "5"
    deadline = time.monotonic() + 10
    while ex.fetch_status()["status"] != "maintenance":  # the server reloads windows every second
        assert time.monotonic() < deadline, "the window never reached the server"
        time.sleep(0.1)
    status = ex.fetch_status()
    assert status["eta"] == int(window["end"])
    with pytest.raises(ccxt.OnMaintenance):
        ex.create_order("BTC/USDT", "limit", "buy", 0.001, 20000)
    assert ex.fetch_balance()["USDT"]["free"] == 1000  # reads keep working, nothing moved
    assert [w["id"] for w in server.cli_json("maintenance", "list")] == [window["id"]]
    server.cli("maintenance", "end", window["id"])
    deadline = time.monotonic() + 10
    while ex.fetch_status()["status"] != "ok":
        assert time.monotonic() < deadline, "the end never reached the server"
        time.sleep(0.1)
    assert ex.create_order("BTC/USDT", "limit", "buy", 0.001, 20000)["id"]


def test_fees_ledger_and_transfers_reconcile(server):
    """fetch_trading_fee (account/trade-fee), the fees of fetch_order and fetch_my_trades (rate × what was received),
    fetch_ledger (account/bills) reconciling with fetch_balance, and fetch_transfers (bills-archive type 1)."""
    from decimal import Decimal

    seller = trader(server, "bot01trader", "BTC", "1")
    buyer = trader(server, "bot02trader", "USDT", "10000")
    fee = buyer.fetch_trading_fee("BTC/USDT")
    assert (fee["maker"], fee["taker"]) == (0.0008, 0.001)
    with pytest.raises(ccxt.NotSupported):  # ccxt's okx class has no fetchTradingFees: it never calls the server
        buyer.fetch_trading_fees()
    ask = seller.create_order("BTC/USDT", "limit", "sell", 0.1, 30000)
    bid = buyer.create_order("BTC/USDT", "limit", "buy", 0.1, 30000)
    # The buyer took: 0.1 % of 0.1 BTC; the seller made: 0.08 % of 3000 USDT.
    assert buyer.fetch_order(bid["id"], "BTC/USDT")["fee"] == {"cost": 0.0001, "currency": "BTC"}
    assert seller.fetch_order(ask["id"], "BTC/USDT")["fee"] == {"cost": 2.4, "currency": "USDT"}
    [taken] = buyer.fetch_my_trades("BTC/USDT")
    assert (taken["fee"]["cost"], taken["fee"]["currency"], taken["price"], taken["amount"]) == (0.0001, "BTC", 30000, 0.1)
    [made] = seller.fetch_order_trades(ask["id"], "BTC/USDT")
    assert (made["fee"]["cost"], made["fee"]["currency"], made["takerOrMaker"]) == (2.4, "USDT", "maker")

    # ccxt asks for its default market type (instType=SPOT), so the ledger holds the trades and the transfers come
    # from fetch_transfers, as on OKX.
    ledger = buyer.fetch_ledger()
    assert sorted((e["type"], e["currency"], e["amount"]) for e in ledger) == [("trade", "BTC", 0.0999), ("trade", "USDT", -3000)]
    [btc] = [e for e in ledger if e["currency"] == "BTC"]
    assert btc["fee"] == {"cost": 0.0001, "currency": "BTC"} and btc["referenceId"] == bid["id"]
    [transfer] = buyer.fetch_transfers("USDT")
    assert (transfer["amount"], transfer["fromAccount"], transfer["toAccount"]) == (10000, "funding", "trading")
    # Every bill, transfers included, adds up to the balance, and the newest one's balance is the balance.
    everything = buyer.privateGetAccountBills()["data"]
    assert len(everything) == 3
    balance = buyer.fetch_balance()
    for code in ("USDT", "BTC"):
        lines = sorted((b for b in everything if b["ccy"] == code), key=lambda b: int(b["billId"]))
        assert sum(Decimal(b["balChg"]) for b in lines) == Decimal(lines[-1]["bal"]) == Decimal(str(balance[code]["total"]))


def test_the_operators_fee_schedule_reaches_the_running_server(server):
    """`keysmith fee set/assign/list` (another process): the server charges and reports the new level within a
    second; bad rates are refused with a clear error and change nothing."""
    import time

    ex = trader(server, "bot01trader", "USDT", "1000")
    listed = server.cli_json("fee", "list")
    assert {"level": "Lv1", "instType": "SPOT", "maker": "-0.0008", "taker": "-0.001"} in listed["rates"]
    assert listed["accounts"] == [] and listed["collected"] == []
    assert server.cli_json("fee", "set", "VIP1", "--maker", "0.02%", "--taker=-0.0004")["taker"] == "-0.0004"
    server.cli("fee", "assign", "--account", "bot01trader", "--level", "VIP1")
    deadline = time.monotonic() + 10
    while ex.fetch_trading_fee("BTC/USDT")["info"]["level"] != "VIP1":  # the server reloads the schedule every second
        assert time.monotonic() < deadline, "the level never reached the server"
        time.sleep(0.1)
    assert (ex.fetch_trading_fee("BTC/USDT")["maker"], ex.fetch_trading_fee("BTC/USDT")["taker"]) == (0.0002, 0.0004)
    refused = server.cli("fee", "set", "Lv1", "--maker", "2%", "--taker", "0.1%", check=False)
    assert refused.returncode != 0 and "rebates are not paid" in refused.stderr
    assert server.cli("fee", "assign", "--account", "bot01trader", "--level", "VIP7", check=False).returncode != 0
    assert server.cli_json("fee", "list")["accounts"] == [{"account": "bot01trader", "level": "VIP1"}]


def test_edit_order_amends_in_place(server):
    """ccxt's edit_order (trade/amend-order): the order keeps its id, its hold follows the new size and price, and a
    price that crosses fills at the resting price."""
    seller = trader(server, "bot01trader", "BTC", "1")
    buyer = trader(server, "bot02trader", "USDT", "10000")
    bid = buyer.create_order("BTC/USDT", "limit", "buy", 0.1, 29000)
    edited = buyer.edit_order(bid["id"], "BTC/USDT", "limit", "buy", 0.2, 29500)
    assert edited["id"] == bid["id"]
    order = buyer.fetch_order(bid["id"], "BTC/USDT")
    assert order["amount"] == 0.2 and order["price"] == 29500 and order["status"] == "open"
    assert buyer.fetch_balance()["USDT"]["free"] == 4100  # 0.2 x 29500 held
    seller.create_order("BTC/USDT", "limit", "sell", 0.1, 30000)
    buyer.edit_order(bid["id"], "BTC/USDT", "limit", "buy", None, 30000)
    order = buyer.fetch_order(bid["id"], "BTC/USDT")
    assert order["filled"] == 0.1 and order["remaining"] == 0.1 and order["average"] == 30000 and order["status"] == "open"
    balance = buyer.fetch_balance()
    assert balance["USDT"]["free"] == 4000 and balance["BTC"]["free"] == 0.0999  # 3000 paid, 3000 held
    buyer.cancel_order(bid["id"], "BTC/USDT")
    with pytest.raises(ccxt.ExchangeError) as canceled:
        buyer.edit_order(bid["id"], "BTC/USDT", "limit", "buy", 0.3, 30000)
    assert "51509" in str(canceled.value)
    assert buyer.fetch_balance()["USDT"]["free"] == 7000
