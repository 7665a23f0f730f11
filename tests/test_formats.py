"""SARIF, GitHub annotations and Markdown: valid, escaped, stable, and wired into the CLI.

SARIF is validated against both the OASIS schema (draft-04) and the copy that
``github/codeql-action/upload-sarif`` checks uploads against (draft 2020-12), with URI
formats checked by hand because jsonschema checks them only when optional packages exist.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from auditor.checks.findings import Finding, Location
from auditor.engine.scan import Options, Report, scan
from auditor.formats import github, markdown, sarif
from auditor.formats.linehash import line_hashes
from auditor.reading.catalogue import load_catalogue
from auditor.reading.config import Config
from tests.conftest import CORPUS, REPO_ROOT, SCHEMAS, UNPINNED_RELEASE, scan_tree, write_tree

CASES = sorted(p for p in (REPO_ROOT / "fixtures" / "cases").glob("*/*") if p.is_dir())
CORPUS_REPOS = sorted(p for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []

# RFC 3986: a URI reference may hold only these characters and %HH escapes.
_URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")



def _uri_reference(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI_CHARS.match(value))


def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI_CHARS.match(value) and _SCHEME.match(value))


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker()
    checker.checks("uri-reference")(_uri_reference)
    checker.checks("uri")(_uri)
    return checker


@cache
def validators() -> tuple[Any, Any]:
    oasis = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    codeql = json.loads((SCHEMAS / "sarif-schema-2.1.0.github.json").read_text(
        encoding="utf-8"))
    assert oasis["$schema"].startswith("http://json-schema.org/draft-04/")
    assert codeql["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    checker = _format_checker()
    return (jsonschema.Draft4Validator(oasis, format_checker=checker),
            jsonschema.Draft202012Validator(codeql, format_checker=checker))


def assert_valid_sarif(document: dict[str, Any]) -> None:
    for validator in validators():
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert isinstance(run["results"], list)  # upload-sarif rejects a run without it
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["endLine"] >= region["startLine"]
        assert region["startColumn"] >= 1 and region["endColumn"] >= 1
        if region["endLine"] == region["startLine"]:
            assert region["endColumn"] >= region["startColumn"]
        assert result["partialFingerprints"][sarif.FINGERPRINT_KEY]


def sarif_of(report: Report) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(sarif.render(report))
    return document


def the_run(report: Report) -> dict[str, Any]:
    run: dict[str, Any] = sarif_of(report)["runs"][0]
    return run


# --- SARIF: validity over realistic scans ---------------------------------------------------

def test_demo_sarif_is_valid_and_complete() -> None:
    report = scan([REPO_ROOT / "fixtures" / "demo"], Options())
    document = sarif_of(report)
    assert_valid_sarif(document)
    run = document["runs"][0]
    assert document["version"] == "2.1.0" and len(document["runs"]) == 1
    assert len(run["results"]) == len(report.findings) > 0
    assert run["columnKind"] == "utf16CodeUnits"
    assert run["invocations"] == [{"executionSuccessful": True}]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == REPO_ROOT.as_uri() + "/"
    # fixtures/demo is a subdirectory of this repository: URIs and category say so.
    assert run["automationDetails"]["id"] == "pubaudit/fixtures/demo/"
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in run["results"]}
    assert uris == {"fixtures/demo/.github/workflows/release.yml"}
    with_related = [r for r in run["results"] if r.get("relatedLocations")]
    assert with_related
    for result in with_related:
        for related in result["relatedLocations"]:
            assert related["message"]["text"]
            assert f"]({related['id']})" in result["message"]["text"]


def test_every_rule_is_declared_once_sorted_with_github_metadata() -> None:
    report = scan([REPO_ROOT / "fixtures" / "demo"], Options())
    rules = the_run(report)["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(load_catalogue())
    for descriptor in rules:
        rule = load_catalogue()[descriptor["id"]]
        props = descriptor["properties"]
        assert "security" in props["tags"] and len(props["tags"]) <= 10
        assert props["precision"] == rule.confidence
        assert descriptor["defaultConfiguration"]["level"] == sarif.LEVELS[rule.severity]
        if rule.severity == "info":
            assert "security-severity" not in props
        else:
            assert 0.0 < float(props["security-severity"]) <= 10.0
        assert 0 < len(descriptor["shortDescription"]["text"]) <= 1024
        assert 0 < len(descriptor["fullDescription"]["text"]) <= 1024
        assert len(descriptor["name"]) <= 255 and " " not in descriptor["name"]
        assert rule.why[:40] in descriptor["help"]["markdown"]
        assert rule.help_uri in descriptor["help"]["text"]
        assert descriptor["helpUri"] == rule.help_uri
    high = {r["id"]: r for r in rules}["missing-id-token"]["properties"]
    assert 7.0 <= float(high["security-severity"]) < 9.0  # GitHub's "High" band


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_case_sarif_is_valid(case: Path) -> None:
    report = scan([case], Options())
    document = sarif_of(report)
    assert_valid_sarif(document)
    assert len(document["runs"][0]["results"]) == len(report.findings)


@pytest.mark.skipif(not CORPUS_REPOS, reason="../shared/corpus is not present")
@pytest.mark.parametrize("repo_dir", CORPUS_REPOS, ids=lambda p: p.name)
def test_corpus_repository_sarif_is_valid(repo_dir: Path) -> None:
    assert_valid_sarif(sarif_of(scan([repo_dir], Options())))


def test_empty_scan_still_has_results_array(tmp_path: Path) -> None:
    report = scan_tree(tmp_path)
    document = sarif_of(report)
    assert_valid_sarif(document)
    assert document["runs"][0]["results"] == []
    assert document["runs"][0]["automationDetails"]["id"] == "pubaudit/"


def test_sarif_is_deterministic() -> None:
    first = sarif.render(scan([REPO_ROOT / "fixtures" / "demo"], Options()))
    second = sarif.render(scan([REPO_ROOT / "fixtures" / "demo"], Options()))
    assert first == second


# --- SARIF: suppressions, fingerprints, columns, fixes ----------------------------------------

def test_inline_and_baseline_suppressions_are_kept_as_sarif_suppressions(tmp_path: Path) -> None:
    text = UNPINNED_RELEASE.format(comment="  # pubaudit: ignore[unpinned-action] tracked in #12")
    other = UNPINNED_RELEASE.format(comment="").replace("    environment: pypi\n", "")
    write_tree(tmp_path, {".github/workflows/release.yml": text,
                          ".github/workflows/other.yml": other})
    baseline = tmp_path / "baseline.json"
    # Accept today's unpinned-action findings: other.yml's goes into the baseline.
    scan_tree(tmp_path, baseline=baseline, select=("unpinned-action",))
    report = scan_tree(tmp_path, baseline=baseline,
                       select=("unpinned-action", "missing-environment"))
    document = sarif_of(report)
    assert_valid_sarif(document)
    results = document["runs"][0]["results"]
    assert len(results) == len(report.findings)  # suppressed findings are not dropped
    by_file = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r
               for r in results if r["ruleId"] == "unpinned-action"}
    assert by_file[".github/workflows/release.yml"]["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": "tracked in #12"}]
    [external] = by_file[".github/workflows/other.yml"]["suppressions"]
    assert external["kind"] == "external" and external["status"] == "accepted"
    active = [r for r in results if "suppressions" not in r]
    assert len(active) == len(report.active)
    assert [r["ruleId"] for r in active] == ["missing-environment"]


def test_fingerprints_survive_unrelated_lines_added_above(tmp_path: Path) -> None:
    before = the_run(scan_tree(write_tree(tmp_path / "a", {
        ".github/workflows/release.yml": UNPINNED_RELEASE.format(comment="")})))["results"]
    shifted = UNPINNED_RELEASE.format(comment="").replace(
        "name: Release\n", "name: Release\n# a comment\n\nconcurrency: release\n")
    after = the_run(scan_tree(write_tree(tmp_path / "b", {
        ".github/workflows/release.yml": shifted})))["results"]
    assert before and len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        assert old["ruleId"] == new["ruleId"]
        assert old["partialFingerprints"] == new["partialFingerprints"]
        assert "primaryLocationLineHash" in new["partialFingerprints"]
        old_line = old["locations"][0]["physicalLocation"]["region"]["startLine"]
        assert new["locations"][0]["physicalLocation"]["region"]["startLine"] == old_line + 3


def test_line_hash_matches_codeql_action_vectors() -> None:
    # The expected values are the test vectors of github/codeql-action fingerprints.test.ts.
    assert line_hashes("") == ["c129715d7a2bc9a3:1"]
    assert line_hashes(" a\nb\n  \t\tc\n d") == [
        "271789c17abda88f:1", "54703d4cd895b18:1", "180aee12dab6264:1", "a23a3dc5e078b07b:1"]
    expected = ["e9496ae3ebfced30:1", "fb7c023a8b9ccb3f:1", "ce8ba1a563dcdaca:1",
                "e20e36e16fcb0cc8:1", "b3edc88f2938467e:1", "c8e28b0b4002a3a0:1",
                "c129715d7a2bc9a3:1"]
    for text in (" hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n",
                 " hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r",
                 " hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
                 " hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n"):
        assert line_hashes(text) == expected
    assert line_hashes("Lorem ipsum dolor sit amet.\n" * 10) == [
        *(f"a7f2ff13bc495cf2:{n}" for n in range(1, 7)), "a7f2ff1481e87703:1",
        "a9cf91f7bbf1862b:1", "55ec222b86bcae53:1", "cc97dc7b1d7d8f7b:1", "c129715d7a2bc9a3:1"]


def test_line_hash_is_taken_from_the_file_as_uploaded(tmp_path: Path) -> None:
    report = scan_tree(write_tree(tmp_path, {
        ".github/workflows/release.yml": UNPINNED_RELEASE.format(comment="")}))
    [result] = [r for r in the_run(report)["results"] if r["ruleId"] == "unpinned-action"]
    text = (tmp_path / ".github/workflows/release.yml").read_text(encoding="utf-8")
    line = result["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert result["partialFingerprints"]["primaryLocationLineHash"] == \
        line_hashes(text)[line - 1]


def test_columns_are_utf16_code_units(tmp_path: Path) -> None:
    workflow = UNPINNED_RELEASE.format(comment="").replace(
        "      - uses: pypa/gh-action-pypi-publish@release/v1",
        '      - {name: "\U0001F680 up", uses: pypa/gh-action-pypi-publish@release/v1}')
    report = scan_tree(write_tree(tmp_path, {".github/workflows/release.yml": workflow}))
    [finding] = [f for f in report.findings if f.rule == "unpinned-action"]
    [result] = [r for r in the_run(report)["results"] if r["ruleId"] == "unpinned-action"]
    region = result["locations"][0]["physicalLocation"]["region"]
    # One astral character before the span: one more UTF-16 unit than code points.
    assert region["startColumn"] == finding.location.column + 1
    assert region["endColumn"] == finding.location.end_column + 1
    line = workflow.lstrip("\n").splitlines()[region["startLine"] - 1]
    units = line.encode("utf-16-le")
    start, end = (region["startColumn"] - 1) * 2, (region["endColumn"] - 1) * 2
    assert units[start:end].decode("utf-16-le") == "pypa/gh-action-pypi-publish@release/v1"


def test_fixes_become_sarif_fixes(tmp_path: Path) -> None:
    report = scan_tree(write_tree(tmp_path, {
        ".github/workflows/release.yml": UNPINNED_RELEASE.format(comment="")}))
    fixed = [f for f in report.findings if f.fix is not None]
    assert fixed, "unpinned-action on the pypi action carries a fix"
    document = sarif_of(report)
    assert_valid_sarif(document)
    [result] = [r for r in document["runs"][0]["results"] if r.get("fixes")]
    [change] = result["fixes"][0]["artifactChanges"]
    fix = fixed[0].fix
    assert fix is not None
    assert [r["insertedContent"]["text"] for r in change["replacements"]] == \
        [e.replacement for e in fix.edits]  # the pinned value, then its version comment
    assert result["fixes"][0]["properties"]["pubaudit/safe"] is fix.safe
    assert change["artifactLocation"]["uriBaseId"] == "%SRCROOT%"


def test_paths_are_relative_to_the_git_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_tree(tmp_path / "sub dir", {".github/workflows/release.yml": UNPINNED_RELEASE.format(
        comment="")})
    report = scan([tmp_path / "sub dir"], Options())
    run = the_run(report)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in run["results"]}
    assert uris == {"sub%20dir/.github/workflows/release.yml"}
    assert run["automationDetails"]["id"] == "pubaudit/sub dir/"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    annotations = github.render(report).splitlines()
    assert annotations[0].startswith("::warning file=sub dir/.github/workflows/release.yml,")


def test_configured_severity_is_what_code_scanning_shows(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        ".github/workflows/release.yml": UNPINNED_RELEASE.format(comment=""),
        "pubaudit.toml": '[rules.unpinned-action]\nseverity = "high"\n'})
    run = the_run(scan_tree(tmp_path))
    descriptor = {r["id"]: r for r in run["tool"]["driver"]["rules"]}["unpinned-action"]
    assert descriptor["properties"]["security-severity"] == sarif.SECURITY_SEVERITY["high"]
    [result] = [r for r in run["results"] if r["ruleId"] == "unpinned-action"]
    assert result["level"] == "error"


# --- GitHub annotations -----------------------------------------------------------------------

def _unescape(text: str) -> str:
    return (text.replace("%0A", "\n").replace("%0D", "\r").replace("%3A", ":")
            .replace("%2C", ",").replace("%25", "%"))


def _parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Read a workflow command back the way the runner does: split at the first ``::``
    after the command, properties at ``,`` and the first ``=``."""
    assert line.startswith("::")
    head, _, message = line[2:].partition("::")
    kind, _, props = head.partition(" ")
    properties = dict(p.split("=", 1) for p in props.split(",")) if props else {}
    return kind, {k: _unescape(v) for k, v in properties.items()}, _unescape(message)


