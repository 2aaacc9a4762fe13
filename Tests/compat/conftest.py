"""Fixtures that run the real `keysmith` binary as a separate process on a free loopback port.

Crash = failure: every `keysmith serve` started through `start_serve` is checked after each test (and each module):
it must still be running unless the suite stopped it (`stop`, which also requires a clean exit 0 on SIGTERM) or the
test said it would end (`expect_exit(process)` / `Server.expect_exit()`), and its log must hold no error- or
critical-level line unless the test declared it, with `@pytest.mark.expect_server_errors(r"pattern", ...)` or the
`expect_server_errors` fixture."""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("KEYSMITH_BIN", ROOT / ".build" / "release" / "keysmith"))
# A PostgreSQL server the test script started (scripts/test-postgres); suites that take the `backend` fixture run
# once per backend when it is set.
POSTGRES_URL = os.environ.get("KEYSMITH_TEST_POSTGRES_URL", "")


def new_postgres_database() -> str:
    """A fresh, empty database on the test PostgreSQL server; returns its URL."""
    name = f"keysmith_compat_{uuid.uuid4().hex}"
    subprocess.run(["psql", POSTGRES_URL, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"])


@pytest.fixture()
def backend() -> str:
    return "sqlite"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Credentials:
    api_key: str
    secret: str
    passphrase: str


@dataclass
class Server:
    data_dir: Path
    port: int
    log_path: Path
    master: Credentials
    process: subprocess.Popen = field(repr=False)
    database: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Runs `keysmith ARGS --data-dir DIR` beside the running server."""
        database = ["--database", self.database] if self.database else []
        result = subprocess.run(
            [str(BINARY), *args, "--data-dir", str(self.data_dir), *database], capture_output=True, text=True, timeout=60
        )
        if check and result.returncode != 0:
            raise AssertionError(f"keysmith {' '.join(args)} failed: {result.stderr}")
        return result

    def cli_json(self, *args: str):
        return json.loads(self.cli(*args, "--json").stdout)

    def logs(self) -> str:
        return self.log_path.read_text()

    def expect_exit(self) -> None:
        """The test is about to stop or kill the current server process itself."""
        expect_exit(self.process)


SUITE_SERVE_FLAGS = ("--ws-connection-rate", "unlimited")


def wait_until_serving(port: int, process: subprocess.Popen, deadline_s: float = 60, ca: str | None = None) -> None:
    """Waits until the server answers GET /api/v5/public/time (over HTTPS, trusting the CA file `ca`, when given)."""
    deadline = time.monotonic() + deadline_s
    scheme, context = ("https", ssl.create_default_context(cafile=ca)) if ca else ("http", None)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"keysmith serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{scheme}://127.0.0.1:{port}/api/v5/public/time", timeout=1, context=context) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("keysmith serve did not start")


@pytest.fixture()
def server(tmp_path: Path, request):
    """An initialised data folder, a sub-account `bot01trader`, and `keysmith serve` running on it — on the data
    folder's SQLite database, or on a fresh PostgreSQL database when the test runs with backend "postgres"."""
    assert BINARY.exists(), f"build the release binary first: {BINARY}"
    data_dir = tmp_path / "data"
    backend = request.getfixturevalue("backend") if "backend" in request.fixturenames else "sqlite"
    database = new_postgres_database() if backend == "postgres" else None
    database_args = ["--database", database] if database else []
    init = subprocess.run(
        [str(BINARY), "init", "--json", "--data-dir", str(data_dir), *database_args], capture_output=True, text=True, check=True
    )
    boot = json.loads(init.stdout)
    master = Credentials(boot["apiKey"], boot["secretKey"], boot["passphrase"])
    subprocess.run(
        [str(BINARY), "subaccount", "create", "bot01trader", "--data-dir", str(data_dir), *database_args],
        check=True, capture_output=True,
    )
    port = free_port()
    log_path = tmp_path / "serve.log"
    # The suite opens WebSockets from one address far faster than a client would: OKX's 3 new connections a second
    # per IP is tested on a server of its own (test_websocket.py).
    process = start_serve(data_dir, port, log_path, *database_args, *SUITE_SERVE_FLAGS)
    srv = Server(data_dir, port, log_path, master, process, database)
    try:
        yield srv
    finally:
        stop(srv.process)


def start_serve(data_dir: Path, port: int, log_path: Path, *extra: str, ca: str | None = None) -> subprocess.Popen:
    """Starts `keysmith serve` (appending to its log) and waits until it answers (over HTTPS trusting `ca` when
    given); the process is watched (see the module documentation)."""
    if log_path not in _log_offsets:
        _log_offsets[log_path] = log_path.stat().st_size if log_path.exists() else 0
    with open(log_path, "a") as log:
        process = subprocess.Popen(
            [str(BINARY), "serve", "--data-dir", str(data_dir), "--port", str(port), *extra], stdout=log, stderr=subprocess.STDOUT
        )
    _watched.append(Watched(process, log_path, port))
    wait_until_serving(port, process, ca=ca)
    return process


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (graceful: flushes audit events and signs a checkpoint), then SIGKILL after 15 s."""
    if process.poll() is None:
        for watched in _watched:
            if watched.process is process:
                watched.stopped = True
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture()
def sub_key(server: Server) -> Credentials:
    """A read_only,trade key of sub-account bot01trader bound to loopback, created with the CLI."""
    out = server.cli_json(
        "apikey", "create", "--subaccount", "bot01trader", "--label", "platform", "--perm", "read_only,trade",
        "--ip", "127.0.0.1", "--ip", "::1",
    )
    return Credentials(out["apiKey"], out["secretKey"], out["passphrase"])


# --- Crash = failure ---------------------------------------------------------------------------------------------

# An error- or critical-level line of swift-log's StreamLogHandler: "<ISO timestamp> <level> <label>: ...".
ERROR_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\S+ (error|critical) ")


@dataclass
class Watched:
    process: subprocess.Popen
    log_path: Path
    port: int
    stopped: bool = False  # by `stop`: SIGTERM, which must end in exit status 0
    exit_expected: bool = False  # by the test: `expect_exit`


_watched: list[Watched] = []
_log_offsets: dict[Path, int] = {}  # how far each server log has been checked
_expected_errors: list[re.Pattern] = []


def expect_exit(process: subprocess.Popen) -> None:
    """Declares that the test itself ends this server process (SIGKILL, SIGTERM, a planned failure)."""
    for watched in _watched:
        if watched.process is process:
            watched.exit_expected = True


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "expect_server_errors(*patterns): error-level server log lines (regex search) this test causes on purpose")


@pytest.fixture()
def expect_server_errors():
    """`expect_server_errors(r"pattern", ...)`: error-level log lines matching a pattern are expected in this test."""
    def declare(*patterns: str) -> None:
        _expected_errors.extend(re.compile(p) for p in patterns)
    return declare


def server_problems() -> list[str]:
    """Watched servers that ended unexpectedly, and unexpected error-level log lines since the last check."""
    problems = []
    for watched in list(_watched):
        status = watched.process.poll()
        name = f"keysmith serve (pid {watched.process.pid}, port {watched.port}, log {watched.log_path})"
        if status is not None:
            if watched.exit_expected:
                pass
            elif watched.stopped and status != 0:
                problems.append(f"{name} exited with status {status} after SIGTERM (a graceful shutdown exits 0)")
            elif not watched.stopped:
                problems.append(f"{name} is not running any more (exit status {status}) and the test did not stop it")
            _watched.remove(watched)
    for log_path, offset in list(_log_offsets.items()):
        try:
            with open(log_path, "rb") as log:
                log.seek(offset)
                text = log.read()
        except OSError:
            continue
        complete = text[: text.rfind(b"\n") + 1]
        _log_offsets[log_path] = offset + len(complete)
        for line in complete.decode("utf-8", "replace").splitlines():
            if ERROR_LINE.match(line) and not any(p.search(line) for p in _expected_errors):
                problems.append(f"error-level line in {log_path}: {line[:400]}")
        if not any(w.log_path == log_path for w in _watched):
            del _log_offsets[log_path]
    return problems


def _declared(request) -> list[re.Pattern]:
    return [re.compile(p) for m in request.node.iter_markers("expect_server_errors") for p in m.args]


def _fail_on_server_problems(scope: str) -> None:
    problems = server_problems()
    _expected_errors.clear()
    if problems:
        pytest.fail(f"after this {scope}:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture(autouse=True)
def servers_survive_each_test(request):
    """Set up first and torn down last: the fixtures that stop their servers have done so when it checks."""
    _expected_errors[:] = _declared(request)
    yield
    _fail_on_server_problems("test")


@pytest.fixture(scope="module", autouse=True)
def servers_survive_each_module(request):
    """Servers kept by module-scoped fixtures: checked once more when the module ends."""
    yield
    _expected_errors[:] = _declared(request)
    _fail_on_server_problems("module")
