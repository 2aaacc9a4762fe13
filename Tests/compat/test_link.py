"""The platform side against a real `keysmith serve`: `keysmith link` validates and stores keys in the encrypted
vault, `keysmith vault` manages it, and the example bot trades with what the vault holds."""
import json
import os
import random
import subprocess
import time
from pathlib import Path

import okx.Funding as Funding
import pytest

from conftest import BINARY, Credentials

EXAMPLE_BOT = BINARY.parent / "keysmith-example-bot"


@pytest.fixture()
def vault(tmp_path: Path) -> dict:
    """Environment for commands that use a vault in the test's own folder."""
    env = dict(os.environ)
    env["KEYSMITH_VAULT"] = str(tmp_path / "platform" / "vault")
    env["KEYSMITH_VAULT_KEY"] = str(tmp_path / "platform" / "vault.key")
    env.pop("KEYSMITH_VAULT_PASSPHRASE", None)
    return env


def run(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BINARY), *args], input=stdin, capture_output=True, text=True, env=env, timeout=60)


def lines(creds: Credentials) -> str:
    return f"{creds.api_key}\n{creds.secret}\n{creds.passphrase}\n"


def link_add(env, server, name, creds, *extra) -> subprocess.CompletedProcess:
    return run(env, "link", "add", name, "--url", server.url, "--json", *extra, stdin=lines(creds))


def checks(result: subprocess.CompletedProcess) -> dict:
    report = json.loads(result.stdout)
    return {c["check"]: c for c in report["checks"]}


def create_key(server, *args) -> Credentials:
    out = server.cli_json("apikey", "create", "--label", f"k{random.randrange(10**9)}", *args)
    return Credentials(out["apiKey"], out["secretKey"], out["passphrase"])


def assert_no_secret(creds: Credentials, *texts: str) -> None:
    for text in texts:
        assert creds.secret not in text and creds.passphrase not in text


def test_a_well_set_up_key_passes_every_check_and_is_stored(server, sub_key, vault):
    added = link_add(vault, server, "okx-main-bot", sub_key)
    assert added.returncode == 0, added.stderr
    found = checks(added)
    assert list(found) == ["credentials", "permissions", "ip-binding", "account", "account-mode", "position-mode", "expiry",
                           "clock-skew"]
    assert all(c["status"] == "pass" for c in found.values()), found
    assert json.loads(added.stdout)["ok"] is True
    listed = run(vault, "link", "list", "--json")
    rows = json.loads(listed.stdout)
    assert [r["name"] for r in rows] == ["okx-main-bot"] and rows[0]["url"] == server.url
    # The human report, the listing, the public export and the vault file never show the secret or passphrase.
    human = run(vault, "link", "validate", "okx-main-bot")
    assert human.returncode == 0 and "8 pass, 0 warn, 0 fail" in human.stdout
    exported = json.loads(run(vault, "vault", "export-public").stdout)
    assert exported[0]["apiKey"] == sub_key.api_key and exported[0]["name"] == "okx-main-bot"
    raw = Path(vault["KEYSMITH_VAULT"]).read_bytes()
    for secret in (sub_key.secret, sub_key.passphrase, sub_key.api_key):
        assert secret.encode() not in raw
    assert oct(Path(vault["KEYSMITH_VAULT"]).stat().st_mode & 0o777) == "0o600"
    assert oct(Path(vault["KEYSMITH_VAULT_KEY"]).stat().st_mode & 0o777) == "0o600"
    assert_no_secret(sub_key, added.stdout, added.stderr, listed.stdout, human.stdout, json.dumps(exported), server.logs())


