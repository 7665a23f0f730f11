"""Fixture cases: ``fixtures/cases/<rule>/<case>/`` are small repositories whose offending
lines carry ``# expect: rule-id[, rule-id]``. The findings must equal the markers exactly; a
case without markers must produce no finding at all.

Two fixture-only conventions:

- git refuses to commit anything named ``.git``, so a case's ``dot-git/`` directory (with the
  ``config`` that names the remote ``origin``) becomes ``.git/`` in a temporary copy that is
  scanned instead;
- ``undeclared-publisher`` fires on every trusted publishing upload of a repository that
  declares no publisher, so in nearly every case: it is compared only in its own cases and in
  cases that carry a marker for it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from auditor.engine.scan import Options, Report, scan
from tests.conftest import REPO_ROOT

CASES_DIR = REPO_ROOT / "fixtures" / "cases"
# A case with ``exchanges.json`` holds recorded GitHub/PyPI answers: test_online_cases runs it.
CASES = sorted(p for p in CASES_DIR.glob("*/*") if p.is_dir() and
               not (p / "exchanges.json").is_file()) if CASES_DIR.is_dir() else []
_MARKER = re.compile(r"#\s*expect:\s*([a-z0-9, -]+)")
_AMBIENT = "undeclared-publisher"


def expected_markers(case: Path) -> set[tuple[str, int, str]]:
    expected = set()
    for path in sorted(case.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(case).as_posix()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(lines, 1):
            match = _MARKER.search(line)
            if match:
                for rule in match.group(1).split(","):
                    if rule.strip():
                        expected.add((rel, number, rule.strip()))
    return expected


def assert_markers(case: Path, report: Report) -> None:
    """The case's ``# expect:`` markers are exactly what the scan reported (the ambient
    publisher rule aside unless a marker names it); a ``fires`` case reports its rule, a
    ``silent`` one does not."""
    expected = expected_markers(case)
    found = {(f.location.path, f.location.line, f.rule) for f in report.active}
    if case.parent.name != _AMBIENT and not any(rule == _AMBIENT for *_, rule in expected):
        found = {item for item in found if item[2] != _AMBIENT}
    assert found == expected
    if case.name.startswith("fires"):
        assert case.parent.name in {rule for _, _, rule in found}
    if case.name.startswith("silent"):
        assert case.parent.name not in {rule for _, _, rule in found}


def test_every_rule_has_fixture_cases() -> None:
    from auditor.reading.catalogue import load_catalogue

    missing = [rule for rule in load_catalogue() if rule != "invalid-config" and not any(
        CASES_DIR.glob(f"{rule}/*"))]
    assert not missing, f"rules without fixture cases: {missing}"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_fixture_case(case: Path, tmp_path: Path) -> None:
    root = case
    if (case / "dot-git").is_dir():
        root = tmp_path / case.name
        shutil.copytree(case, root)
        (root / "dot-git").rename(root / ".git")
    report = scan([root], Options())
    assert_markers(case, report)
