"""The entry point of the ``pubaudit`` script and of ``python -m auditor``.

Two things a short-lived command-line process can skip, and a library must not:

- The cyclic garbage collector is turned off before anything is imported: a run builds
  many small, acyclic objects and frees them only at its end, and the collector would
  re-traverse the growing heap again and again (about 3 ms of the imports of a one-file run;
  16x the corpus took 13.5 s with it, 5.5 s without, at the same peak memory). The command
  line itself (``auditor.cli``) is imported only then.
- Once the command has finished, the process ends without the interpreter's teardown:
  clearing every module and freeing every object one by one took 14 ms of a 120 ms
  pre-commit run on one workflow file, and more on a large tree, to free memory the
  operating system takes back at once. Everything with an effect still happens first:
  the ``atexit`` callbacks (third-party libraries' flushing and clean-up) and the flushing
  of standard output and error. When that cannot be done cleanly (another thread still
  running, a flush failing on a closed pipe, an exit status that is not a number) the
  process exits the ordinary way instead, so the outcome is what Python would give.

Library callers import ``auditor.engine`` directly and keep their own collector and exit.
"""

import gc
import os
import sys


def main() -> None:
    gc.disable()
    from auditor.cli import main as run_cli

    try:
        run_cli()
    except SystemExit as stop:
        _exit(stop.code)
    _exit(0)


def _exit(code: object) -> None:
    """End the process with ``code`` (a ``SystemExit`` code) without the interpreter's
    teardown, when nothing would be lost by it; otherwise exit as Python does."""
    import atexit
    import threading

    status = 0 if code is None else code
    if not isinstance(status, int) or threading.active_count() > 1:
        raise SystemExit(code)
    atexit._run_exitfuncs()  # what Python runs at exit, before its teardown
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe, a closed stream: Python reports it
        raise SystemExit(code) from None
    os._exit(status & 0xFF)  # as the C exit() Python would call truncates it


if __name__ == "__main__":
    main()
