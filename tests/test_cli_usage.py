"""The command line as users of ruff and zizmor expect it (issue 9): several repositories,
paths that open, usage errors for bad paths, rule selection, concise output and statistics,
and a scan that finds nothing to audit saying so."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.engine.scan import Options, enabled_rules, scan
from auditor.reading.catalogue import load_index
from auditor.reading.config import Config, load_config
from auditor.reading.selection import enabled, expand, split, suggestion
from tests.conftest import REPO_ROOT, UNPINNED_RELEASE, write_tree

runner = CliRunner()
DEMO = REPO_ROOT / "fixtures" / "demo"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.stdout, result.stderr


# --- 4. options ------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [[], ["scan"], ["publishers"], ["rules"], ["explain"],
                                     ["explain-log"]])
def test_short_help_on_every_command(command: list[str]) -> None:
    code, out, _ = invoke(*command, "-h")
    assert code == 0 and "Usage: pubaudit" in out


def test_short_version() -> None:
    code, out, _ = invoke("-V")
    assert code == 0 and out.startswith("pubaudit ")


def test_selectors_repeat_and_split_on_commas() -> None:
    assert split(["a,b", " c ", ""]) == ("a", "b", "c")
    index = load_index()
    pinning = {r.id for r in index.values() if r.family == "pinning"}
    assert expand("pinning", index) == pinning and "unpinned-action" in pinning
    assert expand("publisher-*", index) == {r for r in index if r.startswith("publisher-")}
    assert expand("nothing-*", index) is None and expand("unpinned-acton", index) is None
    assert enabled(index, None, ["ALL"]) == set()
    assert enabled(index, ["pinning"], ["unpinned-action"]) == pinning - {"unpinned-action"}


def test_repeated_select_accumulates() -> None:
    code, out, _ = invoke("scan", str(DEMO), "-f", "json", "--select", "unpinned-action",
                          "--select", "leftover-token,skip-existing")
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert code == 1 and rules == {"unpinned-action", "leftover-token", "skip-existing"}


def test_family_and_glob_selection() -> None:
    _, out, _ = invoke("scan", str(DEMO), "-f", "json", "--select", "pinning")
    assert {f["rule"] for f in json.loads(out)["findings"]} == {"unpinned-action"}


def test_ignore_all_ignores_everything() -> None:
    code, out, _ = invoke("scan", str(DEMO), "-f", "json", "--ignore", "ALL")
    assert code == 0 and json.loads(out)["findings"] == []


def test_unknown_rule_option_suggests() -> None:
    code, out, err = invoke("scan", str(DEMO), "--ignore", "unpinned-acton")
    assert code == 2 and out == ""
    assert "did you mean unpinned-action?" in err and len(err.strip().splitlines()) == 1


def test_explain_suggests_with_the_same_function() -> None:
    code, _, err = invoke("explain", "leftover-tokn")
    assert code == 2 and "did you mean leftover-token" in err  # (leftover-secret is close too)
    assert suggestion("zzzz", load_index()) == ""


def test_config_selection_has_the_same_meaning(tmp_path: Path) -> None:
    write_tree(tmp_path, {".github/workflows/release.yml": UNPINNED_RELEASE,
                          "pyproject.toml": '[project]\nname = "w"\n[tool.pubaudit]\n'
                                            'select = ["pinning"]\nignore = ["unpinned-acton"]\n'})
    config = load_config(tmp_path)
    assert [e.message for e in config.errors] == [
        "`ignore` names an unknown rule 'unpinned-acton' (did you mean unpinned-action?); "
        "`pubaudit rules` lists them"]
    ids = {r.id for r in enabled_rules(config, Options())}
    assert "unpinned-action" in ids and "leftover-token" not in ids and "invalid-config" in ids
    everything = {r.id for r in enabled_rules(Config(ignore=("ALL",)), Options())}
    assert everything == set()


# --- 3. usage errors -------------------------------------------------------------------------

@pytest.mark.parametrize(("target", "reason"), [
    ("/nonexistent/dir/x.txt", "does not exist"), ("/tmp", "is a directory")])
def test_bad_output_is_a_usage_error(target: str, reason: str) -> None:
    code, out, err = invoke("scan", str(DEMO), "-o", target)
    assert code == 2 and out == "" and reason in err and target in err


def test_read_only_output_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("keep")
    target.chmod(0o444)
    code, _, err = invoke("scan", str(DEMO), "-o", str(target))
    assert code == 2 and "read-only" in err and target.read_text() == "keep"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_disk_is_a_usage_error() -> None:
    code, _, err = invoke("scan", str(DEMO), "-o", "/dev/full")
    assert code == 2 and "/dev/full" in err and "Traceback" not in err


def test_output_is_replaced_whole_keeping_permissions(tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    target.write_text("old")
    target.chmod(0o640)
    code, _, _ = invoke("scan", str(DEMO), "-f", "sarif", "-o", str(target))
    assert code == 1 and json.loads(target.read_text())["version"] == "2.1.0"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["report.sarif"]  # no temporary left


def test_baseline_in_a_missing_directory(tmp_path: Path) -> None:
    code, _, err = invoke("scan", str(DEMO), "--baseline", str(tmp_path / "no" / "b.json"))
    assert code == 2 and "does not exist" in err and not (tmp_path / "no").exists()


def test_config_directory(tmp_path: Path) -> None:
    code, _, err = invoke("scan", str(DEMO), "--config", str(tmp_path))
    assert code == 2 and "is a directory" in err
    code, _, err = invoke("publishers", str(DEMO), "--config", str(tmp_path))
    assert code == 2 and "is a directory" in err


# --- 6. concise and statistics ---------------------------------------------------------------

def test_concise_is_one_line_per_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    monkeypatch.chdir(REPO_ROOT)
    code, out, _ = invoke("scan", "fixtures/demo", "-f", "concise")
    lines = out.splitlines()
    assert code == 1 and len(lines) == 10
    assert lines[0].startswith("fixtures/demo/.github/workflows/release.yml:4:3: medium "
                               "branch-push-publish job 'publish' uploads")
    assert all(". " not in line.split(" ", 3)[3].rstrip(".") for line in lines[:-1])
    assert lines[-1] == "9 findings (5 medium, 4 low); 2 files read; 1 publish job"


def test_statistics_counts_per_rule() -> None:
    code, out, _ = invoke("scan", str(DEMO), "--statistics")
    lines = out.splitlines()
    assert code == 1
    assert lines[0].split()[:3] == ["2", "unpinned-action", "medium"]
    assert "Action in a publishing workflow is not pinned" in lines[0]
    assert len(lines) == 9 and "leftover-token" in out


def test_one_file_read(tmp_path: Path) -> None:
    write_tree(tmp_path, {".github/workflows/release.yml": UNPINNED_RELEASE})
    _, out, _ = invoke("scan", str(tmp_path), "-q")
    assert "; 1 file read;" in out


# --- 7. nothing to audit ---------------------------------------------------------------------

def test_nothing_to_audit_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello")
    code, out, err = invoke("scan", str(tmp_path))
    assert code == 2 and out == ""
    assert err.strip() == (f"pubaudit: nothing to audit in {tmp_path}: no "
                           ".github/workflows/*.yml, .gitlab-ci.yml, action.yml or "
                           "pyproject.toml")


def test_irrelevant_files_stay_silent(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello")
    code, out, err = invoke("scan", str(tmp_path / "README.md"))
    assert code == 0 and err == "" and "0 findings" in out


# --- 1. several repositories -----------------------------------------------------------------

def test_several_repositories(tmp_path: Path) -> None:
    write_tree(tmp_path / "clean", {"pyproject.toml": '[project]\nname = "c"\n'})
    write_tree(tmp_path / "bad", {".github/workflows/release.yml": UNPINNED_RELEASE,
                                  "pyproject.toml": '[project]\nname = "b"\n'})
    (tmp_path / "clean" / "pubaudit.toml").write_text('ignore = ["unpinned-action"]\n')
    code, out, _ = invoke("scan", str(tmp_path / "clean"), str(tmp_path / "bad"), "-f", "json")
    document = json.loads(out)
    assert code == 1  # the worst of the two
    assert document["roots"] == [str(tmp_path / "clean"), str(tmp_path / "bad")]
    assert {f["root"] for f in document["findings"]} == {str(tmp_path / "bad")}
    assert "unpinned-action" in {f["rule"] for f in document["findings"]}  # its own config
    assert {j["root"] for j in document["publish_jobs"]} == {str(tmp_path / "bad")}
    schema = json.loads((REPO_ROOT / "auditor" / "schemas" / "report.schema.json").read_text())
    jsonschema.validate(document, schema)
    code, out, _ = invoke("scan", str(tmp_path / "clean"), str(tmp_path / "bad"), "-f",
                          "sarif")
    runs = json.loads(out)["runs"]
    assert [r["originalUriBaseIds"]["%SRCROOT%"]["uri"] for r in runs] == [
        (tmp_path / "clean").as_uri() + "/", (tmp_path / "bad").as_uri() + "/"]
    assert not runs[0]["results"] and runs[1]["results"]


def test_one_baseline_over_several_repositories_keeps_them_apart(tmp_path: Path) -> None:
    """Two repositories with the same release.yml share fingerprints (paths are per
    repository): accepting one's finding must not accept the other's."""
    for name in ("a", "b"):
        write_tree(tmp_path / name, {".github/workflows/release.yml": UNPINNED_RELEASE})
    baseline = tmp_path / "baseline.json"
    code, _, _ = invoke("scan", str(tmp_path / "a"), "--baseline", str(baseline))
    assert code == 0 and baseline.exists()  # written from repository a alone
    keys = json.loads(baseline.read_text())["fingerprints"]
    # a's findings were accepted; a baseline over a and b must still report b's
    both = tmp_path / "both.json"
    code, _, _ = invoke("scan", str(tmp_path / "a"), str(tmp_path / "b"), "--baseline",
                        str(both))
    assert code == 0
    written = json.loads(both.read_text())["fingerprints"]
    assert len(written) == 2 * len(keys)
    (tmp_path / "only-a.json").write_text(json.dumps(
        {"fingerprints": [k for k in written if k.startswith(str(tmp_path / "a") + ":")]}))
    code, out, _ = invoke("scan", str(tmp_path / "a"), str(tmp_path / "b"), "--baseline",
                          str(tmp_path / "only-a.json"), "-f", "json")
    document = json.loads(out)
    assert code == 1
    assert {f["root"] for f in document["findings"] if not f.get("suppressed")} == {
        str(tmp_path / "b")}


def test_one_repository_report_is_unchanged() -> None:
    single = scan([DEMO], Options())
    assert single.parts == () and single.repositories == (single,)


# --- 2. paths that open, as a real subprocess ------------------------------------------------

def test_paths_relative_to_the_current_directory(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    for fmt in ("text", "concise"):
        result = subprocess.run([sys.executable, "-m", "auditor", "scan", "fixtures/demo",
                                 "-f", fmt], capture_output=True, text=True, cwd=REPO_ROOT,
                                env=env, timeout=60)
        assert "fixtures/demo/.github/workflows/release.yml:4:3" in result.stdout
    outside = subprocess.run([sys.executable, "-m", "auditor", "scan", str(DEMO), "-f",
                              "concise"], capture_output=True, text=True, cwd=tmp_path,
                             env=env, timeout=60)
    assert outside.stdout.startswith(f"{DEMO.as_posix()}/.github/workflows/release.yml:4:3")
    published = subprocess.run([sys.executable, "-m", "auditor", "publishers",
                                "fixtures/demo"], capture_output=True, text=True,
                               cwd=REPO_ROOT, env=env, timeout=60)
    assert "fixtures/demo/.github/workflows/release.yml job `publish`" in published.stdout


def test_usage_errors_as_a_subprocess(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "auditor", "scan", str(DEMO), "-o",
                             str(tmp_path / "missing" / "x.sarif")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    empty = subprocess.run([sys.executable, "-m", "auditor", "scan", str(tmp_path)],
                           capture_output=True, text=True, timeout=60)
    assert empty.returncode == 2 and "nothing to audit" in empty.stderr
