"""freqtrade (a real trading bot, unmodified, in its own venv made by scripts/freqtrade-venv) live-trading BTC/USDT
on a real `keysmith` process through ccxt's okx class with only the REST URL changed: it starts, shows the balance
Keysmith holds, and a trade forced through its REST API opens and closes at the prices, amount and fees Keysmith's
ledger recorded."""
import base64
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from pathlib import Path

import ccxt
import pytest

from conftest import Credentials, free_port

VENV = os.environ.get("KEYSMITH_FREQTRADE_VENV", "")
pytestmark = pytest.mark.skipif(not VENV, reason="KEYSMITH_FREQTRADE_VENV is not set: make the venv with "
                                "scripts/freqtrade-venv and pass its path (the last line it prints)")
HERE = Path(__file__).resolve().parent / "freqtrade"  # config.json (static settings), never_signals.py (strategy)
# A line of freqtrade's log file: "2026-01-02 03:04:05,678 - freqtrade.module - LEVEL - message".
FT_ERROR_LINE = re.compile(r"^\S+ \S+ - \S+ - (ERROR|CRITICAL) - ")
TAKER = Decimal("0.001")  # Keysmith's default fee schedule: OKX's Lv1 spot taker rate (maker: 0.0008)


def okx(server, creds: Credentials) -> ccxt.okx:
    ex = ccxt.okx({"apiKey": creds.api_key, "secret": creds.secret, "password": creds.passphrase})
    ex.urls["api"]["rest"] = server.url
    return ex


def fund(server, name: str, creds: Credentials, **amounts: str) -> ccxt.okx:
    """Deposits `amounts` (ccy=amount) into sub-account `name` and moves them to its trading account."""
    ex = okx(server, creds)
    for ccy, amount in amounts.items():
        server.cli("deposit", "--account", name, "--ccy", ccy, "--amt", amount)
        ex.transfer(ccy, float(amount), "funding", "trading")
    return ex