def synthetic_report(tmp_path: Path, findings: list[Finding]) -> Report:
    return Report(tmp_path, ".", findings, [], 1, Config())


def finding(message: str, path: str = ".github/workflows/release.yml", line: int = 3,
            severity: str = "high", rule: str = "missing-id-token",
            suppressed: bool = False, end_line: int | None = None) -> Finding:
    location = Location(path, line, 5, end_line or line, 12)
    related = (("job, permissions: here", Location(path, 1, 1, 1, 4)),)
    return Finding(rule, severity, "high", message, location, related,
                   f"https://example.invalid/{rule}/", "f" * 32, suppressed=suppressed,
                   suppression="inSource" if suppressed else None)


def test_annotation_escapes_message_and_properties(tmp_path: Path) -> None:
    message = "100% broken:\nline two, with commas\r\nand ::error:: inside %0A"
    path = ".github/workflows/a,b::c%.yml"
    report = synthetic_report(tmp_path, [finding(message, path=path)])
    lines = github.render(report).splitlines()
    assert len(lines) == 2  # one command, one summary line: nothing else
    command = lines[0]
    assert "\n" not in command and "\r" not in command
    kind, properties, text = _parse_command(command)
    assert kind == "error"
    assert properties["file"] == path
    assert properties["title"] == "pubaudit: missing-id-token"
    assert (properties["line"], properties["endLine"]) == ("3", "3")
    assert (properties["col"], properties["endColumn"]) == ("5", "12")
    assert text.startswith(message + "\n")
    assert "job, permissions: here: .github/workflows/a,b::c%.yml:1:1" in text
    assert "%0A inside" not in command and "%250A" in command
    assert not lines[1].startswith("::")