def test_the_balance_appears_after_linking(server, sub_key, vault):
    server.cli("deposit", "--account", "bot01trader", "--ccy", "USDT", "--amt", "1500")
    funding = Funding.FundingAPI(sub_key.api_key, sub_key.secret, sub_key.passphrase, False, "0", domain=server.url, debug=False)
    assert funding.funds_transfer(ccy="USDT", amt="400", from_="6", to="18")["code"] == "0"
    added = run(vault, "link", "add", "bot", "--url", server.url, stdin=lines(sub_key))
    assert added.returncode == 0, added.stderr
    assert "USDT" in added.stdout and "1100" in added.stdout, added.stdout
    balance = json.loads(run(vault, "link", "balance", "bot", "--json").stdout)
    rows = {(b["account"], b["ccy"]): b for b in balance["balances"]}
    assert rows[("trading", "USDT")]["available"] == "400"
    assert rows[("funding", "USDT")]["available"] == "1100"
    table = run(vault, "link", "balance", "bot")
    assert table.returncode == 0 and table.stdout.splitlines()[0].split() == ["ACCOUNT", "CCY", "EQUITY", "AVAILABLE", "FROZEN", "USD"]


def test_a_withdraw_key_fails_with_the_fix_and_nothing_is_stored(server, vault):
    added = link_add(vault, server, "risky", server.master)
    assert added.returncode == 1
    found = checks(added)
    assert found["permissions"]["status"] == "fail" and "Withdraw" in found["permissions"]["fix"]
    assert found["account"]["status"] == "warn"
    assert "Nothing was stored" in added.stderr
    assert not Path(vault["KEYSMITH_VAULT"]).exists()


def test_an_unbound_key_warns_and_is_stored(server, vault):
    key = create_key(server, "--subaccount", "bot01trader", "--perm", "read_only,trade")
    added = link_add(vault, server, "unbound", key)
    assert added.returncode == 0, added.stderr
    found = checks(added)
    assert found["ip-binding"]["status"] == "warn" and found["ip-binding"]["fix"].startswith("bind the key")
    assert "14 days" in found["expiry"]["message"]
    assert [r["name"] for r in json.loads(run(vault, "link", "list", "--json").stdout)] == ["unbound"]


def test_a_master_account_key_warns(server, vault):
    key = create_key(server, "--master", "--perm", "read_only,trade", "--ip", "127.0.0.1")
    added = link_add(vault, server, "master-read", key)
    assert added.returncode == 0, added.stderr
    found = checks(added)
    assert found["account"]["status"] == "warn" and "sub-account" in found["account"]["fix"]
    assert found["permissions"]["status"] == "pass"


def test_a_wrong_passphrase_fails_and_nothing_is_stored(server, sub_key, vault):
    assert link_add(vault, server, "good", sub_key).returncode == 0
    before = Path(vault["KEYSMITH_VAULT"]).read_bytes()
    wrong = Credentials(sub_key.api_key, sub_key.secret, sub_key.passphrase + "x")
    added = link_add(vault, server, "typo", wrong)
    assert added.returncode == 1
    found = checks(added)
    assert found["credentials"]["status"] == "fail" and "50105" in found["credentials"]["message"]
    assert Path(vault["KEYSMITH_VAULT"]).read_bytes() == before
    assert_no_secret(wrong, added.stdout, added.stderr)


def test_credentials_are_never_taken_from_flags(server, vault):
    refused = run(vault, "link", "add", "x", "--url", server.url, "--secret", "abc")
    assert refused.returncode != 0 and "Unknown option" in refused.stderr


def test_plain_http_is_for_this_machine_only(vault):
    """Every signed request carries the passphrase: plain http to another machine is refused, before any credential
    is read or any connection made, unless --insecure-http accepts it."""
    refused = run(vault, "link", "add", "remote", "--url", "http://203.0.113.5:1", stdin="key\nsecret\npassphrase\n")
    assert refused.returncode != 0
    assert "--insecure-http" in refused.stderr and "127.0.0.0/8, ::1, localhost" in refused.stderr
    assert "cannot reach" not in refused.stdout + refused.stderr
    assert not Path(vault["KEYSMITH_VAULT"]).exists()
    # Accepted by the flag, the address then fails on the network (nothing answers there), and nothing is stored.
    accepted = run(vault, "link", "add", "remote", "--url", "http://203.0.113.5:1", "--insecure-http", "--json",
                   stdin="key\nsecret\npassphrase\n")
    assert accepted.returncode == 1, accepted.stderr
    assert "--insecure-http" not in accepted.stderr
    found = checks(accepted)
    assert found["credentials"]["status"] == "fail" and "cannot reach" in found["credentials"]["message"]
    assert not Path(vault["KEYSMITH_VAULT"]).exists()


