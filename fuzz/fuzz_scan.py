"""Coverage-guided fuzzing of the whole pipeline with atheris (not part of CI).

The first byte of an input picks which file of a small repository the rest becomes (a
workflow scanned as a tree or as an explicit file, a composite action, ``pyproject.toml``,
``pubaudit.toml``, ``.gitlab-ci.yml``, ``.pypirc`` or ``.git/config``); the repository also
holds a caller workflow that reaches the fuzzed workflow and action through ``uses: ./``, so
the cross-file paths run too. Each input is scanned and rendered in every registered format,
and the report must satisfy ``tests/invariants.py``. Any exception is a crash.

Usage: see ``fuzz/README.md``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

with atheris.instrument_imports():
    import importlib
    import pkgutil

    import auditor
    from auditor.engine.scan import Options, scan
    from tests.invariants import check_report

    # The engine imports some modules only when they apply (GitLab, publisher matching,
    # formats); import them all here so they are instrumented too.
    for _module in pkgutil.walk_packages(auditor.__path__, "auditor."):
        if not _module.name.endswith("__main__"):  # that one runs the CLI
            importlib.import_module(_module.name)

# (kind, path of the fuzzed file, scan that file explicitly rather than the tree)
KINDS: tuple[tuple[str, str, bool], ...] = (
    ("workflow", ".github/workflows/fuzz.yml", False),
    ("workflow-file", ".github/workflows/fuzz.yml", True),
    ("action", ".github/actions/fuzz/action.yml", False),
    ("pyproject", "pyproject.toml", False),
    ("pubaudit-toml", "pubaudit.toml", False),
    ("gitlab", ".gitlab-ci.yml", False),
    ("pypirc", ".pypirc", False),
    ("git-config", ".git/config", False),
)

BASE: dict[str, str] = {
    ".github/workflows/caller.yml": """\
on:
  push:
    tags: ["v*"]
permissions: {}
jobs:
  reuse:
    uses: ./.github/workflows/fuzz.yml
    permissions:
      id-token: write
  local:
    runs-on: ubuntu-latest
    environment: pypi
    permissions:
      id-token: write
    steps:
      - uses: ./.github/actions/fuzz
      - uses: pypa/gh-action-pypi-publish@release/v1
""",
    "pyproject.toml": '[project]\nname = "fuzzed"\nversion = "1"\n',
    ".git/config": '[remote "origin"]\n\turl = https://github.com/fuzz/fuzzed.git\n',
}

_ROOT = Path(tempfile.mkdtemp(prefix="pubaudit-fuzz-"))


def _reset() -> None:
    """Put the base repository back: only the base files, none of the last input's."""
    for child in _ROOT.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()
    for rel, text in BASE.items():
        path = _ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


CRASHES = Path(os.environ.get("PUBAUDIT_FUZZ_CRASHES", REPO / "fuzz" / "crashes"))
# Known, reported bugs to fuzz past: "|"-separated substrings of "ExceptionType: message".
KNOWN = tuple(k for k in os.environ.get("PUBAUDIT_FUZZ_KNOWN", "").split("|") if k)


def test_one_input(data: bytes) -> None:
    """One fuzz input; a failing one is saved first (this atheris build reports an uncaught
    exception as "fuzz target exited" and writes no artifact of its own)."""
    try:
        _scan_one(data)
    except Exception as exc:
        if any(known in f"{type(exc).__name__}: {exc}" for known in KNOWN):
            return  # a bug already reported: keep fuzzing past it
        CRASHES.mkdir(parents=True, exist_ok=True)
        (CRASHES / f"crash-{hashlib.sha1(data).hexdigest()}").write_bytes(data)
        raise
    except BaseException:
        CRASHES.mkdir(parents=True, exist_ok=True)
        (CRASHES / f"crash-{hashlib.sha1(data).hexdigest()}").write_bytes(data)
        raise


def _scan_one(data: bytes) -> None:
    if not data:
        return
    _kind, rel, explicit = KINDS[data[0] % len(KINDS)]
    _reset()
    target = _ROOT / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data[1:])
    paths = [target] if explicit else [_ROOT]
    report = scan(paths, Options())
    check_report(report, report.root)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    try:
        atheris.Fuzz()
    finally:
        shutil.rmtree(_ROOT, ignore_errors=True)


if __name__ == "__main__":
    main()
