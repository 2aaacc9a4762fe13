"""python-okx 0.4.4, unmodified, against a real `keysmith serve` process (flag "0" = live)."""
import json
import signal
import time

import pytest

import okx.Account as Account
import okx.PublicData as PublicData
import okx.SubAccount as SubAccount
import okx.utils

from conftest import Credentials

# Every test here runs on SQLite and, when the test script started PostgreSQL, on a PostgreSQL-backed server.
pytestmark = pytest.mark.usefixtures("backend")

SUB = "bot01trader"


def account_api(server, creds: Credentials, flag: str = "0") -> Account.AccountAPI:
    return Account.AccountAPI(creds.api_key, creds.secret, creds.passphrase, False, flag, domain=server.url, debug=False)


def subaccount_api(server, creds: Credentials) -> SubAccount.SubAccountAPI:
    return SubAccount.SubAccountAPI(creds.api_key, creds.secret, creds.passphrase, False, "0", domain=server.url, debug=False)


def test_public_time(server):
    api = PublicData.PublicAPI(flag="0", domain=server.url, debug=False)
    reply = api.get_system_time()
    assert reply["code"] == "0"
    assert abs(int(reply["data"][0]["ts"]) - time.time() * 1000) < 60_000


def test_account_config_and_balance_with_a_subaccount_key(server, sub_key):
    api = account_api(server, sub_key)
    config = api.get_account_config()
    assert config["code"] == "0", config
    item = config["data"][0]
    assert item["perm"] == "read_only,trade"
    assert item["ip"] == "127.0.0.1,::1"
    assert item["label"] == "platform"
    assert item["posMode"] == "net_mode"
    assert item["acctLv"] == "2"
    assert item["mainUid"] != item["uid"]
    balance = api.get_account_balance()
    assert balance["code"] == "0", balance
    assert balance["data"][0]["totalEq"] == "0"
    assert isinstance(balance["data"][0]["details"], list)
    # python-okx's query string form (unencoded, ccy=...) is signed and accepted too.
    assert api.get_account_balance(ccy="USDT")["code"] == "0"


def test_subaccount_key_lifecycle_with_the_master_key(server):
    sub = subaccount_api(server, server.master)
    listed = sub.get_subaccount_list()
    assert listed["code"] == "0", listed
    assert [s["subAcct"] for s in listed["data"]] == [SUB]

    created = sub._request_with_params(
        "POST", "/api/v5/users/subaccount/apikey",
        {"subAcct": SUB, "label": "bot", "passphrase": "Bot-pass-123", "perm": "read_only,trade", "ip": "127.0.0.1"},
    )
    assert created["code"] == "0", created
    item = created["data"][0]
    key = Credentials(item["apiKey"], item["secretKey"], "Bot-pass-123")
    assert len(key.secret) == 32 and key.secret == key.secret.upper()
    assert account_api(server, key).get_account_config()["code"] == "0"

    queried = sub._request_with_params("GET", "/api/v5/users/subaccount/apikey", {"subAcct": SUB})
    assert queried["code"] == "0", queried
    assert [k["apiKey"] for k in queried["data"]] == [key.api_key]
    assert "secretKey" not in queried["data"][0]

    reset = sub.reset_subaccount_apikey(SUB, key.api_key, label="bot-renamed", perm="read_only", ip="127.0.0.1,::1")
    assert reset["code"] == "0", reset
    assert reset["data"][0]["perm"] == "read_only"
    config = account_api(server, key).get_account_config()["data"][0]
    assert config["label"] == "bot-renamed" and config["perm"] == "read_only"

    deleted = sub._request_with_params("POST", "/api/v5/users/subaccount/delete-apikey", {"subAcct": SUB, "apiKey": key.api_key})
    assert deleted["code"] == "0", deleted
    assert account_api(server, key).get_account_config()["code"] == "50111"


def test_create_subaccount_with_the_master_key(server):
    sub = subaccount_api(server, server.master)
    created = sub._request_with_params("POST", "/api/v5/users/subaccount/create-subaccount", {"subAcct": "newsub2024", "label": "x"})
    assert created["code"] == "0", created
    assert "newsub2024" in [s["subAcct"] for s in sub.get_subaccount_list()["data"]]


# --- Failures: each returns OKX's code, and the server keeps serving. ---

def test_wrong_passphrase_is_50105(server, sub_key):
    wrong = Credentials(sub_key.api_key, sub_key.secret, "Wrong-pass-1")
    assert account_api(server, wrong).get_account_config()["code"] == "50105"


def test_bad_signature_is_50113(server, sub_key):
    forged = Credentials(sub_key.api_key, "0" * 32, sub_key.passphrase)
    assert account_api(server, forged).get_account_config()["code"] == "50113"