def test_escape_functions() -> None:
    assert github.escape_data("50%\r\n") == "50%25%0D%0A"
    assert github.escape_property("a:b,c%d\n") == "a%3Ab%2Cc%25d%0A"
    assert github.escape_data("%0A") == "%250A"  # % first, so nothing decodes twice


def test_annotation_levels_multiline_spans_and_suppressed(tmp_path: Path) -> None:
    report = synthetic_report(tmp_path, [
        finding("low one", severity="low", rule="persist-credentials", line=9),
        finding("medium one", severity="medium", rule="unpinned-action", line=8),
        finding("spans lines", severity="info", rule="testpypi-needs-own-publisher",
                line=2, end_line=4),
        finding("hidden", suppressed=True, line=5),
    ])
    commands = [_parse_command(line) for line in github.render(report).splitlines()
                if line.startswith("::")]
    assert [(kind, props["line"]) for kind, props, _ in commands] == [
        ("warning", "8"), ("notice", "9"), ("notice", "2")]
    multi = commands[-1][1]
    assert multi["endLine"] == "4" and "col" not in multi and "endColumn" not in multi
    assert all("hidden" not in text for _, _, text in commands)


def test_annotation_overflow_notice_comes_first(tmp_path: Path) -> None:
    findings = [finding(f"problem {n}", line=n + 1) for n in range(12)]
    lines = github.render(synthetic_report(tmp_path, findings)).splitlines()
    kind, _, text = _parse_command(lines[0])
    assert kind == "notice" and "12 errors" in text
    assert sum(1 for line in lines if line.startswith("::error ")) == 12
    assert lines[-1] == "pubaudit: 12 findings (12 high); 1 file read"


