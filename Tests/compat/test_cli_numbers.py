"""Numbers in CLI flags and settings: out of range is an argument error with a non-zero exit, never a trap."""
import subprocess

import pytest

from conftest import BINARY


@pytest.mark.parametrize("args", [
    ("serve", "--port", "70000"),
    ("serve", "--port=-1"),
    ("subaccount", "list", "--database", "postgres://keysmith@127.0.0.1:99999/keysmith"),
])
def test_out_of_range_numbers_are_argument_errors(tmp_path, args):
    result = subprocess.run([str(BINARY), *args, "--data-dir", str(tmp_path / "d")], capture_output=True, text=True, timeout=60)
    # A negative return code is a signal: the process trapped.
    assert result.returncode > 0, (args, result.returncode, result.stderr)
    assert "Fatal error" not in result.stderr and len(result.stderr.strip().splitlines()) <= 3, result.stderr