def test_a_link_stored_with_insecure_http_needs_the_flag_on_every_use(server, sub_key, vault):
    # 127.1 reaches the loopback server, but it is not a plain loopback address, so the rule treats it as another host.
    url = f"http://127.1:{server.port}"
    stdin = lines(sub_key)
    assert run(vault, "link", "add", "bot", "--url", url, stdin=stdin).returncode != 0
    added = run(vault, "link", "add", "bot", "--url", url, "--insecure-http", "--json", stdin=stdin)
    assert added.returncode == 0, added.stderr
    for command in (["validate", "bot"], ["balance", "bot"], ["rotate", "bot"]):
        refused = run(vault, "link", *command, stdin=stdin)
        assert refused.returncode != 0 and "--insecure-http" in refused.stderr, command
    assert run(vault, "link", "validate", "bot", "--insecure-http").returncode == 0
    assert run(vault, "link", "balance", "bot", "--insecure-http").returncode == 0
    # Loopback in its plain form needs no flag.
    assert link_add(vault, server, "local", sub_key).returncode == 0
    assert run(vault, "link", "validate", "local").returncode == 0


def test_rotation_relinks_the_successor(server, sub_key, vault):
    assert link_add(vault, server, "bot", sub_key).returncode == 0
    rotated = server.cli_json("apikey", "rotate", sub_key.api_key, "--grace", "0m")
    successor = Credentials(rotated["apiKey"], rotated["secretKey"], sub_key.passphrase)
    relinked = run(vault, "link", "rotate", "bot", "--json", stdin=lines(successor))
    assert relinked.returncode == 0, relinked.stderr
    assert all(c["status"] == "pass" for c in checks(relinked).values())
    exported = json.loads(run(vault, "vault", "export-public").stdout)
    assert exported[0]["apiKey"] == successor.api_key
    assert run(vault, "link", "validate", "bot").returncode == 0
    # Re-linking with a key that does not work changes nothing.
    broken = run(vault, "link", "rotate", "bot", stdin=lines(Credentials(sub_key.api_key, sub_key.secret, sub_key.passphrase)))
    assert broken.returncode == 1 and "Nothing was changed" in broken.stderr
    assert json.loads(run(vault, "vault", "export-public").stdout)[0]["apiKey"] == successor.api_key


def test_unsafe_or_foreign_vaults_are_refused(server, sub_key, vault, tmp_path):
    assert link_add(vault, server, "bot", sub_key).returncode == 0
    path = Path(vault["KEYSMITH_VAULT"])
    path.chmod(0o644)
    refused = run(vault, "link", "list")
    assert refused.returncode == 1 and "chmod 600" in refused.stderr
    path.chmod(0o600)
    other = dict(vault, KEYSMITH_VAULT_KEY=str(tmp_path / "other.key"))
    (tmp_path / "other.key").write_text("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n")
    (tmp_path / "other.key").chmod(0o600)
    wrong = run(other, "link", "validate", "bot")
    assert wrong.returncode == 1 and "does not open the vault" in wrong.stderr
    missing = run(dict(vault, KEYSMITH_VAULT_KEY=str(tmp_path / "nope.key")), "vault", "list")
    assert missing.returncode == 1 and "missing" in missing.stderr
    # A tampered byte is detected, and nothing else is touched.
    text = path.read_text()
    sealed = json.loads(text)["sealed"]
    flipped = sealed[:10] + ("A" if sealed[10] != "A" else "B") + sealed[11:]
    path.write_text(text.replace(sealed, flipped))
    tampered = run(vault, "vault", "list")
    assert tampered.returncode == 1 and "altered or damaged" in tampered.stderr