def test_github_format_of_a_real_scan_stays_in_command_syntax() -> None:
    report = scan([REPO_ROOT / "fixtures" / "demo"], Options())
    lines = github.render(report).splitlines()
    assert len(lines) == len(report.active) + 1
    for line in lines[:-1]:
        kind, properties, _ = _parse_command(line)
        assert kind in ("error", "warning", "notice")
        assert properties["file"] == "fixtures/demo/.github/workflows/release.yml"


# --- Markdown ---------------------------------------------------------------------------------

def test_markdown_cells_escape_table_breakers() -> None:
    cell = markdown.cell("a | b\nc `x | y` and `` a`b `` <img src=x> [l](u) `open")
    assert "\n" not in cell
    assert "a \\| b<br>c " in cell
    assert "`x \\| y`" in cell  # GitHub needs \| inside code spans too
    assert "``a`b``" in cell or "`` a`b ``" in cell
    assert "\\<img src=x\\>" in cell and "\\[l\\](u)" in cell
    assert cell.endswith("\\`open")  # an unmatched backtick is literal
    assert markdown.code("a`b|c") == "``a`b\\|c``"
    assert markdown.code("`x`") == "`` `x` ``"
    assert markdown.plain("*not bold* _x_ #1 & ~y~") == "\\*not bold\\* \\_x\\_ \\#1 \\& \\~y\\~"


