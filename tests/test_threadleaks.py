"""The thread-leak plugin (tests/support/threadleaks.py): a run that leaves a non-daemon
thread behind fails, names the test, and ends instead of hanging."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LEAKY = '''
import threading

never = threading.Event()


def test_clean():
    threading.Thread(target=lambda: None, name="short").start()


def test_leaks_a_thread():
    threading.Thread(target=never.wait, name="stuck-connection").start()
'''


def run_inner(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(source)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.support.threadleaks",
                           "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_leaked_non_daemon_thread_fails_the_run_names_the_test_and_the_run_ends(tmp_path: Path) -> None:
    done = run_inner(tmp_path, LEAKY)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert "stuck-connection" in done.stdout and "test_inner.py::test_leaks_a_thread" in done.stdout
    assert "short" not in done.stdout.split("threads left running")[1]


def test_a_run_without_leaks_passes(tmp_path: Path) -> None:
    done = run_inner(tmp_path, LEAKY.replace("never.wait", "lambda: None"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "threads left running" not in done.stdout