def test_expired_timestamp_is_50102(server, sub_key, monkeypatch):
    monkeypatch.setattr(okx.utils, "get_timestamp", lambda: "2020-12-08T09:08:57.715Z")
    reply = account_api(server, sub_key).get_account_config()
    assert reply["code"] == "50102", reply


def test_ip_not_allowed_is_50110(server):
    out = server.cli_json("apikey", "create", "--subaccount", SUB, "--label", "far-away", "--ip", "203.0.113.7")
    reply = account_api(server, Credentials(out["apiKey"], out["secretKey"], out["passphrase"])).get_account_config()
    assert reply["code"] == "50110", reply
    assert "127.0.0.1" in reply["msg"]


def test_missing_permission_is_50120(server):
    out = server.cli_json("apikey", "create", "--subaccount", SUB, "--label", "reader", "--perm", "read_only")
    reader = subaccount_api(server, Credentials(out["apiKey"], out["secretKey"], out["passphrase"]))
    reply = reader._request_with_params(
        "POST", "/api/v5/users/subaccount/apikey", {"subAcct": SUB, "label": "x", "passphrase": "Abcdef1!"}
    )
    assert reply["code"] == "50120", reply


def test_demo_flag_on_a_live_key_is_50101(server, sub_key):
    assert account_api(server, sub_key, flag="1").get_account_config()["code"] == "50101"


def test_key_revoked_with_the_cli_is_refused_within_a_second(server):
    # The loop below polls as fast as it can: the key needs no rate limit to measure revocation alone.
    out = server.cli_json("apikey", "create", "--subaccount", SUB, "--label", "polled", "--rate-limit", "unlimited")
    key = Credentials(out["apiKey"], out["secretKey"], out["passphrase"])
    api = account_api(server, key)
    assert api.get_account_config()["code"] == "0"
    server.cli("apikey", "revoke", key.api_key)
    revoked_at = time.monotonic()
    code = "0"
    while code == "0" and time.monotonic() - revoked_at < 10:
        code = api.get_account_config()["code"]
    assert code == "50111"
    assert time.monotonic() - revoked_at < 1.0 + 0.5  # the poll interval is 250 ms; generous for a loaded machine


def test_sub_account_key_cannot_manage_keys_59500(server, sub_key):
    reply = subaccount_api(server, sub_key).get_subaccount_list()
    assert reply["code"] == "59500", reply


def test_server_keeps_serving_and_never_logs_secrets(server, sub_key):
    for creds in [Credentials(sub_key.api_key, sub_key.secret, "Wrong-pass-1"), Credentials(sub_key.api_key, "1" * 32, sub_key.passphrase)]:
        account_api(server, creds).get_account_config()
    assert account_api(server, sub_key).get_account_config()["code"] == "0"
    logs = server.logs()
    assert "path=/api/v5/account/config" in logs
    for secret in [sub_key.secret, sub_key.passphrase, server.master.secret, server.master.passphrase, "Wrong-pass-1"]:
        assert secret not in logs


def test_graceful_shutdown_on_sigterm(server):
    server.expect_exit()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=15) == 0


# --- Rate limits and replay protection ---

def test_per_key_rate_limit_answers_50011(server):
    # 2 per minute: the third call inside the minute is refused whatever the machine's speed.
    out = server.cli_json("apikey", "create", "--subaccount", SUB, "--label", "slow", "--rate-limit", "2/m")
    api = account_api(server, Credentials(out["apiKey"], out["secretKey"], out["passphrase"]))
    assert [api.get_account_config()["code"] for _ in range(3)] == ["0", "0", "50011"]


def test_identical_signed_post_is_a_replay_50042(server, monkeypatch):
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc)
    frozen = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    monkeypatch.setattr(okx.utils, "get_timestamp", lambda: frozen)
    sub = subaccount_api(server, server.master)
    first = sub._request_with_params("POST", "/api/v5/users/subaccount/create-subaccount", {"subAcct": "replay2024"})
    second = sub._request_with_params("POST", "/api/v5/users/subaccount/create-subaccount", {"subAcct": "replay2024"})
    assert (first["code"], second["code"]) == ("0", "50042")
    monkeypatch.undo()
    # A fresh timestamp is a new request: it reaches the handler (which reports the duplicate name).
    assert sub._request_with_params("POST", "/api/v5/users/subaccount/create-subaccount", {"subAcct": "replay2024"})["code"] == "50071"