def _table_rows(text: str, heading: str) -> list[str]:
    section = text.split(heading, 1)[1].split("\n\n", 2)[1]
    return section.splitlines()[2:]


def test_markdown_report_of_demo() -> None:
    report = scan([REPO_ROOT / "fixtures" / "demo"], Options())
    text = markdown.render(report)
    assert text.startswith(f"## pubaudit: {len(report.active)} findings\n")
    for severity in ("medium", "low"):
        count = sum(1 for f in report.active if f.severity == severity)
        assert f"| {severity} | {count} |" in text
    rows = _table_rows(text, "### Findings")
    assert len(rows) == len(report.active)
    for row in rows:
        # Unescaped pipes separate exactly four cells.
        assert len(re.findall(r"(?<!\\)\|", row)) == 5
    assert "[`leftover-token`](https://pubaudit.readthedocs.io/en/latest/rules/leftover-token/)" \
        in text
    [job] = _table_rows(text, "### Publish jobs")
    assert job.startswith("| `fixtures/demo/.github/workflows/release.yml` | `publish` | 10 |")


def test_markdown_clean_report(tmp_path: Path) -> None:
    text = markdown.render(scan_tree(tmp_path))
    assert text.startswith("## pubaudit: no findings\n")
    assert "nothing to report" in text and "### Findings" not in text
    assert "No publish jobs found." in text