def test_vault_commands(server, sub_key, vault):
    init = run(vault, "vault", "init")
    assert init.returncode == 0 and "back the key up" in init.stdout
    assert run(vault, "vault", "init").returncode == 1, "init never overwrites a vault"
    assert "empty" in run(vault, "vault", "list").stdout
    assert link_add(vault, server, "bot", sub_key).returncode == 0
    assert "bot" in run(vault, "vault", "list").stdout
    removed = run(vault, "vault", "remove", "bot")
    assert removed.returncode == 0 and "Removed bot" in removed.stdout
    assert json.loads(run(vault, "vault", "export-public").stdout) == []
    assert run(vault, "link", "remove", "bot").returncode == 1


def test_passphrase_vault(server, sub_key, vault):
    env = dict(vault, KEYSMITH_VAULT_PASSPHRASE="a long vault passphrase")
    assert run(env, "vault", "init", "--passphrase").returncode == 0
    assert not Path(vault["KEYSMITH_VAULT_KEY"]).exists()
    assert link_add(env, server, "bot", sub_key).returncode == 0
    assert run(env, "link", "validate", "bot").returncode == 0
    wrong = run(dict(env, KEYSMITH_VAULT_PASSPHRASE="another passphrase"), "vault", "list")
    assert wrong.returncode == 1 and "does not open" in wrong.stderr


def test_concurrent_links_all_land(server, vault):
    keys = [create_key(server, "--subaccount", "bot01trader", "--perm", "read_only,trade", "--ip", "127.0.0.1") for _ in range(6)]
    run(vault, "vault", "init")
    procs = [subprocess.Popen([str(BINARY), "link", "add", f"bot-{i}", "--url", server.url], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=vault) for i in range(6)]
    for proc, key in zip(procs, keys):
        proc.stdin.write(lines(key))
        proc.stdin.close()
    assert all(p.wait(timeout=60) == 0 for p in procs)
    assert sorted(r["name"] for r in json.loads(run(vault, "link", "list", "--json").stdout)) == [f"bot-{i}" for i in range(6)]


def test_a_writer_killed_at_any_moment_never_corrupts_the_vault(server, sub_key, vault):
    """Kill `vault remove` at random points of its run (measured first): afterwards the vault always opens and
    holds either every entry or all but the removed one — never a partial or empty file."""
    for i in range(10):
        assert link_add(vault, server, f"bot-{i}", sub_key).returncode == 0
    started = time.monotonic()
    assert run(vault, "vault", "remove", "bot-9").returncode == 0
    duration = time.monotonic() - started
    names = {f"bot-{i}" for i in range(9)}
    rng = random.Random(7)
    outcomes = {"removed": 0, "kept": 0}
    for trial in range(40):
        victim = sorted(names)[trial % len(names)]
        proc = subprocess.Popen([str(BINARY), "vault", "remove", victim], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=vault)
        time.sleep(rng.uniform(0, duration * 1.2))
        proc.kill()
        proc.wait()
        listed = run(vault, "vault", "list", "--json")
        assert listed.returncode == 0, f"trial {trial}: {listed.stderr}"
        now = {r["name"] for r in json.loads(listed.stdout)}
        assert now in (names, names - {victim}), f"trial {trial}: {sorted(now)}"
        outcomes["removed" if now != names else "kept"] += 1
        if now != names:
            # Put it back for the next trials.
            assert link_add(vault, server, victim, sub_key).returncode == 0
    print(f"killed writers: {outcomes}")
    assert run(vault, "link", "validate", "bot-0").returncode == 0


