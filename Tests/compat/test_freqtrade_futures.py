"""freqtrade (unmodified, in its own venv made by scripts/freqtrade-venv) trading the BTC/USDT:USDT perpetual in
futures mode on a real `keysmith` process: it sets the leverage, opens and closes a short and then a long through its
REST API, and each closed trade has the prices, size, leverage, fees, funding and profit Keysmith's ledger recorded."""
import json
from decimal import Decimal

import pytest

from conftest import Credentials
from test_freqtrade import Bot
from test_freqtrade import pytestmark as needs_freqtrade_venv
from test_swaps import SWAP, pin_mark, swap_exchange, swap_trader

pytestmark = [needs_freqtrade_venv, pytest.mark.usefixtures("backend")]

# freqtrade reads `FREQTRADE__SECTION__KEY` variables over its config files (lists as JSON): the spot test's
# config.json and strategy (NeverSignals, which forced entries need no `can_short` for) with these in futures mode.
# OKX is isolated margin only in freqtrade; no liquidation buffer, so its liquidation price is the exchange's liqPx.
FUTURES = {
    "FREQTRADE__TRADING_MODE": "futures",
    "FREQTRADE__MARGIN_MODE": "isolated",
    "FREQTRADE__LIQUIDATION_BUFFER": "0",
    "FREQTRADE__EXCHANGE__PAIR_WHITELIST": '["BTC/USDT:USDT"]',
}
CONTRACT = Decimal("0.01")  # BTC per BTC-USDT-SWAP contract
TAKER = Decimal("0.0005")  # Keysmith's default SWAP taker rate (OKX Lv1)


def usdt(bot: Bot) -> dict:
    return next(c for c in bot.api("GET", "balance")["currencies"] if c["currency"] == "USDT")


def round_trip(bot: Bot, maker, keysmith, server, side: str, entry_px: int, exit_px: int) -> tuple:
    """One forced trade: the maker rests the other side at `entry_px`, freqtrade enters into it with 100 USDT at 3x
    (1 contract at 30000); funding is settled while the position is open; the maker rests the closing side at
    `exit_px` and freqtrade exits into it. Returns freqtrade's trade once open and once closed, the settlement
    (`keysmith funding settle`) and Keysmith's open positions while the trade was open."""
    opening, closing = ("sell", "buy") if side == "short" else ("buy", "sell")  # the bot's; the maker takes the other
    maker.create_order(SWAP, "limit", closing, 1, entry_px, {"tdMode": "isolated"})
    trade_id = bot.api("POST", "forceenter", {"pair": SWAP, "side": side, "price": entry_px, "ordertype": "limit",
                                              "stakeamount": 100, "leverage": 3})["trade_id"]
    opened = bot.wait_for(f"filled {side} entry", lambda: (t := bot.api("GET", f"trade/{trade_id}"))[
        "nr_of_successful_entries"] == 1 and not t["has_open_orders"] and t["liquidation_price"] and t, 30)
    positions = keysmith.privateGetAccountPositions({"instType": "SWAP"})["data"]

    # freqtrade asks for funding paid since the entry's fill, so it is settled only now that it has seen the fill.
    settled = server.cli_json("funding", "settle", "--inst", "BTC-USDT-SWAP")

    maker.create_order(SWAP, "limit", opening, 1, exit_px, {"tdMode": "isolated"})
    bot.api("POST", "forceexit", {"tradeid": trade_id, "ordertype": "limit", "price": exit_px})
    closed = bot.wait_for(f"closed {side} trade", lambda: (t := bot.api("GET", f"trade/{trade_id}"))[
        "is_open"] is False and t["fee_close_currency"] and t, 30)
    return opened, closed, settled, positions


