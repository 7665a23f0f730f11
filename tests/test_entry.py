"""``auditor.__main__``: the process ends without the interpreter's teardown only when
nothing would be lost. Its atexit callbacks still run, its output is complete, its exit
status is the command's; with another thread alive or a status that is not a number it
exits as Python does."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest
from typer.testing import CliRunner

from auditor.__main__ import _exit
from auditor.cli import app


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, check=False, timeout=120)


def test_atexit_callbacks_run_and_the_status_is_kept() -> None:
    done = _python("""
        import atexit, sys
        atexit.register(lambda: print("atexit ran", file=sys.stderr))
        sys.argv = ["pubaudit", "scan", "no-such-directory"]
        from auditor.__main__ import main
        main()
    """)
    assert done.returncode == 2
    assert "no such file or directory: no-such-directory" in done.stderr
    assert done.stderr.rstrip().endswith("atexit ran")


def test_the_whole_output_arrives() -> None:
    # `rules` prints every rule: a block-buffered pipe holds the end of it until the flush
    done = subprocess.run([sys.executable, "-m", "auditor", "rules"], capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == 0
    assert done.stdout == CliRunner().invoke(app, ["rules"]).output


def test_a_thread_still_running_is_waited_for() -> None:
    done = _python("""
        import sys, threading, time
        def late():
            time.sleep(0.3)
            print("thread finished", flush=True)
        threading.Thread(target=late).start()
        sys.argv = ["pubaudit", "--version"]
        from auditor.__main__ import main
        main()
    """)
    assert done.returncode == 0
    assert done.stdout.splitlines() == ["pubaudit 0.1.0", "thread finished"]


def test_what_it_cannot_end_itself_goes_back_to_python() -> None:
    with pytest.raises(SystemExit) as stop:
        _exit("a message, not a number")
    assert stop.value.code == "a message, not a number"
    worker = threading.Thread(target=time.sleep, args=(0.2,))
    worker.start()
    try:
        with pytest.raises(SystemExit) as stop:
            _exit(1)
        assert stop.value.code == 1
    finally:
        worker.join()


@pytest.mark.parametrize("status", [0, 1, 3, 130])
def test_exit_statuses(status: int) -> None:
    done = _python(f"""
        import sys
        import auditor.__main__ as entry
        import auditor.cli
        def command():
            print("out")
            sys.exit({status})
        auditor.cli.main = command
        entry.main()
    """)
    assert (done.returncode, done.stdout) == (status, "out\n")
