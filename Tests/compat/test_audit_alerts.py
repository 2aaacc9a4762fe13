"""Audit log and alerts against a real `keysmith` process: tampering caught by `audit verify`, archives that stay
verifiable, signed webhook / Slack / SMTP alerts delivered with retries across a receiver outage and a server crash,
and not one secret in the database, the logs, the audit export or any alert."""
import hashlib
import hmac
import json
import shutil
import signal
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import okx.Account as Account
import pytest
from aiosmtpd.controller import Controller

from conftest import BINARY, Credentials, free_port, start_serve, stop


def wait_for(what, condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def audit_search(server, *args):
    """`keysmith audit search ARGS --json`: one JSON object per line."""
    return [json.loads(line) for line in server.cli("audit", "search", *args, "--json").stdout.splitlines() if line]


def account_api(server, creds: Credentials) -> Account.AccountAPI:
    return Account.AccountAPI(creds.api_key, creds.secret, creds.passphrase, False, "0", domain=server.url, debug=False)


# --- Tamper evidence -----------------------------------------------------------------------------------------

def busy_chain(server, sub_key):
    """A few dozen events: CLI changes, good and bad requests; then a graceful stop, which signs a checkpoint."""
    api = account_api(server, sub_key)
    for _ in range(5):
        assert api.get_account_config()["code"] == "0"
    bad = Account.AccountAPI(sub_key.api_key, sub_key.secret, "Wrong-pass-1", False, "0", domain=server.url, debug=False)
    assert bad.get_account_balance()["code"] == "50105"
    server.cli("apikey", "create", "--subaccount", "bot01trader", "--label", "second", "--ip", "127.0.0.1")
    wait_for("request events", lambda: len(audit_search(server, "--action", "/api/v5/account")) >= 6)
    stop(server.process)


def tampered_copy(server, tmp_path, *statements):
    copy = tmp_path / "tampered"
    shutil.copytree(server.data_dir, copy)
    with sqlite3.connect(copy / "keysmith.sqlite") as db:
        for statement in statements:
            db.execute(statement)
    return copy


def verify(data_dir, *extra):
    import subprocess
    return subprocess.run([str(BINARY), "audit", "verify", "--data-dir", str(data_dir), *extra],
                          capture_output=True, text=True, timeout=60)


def test_intact_chain_verifies(server, sub_key):
    busy_chain(server, sub_key)
    result = verify(server.data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok: ")


@pytest.mark.parametrize("statements, kind, seq", [
    (["UPDATE audit_event SET client_ip = '198.51.100.66' WHERE seq = 5"], "edited", 5),
    (["UPDATE audit_event SET result = '0' WHERE result = '50105'"], "edited", None),
    (["DELETE FROM audit_event WHERE seq = 4"], "deleted", 4),
    (["UPDATE audit_event SET seq = -1 WHERE seq = 6", "UPDATE audit_event SET seq = 6 WHERE seq = 7",
      "UPDATE audit_event SET seq = 7 WHERE seq = -1"], "reordered", 6),
    (["DELETE FROM audit_event WHERE seq > 8", "DELETE FROM audit_checkpoint"], "truncated", None),
])
def test_tampering_in_sqlite_is_caught_and_named(server, sub_key, tmp_path, statements, kind, seq):
    busy_chain(server, sub_key)
    copy = tampered_copy(server, tmp_path, *statements)
    result = verify(copy, "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["kind"] == kind, report
    if seq is not None:
        assert report["seq"] == seq and f"event {seq}" in report["problem"]
    # The failure is itself audited (and raises audit.verify_failed).
    import subprocess
    tail = subprocess.run([str(BINARY), "audit", "search", "--action", "audit.verify", "--json", "--data-dir", str(copy)],
                          capture_output=True, text=True).stdout
    assert '"result":"failed"' in tail


def test_archive_keeps_the_chain_verifiable(server, sub_key, tmp_path):
    busy_chain(server, sub_key)
    before = int(server.cli("audit", "tail", "-n", "1", "--json").stdout.split('"seq":')[1].split(",")[0])
    out = server.cli_json("audit", "archive", "--before", "0s", "--out", str(tmp_path / "archive"))
    assert int(out["events"]) >= before
    archive = out["file"]
    assert server.cli("audit", "tail", "--json").stdout.strip() == ""
    assert verify(server.data_dir).returncode == 0
    assert verify(server.data_dir, "--archive", archive).returncode == 0
    # A line edited in the archive is caught when the archive is verified with the chain.
    lines = open(archive).read().splitlines()
    event = json.loads(lines[2])
    event["actor"] = "someone-else"
    lines[2] = json.dumps(event, separators=(",", ":"), sort_keys=True)
    open(archive, "w").write("\n".join(lines) + "\n")
    result = verify(server.data_dir, "--archive", archive)
    assert result.returncode == 1 and "event 3 was edited" in result.stdout
    # Forging the anchor (pretending fewer events were archived) is caught by its signed checkpoint.
    with sqlite3.connect(server.data_dir / "keysmith.sqlite") as db:
        db.execute("UPDATE audit_anchor SET seq = seq - 1")
    assert verify(server.data_dir).returncode == 1


def test_audit_hash_finds_a_used_passphrase(server, sub_key):
    bad = Account.AccountAPI(sub_key.api_key, sub_key.secret, "Guess-pass-77", False, "0", domain=server.url, debug=False)
    assert bad.get_account_config()["code"] == "50105"
    wait_for("failure audited", lambda: audit_search(server, "--result", "50105"))
    found = server.cli("audit", "hash", "Guess-pass-77").stdout
    assert found.startswith("hmac-sha256:") and "found in events" in found
    assert "not found" in server.cli("audit", "hash", "Never-used-1").stdout


# --- Alert receivers -----------------------------------------------------------------------------------------

class Receiver:
    """A local HTTP receiver that records every POST; `fail` makes it answer 503."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.requests = []
        self.fail = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((self.path, dict(self.headers), body))
                self.send_response(503 if receiver.fail else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def bodies(self, path):
        return [json.loads(body) for p, _, body in self.requests if p == path]


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


def verify_signature(secret, headers, body, tolerance=300):
    parts = dict(part.split("=", 1) for part in headers["Keysmith-Signature"].split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - timestamp) <= tolerance


@pytest.fixture()
def alerting(server):
    """The server restarted with fast retries, plus a webhook receiver, a Slack receiver and an SMTP server."""
    stop(server.process)
    extra = ("--alert-retry-base", "200ms", "--alert-max-attempts", "4", "--alert-auth-failures", "3/60s",
             "--alert-timeout", "1s", "--audit-checkpoint-interval", "1s")
    server.process = start_serve(server.data_dir, server.port, server.log_path, *extra)
    receiver = Receiver()
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    webhook = server.cli("alerts", "add", "webhook", "--name", "ops", "--url", f"http://127.0.0.1:{receiver.port}/hook").stdout
    secret = webhook.split("signing secret")[1].split(": ", 1)[1].strip()
    server.cli("alerts", "add", "slack", "--url", f"http://127.0.0.1:{receiver.port}/services/T1/B2/tokentoken",
               "--events", "key.created,key.revoked")
    server.cli("alerts", "add", "email", "--to", "ops@example.com", "--from", "keysmith@example.com",
               "--smtp", f"127.0.0.1:{smtp.port}", "--events", "key.created")
    try:
        yield server, receiver, mailbox, secret, extra
    finally:
        smtp.stop()
        receiver.stop()


def test_alerts_reach_webhook_slack_and_email_signed_and_without_secrets(alerting):
    server, receiver, mailbox, secret, _ = alerting
    created = server.cli_json("apikey", "create", "--subaccount", "bot01trader", "--label", "bot", "--perm", "read_only,trade")
    hooks = wait_for("webhook alert", lambda: [b for b in receiver.bodies("/hook") if b["type"] == "key.created"])
    path, headers, raw = next(r for r in receiver.requests if r[0] == "/hook" and b'"key.created"' in r[2])
    assert verify_signature(secret, headers, raw)
    assert not verify_signature(secret, headers, raw + b" ")
    assert not verify_signature("whsec_wrong", headers, raw)
    assert headers["Keysmith-Event"] == "key.created" and headers["Keysmith-Delivery"].startswith("alert-")
    assert hooks[0]["event"]["target"] == created["apiKey"] and hooks[0]["event"]["actor"].startswith("cli:")
    slack = wait_for("slack alert", lambda: receiver.bodies("/services/T1/B2/tokentoken"))
    assert "key.created" in slack[0]["text"] and created["apiKey"] in slack[0]["text"]
    mail = wait_for("email alert", lambda: mailbox.messages)
    assert mail[0][1] == ["ops@example.com"] and "Subject: [Keysmith] key.created" in mail[0][2]
    assert created["apiKey"] in mail[0][2]
    everything = b"".join(body for _, _, body in receiver.requests).decode() + "".join(m[2] for m in mailbox.messages)
    assert created["secretKey"] not in everything and created["passphrase"] not in everything
    listing = server.cli("alerts", "list").stdout
    assert "tokentoken" not in listing and secret not in listing and "127.0.0.1" in listing
    status = {row["sink"]: row for row in server.cli_json("alerts", "status")}
    assert status["ops"]["delivered"] >= 1 and status["email"]["delivered"] == 1


def test_alerts_survive_a_receiver_outage_and_a_server_crash(alerting):
    server, receiver, mailbox, secret, extra = alerting
    key = server.cli_json("apikey", "create", "--subaccount", "bot01trader", "--label", "doomed")
    wait_for("creation alert", lambda: [b for b in receiver.bodies("/hook") if b["type"] == "key.created"])
    receiver.fail = True
    server.cli("apikey", "revoke", key["apiKey"])

    def failing():
        ops = {row["sink"]: row for row in server.cli_json("alerts", "status")}["ops"]
        return ops["pending"] >= 1 and "503" in ops["lastError"]
    wait_for("a failed attempt", failing)
    # Crash the server while the alert waits for its retry, then bring everything back.
    server.expect_exit()
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    receiver.fail = False
    server.process = start_serve(server.data_dir, server.port, server.log_path, *extra)
    revoked = wait_for("revocation alert after restart",
                       lambda: [b for b in receiver.bodies("/hook") if b["type"] == "key.revoked"])
    assert revoked[0]["event"]["target"] == key["apiKey"]
    ids = [h["Keysmith-Delivery"] for p, h, b in receiver.requests if p == "/hook" and b'"key.revoked"' in b]
    assert len(set(ids)) == 1  # retries of one alert carry one delivery id, for receivers to de-duplicate


def test_dead_receiver_is_dead_lettered_and_can_be_retried(alerting):
    server, receiver, _, _, _ = alerting
    dead_port = free_port()
    server.cli("alerts", "add", "webhook", "--name", "dead", "--url", f"http://127.0.0.1:{dead_port}/x", "--events", "all")
    server.cli("alerts", "test", "dead")

    def dead():
        return {row["sink"]: row for row in server.cli_json("alerts", "status")}["dead"]["dead"] == 1
    wait_for("dead letter after 4 attempts", dead)
    assert "dead" in server.cli("alerts", "status").stdout
    late = Receiver(dead_port)
    try:
        assert "queued 1" in server.cli("alerts", "retry", "dead").stdout
        wait_for("delivery after retry", lambda: late.bodies("/x"))
        assert late.bodies("/x")[0]["type"] == "test"
    finally:
        late.stop()


def test_security_events_alert(alerting):
    server, receiver, _, _, _ = alerting
    reader = server.cli_json("apikey", "create", "--subaccount", "bot01trader", "--label", "reader", "--perm", "read_only")
    creds = Credentials(reader["apiKey"], reader["secretKey"], reader["passphrase"])
    import okx.SubAccount as SubAccount
    sub = SubAccount.SubAccountAPI(creds.api_key, creds.secret, creds.passphrase, False, "0", domain=server.url, debug=False)
    assert sub.reset_subaccount_apikey(subAcct="bot01trader", apiKey=creds.api_key, label="x")["code"] == "50120"
    bad = Account.AccountAPI(creds.api_key, creds.secret, "Wrong-pass-1", False, "0", domain=server.url, debug=False)
    for _ in range(3):
        assert bad.get_account_config()["code"] == "50105"
    assert account_api(server, creds).get_account_config()["code"] == "0"
    kinds = lambda: {b["type"] for b in receiver.bodies("/hook")}
    wait_for("security alerts", lambda: {"permission.denied", "auth.failure_burst", "key.new_ip"} <= kinds())


def test_no_secret_anywhere(alerting):
    server, receiver, mailbox, secret, _ = alerting
    made = [server.cli_json("apikey", "create", "--subaccount", "bot01trader", "--label", f"k{i}") for i in range(3)]
    for key in made:
        good = Account.AccountAPI(key["apiKey"], key["secretKey"], key["passphrase"], False, "0", domain=server.url, debug=False)
        assert good.get_account_config()["code"] == "0"
        wrong = Account.AccountAPI(key["apiKey"], key["secretKey"], key["passphrase"] + "x", False, "0", domain=server.url, debug=False)
        assert wrong.get_account_balance()["code"] == "50105"
        forged = Account.AccountAPI(key["apiKey"], "0" * 32, key["passphrase"], False, "0", domain=server.url, debug=False)
        assert forged.get_account_balance()["code"] == "50113"
    wait_for("alerts delivered", lambda: len([b for b in receiver.bodies("/hook") if b["type"] == "key.created"]) >= 3)
    wait_for("requests audited", lambda: len(audit_search(server, "--result", "50105")) >= 3)
    stop(server.process)  # flushes the audit queue and the WAL
    secrets = [s for key in made for s in (key["secretKey"], key["passphrase"], key["passphrase"] + "x")]
    secrets += [server.master.secret, server.master.passphrase, secret]
    haystacks = {
        "database": b"".join(p.read_bytes() for p in server.data_dir.glob("keysmith.sqlite*")),
        "log": server.log_path.read_bytes(),
        "audit export": server.cli("audit", "tail", "-n", "100000", "--json").stdout.encode(),
        "alerts": b"".join(body for _, _, body in receiver.requests) + "".join(m[2] for m in mailbox.messages).encode(),
    }
    for name, haystack in haystacks.items():
        for value in secrets:
            assert value.encode() not in haystack, f"a secret is in the {name}"
