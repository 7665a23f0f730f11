"""Hostile and malformed input: a finding at the position, other files still scanned."""

from __future__ import annotations

from pathlib import Path

from auditor.engine.scan import Report
from auditor.reading.yamlsource import load
from tests.conftest import scan_tree, write_tree

GOOD = """
on: push
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - run: twine upload dist/*
"""


def rules_at(report: Report) -> set[tuple[str, str, int]]:
    return {(f.rule, f.location.path, f.location.line) for f in report.active}


def scan_with(tmp_path: Path, name: str, content: str | bytes) -> Report:
    write_tree(tmp_path, {".github/workflows/good.yml": GOOD})
    path = tmp_path / ".github" / "workflows" / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return scan_tree(tmp_path)


def test_syntax_error_has_position_and_other_files_are_scanned(tmp_path: Path) -> None:
    report = scan_with(tmp_path, "bad.yml", "on: push\njobs:\n  a: [1, 2\n  b: 3\n")
    found = rules_at(report)
    assert any(r == "invalid-yaml" and p.endswith("bad.yml") and line >= 3
               for r, p, line in found)
    assert any(p.endswith("good.yml") for _, p, _ in found), "the good file is still audited"


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    report = scan_with(tmp_path, "bomb.yml", "\n".join(lines) + "\n")
    messages = [f.message for f in report.active if f.rule == "invalid-yaml"]
    assert any("alias" in m for m in messages)


def test_deep_nesting_does_not_crash(tmp_path: Path) -> None:
    report = scan_with(tmp_path, "deep.yml", "[" * 100_000 + "]" * 100_000)
    assert any("nesting" in f.message for f in report.active if f.rule == "invalid-yaml")


def test_binary_invalid_utf8_and_empty_files(tmp_path: Path) -> None:
    write_tree(tmp_path, {".github/workflows/good.yml": GOOD})
    wf = tmp_path / ".github" / "workflows"
    (wf / "bin.yml").write_bytes(b"\x00\x01\x02binary")
    (wf / "latin.yml").write_bytes(b"on: push\nname: caf\xe9\n")
    (wf / "empty.yml").write_text("", encoding="utf-8")
    (wf / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    report = scan_tree(tmp_path)
    by_file = {f.location.path.rsplit("/", 1)[-1]: f.rule for f in report.active}
    assert by_file["bin.yml"] == "invalid-yaml"
    assert by_file["latin.yml"] == "invalid-yaml"
    assert by_file["empty.yml"] == "invalid-workflow"
    assert by_file["list.yaml"] == "invalid-workflow"


def test_duplicate_keys_tabs_bom_crlf(tmp_path: Path) -> None:
    write_tree(tmp_path, {".github/workflows/good.yml": GOOD})
    wf = tmp_path / ".github" / "workflows"
    (wf / "dup.yml").write_text("on: push\non: pull_request\njobs: {}\n", encoding="utf-8")
    (wf / "tab.yml").write_text("on: push\njobs:\n\tx: 1\n", encoding="utf-8")
    (wf / "bom.yml").write_bytes("\ufeffon: push\r\njobs:\r\n  a:\r\n    runs-on: x\r\n"
                                 "    steps:\r\n      - run: echo hi\r\n".encode())
    report = scan_tree(tmp_path)
    found = rules_at(report)
    assert ("invalid-yaml", ".github/workflows/dup.yml", 2) in found
    assert any(p.endswith("tab.yml") and r == "invalid-yaml" for r, p, _ in found)
    assert not any(p.endswith("bom.yml") for _, p, _ in found)


def test_wrong_types_are_invalid_workflow_not_crashes(tmp_path: Path) -> None:
    report = scan_with(tmp_path, "types.yml", """
on: [push, {x: 1}]
permissions: 42
jobs:
  a:
    runs-on: ubuntu-latest
    steps: "not a list"
  b: [1, 2]
  c:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        run: echo both
      - 3
""")
    messages = [f.message for f in report.active if f.rule == "invalid-workflow"]
    assert len(messages) >= 5


def test_on_key_stays_a_string() -> None:
    document = load("on: push\nyes: no\n")
    root = document.root
    assert root is not None and "on" in root.index  # type: ignore[attr-defined]


def test_symlink_outside_the_tree_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yml"
    outside.write_text(GOOD, encoding="utf-8")
    repo = tmp_path / "repo"
    write_tree(repo, {".github/workflows/good.yml": GOOD})
    (repo / ".github" / "workflows" / "link.yml").symlink_to(outside)
    (repo / "loop").symlink_to(repo)
    report = scan_tree(repo)
    assert any("outside the scanned tree" in f.message for f in report.active)