def test_markdown_hostile_inventory_values_are_escaped(tmp_path: Path) -> None:
    workflow = UNPINNED_RELEASE.format(comment="").replace("environment: pypi",
                                                  "environment: 'p|y\\`pi'")
    report = scan_tree(write_tree(tmp_path, {".github/workflows/release.yml": workflow}))
    [job] = _table_rows(markdown.render(report), "### Publish jobs")
    assert len(re.findall(r"(?<!\\)\|", job)) == 10  # nine cells, none broken


def test_markdown_renders_as_intended_tables(tmp_path: Path) -> None:
    """Render with a CommonMark + GFM-tables parser: hostile text stays inside its cell and
    never becomes HTML, links or extra columns."""
    markdown_it = pytest.importorskip("markdown_it")
    hostile = ["pipe | in text", "`code | pipe`", "<img src=x onerror=alert(1)>",
               "[link](https://evil.invalid)", "line\nbreak | and `unclosed", "``a`b``",
               "*emph* _under_ ~~strike~~ &amp; #heading"]
    findings = [finding(text, line=n + 1) for n, text in enumerate(hostile)]
    html = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(
        markdown.render(synthetic_report(tmp_path, findings)))
    body = html.split("<h3>Findings</h3>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)[1:]
    assert len(rows) == len(hostile)
    for row, text in zip(rows, hostile, strict=True):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        assert len(cells) == 4, row
        message = cells[3]
        assert "<img" not in message and "<a " not in message and "<em>" not in message
        assert "<del>" not in message and "<s>" not in message
        plain_text = re.sub(r"<br ?/?>", "\n", re.sub(r"</?code>", "", message))
        plain_text = plain_text.replace("&lt;", "<").replace("&gt;", ">").replace(
            "&quot;", '"').replace("&amp;", "&")
        if "`" not in text:
            assert plain_text == text
    assert "`code | pipe`" not in html and "<code>code | pipe</code>" in html


def test_markdown_truncates_below_the_summary_limit(tmp_path: Path) -> None:
    message = "A long message | with `code` and\nnewlines. " * 40
    findings = [finding(message, line=n + 1) for n in range(3000)]
    text = markdown.render(synthetic_report(tmp_path, findings))
    assert len(text.encode()) < markdown.SUMMARY_LIMIT
    shown = len(_table_rows(text, "### Findings"))
    assert 0 < shown < 3000
    assert f"*{3000 - shown} more findings not shown" in text


# --- CLI --------------------------------------------------------------------------------------

def run_cli(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_cli_sarif_to_file_keeps_the_exit_code(tmp_path: Path) -> None:
    out = tmp_path / "pubaudit.sarif"
    result = run_cli("scan", "fixtures/demo", "--format", "sarif", "--output", str(out))
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    document = json.loads(out.read_text(encoding="utf-8"))
    assert_valid_sarif(document)
    assert document["runs"][0]["results"]
    assert run_cli("scan", "fixtures/demo", "--format", "sarif", "--output", str(out),
                   "--exit-zero").returncode == 0


def test_cli_github_and_markdown_formats() -> None:
    result = run_cli("scan", "fixtures/demo", "--format", "github")
    assert result.returncode == 1
    assert result.stdout.startswith("::warning file=fixtures/demo/.github/workflows/")
    assert "Traceback" not in result.stderr
    result = run_cli("scan", "fixtures/demo", "--format", "markdown", "--fail-on", "high")
    assert result.returncode == 0
    assert re.match(r"## pubaudit: \d+ findings\n", result.stdout)
