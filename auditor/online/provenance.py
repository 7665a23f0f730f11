"""``provenance-mismatch`` and ``missing-provenance``: who PyPI says published the latest
release, against this repository's publish job and the declared publisher.

For each index a trusted-publishing job of this repository uploads to: one Simple API call
(the project's files, each with a ``provenance`` link or none), then the Integrity API
(``/integrity/<project>/<version>/<file>/provenance``) for at most two files of the newest
release that is not yanked. Each attestation bundle names its publisher (kind, repository,
workflow, environment): the trusted publisher PyPI matched when that file was uploaded. An
empty environment in the provenance means the publisher on PyPI names none, so it matches a
job with any environment.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.findings import Problem
from auditor.engine.notices import Notice
from auditor.online.pypi import File, Project, Publisher, normalize
from auditor.online.session import Session
from auditor.output.records import record
from auditor.publishers.expected import Expected
from auditor.publishers.matching import expected_publishers
from auditor.reading.declarations import INDEX_HOSTS, INDEX_NAMES, Declaration
from auditor.reading.yamlsource import is_false

MISMATCH = "provenance-mismatch"
MISSING = "missing-provenance"
_MAX_FILES = 2


@record
class Release:
    """The newest release on one index and what its provenance says."""

    index: str
    project: str
    version: str
    files: tuple[File, ...]
    publishers: tuple[Publisher, ...]  # empty: no file of the release has provenance
    complete: bool  # every provenance asked for was read


def describe(publisher: Publisher) -> str:
    parts = [f"{publisher.kind or 'unknown'} repository {publisher.repository or '?'}",
             f"workflow {publisher.workflow or '?'}"]
    parts.append(f"environment {publisher.environment}" if publisher.environment else
                 "no environment")
    return ", ".join(parts)


def _expected_side(exp: Expected) -> str:
    repo = f"{exp.owner}/{exp.repository}" if exp.owner and exp.repository else "?"
    env = f"environment {exp.environment}" if exp.environment else "no environment"
    return f"{repo}, workflow {exp.workflow}, {env}"


def matches_job(publisher: Publisher, exp: Expected) -> bool | None:
    """Whether the provenance's publisher is this job; None when it cannot be decided."""
    if publisher.kind.lower() != "github":
        return False
    workflows = {exp.workflow, *exp.callers}
    if publisher.workflow not in workflows:
        return False
    if publisher.environment and exp.dynamic_environment:
        return None
    if publisher.environment and (exp.environment or "").lower() != \
            publisher.environment.lower():
        return False
    if not (exp.owner and exp.repository):
        return None
    return (publisher.repository or "").lower() == f"{exp.owner}/{exp.repository}".lower()


def matches_declaration(publisher: Publisher, decl: Declaration) -> bool:
    if decl.provider != "github" or publisher.kind.lower() != "github":
        return publisher.kind.lower() == decl.provider
    repo = f"{decl.owner}/{decl.repository}".lower()
    return ((publisher.repository or "").lower() == repo and
            publisher.workflow == decl.workflow and
            (publisher.environment or "").lower() == decl.environment.lower())


def _pick(files: tuple[File, ...]) -> list[File]:
    """The sdist and one wheel with provenance (one call each)."""
    with_provenance = [f for f in files if f.has_provenance]
    sdists = [f for f in with_provenance if not f.filename.endswith(".whl")]
    wheels = [f for f in with_provenance if f.filename.endswith(".whl")]
    return (sdists[:1] + wheels[:1] or with_provenance)[:_MAX_FILES]


def latest_release(session: Session, index: str, name: str, rule: str) -> Release | None:
    """The newest release's provenance (asked once per run for both rules)."""
    def fetch() -> Release | None:
        found = session.project(index, name, rule)
        if not isinstance(found, Project) or (latest := found.latest()) is None:
            return None
        version, files = latest
        publishers: list[Publisher] = []
        complete = True
        for file in _pick(files):
            answer = session.index_client(index).provenance(found.name, version,
                                                             file.filename, rule)
            if isinstance(answer, list):
                publishers += answer
            else:
                complete = False
                session.note(answer if answer is not None else Notice(
                    f"the Simple API lists provenance for {file.filename}, but the Integrity "
                    "API answered 404", None, 404, rule))
        return Release(index, found.name, version, files, tuple(dict.fromkeys(publishers)),
                       complete)

    release = session.once(("release", index, normalize(name)), fetch)
    return release if isinstance(release, Release) else None


def _jobs(session: Session) -> dict[str, list[Expected]]:
    by_index: dict[str, list[Expected]] = {}
    for exp in expected_publishers(session.ctx, session.ctx.identity):
        if exp.provider == "github" and exp.project:
            by_index.setdefault(exp.index, []).append(exp)
    return by_index


