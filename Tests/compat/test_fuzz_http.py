"""The mutation fuzzer of signed requests (scripts/fuzz-http) against the binary under test: a bounded run must find
no accepted mutant, no 5xx, no dropped connection, no state change and no error-level log line, and the server must
still answer at the end. `KEYSMITH_FUZZ_MUTANTS` and `KEYSMITH_FUZZ_SEED` change the count (at least 100,000 in CI)
and the seed; a failure prints the fuzzer's report, each violation with its mutant and, for the classes of holes
the authentication path is known to have had, a "[known hole: ...]" mark."""
import json
import os
import subprocess
import sys

from conftest import BINARY, ROOT

FUZZER = ROOT / "scripts" / "fuzz-http"
MUTANTS = int(os.environ.get("KEYSMITH_FUZZ_MUTANTS", "100000"))
SEED = os.environ.get("KEYSMITH_FUZZ_SEED", "1")


def fuzz(tmp_path, count: int, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    report = tmp_path / "fuzz-report.json"
    run = subprocess.run(
        [sys.executable, str(FUZZER), str(count), "--seed", SEED, "--jobs", "4", "--quiet", "--bin", str(BINARY),
         "--json-report", str(report), *extra],
        capture_output=True, text=True, timeout=1800,
    )
    print(run.stdout)
    return run, json.loads(report.read_text()) if report.exists() else {}


def failure(run: subprocess.CompletedProcess, tally: dict) -> str:
    if not tally:
        return f"the fuzzer did not run (exit {run.returncode}): {run.stderr[-2000:]}"
    holes = sorted({v.split("[known hole: ")[1].split("]")[0] for v in tally["violationList"] if "[known hole: " in v})
    lines = [f"violations {tally['violations']}; problems {tally['problems']}"]
    if holes:
        lines.append("known hole classes found: " + "; ".join(holes))
    return "\n".join(lines + tally["violationList"][:30])


def test_no_mutant_of_a_signed_request_is_accepted(tmp_path):
    run, tally = fuzz(tmp_path, MUTANTS)
    assert run.returncode == 0 and tally.get("mutants", 0) >= MUTANTS, failure(run, tally)


def test_with_the_failed_auth_lockout_on_refusals_turn_into_50011(tmp_path):
    """The lockout stays on: once it starts, every authenticated route answers 50011 (and nothing is accepted)."""
    run, tally = fuzz(tmp_path, 5000, "--lockout")
    assert run.returncode == 0 and tally.get("mutants", 0) >= 5000, failure(run, tally)
    assert tally["answers"].get("429 50011", 0) > 4000, tally["answers"]