def test_freqtrade_futures_short_then_long_at_keysmiths_prices_fees_funding_and_pnl(server, tmp_path, monkeypatch):
    # The bot's sub-account as created by default (spot and futures, one-way) and its key: trade permission, bound
    # to its IP, a passphrase.
    out = server.cli_json("apikey", "create", "--subaccount", "bot01trader", "--label", "freqtrade",
                          "--perm", "read_only,trade", "--ip", "127.0.0.1", "--passphrase", "Freqtrade-pass-1")
    bot_key = Credentials(out["apiKey"], out["secretKey"], out["passphrase"])
    keysmith = swap_exchange(server, bot_key)
    [config] = keysmith.privateGetAccountConfig()["data"]
    assert (config["acctLv"], config["posMode"]) == ("2", "net_mode"), config
    server.cli("deposit", "--account", "bot01trader", "--ccy", "USDT", "--amt", "1000")
    keysmith.transfer("USDT", 1000, "funding", "trading")
    maker, _ = swap_trader(server, "mm01maker", "100000")  # the counterparty, resting every order the bot takes
    pin_mark(server, maker, "30000")  # SWAP orders are priced within 5 % of the mark
    # A wide quote that never trades keeps both sides of the book filled: freqtrade reads the book's rate when it
    # reports an entry, and an empty side fails the forceenter call (500) after the order was placed.
    maker.create_order(SWAP, "limit", "buy", 1, 28600, {"tdMode": "isolated"})
    maker.create_order(SWAP, "limit", "sell", 1, 31400, {"tdMode": "isolated"})

    for name, value in FUTURES.items():
        monkeypatch.setenv(name, value)
    bot = Bot(server, bot_key, tmp_path)
    try:
        bot.wait_for("ping", lambda: bot.api("GET", "ping") == {"status": "pong"})
        bot.wait_for("running state", lambda: bot.api("GET", "show_config")["state"] == "running", deadline_s=30)
        shown = bot.api("GET", "show_config")
        assert (shown["trading_mode"], shown["short_allowed"]) == ("futures", True)
        assert (usdt(bot)["free"], usdt(bot)["balance"]) == (1000, 1000)

        short = round_trip(bot, maker, keysmith, server, "short", 30000, 29900)
        long = round_trip(bot, maker, keysmith, server, "long", 30000, 30100)
        held = keysmith.fetch_balance()["USDT"]["total"]
        bot.wait_for("USDT balance after the trades", lambda: usdt(bot)["balance"] == held, 30)
        bot.stop()
        assert bot.process.returncode == 130, f"freqtrade exited with {bot.process.returncode} on SIGINT"
        # freqtrade set the leverage before each entry, as the audit log recorded it.
        audited = server.cli("audit", "search", "--key", bot_key.api_key, "--action", "set-leverage", "--json")
        events = [json.loads(line) for line in audited.stdout.splitlines()]
        assert [(e["action"], e["target"], e["details"], e["result"]) for e in events] == [
            ("POST /api/v5/account/set-leverage", "BTC-USDT-SWAP",
             {"lever": "3", "mgnMode": "isolated", "posSide": "net"}, "0")] * 2

        # What Keysmith recorded for the bot's key: two closed positions, their orders and fills.
        closed_positions = keysmith.privateGetAccountPositionsHistory({"instType": "SWAP"})["data"]
        history = {p["direction"]: p for p in closed_positions}
        assert len(closed_positions) == 2 and set(history) == {"short", "long"}
        fills = {f["ordId"]: f for f in keysmith.privateGetTradeFillsHistory({"instType": "SWAP"})["data"]}
        orders = {o["ordId"]: o for o in keysmith.privateGetTradeOrdersHistory({"instType": "SWAP"})["data"]}
        assert set(fills) == set(orders) and len(orders) == 4
        assert keysmith.privateGetAccountPositions({"instType": "SWAP"})["data"] == []
        total_pnl = Decimal(0)
        for direction, (opened, trade, settled, positions) in (("short", short), ("long", long)):
            closed = history[direction]
            sign = -1 if direction == "short" else 1
            # The orders freqtrade placed: a sell to open the short (a buy the long), isolated at 3x, one-way, the
            # exit reduce-only; both filled as taker.
            opening, closing = ("sell", "buy") if direction == "short" else ("buy", "sell")
            by_side = {o["ft_order_side"]: o["order_id"] for o in trade["orders"]}
            assert sorted(by_side) == ["buy", "sell"] and len(trade["orders"]) == 2
            entry, exit_ = orders[by_side[opening]], orders[by_side[closing]]
            entry_fill, exit_fill = fills[entry["ordId"]], fills[exit_["ordId"]]
            for order, side, reduce_only in ((entry, opening, "false"), (exit_, closing, "true")):
                assert (order["side"], order["tdMode"], order["posSide"], order["lever"], order["reduceOnly"],
                        order["state"]) == (side, "isolated", "net", "3", reduce_only, "filled"), order
            assert entry_fill["execType"] == exit_fill["execType"] == "T"
            contracts = Decimal(entry_fill["fillSz"])
            assert contracts == Decimal(exit_fill["fillSz"]) == 1

            # The open position as Keysmith listed it, and freqtrade's liquidation price, which is its liqPx.
            [position] = positions
            assert (position["mgnMode"], position["posSide"], position["lever"]) == ("isolated", "net", "3")
            assert Decimal(position["pos"]) == sign * contracts and Decimal(position["margin"]) == 100
            assert opened["liquidation_price"] == float(position["liqPx"]) and opened["is_open"]
            assert opened["stake_amount"] == trade["stake_amount"] == 100

            # Funding was settled with a non-zero rate while the position was open: a long pays its notional at the
            # mark times the rate and a short receives it (exact here: 300 USDT x 0.01 %, no rounding).
            [settlement] = settled
            funding_rate, mark = Decimal(settlement["fundingRate"]), Decimal(settlement["markPx"])
            assert funding_rate != 0, settled
            assert Decimal(closed["fundingFee"]) == -sign * contracts * CONTRACT * mark * funding_rate != 0, closed

            # freqtrade's closed trade: Keysmith's prices, size, leverage, direction, fees, funding and profit.
            assert trade["exit_reason"] == "force_exit" and trade["is_open"] is False
            assert trade["is_short"] is (direction == "short")
            assert trade["leverage"] == 3 and closed["lever"] == "3"
            assert Decimal(str(trade["open_rate"])) == Decimal(entry_fill["fillPx"]) == Decimal(closed["openAvgPx"])
            assert Decimal(str(trade["close_rate"])) == Decimal(exit_fill["fillPx"]) == Decimal(closed["closeAvgPx"])
            assert Decimal(str(trade["amount"])) == contracts * CONTRACT
            entry_fee, exit_fee = -Decimal(entry["fee"]), -Decimal(exit_["fee"])
            assert entry_fee == TAKER * contracts * CONTRACT * Decimal(entry_fill["fillPx"])
            assert trade["fee_open"] == float(entry_fee / (contracts * CONTRACT * Decimal(entry_fill["fillPx"])))
            assert exit_fee == TAKER * contracts * CONTRACT * Decimal(exit_fill["fillPx"])
            assert Decimal(str(trade["fee_close_cost"])) == exit_fee and trade["fee_close"] == float(TAKER)
            assert Decimal(str(trade["funding_fees"])) == Decimal(closed["fundingFee"])
            assert Decimal(closed["pnl"]) == sign * contracts * CONTRACT * (
                Decimal(exit_fill["fillPx"]) - Decimal(entry_fill["fillPx"]))
            assert Decimal(closed["realizedPnl"]) == (
                Decimal(closed["pnl"]) + Decimal(closed["fee"]) + Decimal(closed["fundingFee"]))
            assert Decimal(closed["fee"]) == -(entry_fee + exit_fee)
            assert Decimal(str(trade["close_profit_abs"])) == Decimal(closed["realizedPnl"]), (trade, closed)
            total_pnl += Decimal(closed["realizedPnl"])

        # Short 30000 -> 29900 and long 30000 -> 30100 make 1 USDT each, less 0.15 + 0.1495 and 0.15 + 0.1505 of
        # fees; the short received the funding the long paid. freqtrade's balance is Keysmith's.
        assert total_pnl == Decimal("1.4") and Decimal(str(held)) == 1000 + total_pnl

        bot.expect_no_errors()
    except BaseException:
        print(f"--- freqtrade log ({bot.log_path}) ---\n{bot.log()}")
        raise
    finally:
        bot.stop()
