"""HTTPS and WSS: `keysmith tls init` makes a local CA and a server certificate, `serve --tls-cert/--tls-key` serves
REST and the WebSocket API over TLS on its one port. python-okx's WebSocket client (which only connects to wss://)
and its REST client trust the CA through SSL_CERT_FILE; ccxt (async, REST and WebSocket) through its `cafile`."""
import asyncio
import json
import ssl
import time
import urllib.request

import ccxt.pro
import pytest

import okx.Account as Account
import okx.Funding as Funding
import okx.Trade as Trade
from okx.websocket.WsPrivateAsync import WsPrivateAsync
from okx.websocket.WsPublicAsync import WsPublicAsync

from conftest import SUITE_SERVE_FLAGS, Credentials, start_serve, stop

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture()
def tls(server, monkeypatch):
    """The suite's server restarted with a certificate from `keysmith tls init`; the CA trusted through
    SSL_CERT_FILE for this test's clients."""
    files = server.cli_json("tls", "init")
    assert files["caCreated"] and files["hosts"] == ["localhost", "127.0.0.1", "::1"]
    # Run again: a new server certificate under the same CA.
    again = server.cli_json("tls", "init")
    assert not again["caCreated"] and again["caCert"] == files["caCert"]
    stop(server.process)
    database = ["--database", server.database] if server.database else []
    server.process = start_serve(
        server.data_dir, server.port, server.log_path, *database, *SUITE_SERVE_FLAGS, "--tls-cert", again["cert"], "--tls-key", again["key"],
        ca=again["caCert"])
    monkeypatch.setenv("SSL_CERT_FILE", again["caCert"])
    return again


def funded_key(server) -> Credentials:
    """A trading key of bot01trader whose trading account holds 500 USDT (moved there over HTTPS)."""
    out = server.cli_json("apikey", "create", "--subaccount", "bot01trader", "--label", "tls", "--perm", "read_only,trade",
                          "--ip", "127.0.0.1", "--rate-limit", "unlimited")
    server.cli("deposit", "--account", "bot01trader", "--ccy", "USDT", "--amt", "500")
    creds = Credentials(out["apiKey"], out["secretKey"], out["passphrase"])
    funding = Funding.FundingAPI(creds.api_key, creds.secret, creds.passphrase, False, "0", domain=f"https://127.0.0.1:{server.port}", debug=False)
    assert funding.funds_transfer("USDT", "500", "6", "18")["code"] == "0"
    return creds


def test_plain_http_is_refused_and_the_certificate_is_checked(server, tls):
    https = f"https://127.0.0.1:{server.port}/api/v5/public/time"
    with urllib.request.urlopen(https, context=ssl.create_default_context(cafile=tls["caCert"]), timeout=5) as r:
        assert json.loads(r.read())["code"] == "0"
    # Without the CA the certificate is not trusted; plain HTTP gets no HTTP answer.
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(https, context=ssl.create_default_context(cafile=None, capath="/nonexistent"), timeout=5)
    with pytest.raises(Exception):
        urllib.request.urlopen(f"http://127.0.0.1:{server.port}/api/v5/public/time", timeout=5)
    # The server is still serving.
    with urllib.request.urlopen(https, context=ssl.create_default_context(cafile=tls["caCert"]), timeout=5) as r:
        assert r.status == 200


