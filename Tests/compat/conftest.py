"""Fixtures that run the real `keysmith` binary as a separate process on a free loopback port."""
import json
import os
import signal
import socket
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


def wait_until_serving(port: int, process: subprocess.Popen, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"keysmith serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v5/public/time", timeout=1) as r:
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
    srv = Server(data_dir, port, log_path, master, start_serve(data_dir, port, log_path, *database_args), database)
    try:
        yield srv
    finally:
        stop(srv.process)


def start_serve(data_dir: Path, port: int, log_path: Path, *extra: str) -> subprocess.Popen:
    """Starts `keysmith serve` (appending to its log) and waits until it answers."""
    with open(log_path, "a") as log:
        process = subprocess.Popen(
            [str(BINARY), "serve", "--data-dir", str(data_dir), "--port", str(port), *extra], stdout=log, stderr=subprocess.STDOUT
        )
    wait_until_serving(port, process)
    return process


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (graceful: flushes audit events and signs a checkpoint), then SIGKILL after 15 s."""
    if process.poll() is None:
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