def test_repeated_failures_lock_out_the_ip(server, sub_key):
    wrong = account_api(server, Credentials(sub_key.api_key, sub_key.secret, "Wrong-pass-1"))
    codes = [wrong.get_account_config()["code"] for _ in range(21)]
    assert codes[:20] == ["50105"] * 20 and codes[20] == "50011"
    # From 127.0.0.1 now even the right passphrase waits for the cool-down.
    assert account_api(server, sub_key).get_account_config()["code"] == "50011"


# --- Last use, self-introspection and expiry ---

def test_self_introspection_and_last_use_survive_a_restart(server, sub_key):
    api = account_api(server, sub_key)
    reply = api._request_with_params("GET", "/api/v5/users/self/apikey", {})
    assert reply["code"] == "0", reply
    item = reply["data"][0]
    assert item["apiKey"] == sub_key.api_key and item["subAcct"] == SUB and item["perm"] == "read_only,trade"
    assert item["expTime"] == "" and item["lastUsedIp"] == "127.0.0.1"
    # Last use is written in batches and on graceful shutdown: after SIGTERM the CLI sees it.
    server.expect_exit()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=15) == 0
    listed = next(k for k in server.cli_json("apikey", "list") if k["apiKey"] == sub_key.api_key)
    assert listed["lastUsedAt"] == item["lastUsedTs"] and listed["lastUsedIp"] == "127.0.0.1"
    assert sub_key.secret not in json.dumps(listed)


def test_unbound_trade_key_shows_its_inactivity_expiry(server):
    out = server.cli_json("apikey", "create", "--subaccount", SUB, "--label", "unbound", "--perm", "read_only,trade")
    key = Credentials(out["apiKey"], out["secretKey"], out["passphrase"])
    item = account_api(server, key)._request_with_params("GET", "/api/v5/users/self/apikey", {})["data"][0]
    assert item["expiryReason"] == "inactivity"
    assert int(item["expTime"]) - int(item["lastUsedTs"]) == 14 * 86_400_000


# --- Ed25519 keys ---

def test_ed25519_key_signed_by_python_cryptography(server, tmp_path, monkeypatch):
    import base64
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private_key = Ed25519PrivateKey.generate()
    pem = private_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "ed.pub").write_bytes(pem)
    out = server.cli_json("apikey", "create", "--subaccount", SUB, "--label", "ed", "--ed25519-public-key", str(tmp_path / "ed.pub"),
                          "--passphrase", "Ed-pass-1234")
    assert out["algorithm"] == "ed25519" and out["secretKey"] == ""
    # python-okx signs through okx.utils.sign(message, secret): swap in Ed25519 over the same prehash.
    monkeypatch.setattr(okx.utils, "sign", lambda message, secret: base64.b64encode(private_key.sign(message.encode())))
    api = Account.AccountAPI(out["apiKey"], "unused", "Ed-pass-1234", False, "0", domain=server.url, debug=False)
    reply = api.get_account_config()
    assert reply["code"] == "0", reply
    assert reply["data"][0]["label"] == "ed"
    assert api.get_account_balance(ccy="USDT")["code"] == "0"
    other = Ed25519PrivateKey.generate()
    monkeypatch.setattr(okx.utils, "sign", lambda message, secret: base64.b64encode(other.sign(message.encode())))
    assert api.get_account_config()["code"] == "50113"


def test_scannable_secret_works_with_python_okx(server):
    out = server.cli_json("apikey", "create", "--subaccount", SUB, "--label", "scannable", "--format", "scannable")
    assert out["secretKey"].startswith("ks_")
    assert account_api(server, Credentials(out["apiKey"], out["secretKey"], out["passphrase"])).get_account_config()["code"] == "0"


def test_rotation_flow_with_python_okx(server):
    out = server.cli_json("apikey", "create", "--subaccount", SUB, "--label", "rotating", "--perm", "read_only,trade",
                          "--ip", "127.0.0.1", "--passphrase", "Rot-pass-123", "--rate-limit", "unlimited")
    old = account_api(server, Credentials(out["apiKey"], out["secretKey"], "Rot-pass-123"))
    assert old.get_account_config()["code"] == "0"
    rotated = server.cli_json("apikey", "rotate", out["apiKey"], "--grace", "0m")
    new = account_api(server, Credentials(rotated["apiKey"], rotated["secretKey"], "Rot-pass-123"))
    config = new.get_account_config()
    assert config["code"] == "0", config
    assert config["data"][0]["label"] == "rotating-r2" and config["data"][0]["perm"] == "read_only,trade"
    # Grace 0: the old key stops at once (within the cache's refresh interval).
    deadline = time.monotonic() + 5
    code = old.get_account_config()["code"]
    while code == "0" and time.monotonic() < deadline:
        code = old.get_account_config()["code"]
    assert code == "50111"
