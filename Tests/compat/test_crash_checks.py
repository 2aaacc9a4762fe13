"""The suite's crash = failure checks (conftest.server_problems) see a server that died and an error-level log line,
and leave alone what a test declared."""
import signal

import pytest

from conftest import server_problems


def test_a_server_killed_behind_the_suites_back_is_reported(server):
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    problems = server_problems()
    assert any("is not running any more" in p and str(server.port) in p for p in problems), problems


def test_a_declared_exit_is_not_reported(server):
    server.expect_exit()
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    assert server_problems() == []


def test_an_error_line_is_reported_unless_declared(server, expect_server_errors):
    with open(server.log_path, "a") as log:
        log.write("2026-01-01T00:00:00+0000 error keysmith: code=7 [KeysmithServer] simulated failure\n")
        log.write("2026-01-01T00:00:00+0000 info keysmith: [KeysmithServer] an error word at info level\n")
    problems = server_problems()
    assert len(problems) == 1 and "simulated failure" in problems[0], problems
    with open(server.log_path, "a") as log:
        log.write("2026-01-01T00:00:01+0000 critical keysmith: [KeysmithServer] planned outage\n")
    expect_server_errors(r"planned outage")
    assert server_problems() == []


@pytest.mark.expect_server_errors(r"declared by marker")
def test_a_marker_declares_expected_error_lines(server):
    with open(server.log_path, "a") as log:
        log.write("2026-01-01T00:00:00+0000 error keysmith: [KeysmithServer] declared by marker\n")
    assert server_problems() == []