def test_the_example_bot_trades_with_vault_credentials(server, sub_key, vault):
    assert EXAMPLE_BOT.exists(), f"build the example first: {EXAMPLE_BOT}"
    server.cli("deposit", "--account", "bot01trader", "--ccy", "USDT", "--amt", "100")
    funding = Funding.FundingAPI(sub_key.api_key, sub_key.secret, sub_key.passphrase, False, "0", domain=server.url, debug=False)
    assert funding.funds_transfer(ccy="USDT", amt="100", from_="6", to="18")["code"] == "0"
    assert link_add(vault, server, "okx-main-bot", sub_key).returncode == 0
    bot = subprocess.run([str(EXAMPLE_BOT), "okx-main-bot", "BTC-USDT", "buy", "0.001", "20000"], capture_output=True, text=True,
                         env=vault, timeout=60)
    assert bot.returncode == 0, bot.stdout + bot.stderr
    assert "placed buy 0.001 BTC-USDT @ 20000" in bot.stdout and "state live" in bot.stdout
    # Too large an order: the exchange's code comes back, and the bot exits non-zero.
    poor = subprocess.run([str(EXAMPLE_BOT), "okx-main-bot", "BTC-USDT", "buy", "1", "20000"], capture_output=True, text=True,
                          env=vault, timeout=60)
    assert poor.returncode == 1 and "51008" in poor.stdout
    assert_no_secret(sub_key, bot.stdout, bot.stderr, poor.stdout)


def test_the_prompt_hides_the_secret_and_passphrase(server, sub_key, vault):
    """At a terminal, `link add` prompts for each value; the secret and passphrase are typed with echo off, so
    the terminal never shows them."""
    import pty  # noqa: PLC0415 (POSIX only)
    master_fd, slave_fd = pty.openpty()
    proc = subprocess.Popen([str(BINARY), "link", "add", "typed", "--url", server.url], stdin=slave_fd, stdout=slave_fd,
                            stderr=slave_fd, env=vault, close_fds=True)
    os.close(slave_fd)
    screen = b""

    def read_until(marker: bytes, deadline_s: float = 30) -> None:
        nonlocal screen
        deadline = time.monotonic() + deadline_s
        while marker not in screen:
            assert time.monotonic() < deadline, f"no {marker!r} on the terminal: {screen!r}"
            try:
                screen += os.read(master_fd, 4096)
            except OSError:
                break

    for prompt, value in ((b"API key: ", sub_key.api_key), (b"Secret key: ", sub_key.secret), (b"Passphrase: ", sub_key.passphrase)):
        read_until(prompt)
        os.write(master_fd, (value + "\n").encode())
    read_until(b"Linked typed")
    assert proc.wait(timeout=30) == 0
    os.close(master_fd)
    text = screen.decode(errors="replace")
    assert sub_key.api_key in text, "the key id is echoed like any identifier"
    assert sub_key.secret not in text and sub_key.passphrase not in text
    assert [r["name"] for r in json.loads(run(vault, "link", "list", "--json").stdout)] == ["typed"]


def test_validate_checks_the_position_mode_the_platform_expects(server, sub_key, vault):
    assert link_add(vault, server, "futures-bot", sub_key, "--expect-pos-mode", "net_mode", "--expect-futures").returncode == 0
    hedge = run(vault, "link", "validate", "futures-bot", "--json", "--expect-pos-mode", "long_short_mode")
    assert hedge.returncode == 1
    found = checks(hedge)
    assert found["position-mode"]["status"] == "fail" and "long/short" in found["position-mode"]["message"]
    assert found["account-mode"]["message"] == "spot and futures (acctLv 2)"
    mistyped = run(vault, "link", "validate", "futures-bot", "--expect-pos-mode", "hedge")
    assert mistyped.returncode != 0 and "net_mode or long_short_mode" in mistyped.stderr
    # Nothing is stored when an expectation fails at link add.
    refused = link_add(vault, server, "hedge-bot", sub_key, "--expect-pos-mode", "long_short_mode")
    assert refused.returncode == 1
    assert [r["name"] for r in json.loads(run(vault, "link", "list", "--json").stdout)] == ["futures-bot"]