class Bot:
    """`freqtrade trade` as a subprocess, and its REST API."""

    def __init__(self, server, creds: Credentials, tmp_path: Path):
        self.port = free_port()
        self.auth = "Basic " + base64.b64encode(b"keysmith:Compat-pass-1").decode()
        self.log_path = tmp_path / "freqtrade.log"
        user_dir = tmp_path / "user_data"
        user_dir.mkdir()
        # Only the REST URL changes: freqtrade deep-merges `ccxt_config` into the constructor arguments of both of
        # its ccxt clients (the sync one places and reads orders, the async one fetches candles), and ccxt
        # deep-merges those into okx's `urls`. `ccxt_async_config` would apply to the async client only.
        rest = {"urls": {"api": {"rest": server.url}}}
        secrets = {
            "exchange": {"name": "okx", "key": creds.api_key, "secret": creds.secret, "password": creds.passphrase,
                         "ccxt_config": rest},
            "api_server": {"enabled": True, "listen_ip_address": "127.0.0.1", "listen_port": self.port,
                           "username": "keysmith", "password": "Compat-pass-1",
                           "jwt_secret_key": "keysmith-compat-jwt-secret-0123456789", "CORS_origins": []},
            "db_url": f"sqlite:///{tmp_path / 'trades.sqlite'}",
        }
        (tmp_path / "secrets.json").write_text(json.dumps(secrets))
        self.process = subprocess.Popen(
            [f"{VENV}/bin/freqtrade", "trade", "--config", str(HERE / "config.json"),
             "--config", str(tmp_path / "secrets.json"), "--userdir", str(user_dir), "--logfile", str(self.log_path),
             "--strategy", "NeverSignals", "--strategy-path", str(HERE)],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            # freqtrade leaves logging alone (no --logfile) when it sees pytest's variable.
            env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        )

    def api(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1/{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": self.auth, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def wait_for(self, what: str, probe, deadline_s: float = 60):
        """Polls `probe()` until it returns something truthy; fails after `deadline_s` or if freqtrade exits."""
        deadline = time.monotonic() + deadline_s
        while True:
            assert self.process.poll() is None, f"freqtrade exited with {self.process.returncode} waiting for {what}"
            try:
                if result := probe():
                    return result
            except (OSError, urllib.error.HTTPError):
                pass  # the API is not up yet
            assert time.monotonic() < deadline, f"freqtrade: no {what} after {deadline_s} s"
            time.sleep(0.25)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def expect_no_errors(self) -> None:
        lines = self.log().splitlines()
        # After SIGINT freqtrade aborts its loop; asyncio may then report a ccxt task it never awaited (the REST
        # throttler's looper) as destroyed while pending: the bot's own teardown, not something the server did.
        stopped = next((i for i, line in enumerate(lines) if "SIGINT received" in line), len(lines))
        errors = [
            line for i, line in enumerate(lines)
            if FT_ERROR_LINE.match(line) and not (i > stopped and "Task was destroyed but it is pending" in line)
        ]
        assert not errors, "error lines in freqtrade's log:\n" + "\n".join(errors)

    def stop(self) -> None:
        """SIGINT (freqtrade's clean shutdown, exit status 130), then SIGKILL after 30 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def fee(rate: Decimal, amount: Decimal, unit: str) -> Decimal:
    """Keysmith's fee on what a fill credits: the rate, rounded up to the currency's smallest unit."""
    return (rate * amount).quantize(Decimal(unit), rounding=ROUND_CEILING)


def rate(fee: Decimal, amount: Decimal) -> float:
    """A fee as a rate of what was traded, rounded to 8 decimals as freqtrade does."""
    return float((fee / amount).quantize(Decimal("0.00000001"), rounding=ROUND_HALF_EVEN))


def test_freqtrade_trades_a_round_trip_at_keysmiths_prices_and_fees(server, tmp_path):
    """A trade forced through freqtrade's REST API buys into a resting ask and sells into a resting bid; the closed
    trade's rates, amount and fees are those of Keysmith's fills, orders and ledger."""
    # The bot's key, the way an operator hands one to a platform: trade permission, bound to its IP, a passphrase.
    out = server.cli_json("apikey", "create", "--subaccount", "bot01trader", "--label", "freqtrade",
                          "--perm", "read_only,trade", "--ip", "127.0.0.1", "--passphrase", "Freqtrade-pass-1")
    bot_key = Credentials(out["apiKey"], out["secretKey"], out["passphrase"])
    keysmith = fund(server, "bot01trader", bot_key, USDT="1000")
    server.cli("subaccount", "create", "mm01maker")
    out = server.cli_json("apikey", "create", "--subaccount", "mm01maker", "--label", "maker",
                          "--perm", "read_only,trade", "--ip", "127.0.0.1", "--rate-limit", "unlimited")
    maker = fund(server, "mm01maker", Credentials(out["apiKey"], out["secretKey"], out["passphrase"]),
                 BTC="1", USDT="100000")

    bot = Bot(server, bot_key, tmp_path)
    try:
        bot.wait_for("ping", lambda: bot.api("GET", "ping") == {"status": "pong"})
        bot.wait_for("running state", lambda: bot.api("GET", "show_config")["state"] == "running", deadline_s=30)
        held = keysmith.fetch_balance()["USDT"]["free"]
        assert held == 1000
        balance = bot.wait_for("USDT balance", lambda: next(
            (c for c in bot.api("GET", "balance")["currencies"] if c["currency"] == "USDT"), None))
        assert (balance["free"], balance["balance"]) == (held, held)

        # The maker quotes both sides; the bot's entry, a limit buy at the ask, takes it at once (taker fee, in BTC).
        # 110 USDT buys 0.00366666 BTC, whose fee rounds up (0.00000367). freqtrade subtracts the fee in floats and
        # truncates the result to the lot, which for some sizes keeps one unit less than Keysmith credited (100 USDT:
        # 0.00333333 - 0.00000334 = 0.0033299899999999997, held as 0.00332998); this size has no such float error.
        maker.create_order("BTC/USDT", "limit", "buy", 0.01, 29900)
        maker.create_order("BTC/USDT", "limit", "sell", 0.01, 30000)
        trade_id = bot.api("POST", "forceenter", {"pair": "BTC/USDT", "side": "long", "price": 30000,
                                                  "ordertype": "limit", "stakeamount": 110})["trade_id"]
        opened = bot.wait_for("filled entry", lambda: (t := bot.api("GET", f"trade/{trade_id}"))[
            "nr_of_successful_entries"] == 1 and not t["has_open_orders"] and t["fee_open_currency"] and t, 30)

        # Exit: a limit sell at the maker's new, higher bid, which takes it too (taker fee, in USDT). freqtrade's
        # main loop may not see the exit order the API thread placed, find the BTC gone and recover by reading the
        # trade's orders from the exchange ("Not enough BTC in wallet to exit ... Trying to recover", a warning).
        maker.create_order("BTC/USDT", "limit", "buy", 0.01, 30123.4)
        bot.api("POST", "forceexit", {"tradeid": trade_id, "ordertype": "limit", "price": 30123.4})
        closed = bot.wait_for("closed trade", lambda: (t := bot.api("GET", f"trade/{trade_id}"))[
            "is_open"] is False and t["fee_close_currency"] and t, 30)
        bot.wait_for("USDT balance after the trade", lambda: next(
            c for c in bot.api("GET", "balance")["currencies"] if c["currency"] == "USDT"
        )["free"] == keysmith.fetch_balance()["USDT"]["free"], 30)
        bot.stop()
        assert bot.process.returncode == 130, f"freqtrade exited with {bot.process.returncode} on SIGINT"
        # Both of freqtrade's ccxt clients called Keysmith: the sync one traded, the async one fetched the candles.
        assert "path=/api/v5/market/candles " in server.logs()

        # What Keysmith recorded for the bot's key: its fills, its orders and its ledger lines.
        fills = {f["side"]: f for f in keysmith.privateGetTradeFillsHistory({"instType": "SPOT"})["data"]}
        assert set(fills) == {"buy", "sell"}
        orders = {side: keysmith.privateGetTradeOrder({"instId": "BTC-USDT", "ordId": f["ordId"]})["data"][0]
                  for side, f in fills.items()}
        bills = keysmith.privateGetAccountBills({"instType": "SPOT", "ccy": "BTC"})["data"]
        credited = Decimal(next(b["balChg"] for b in bills if b["ordId"] == fills["buy"]["ordId"]))
        buy_size, buy_px = Decimal(fills["buy"]["fillSz"]), Decimal(fills["buy"]["fillPx"])
        sell_size, sell_px = Decimal(fills["sell"]["fillSz"]), Decimal(fills["sell"]["fillPx"])
        buy_fee, sell_fee = -Decimal(orders["buy"]["fee"]), -Decimal(orders["sell"]["fee"])
        assert (buy_px, sell_px) == (30000, Decimal("30123.4"))
        assert [(f["execType"], f["feeRate"]) for f in (fills["buy"], fills["sell"])] == [("T", "-0.001")] * 2
        assert (orders["buy"]["feeCcy"], orders["sell"]["feeCcy"]) == ("BTC", "USDT")
        assert buy_fee == fee(TAKER, buy_size, "0.00000001") and sell_fee == fee(TAKER, sell_size * sell_px, "0.000001")
        assert credited == buy_size - buy_fee

        # freqtrade's trade: the same orders and prices, the amount Keysmith credited, Keysmith's per-order fees
        # (freqtrade's rates are rounded to 8 decimals).
        assert sorted(o["order_id"] for o in closed["orders"]) == sorted(f["ordId"] for f in fills.values())
        assert closed["exit_reason"] == "force_exit"
        assert (opened["open_rate"], closed["open_rate"], closed["close_rate"]) == (30000, 30000, 30123.4)
        assert opened["amount"] == closed["amount"] == float(credited) == float(sell_size)
        assert keysmith.fetch_balance()["BTC"]["total"] == 0
        assert closed["fee_open_currency"] == "BTC" and closed["fee_open"] == rate(buy_fee, buy_size)
        assert closed["fee_close_currency"] == "USDT" and closed["fee_close_cost"] == float(sell_fee)
        assert closed["fee_close"] == rate(sell_fee, sell_size * sell_px)

        bot.expect_no_errors()
    except BaseException:
        print(f"--- freqtrade log ({bot.log_path}) ---\n{bot.log()}")
        raise
    finally:
        bot.stop()