def test_python_okx_rest_and_websocket_over_tls(server, tls):
    creds = funded_key(server)
    base = f"https://127.0.0.1:{server.port}"
    account = Account.AccountAPI(creds.api_key, creds.secret, creds.passphrase, False, "0", domain=base, debug=False)
    trade = Trade.TradeAPI(creds.api_key, creds.secret, creds.passphrase, False, "0", domain=base, debug=False)
    assert account.get_account_balance()["data"][0]["details"][0]["availBal"] == "500"

    async def run():
        received: list[dict] = []

        def collect(message: str):
            if message != "pong":
                received.append(json.loads(message))

        async def until(check, timeout=15):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                found = [m for m in received if check(m)]
                if found:
                    return found[0]
                await asyncio.sleep(0.05)
            raise AssertionError(f"not received; got {received[-5:]}")

        public = WsPublicAsync(url=f"wss://127.0.0.1:{server.port}/ws/v5/public")
        public_task = await public.start()
        assert public.websocket is not None, "python-okx could not connect over wss://"
        await public.subscribe([{"channel": "tickers", "instId": "BTC-USDT"}], callback=collect)
        ticker = await until(lambda m: m.get("arg", {}).get("channel") == "tickers" and "data" in m)
        assert ticker["data"][0]["instId"] == "BTC-USDT"

        private = WsPrivateAsync(creds.api_key, creds.passphrase, creds.secret, url=f"wss://127.0.0.1:{server.port}/ws/v5/private")
        private_task = await private.start()
        assert private.websocket is not None
        # python-okx logs in, waits, then subscribes without reading the login's answer.
        await private.subscribe([{"channel": "account"}, {"channel": "orders", "instType": "ANY"}], callback=collect)
        await until(lambda m: m.get("event") == "login" and m.get("code") == "0")
        await until(lambda m: m.get("arg", {}).get("channel") == "account" and m.get("eventType") == "snapshot")

        placed = trade.place_order(instId="BTC-USDT", tdMode="cash", side="buy", ordType="limit", px="100", sz="1")
        assert placed["code"] == "0", placed
        ord_id = placed["data"][0]["ordId"]
        pushed = await until(lambda m: m.get("arg", {}).get("channel") == "orders" and m.get("data", [{}])[0].get("ordId") == ord_id)
        assert pushed["data"][0]["state"] == "live" and pushed["data"][0]["px"] == "100"
        balance = await until(lambda m: m.get("arg", {}).get("channel") == "account" and m.get("eventType") == "event_update")
        assert balance["data"][0]["details"][0]["frozenBal"] == "100"

        # Cancel over the WebSocket, with python-okx's trading call.
        await private.cancel_order([{"instId": "BTC-USDT", "ordId": ord_id}], id="c1")
        answer = await until(lambda m: m.get("op") == "cancel-order")
        assert answer["id"] == "c1" and answer["code"] == "0" and answer["data"][0]["ordId"] == ord_id, answer
        assert trade.get_order(instId="BTC-USDT", ordId=ord_id)["data"][0]["state"] == "canceled"

        await public.stop()
        await private.stop()
        for task in (public_task, private_task):
            try:
                await asyncio.wait_for(task, 5)
            except Exception:
                pass

    asyncio.run(run())


def test_ccxt_over_tls(server, tls):
    creds = funded_key(server)

    async def run():
        ex = ccxt.pro.okx({"apiKey": creds.api_key, "secret": creds.secret, "password": creds.passphrase, "cafile": tls["caCert"]})
        ex.urls["api"]["rest"] = f"https://127.0.0.1:{server.port}"
        ex.urls["api"]["ws"] = f"wss://127.0.0.1:{server.port}/ws/v5"
        try:
            balance = await ex.fetch_balance()
            assert balance["USDT"]["free"] == 500
            watched = await asyncio.wait_for(ex.watch_balance(), 10)
            assert watched["USDT"]["free"] == 500
            # ccxt's watch_* return the next update: watch first, then place.
            watching = asyncio.ensure_future(ex.watch_orders("BTC/USDT"))
            await asyncio.sleep(0.5)
            order = await ex.create_order("BTC/USDT", "limit", "buy", 1, 100)
            seen = await asyncio.wait_for(watching, 10)
            assert any(o["id"] == order["id"] and o["status"] == "open" for o in seen), seen
            await ex.cancel_order(order["id"], "BTC/USDT")
        finally:
            await ex.close()

    asyncio.run(run())
