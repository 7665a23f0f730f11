"""Properties every report must have, whatever the input: shared by the hostile-input suite,
the hypothesis properties and the atheris harness (``fuzz/fuzz_scan.py``).

Kept in one place so that the three agree on what "robust" means: the scan finishes, every
location lies inside its file, spans never run backwards, every registered format renders,
and the JSON report validates against the shipped schema.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from auditor.checks.findings import Location
from auditor.engine.scan import Report

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = REPO_ROOT / "auditor" / "schemas" / "report.schema.json"
# Line breaks as libyaml counts them (YAML 1.1: NEL, LS and PS too); str.splitlines also
# splits on VT, FF and the file/group/record separators, so both counts are allowed.
_YAML_BREAK_RE = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def formats() -> tuple[str, ...]:
    """The formats registered right now (others add sarif/github/markdown over time)."""
    from auditor import formats as registry

    return tuple(registry.FORMATS)


def render(report: Report, name: str) -> str:
    """Render ``report`` with the format module ``auditor.formats.<name>``."""
    module = importlib.import_module(f"auditor.formats.{name}")
    rendered = module.render(report)
    assert isinstance(rendered, str), f"format {name} returned {type(rendered).__name__}"
    return rendered


def render_all(report: Report) -> dict[str, str]:
    return {name: render(report, name) for name in formats()}


@cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def line_count(text: str) -> int:
    """The number of lines of ``text`` under either notion of a line break."""
    yaml_lines = len(_YAML_BREAK_RE.split(text)) if text else 0
    return max(yaml_lines, len(text.splitlines()))


def _locations(report: Report) -> Iterator[tuple[str, Location]]:
    for finding in report.findings:
        yield f"{finding.rule} primary", finding.location
        for label, location in finding.related:
            yield f"{finding.rule} related {label!r}", location


def check_location(what: str, location: Location, lines: int | None) -> None:
    """A 1-based span inside a file of ``lines`` lines (``None``: file text unknown)."""
    assert location.line >= 1 and location.column >= 1, f"{what}: {location}"
    assert location.end_line >= 1 and location.end_column >= 1, f"{what}: {location}"
    assert (location.end_line, location.end_column) >= (location.line, location.column), \
        f"{what}: span runs backwards: {location}"
    if lines is not None:
        assert location.end_line <= max(lines, 1) + 1, \
            f"{what}: line beyond the end of a {lines}-line file: {location}"


def _lines_of(report: Report, root: Path, path: str) -> int | None:
    source = report.sources.get(path)
    if source is not None:
        return line_count(source.text)
    file = root / path
    if not file.is_file():  # a FIFO would block, a directory or dangling link has no lines
        return None
    try:
        return line_count(file.read_bytes().decode("utf-8", "replace"))
    except OSError:
        return None


def check_report(report: Report, root: Path) -> dict[str, str]:
    """Assert the invariants of ``report`` (a scan of ``root``); return every rendering."""
    counts: dict[str, int | None] = {}
    for what, location in _locations(report):
        if location.path not in counts:
            counts[location.path] = _lines_of(report, root, location.path)
        check_location(what, location, counts[location.path])
    for finding in report.findings:
        assert finding.message.strip(), f"{finding.rule}: empty message"
        assert re.fullmatch(r"[0-9a-f]{32}", finding.fingerprint), finding.fingerprint
    rendered = render_all(report)
    document = json.loads(rendered["json"])
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, f"JSON report does not match the schema: {errors[0].message} at " \
                       f"{list(errors[0].path)}"
    return rendered