def provenance_mismatch(session: Session) -> Iterator[Problem]:
    for index, jobs in sorted(_jobs(session).items()):
        release = latest_release(session, index, jobs[0].project or "", MISMATCH)
        if release is None or not release.publishers:
            continue
        label = INDEX_NAMES[index]
        recorded = sorted({describe(p) for p in release.publishers})
        verdicts = [matches_job(p, exp) for p in release.publishers for exp in jobs]
        if True not in verdicts:
            exp = jobs[0]
            yield Problem(exp.upload_anchor, (
                f"the latest release {release.version} of `{release.project}` on {label} was "
                f"published, says its provenance, by {'; '.join(recorded)} — not by this "
                f"job ({_expected_side(exp)}). Either releases come from elsewhere (another "
                "repository, a fork, a renamed workflow file), or the trusted publisher on "
                f"{label} no longer matches this job, so its next upload fails with "
                f"`invalid-publisher`. Compare the publishers on https://{INDEX_HOSTS[index]}/"
                f"manage/project/{normalize(release.project)}/settings/publishing/ with this "
                "job and remove the ones you do not use"), undecided=None in verdicts)
        for decl in session.ctx.config.publishers:
            if decl.index != index or decl.pending or \
                    normalize(decl.project(release.project) or "") != \
                    normalize(release.project):
                continue
            if any(matches_declaration(p, decl) for p in release.publishers):
                continue
            yield Problem(decl.anchor, (
                f"{decl.describe()} differs from the publisher that the provenance of "
                f"{release.project} {release.version} on {label} records ({'; '.join(recorded)})"
                f": the declaration is out of date, or the release was published by another "
                "publisher. Check the project's publishing page and update the declaration"))


def _attests(exp: Expected, session: Session) -> bool:
    for pj in session.ctx.publish_jobs:
        if pj.workflow.path == exp.path and pj.job.job_id == exp.job:
            return any(s.method == "gh-action-pypi-publish" and s.index == exp.index and
                       not is_false(s.step.input("attestations")) for s in pj.steps)
    return False


def missing_provenance(session: Session) -> Iterator[Problem]:
    for index, jobs in sorted(_jobs(session).items()):
        attesting = [exp for exp in jobs if _attests(exp, session)]
        if not attesting:
            continue
        release = latest_release(session, index, attesting[0].project or "", MISSING)
        if release is None or release.publishers or not release.complete:
            continue
        if any(f.has_provenance for f in release.files):
            continue  # a file has provenance that could not be read: a notice said so
        exp = attesting[0]
        yield Problem(exp.upload_anchor, (
            f"no file of the latest release {release.version} of `{release.project}` on "
            f"{INDEX_NAMES[index]} has provenance, although this job uploads with trusted "
            "publishing and attestations on: that release was uploaded from elsewhere (a "
            "laptop, another CI) or with an API token. Publish releases only from this job, "
            "then revoke the API tokens you no longer need on "
            f"https://{INDEX_HOSTS[index]}/manage/account/token/"))


def provenance_rows(session: Session) -> list[dict[str, object]]:
    """``publishers --online``: per publish job and index, what the provenance of the latest
    release says was used (repository, workflow, environment), and whether it is this job."""
    rows: list[dict[str, object]] = []
    for index, jobs in sorted(_jobs(session).items()):
        release = latest_release(session, index, jobs[0].project or "", MISMATCH)
        for exp in jobs:
            row: dict[str, object] = {"index": index, "path": exp.path, "job": exp.job,
                                      "project": exp.project, "version": None,
                                      "publishers": [], "this_job": None}
            if release is not None:
                verdicts = [matches_job(p, exp) for p in release.publishers]
                row |= {"version": release.version,
                        "publishers": [{"kind": p.kind, "repository": p.repository,
                                        "workflow": p.workflow,
                                        "environment": p.environment or ""}
                                       for p in release.publishers],
                        "this_job": True if True in verdicts else
                        (None if None in verdicts or not verdicts else False)}
            rows.append(row)
    return rows


def render_rows(rows: list[dict[str, object]]) -> str:
    """The text section ``publishers --online`` appends."""
    if not rows:
        return ""
    lines = ["", "What PyPI's provenance says published the latest release (--online):"]
    for row in rows:
        label = INDEX_NAMES.get(str(row["index"]), str(row["index"]))
        head = f"  {row['path']} job {row['job']} → {label}:"
        if row["version"] is None:
            lines.append(f"{head} no release of {row['project']} found")
            continue
        publishers = row["publishers"]
        assert isinstance(publishers, list)
        if not publishers:
            lines.append(f"{head} {row['project']} {row['version']} has no provenance")
            continue
        said = "; ".join(describe(Publisher(str(p["kind"]), p["repository"], p["workflow"],
                                            p["environment"] or None)) for p in publishers)
        verdict = {True: "this job", False: "NOT this job", None: "cannot tell"}[
            row["this_job"]]  # type: ignore[index]
        lines.append(f"{head} {row['project']} {row['version']} by {said} ({verdict})")
    return "\n".join(lines) + "\n"
