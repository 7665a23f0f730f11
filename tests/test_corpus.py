"""Every real repository of the shared corpus: valid JSON, exit 0 or 1, and an inventory that
agrees with the hand labels of MANIFEST.tsv on at least 95% of the labelled publishing files.

GitHub rows label one workflow file. GitLab rows label a CI file by the part of the pipeline
it brings in: the top-level ``.gitlab-ci.yml`` covers every job, an included file covers its
own jobs and those of the files it includes in turn.
"""

from __future__ import annotations

import csv
import json
from functools import cache

import jsonschema
import pytest

from auditor.engine.scan import Options, scan
from auditor.formats import json as json_format
from auditor.reading.config import Config
from auditor.repository.discovery import load_repository
from tests.conftest import CORPUS, REPO_ROOT

SCHEMA = json.loads((REPO_ROOT / "auditor" / "schemas" / "report.schema.json").read_text())
REPOS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []
_METHODS = {"uv publish": "uv", "other": "other"}

pytestmark = pytest.mark.skipif(not REPOS, reason="../shared/corpus is not present")


@cache
def report_json(name: str) -> dict:  # type: ignore[type-arg]
    report = scan([CORPUS / name], Options())
    return json.loads(json_format.render(report))  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", REPOS)
def test_corpus_repository_scans_to_valid_json(name: str) -> None:
    document = report_json(name)
    jsonschema.validate(document, SCHEMA)
    assert not [f for f in document["findings"] if f["rule"] == "invalid-config"]


def labelled_rows() -> list[dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [r for r in rows if r["publishes_to"] not in ("n/a",)
            and ("/.github/workflows/" in r["path"] or is_gitlab_row(r))]


def is_gitlab_row(row: dict[str, str]) -> bool:
    rel = row["path"].split("/", 1)[1]
    return rel == ".gitlab-ci.yml" or rel.startswith(".gitlab/")


@cache
def gitlab_parts(name: str) -> dict[str, frozenset[str]]:
    """For each file of the repository's GitLab pipelines: itself and every file it
    includes, directly or through other includes."""
    repo = load_repository(CORPUS / name, Config())
    direct: dict[str, set[str]] = {}
    for pipeline in repo.pipelines:
        for include in pipeline.includes:
            direct.setdefault(include.from_path, set()).update(include.files)
    parts: dict[str, frozenset[str]] = {}
    for pipeline in repo.pipelines:
        for start in pipeline.files:
            seen = {start}
            pending = [start]
            while pending:
                for included in direct.get(pending.pop(), ()):
                    if included not in seen:
                        seen.add(included)
                        pending.append(included)
            parts[start] = frozenset(seen)
    return parts


def verdict(row: dict[str, str]) -> tuple[bool, str]:
    """Whether pubaudit's inventory agrees with one labelled file, and what it said."""
    name, rel = row["path"].split("/", 1)
    paths = gitlab_parts(name).get(rel, frozenset({rel})) if is_gitlab_row(row) else {rel}
    jobs = [j for j in report_json(name)["publish_jobs"] if j["path"] in paths]
    publishes = row["publishes_to"] != "none"
    if not publishes:
        return (not jobs, f"inventory {[(j['job'], j['method']) for j in jobs]}")
    if not jobs:
        return False, "no publish job found"
    methods = {_METHODS.get(m.strip(), m.strip()) for m in row["method"].split(",")}
    ours = {j["method"] for j in jobs}
    ours_mapped = {m if m in methods else ("other" if m in ("pdm", "npm", "cargo", "gem")
                                           else m) for m in ours}
    method_ok = bool(ours_mapped & methods)
    tp_label = row["uses_trusted_publishing"]
    python_jobs = [j for j in jobs if j["index"] in ("pypi", "testpypi", "unknown")] or jobs
    ours_tp = any(j["trusted_publishing"] for j in python_jobs)
    tp_ok = tp_label == "unclear" or (tp_label == "yes") == ours_tp
    return method_ok and tp_ok, f"methods {sorted(ours)} tp={ours_tp}"


def test_inventory_agrees_with_manifest_labels() -> None:
    rows = labelled_rows()
    publishing = [r for r in rows if r["publishes_to"] != "none"]
    results = [(r, *verdict(r)) for r in rows]
    agree_publishing = sum(1 for r, ok, _ in results if ok and r["publishes_to"] != "none")
    disagreements = [f"{r['path']}: label {r['publishes_to']}/{r['method']}/"
                     f"{r['uses_trusted_publishing']}, pubaudit {why}"
                     for r, ok, why in results if not ok]
    ratio = agree_publishing / len(publishing)
    false_publishers = [d for d in disagreements if "label none" in d]
    print(f"agreement on publishing files: {agree_publishing}/{len(publishing)} = {ratio:.1%}")
    print("\n".join(disagreements))
    assert ratio >= 0.95, "\n".join(disagreements)
    assert len(false_publishers) <= 2, "\n".join(false_publishers)


def test_gitlab_inventory_agrees_with_manifest_labels() -> None:
    rows = [r for r in labelled_rows() if is_gitlab_row(r)]
    assert len(rows) >= 20, "the corpus lost its GitLab CI files"
    results = [(r, *verdict(r)) for r in rows]
    agreed = sum(1 for _, ok, _ in results if ok)
    publishing = [(r, ok) for r, ok, _ in results if r["publishes_to"] != "none"]
    agree_publishing = sum(1 for _, ok in publishing if ok)
    disagreements = [f"{r['path']}: label {r['publishes_to']}/{r['method']}/"
                     f"{r['uses_trusted_publishing']}, pubaudit {why}"
                     for r, ok, why in results if not ok]
    print(f"agreement on GitLab rows: {agreed}/{len(rows)}; on publishing GitLab files: "
          f"{agree_publishing}/{len(publishing)}")
    print("\n".join(disagreements))
    # The one known miss: GNOME/pygobject publishes through a remote CI/CD component
    # (gitlab.gnome.org/GNOME/citemplates/release-service), which an offline audit cannot read.
    assert agree_publishing / len(publishing) >= 0.85, "\n".join(disagreements)
    assert not [d for d in disagreements if "label none" in d], "\n".join(disagreements)
