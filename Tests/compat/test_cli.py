"""The `keysmith` CLI: JSON output, secrets shown once, clear errors."""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import BINARY


def run(*args, data_dir):
    return subprocess.run([str(BINARY), *args, "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=60)


def test_init_creates_a_private_data_folder_once(tmp_path):
    data = tmp_path / "d"
    first = run("init", "--json", data_dir=data)
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert set(out) == {"uid", "apiKey", "secretKey", "passphrase"}
    assert (data / "master.key").stat().st_mode & 0o777 == 0o600
    assert data.stat().st_mode & 0o777 == 0o700
    again = run("init", data_dir=data)
    assert again.returncode != 0
    assert "already initialised" in again.stderr
    assert "Traceback" not in again.stderr and len(again.stderr.strip().splitlines()) <= 2


def test_apikey_create_list_revoke(tmp_path):
    data = tmp_path / "d"
    run("init", data_dir=data)
    assert run("subaccount", "create", "bot01trader", "--pos-mode", "long_short_mode", "--no-deposits", data_dir=data).returncode == 0
    subs = json.loads(run("subaccount", "list", "--json", data_dir=data).stdout)
    assert subs[0]["subAcct"] == "bot01trader" and subs[0]["posMode"] == "long_short_mode" and subs[0]["canDep"] is False

    created = json.loads(run("apikey", "create", "--subaccount", "bot01trader", "--label", "bot", "--perm", "read_only,trade",
                             "--ip", "10.0.0.0/8,2001:db8::/32", "--json", data_dir=data).stdout)
    assert set(created) >= {"apiKey", "secretKey", "passphrase", "label", "perm", "ip", "subAcct"}
    assert created["algorithm"] == "hmac"
    assert created["ip"] == "10.0.0.0/8,2001:db8::/32" and created["perm"] == "read_only,trade"

    listing = run("apikey", "list", "--json", data_dir=data).stdout
    assert created["apiKey"] in listing
    assert created["secretKey"] not in listing and created["passphrase"] not in listing
    table = run("apikey", "list", data_dir=data).stdout
    assert created["secretKey"] not in table and "bot01trader" in table

    assert run("apikey", "revoke", created["apiKey"], data_dir=data).returncode == 0
    assert created["apiKey"] not in run("apikey", "list", "--json", data_dir=data).stdout
    again = run("apikey", "revoke", created["apiKey"], data_dir=data)
    assert again.returncode != 0 and "59506" in again.stderr


def test_errors_are_one_clear_line(tmp_path):
    data = tmp_path / "d"
    run("init", data_dir=data)
    run("subaccount", "create", "bot01trader", data_dir=data)
    cases = [
        (("apikey", "create", "--subaccount", "bot01trader", "--label", "x", "--passphrase", "weak"), "uppercase"),
        (("apikey", "create", "--subaccount", "bot01trader", "--label", "x", "--perm", "read_only,withdraw"), "withdraw"),
        (("apikey", "create", "--subaccount", "bot01trader", "--label", "x", "--ip", "300.1.1.1"), "300.1.1.1"),
        (("apikey", "create", "--subaccount", "nosuchsub", "--label", "x"), "Sub-account does not exist"),
        (("subaccount", "create", "no"), "6 to 20"),
    ]
    for args, expected in cases:
        result = run(*args, data_dir=data)
        assert result.returncode != 0, args
        assert expected in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr and "Fatal error" not in result.stderr


def test_wrong_master_key_is_refused(tmp_path, monkeypatch):
    data = tmp_path / "d"
    run("init", data_dir=data)
    monkeypatch.setenv("KEYSMITH_MASTER_KEY", "ab" * 32)
    result = run("apikey", "list", data_dir=data)
    assert result.returncode != 0
    assert "master key does not match" in result.stderr


def test_expiry_and_rate_limit_options(tmp_path):
    data = tmp_path / "d"
    run("init", data_dir=data)
    run("subaccount", "create", "bot01trader", data_dir=data)
    created = run("apikey", "create", "--subaccount", "bot01trader", "--label", "temp", "--expires", "2099-01-01",
                  "--rate-limit", "100/s", "--json", data_dir=data)
    assert created.returncode == 0, created.stderr
    keys = json.loads(run("apikey", "list", "--json", data_dir=data).stdout)
    temp = next(k for k in keys if k["label"] == "temp")
    assert temp["expiresAt"] == "4070908800000" and temp["rateLimit"] == "100/s"
    assert "2099-01-01 00:00" in run("apikey", "list", data_dir=data).stdout
    for bad, message in [(("--expires", "2000-01-01"), "past"), (("--expires", "soon"), "--expires"),
                         (("--rate-limit", "fast"), "rateLimit")]:
        result = run("apikey", "create", "--subaccount", "bot01trader", "--label", "bad", *bad, data_dir=data)
        assert result.returncode != 0 and message in result.stderr, result.stderr


def test_modify_and_rotate(tmp_path):
    data = tmp_path / "d"
    run("init", data_dir=data)
    run("subaccount", "create", "bot01trader", data_dir=data)
    key = json.loads(run("apikey", "create", "--subaccount", "bot01trader", "--label", "bot", "--perm", "read_only,trade",
                         "--ip", "192.0.2.1", "--passphrase", "Bot-pass-123", "--json", data_dir=data).stdout)
    modified = run("apikey", "modify", key["apiKey"], "--label", "bot-main", "--no-ip", "--json", data_dir=data)
    assert modified.returncode == 0, modified.stderr
    out = json.loads(modified.stdout)
    # Unbinding widens the key: the label changes at once, the unbinding waits out the cool-down.
    assert out["label"] == "bot-main" and out["ip"] == "192.0.2.1"
    assert out["pending"]["ip"] == "" and int(out["pending"]["effectiveAt"]) - int(out["pending"]["requestedAt"]) == 86_400_000
    assert [p["apiKey"] for p in json.loads(run("apikey", "pending", "--json", data_dir=data).stdout)] == [key["apiKey"]]
    assert run("apikey", "cancel-pending", key["apiKey"], data_dir=data).returncode == 0
    assert json.loads(run("apikey", "pending", "--json", data_dir=data).stdout) == []
    assert "withdraw" in run("apikey", "modify", key["apiKey"], "--perm", "read_only,withdraw", data_dir=data).stderr

    rotated = run("apikey", "rotate", key["apiKey"], "--grace", "2h", "--json", data_dir=data)
    assert rotated.returncode == 0, rotated.stderr
    out = json.loads(rotated.stdout)
    assert out["rotatedFrom"] == key["apiKey"] and out["label"] == "bot-main-r2" and "passphrase" not in out
    assert len(out["secretKey"]) == 32 and out["secretKey"] != key["secretKey"]
    listing = json.loads(run("apikey", "list", "--json", data_dir=data).stdout)
    old = next(k for k in listing if k["apiKey"] == key["apiKey"])
    assert old["expiryReason"] == "explicit" and int(old["expiresAt"]) == int(out["oldKeyExpiresAt"])
    bad = run("apikey", "rotate", key["apiKey"], "--grace", "31d", data_dir=data)
    assert bad.returncode != 0 and "0 to 30 days" in bad.stderr


def test_app_registry(tmp_path):
    data = tmp_path / "d"
    run("init", data_dir=data)
    run("subaccount", "create", "bot01trader", data_dir=data)
    added = run("app", "add", "tradebot", "--ip", "198.51.100.0/28", "--url", "https://tradebot.example", "--json", data_dir=data)
    assert added.returncode == 0, added.stderr
    key = json.loads(run("apikey", "create", "--subaccount", "bot01trader", "--label", "tb", "--app", "tradebot",
                         "--perm", "read_only,trade", "--json", data_dir=data).stdout)
    assert key["ip"] == "198.51.100.0/28"
    updated = json.loads(run("app", "update", "tradebot", "--ip", "203.0.113.0/28", "--json", data_dir=data).stdout)
    assert updated["reboundKeys"] == [key["apiKey"]]
    listed = next(k for k in json.loads(run("apikey", "list", "--json", data_dir=data).stdout) if k["apiKey"] == key["apiKey"])
    assert listed["ip"] == "203.0.113.0/28" and listed["app"] == "tradebot" and listed["purpose"] == "third_party"
    assert json.loads(run("app", "list", "--json", data_dir=data).stdout)[0]["ip"] == "203.0.113.0/28"
    refused = run("app", "remove", "tradebot", data_dir=data)
    assert refused.returncode != 0 and "linked" in refused.stderr
    unknown = run("apikey", "create", "--subaccount", "bot01trader", "--label", "x", "--app", "nope", data_dir=data)
    assert unknown.returncode != 0 and "no app named nope" in unknown.stderr


def test_least_privilege_audit(tmp_path):
    data = tmp_path / "d"
    boot = json.loads(run("init", "--json", data_dir=data).stdout)
    run("subaccount", "create", "bot01trader", data_dir=data)
    narrow = json.loads(run("apikey", "create", "--subaccount", "bot01trader", "--label", "narrow", "--ip", "192.0.2.1",
                            "--json", data_dir=data).stdout)
    risky = json.loads(run("apikey", "create", "--subaccount", "bot01trader", "--label", "risky", "--perm", "read_only,trade",
                           "--json", data_dir=data).stdout)
    findings = json.loads(run("apikey", "audit", "--json", data_dir=data).stdout)
    by_key = {}
    for f in findings:
        by_key.setdefault(f["apiKey"], []).append(f["finding"])
    assert by_key[boot["apiKey"]] == ["withdraw_permission"]
    assert by_key[risky["apiKey"]] == ["unbound_trade_key"]
    assert narrow["apiKey"] not in by_key
    assert all(f["fix"].startswith(("unless", "bind", "revoke", "rotate", "it expires")) for f in findings)
    assert "risky" in run("apikey", "audit", data_dir=data).stdout


def test_keygen_ed25519(tmp_path):
    from cryptography.hazmat.primitives import serialization
    out = tmp_path / "me.pem"
    result = subprocess.run([str(BINARY), "keygen", "ed25519", "--out", str(out), "--json"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    private_key = serialization.load_pem_private_key(out.read_bytes(), password=None)   # standard PKCS#8, readable by OpenSSL tools
    public = serialization.load_pem_public_key((tmp_path / "me.pem.pub").read_bytes())
    assert private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == \
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    again = subprocess.run([str(BINARY), "keygen", "ed25519", "--out", str(out)], capture_output=True, text=True)
    assert again.returncode != 0 and "already exists" in again.stderr


def test_instrument_allowlist_and_spending_limits(tmp_path):
    data = tmp_path / "d"
    run("init", data_dir=data)
    run("subaccount", "create", "bot01trader", data_dir=data)
    created = run("apikey", "create", "--subaccount", "bot01trader", "--label", "spot", "--perm", "read_only,trade", "--ip", "192.0.2.1",
                  "--inst", "btc-usdt,ETH-USDT", "--max-order-usdt", "500", "--max-daily-usdt", "5000", "--json", data_dir=data)
    assert created.returncode == 0, created.stderr
    key = next(k for k in json.loads(run("apikey", "list", "--json", data_dir=data).stdout) if k["label"] == "spot")
    assert (key["instruments"], key["maxOrderUsdt"], key["maxDailyUsdt"]) == ("BTC-USDT,ETH-USDT", "500", "5000")
    bad = run("apikey", "create", "--subaccount", "bot01trader", "--label", "bad", "--max-order-usdt", "900", "--max-daily-usdt", "100",
              data_dir=data)
    assert bad.returncode != 0 and "exceeds the daily limit" in bad.stderr
    rotated = json.loads(run("apikey", "rotate", key["apiKey"], "--json", data_dir=data).stdout)
    successor = next(k for k in json.loads(run("apikey", "list", "--json", data_dir=data).stdout) if k["apiKey"] == rotated["apiKey"])
    assert successor["instruments"] == "BTC-USDT,ETH-USDT" and successor["maxDailyUsdt"] == "5000"


def test_scannable_secrets_are_found_and_revoked(tmp_path):
    data = tmp_path / "d"
    run("init", data_dir=data)
    run("subaccount", "create", "bot01trader", data_dir=data)
    key = json.loads(run("apikey", "create", "--subaccount", "bot01trader", "--label", "leaky", "--format", "scannable",
                         "--json", data_dir=data).stdout)
    assert key["secretKey"].startswith("ks_") and len(key["secretKey"]) == 39
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "bot.py").write_text(f'API_KEY = "{key["apiKey"]}"\nSECRET = "{key["secretKey"]}"\n')
    (repo / "README").write_text("nothing here ks_notarealsecret\n")
    found = run("scan", str(repo), "--json", data_dir=data)
    assert found.returncode == 1
    assert key["secretKey"] not in found.stdout + found.stderr
    findings = json.loads(found.stdout)
    assert [(f["line"], f["apiKey"], f["status"]) for f in findings] == [(2, key["apiKey"], "active")]
    assert findings[0]["file"].endswith("bot.py")
    revoked = json.loads(run("scan", str(repo), "--revoke", "--json", data_dir=data).stdout)
    assert revoked[0]["status"] == "revoked now"
    assert key["apiKey"] not in run("apikey", "list", "--json", data_dir=data).stdout
    clean = run("scan", str(repo / "README"), data_dir=data)
    assert clean.returncode == 0 and "No Keysmith secrets" in clean.stdout



def test_cooldown_is_configurable(tmp_path, monkeypatch):
    data = tmp_path / "d"
    run("init", data_dir=data)
    run("subaccount", "create", "bot01trader", data_dir=data)
    key = json.loads(run("apikey", "create", "--subaccount", "bot01trader", "--label", "bot", "--ip", "192.0.2.1",
                         "--json", data_dir=data).stdout)
    monkeypatch.setenv("KEYSMITH_COOLDOWN", "0m")
    out = json.loads(run("apikey", "modify", key["apiKey"], "--ip", "198.51.100.7", "--json", data_dir=data).stdout)
    assert out["ip"] == "198.51.100.7" and out.get("pending") is None
    monkeypatch.setenv("KEYSMITH_COOLDOWN", "soon")
    bad = run("apikey", "list", data_dir=data)
    assert bad.returncode != 0 and "KEYSMITH_COOLDOWN" in bad.stderr


def strace_works() -> bool:
    return shutil.which("strace") is not None and subprocess.run(
        ["strace", "-f", "-o", os.devnull, "true"], capture_output=True).returncode == 0


def traced_file_calls(trace_file, under) -> tuple[list, list, list]:
    """(created files, made folders, chmod-ed paths) below `under`, each as (path, mode), from an strace log."""
    created, folders, chmods = [], [], []
    for line in trace_file.read_text().splitlines():
        if m := re.search(r'open(?:at)?\((?:AT_FDCWD, )?"([^"]+)", ([A-Z_|]+), (0\d+)\)', line):
            if "O_CREAT" in m.group(2):
                created.append((m.group(1), int(m.group(3), 8)))
        elif m := re.search(r'mkdir(?:at)?\((?:AT_FDCWD, )?"([^"]+)", (0\d+)\)', line):
            folders.append((m.group(1), int(m.group(2), 8)))
        elif m := re.search(r'chmod(?:at)?\((?:AT_FDCWD, )?"([^"]+)", (0\d+)', line):
            chmods.append((m.group(1), int(m.group(2), 8)))
    keep = lambda calls: [(path, mode) for path, mode in calls if path.startswith(str(under))]
    return keep(created), keep(folders), keep(chmods)


@pytest.mark.skipif(not strace_works(), reason="needs strace (scripts/test installs it)")
def test_secret_files_and_the_data_folder_are_private_from_their_creation(tmp_path):
    """Traced system calls under umask 0: the data and archive folders are made 0700 and the master key, the audit
    archive and an Ed25519 private key are created 0600 — never created with the default mode and chmod-ed later."""
    trace = tmp_path / "trace"

    def traced(*args):
        result = subprocess.run(
            ["strace", "-f", "-qq", "-o", str(trace), "-e", "trace=open,openat,creat,mkdir,mkdirat,chmod,fchmodat",
             str(BINARY), *args], capture_output=True, text=True, timeout=60, preexec_fn=lambda: os.umask(0))
        assert result.returncode == 0, result.stderr
        return traced_file_calls(trace, tmp_path)

    data = tmp_path / "d"
    created, folders, chmods = traced("init", "--json", "--data-dir", str(data))
    assert (str(data), 0o700) in folders
    assert [mode for path, mode in created if "master.key" in path] == [0o600]
    created, folders, chmods_archive = traced("audit", "archive", "--before", "0s", "--json", "--data-dir", str(data))
    assert (str(data / "audit-archive"), 0o700) in folders
    assert [mode for path, mode in created if re.search(r"audit-\d+-\d+\.jsonl", os.path.basename(path))] == [0o600]
    chmods += chmods_archive
    created, folders, chmods_keygen = traced("keygen", "ed25519", "--out", str(tmp_path / "me.pem"))
    assert [mode for path, mode in created if "me.pem" in path and not path.endswith(".pub")] == [0o600]
    chmods += chmods_keygen
    assert chmods == [], "nothing is made private after its creation"
    assert (data / "master.key").stat().st_mode & 0o777 == 0o600
    assert data.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "me.pem").stat().st_mode & 0o777 == 0o600
    for name in ("keysmith.sqlite", "keysmith.sqlite-wal", "keysmith.sqlite-shm"):
        if (data / name).exists():
            assert (data / name).stat().st_mode & 0o777 == 0o600, name
    archives = list((data / "audit-archive").iterdir())
    assert archives and all(p.stat().st_mode & 0o777 == 0o600 for p in archives)
