"""Job structure: how the publish job is built, where it runs, and what its steps say."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase

from auditor.checks.findings import Problem
from auditor.checks.fixes import checkout_credentials, remove_input, rename_input
from auditor.facts.context import Context, PublishJob
from auditor.facts.distflow import packages_dir, replay
from auditor.github.model import Job, Step, Workflow, matrix_values
from auditor.output.lazyre import lazy_re
from auditor.reading.positions import scalar_span
from auditor.reading.source import Anchor
from auditor.reading.yamlsource import Mapping, Node, Scalar, Sequence, is_false, is_true
from auditor.upload.indexes import index_of_url, upload_url_problem
from auditor.upload.publish import PYPA_INPUTS, PYPA_SNAKE_INPUTS, PublishStep, resolve_tool
from auditor.upload.scope import index_scope
from auditor.upload.shell import split_commands, strip_prefixes

_BUILD_ACTIONS = frozenset({"pypa/cibuildwheel", "hynek/build-and-inspect-python-package",
                            "joerick/cibuildwheel"})


def _is_build(argv: list[str]) -> bool:
    resolved = resolve_tool(strip_prefixes(argv)[0])
    if resolved is None:
        return False
    tool, args = resolved
    first = next((a for a in args if not a.startswith("-")), "")
    if tool in ("build", "pyproject-build", "cibuildwheel"):
        return True
    if tool in ("uv", "poetry", "hatch", "pdm", "flit", "maturin", "rye") and first == "build":
        return True
    if tool == "pip" and first == "wheel":
        return True
    if tool.endswith("setup.py") and any(a in ("sdist", "bdist_wheel") for a in args):
        return True
    return tool == "make" and first in ("dist", "build", "wheel", "sdist")


def _build_anchor(workflow: Workflow, step: Step) -> Anchor | None:
    if step.uses is not None and step.uses_node is not None:
        if step.uses.slug in _BUILD_ACTIONS or (
                step.uses.is_action("pyo3/maturin-action") and
                (step.input_text("command") or "build") in ("build", "sdist")):
            return step.anchor.child("uses", node=step.uses_node)
        return None
    if step.run is None:
        return None
    for command in split_commands(step.run.value):
        argv = command.argv
        if _is_build(argv):
            span = scalar_span(workflow.source, step.run, command.start, command.end)
            anchor = step.anchor.child("run", node=step.run)
            return Anchor(anchor.path, (*anchor.route, "build"), step.run, span) if span \
                else anchor
        if argv[:2] == ["poetry", "publish"] and "--build" in argv:
            return step.anchor.child("run", node=step.run)
    return None


def build_in_publish_job(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.publish_jobs:
        if not pj.trusted_publishing or pj.workflow.is_composite:
            continue
        if not ctx.effective_permissions(pj.workflow, pj.job).id_token:
            continue
        for step in pj.job.steps:
            anchor = _build_anchor(pj.workflow, step)
            if anchor is None:
                continue
            yield Problem(
                anchor,
                f"{pj.job.label} builds the distributions and also holds `id-token: write`: the "
                "build backend, its plugins and every build dependency run where they can mint "
                "a PyPI upload token. Build in a separate job without `id-token`, pass `dist/` "
                "with `actions/upload-artifact`, and keep only the download and the upload in "
                "the publish job.",
                (("the upload", pj.steps[0].anchor),))
            break


def _attestations_on(step: PublishStep) -> bool:
    return step.method == "gh-action-pypi-publish" and not is_false(
        step.step.input("attestations"))


def reusable_workflow_publish(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.publish_jobs:
        if not pj.workflow.is_reusable or not pj.trusted_publishing:
            continue
        step = next(s for s in pj.steps if s.trusted_publishing)
        callers = ctx.callers_of(pj.workflow)
        attest = _attestations_on(step)
        caller_names = ", ".join(sorted({w.file_name for w, _ in callers})) or "its callers"
        stage = ("the token exchange works only if the publisher names "
                 f"`{pj.workflow.file_name}`, and the upload then fails because the attestation "
                 f"names the caller ({caller_names}) (\"Certificate's Build Config URI ... does "
                 "not match expected Trusted Publisher\")" if attest else
                 f"PyPI matches the called file `{pj.workflow.file_name}`, not the caller "
                 f"({caller_names}); PyPI supports this only by accident")
        related = [(f"called from {w.file_name}", j.anchor) for w, j in callers[:3]]
        yield Problem(
            step.anchor,
            f"This upload runs inside a reusable workflow (`on: workflow_call`): {stage}. "
            f"Register `{pj.workflow.file_name}` as the publisher's workflow"
            f"{' and set `attestations: false` only if you accept losing provenance' if attest else ''}"  # noqa: E501
            ", or better, move the publish job into the top-level workflow that the release "
            "event starts.",
            tuple(related), severity="high" if attest else "medium")
    for workflow in ctx.repo.workflows:
        for job in workflow.jobs:
            if job.uses is None or job.uses.kind != "remote" or job.uses_node is None:
                continue
            if not _remote_publishes(job):
                continue
            yield Problem(
                job.anchor.child("uses", node=job.uses_node),
                f"{job.label} publishes through a reusable workflow of another repository "
                f"(`{job.uses.raw.split('@')[0]}`): the OIDC token names that repository's file "
                "in `job_workflow_ref`, which can never match a trusted publisher of this "
                "repository, and attestations name this workflow instead. Publish from a job "
                "in this repository that runs `pypa/gh-action-pypi-publish` itself.",
                severity="high")


_REMOTE_PUBLISH_RE = lazy_re(r"publish|pypi|release|upload|deploy", re.I)


def _remote_publishes(job: Job) -> bool:
    """A call of another repository's workflow that publishes with this job's OIDC token."""
    assert job.uses is not None
    if not _REMOTE_PUBLISH_RE.search(job.uses.subpath.rsplit("/", 1)[-1]):
        return False
    return job.permissions is not None and job.permissions.grants_id_token


def matrix_publish(ctx: Context) -> Iterator[Problem]:
    per_package = re.compile(r"package|project|dir|path|module|lib|crate|component|name|"
                             r"workspace|member", re.I)
    for pj in ctx.publish_jobs:
        matrix = pj.job.matrix
        if matrix is None or not _python(pj):
            continue
        if isinstance(matrix, Mapping):
            dims = [(k.value, v) for k, v in matrix.pairs if k.value not in ("include", "exclude")]
            # legs that differ only by package upload different files; any other dimension
            # with several values (or computed by an expression) repeats an upload
            repeated = [k for k, v in dims if not per_package.search(k) and (
                (isinstance(v, Sequence) and len(v.items) > 1) or
                (isinstance(v, Scalar) and "${{" in v.value))]
            include = matrix.get("include")
            if not repeated and not (not dims and isinstance(include, Sequence)
                                     and len(include.items) > 1):
                continue
        elif not (isinstance(matrix, Scalar) and "${{" in matrix.value):
            continue
        if _one_leg_per_index(pj, matrix):
            continue
        strategy = pj.job.node.key("strategy")
        yield Problem(
            pj.job.anchor.child("strategy", node=strategy),
            f"{pj.job.label} uploads from every leg of its matrix: the second leg to upload a "
            "file that another leg already sent fails with \"400 File already exists\", and a "
            "failed leg leaves a half-published release. Build in the matrix, upload the "
            "artifacts, and publish once from a separate job that `needs` the matrix job and "
            "downloads them with `merge-multiple: true`.",
            (("the upload", pj.steps[0].anchor),))


_MATRIX_URL_RE = re.compile(r"^\$\{\{\s*matrix\.([\w-]+)\s*\}\}$")


def _one_leg_per_index(pj: PublishJob, matrix: Node) -> bool:
    """Every leg uploads to its own index: the URL is one matrix column, the only thing the
    legs differ by, and its literal values name different indexes (TestPyPI in one leg,
    PyPI in the other). No leg then repeats another's upload."""
    if not isinstance(matrix, Mapping):
        return False
    columns: set[str] = set()
    for step in pj.steps:
        found = _MATRIX_URL_RE.match(step.url or "")
        if found is None:
            return False
        columns.add(found.group(1))
    if len(columns) != 1:
        return False
    column = columns.pop()
    dims = [k.value for k, _ in matrix.pairs if k.value not in ("include", "exclude")]
    include = matrix.get("include")
    if dims == [column] and include is None:
        legs = matrix_values(matrix, column)
    elif not dims and isinstance(include, Sequence):
        legs = matrix_values(matrix, column)
        if len(legs) != len(include.items):
            return False
    else:
        return False
    indexes = [index_of_url(value) for value in legs]
    return "unknown" not in indexes and len(set(indexes)) == len(indexes)


def _python(pj: PublishJob) -> bool:
    return any(s.targets_python_index or s.index == "unknown" for s in pj.steps)


def non_linux_publish_runner(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.publish_jobs:
        for step in pj.steps:
            if step.method != "gh-action-pypi-publish":
                continue
            job = pj.job
            bad = [label for label in job.runs_on
                   if re.match(r"^(windows|macos|mac)", label.strip().lower())]
            if step.via_step is not None:
                yield Problem(
                    step.via_step.anchor.child("uses", node=step.via_step.uses_node),
                    "pypa/gh-action-pypi-publish runs inside a local composite action here: it "
                    "derives its container image from the calling action's repository and ref, "
                    "so the image pull fails (\"denied\" / \"manifest unknown\"). Call "
                    "`pypa/gh-action-pypi-publish` directly as a step of the job.",
                    (("the action inside the composite action", step.anchor),))
            elif bad and job.runs_on_node is not None:
                yield Problem(
                    job.anchor.child("runs-on", node=job.runs_on_node),
                    f"pypa/gh-action-pypi-publish runs on `{bad[0]}`: it is a container action "
                    "that only works on Linux runners and stops with \"This action is only able "
                    "to run under GNU/Linux environments\". Build on that runner, upload the "
                    "artifacts, and publish from a separate job with `runs-on: ubuntu-latest`.",
                    (("the upload", step.anchor),))
            elif job.container is not None:
                yield Problem(
                    job.anchor.child("container", node=job.node.key("container")),
                    f"pypa/gh-action-pypi-publish runs in {job.label}, which has a "
                    "`container:`: the action starts its own container and fails inside "
                    "another one (create-docker-action.py: \"No such file or directory\"). "
                    "Publish from a job without `container:`.",
                    (("the upload", step.anchor),))
            break


def _dir(value: str | None) -> str:
    text = (value or "dist").strip().removeprefix("./").rstrip("/")
    return text or "."


def _never_together(ctx: Context, pj: PublishJob, first: PublishStep,
                    second: PublishStep) -> bool:
    """Whether the two steps' ``if:`` cannot both hold in one run (a PyPI step on
    ``release``, a TestPyPI step on ``push``). Undecidable guards count as "may"."""
    a, b = first.step.if_, second.step.if_
    if not a or not b:
        return False
    return not ctx.reaches(pj.workflow, pj.job, f"({_bare(a)}) && ({_bare(b)})")


def _bare(expr: str) -> str:
    text = expr.strip()
    return text[3:-2].strip() if text.startswith("${{") and text.endswith("}}") else text


def duplicate_attestation(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.publish_jobs:
        attested: dict[str, PublishStep] = {}
        for step in pj.steps:
            if step.method != "gh-action-pypi-publish":
                continue
            directory = _dir(step.step.input_text("packages-dir", "packages_dir"))
            first = attested.get(directory)
            if first is not None and not _never_together(ctx, pj, first, step):
                cleared = replay(pj.workflow, pj.job, step.step).cleared
                if cleared.get(directory, -1) > first.step.index:
                    attested[directory] = step  # the attestation files were deleted between
                    continue
                yield Problem(
                    step.anchor,
                    f"A second pypi-action step uploads `{directory}/` after "
                    f"{first.step.label} already attested it: the first run wrote "
                    "`*.publish.attestation` files there, and this one stops with \"... already "
                    "has a publish attestation\". Publish to each index from its own job, or "
                    f"delete the attestation files between the two uploads (`rm {directory}/"
                    "*.publish.attestation`).",
                    (("first upload", first.anchor),))
            elif _attestations_on(step) and step.trusted_publishing and first is None:
                attested[directory] = step


def attestations_disabled(ctx: Context) -> Iterator[Problem]:
    for step in ctx.publish_steps:
        scope = index_scope(step.index)
        if step.method != "gh-action-pypi-publish" or not step.trusted_publishing or \
                scope is None or step.minted:
            continue  # a minted token goes in as a password: the action attests nothing then
        if is_false(step.step.input("attestations")):
            yield Problem(
                step.step.input_anchor("attestations"),
                "`attestations: false` turns off PEP 740 provenance for a trusted-publishing "
                "upload: users cannot verify that the files came from this workflow. Remove "
                f"the input (attestations are on by default since v1.11).{scope.note}",
                fix=remove_input(step.step, step.workflow.path, "attestations",
                                 "Remove `attestations: false`", False),
                undecided=scope.undecided)


def attestations_ignored(ctx: Context) -> Iterator[Problem]:
    for step in ctx.publish_steps:
        if step.method != "gh-action-pypi-publish" or not is_true(
                step.step.input("attestations")):
            continue
        if step.secrets or step.minted:
            why = "a password is set, which turns the action's own trusted publishing off"
        elif step.index == "other":
            why = f"`{step.url}` is not PyPI or TestPyPI"
        else:
            continue
        yield Problem(
            step.step.input_anchor("attestations"),
            f"`attestations: true` is silently ignored here: {why}, and attestations are only "
            "produced with trusted publishing to PyPI or TestPyPI. Switch the upload to trusted "
            "publishing, or remove the input so nobody relies on provenance that is not made.")


def skip_existing(ctx: Context) -> Iterator[Problem]:
    for step in ctx.publish_steps:
        scope = index_scope(step.index, frozenset({"pypi"}))
        if scope is None:
            continue
        anchor: Anchor | None = None
        fix = None
        if step.method == "gh-action-pypi-publish":
            node = step.step.input("skip-existing", "skip_existing")
            if is_true(node):
                key = "skip-existing" if step.step.input("skip-existing") else "skip_existing"
                anchor = step.step.input_anchor(key)
                fix = remove_input(step.step, step.workflow.path, key,
                                   f"Remove `{key}` from the PyPI upload", False)
        elif "--skip-existing" in step.argv:
            anchor = step.anchor
        if anchor is None:
            continue
        yield Problem(
            anchor,
            "`skip-existing` on the PyPI upload hides double publishes and half-published "
            "releases: a re-run silently uploads nothing and reports success. Remove it for "
            "PyPI (keep it only for TestPyPI, where repeated uploads are expected).", fix=fix)


def deprecated_publish_input(ctx: Context) -> Iterator[Problem]:
    for step in ctx.publish_steps:
        if step.method != "gh-action-pypi-publish" or step.step.with_ is None:
            continue
        given = {k.value: k for k, _ in step.step.with_.pairs}
        for name in given:
            anchor = step.step.input_anchor(name)
            if name in PYPA_SNAKE_INPUTS:
                new = PYPA_SNAKE_INPUTS[name]
                if new in given:
                    yield Problem(anchor, f"Both `{name}` and `{new}` are set: they are the same "
                                  "input, and which one wins depends on the action version. "
                                  f"Keep `{new}` only.",
                                  fix=rename_input(step.step, step.workflow.path, name, new))
                else:
                    yield Problem(anchor, f"`{name}` is the deprecated spelling of `{new}`: the "
                                  "action prints a deprecation warning and may drop it. Rename "
                                  f"it to `{new}`.",
                                  fix=rename_input(step.step, step.workflow.path, name, new))
            elif name not in PYPA_INPUTS:
                yield Problem(anchor, f"`{name}` is not an input of pypa/gh-action-pypi-publish "
                              f"and is ignored (inputs: {', '.join(PYPA_INPUTS)}). Remove it or "
                              "fix its name.")


def wrong_index_url(ctx: Context) -> Iterator[Problem]:
    for step in ctx.publish_steps:
        if step.url is None:
            continue
        problem = upload_url_problem(step.url)
        if problem is None:
            continue
        yield Problem(step.url_anchor or step.anchor,
                      f"{problem.message}. Otherwise the upload fails (404/405, or a DNS error) "
                      "before anything is published.", severity=problem.severity)


def testpypi_needs_own_publisher(ctx: Context) -> Iterator[Problem]:
    if ctx.config.publishers:
        return  # declared publishers: the publisher rules check each index exactly
    for step in ctx.publish_steps:
        scope = index_scope(step.index, frozenset({"testpypi"}))
        if scope is None or not step.trusted_publishing:
            continue
        env = step.job.environment.name if step.job.environment else None
        yield Problem(
            step.url_anchor or step.anchor,
            "This upload goes to TestPyPI, a separate site with its own accounts and trusted "
            "publishers: register a publisher on test.pypi.org too (same workflow file"
            f"{f', environment `{env}`' if env else ''}), or the exchange fails with "
            "`invalid-publisher` even though PyPI works.")


def _artifact_names(job: Job, action: str) -> list[str]:
    """The names (or download patterns) of the artifacts ``job`` moves with ``action``; ``*``
    where the step names none (a download of every artifact) or names one by expression."""
    names = []
    for step in job.steps:
        if step.uses is None or not step.uses.is_action(action):
            continue
        value = step.input_text("name") or step.input_text("pattern") or "*"
        names.append("*" if "${{" in value else value)
    return names


def _feeds(producer: Job, wanted: tuple[str, ...]) -> bool:
    """Whether an artifact ``producer`` uploads is one of the ``wanted`` downloads."""
    made = _artifact_names(producer, "actions/upload-artifact")
    return any(fnmatchcase(name, pattern) or name == "*" or pattern == "*"
               for pattern in wanted for name in made)


def _release_jobs(ctx: Context) -> Iterator[tuple[Workflow, Job]]:
    """Publish jobs and the jobs whose artifacts reach them: what gets uploaded is built
    there. A job is one by the graph, not by its words: a lint or test job that runs
    ``uv build`` as a check, and whose artifacts no upload downloads, is not a release job
    even when the publish job ``needs`` it."""
    yielded: set[tuple[str, str]] = set()
    # (workflow, job, what the nearest release job downstream downloads): a job that feeds
    # nothing (a test job between build and publish) is passed through with the same wants,
    # so the key, not the consumer, decides what is left to search (linear on long chains)
    visited: set[tuple[str, str, tuple[str, ...]]] = set()
    for pj in ctx.publish_jobs:
        if pj.workflow.is_composite:
            continue
        if (pj.workflow.path, pj.job.job_id) not in yielded:
            yielded.add((pj.workflow.path, pj.job.job_id))
            yield pj.workflow, pj.job
        wants = tuple(_artifact_names(pj.job, "actions/download-artifact"))
        pending = [(need, wants) for need in pj.job.needs]
        while pending:
            need, wanted = pending.pop()
            job = pj.workflow.job(need)
            if not wanted or job is None or (pj.workflow.path, need, wanted) in visited:
                continue  # nothing downstream downloads: nothing upstream reaches the upload
            visited.add((pj.workflow.path, need, wanted))
            if _feeds(job, wanted):
                wanted = tuple(_artifact_names(job, "actions/download-artifact"))
                if (pj.workflow.path, job.job_id) not in yielded:
                    yielded.add((pj.workflow.path, job.job_id))
                    yield pj.workflow, job
            pending.extend((n, wanted) for n in job.needs)


def persist_credentials(ctx: Context) -> Iterator[Problem]:
    for _workflow, job in _release_jobs(ctx):
        for step in job.steps:
            if step.uses is None or not step.uses.is_action("actions/checkout"):
                continue
            if is_false(step.input("persist-credentials")):
                continue
            yield Problem(
                step.anchor.child("uses", node=step.uses_node),
                f"`actions/checkout` in {job.label} of a release leaves the job's GitHub token "
                "in `.git/config`, where build steps can read it and artifacts can carry it "
                "away. Add `with: {persist-credentials: false}` (and a token only to the step "
                "that must push).", fix=checkout_credentials(step, _workflow.path))


_CACHE_ACTIONS = frozenset({"actions/cache", "swatinem/rust-cache", "actions/cache/restore"})


def _cache_anchor(step: Step) -> Anchor | None:
    ref = step.uses
    if ref is None or step.uses_node is None:
        return None
    if ref.full_name in _CACHE_ACTIONS or ref.slug in _CACHE_ACTIONS:
        return step.anchor.child("uses", node=step.uses_node)
    if ref.slug in ("actions/setup-python", "actions/setup-node", "actions/setup-go",
                    "actions/setup-java"):
        cache = step.input("cache")
        if cache is not None and cache.value.strip() and not is_false(cache):
            return step.input_anchor("cache")
    if ref.slug == "astral-sh/setup-uv" and is_true(step.input("enable-cache")):
        return step.input_anchor("enable-cache")
    if ref.slug in ("mamba-org/setup-micromamba", "prefix-dev/setup-pixi") and is_true(
            step.input("cache-environment") or step.input("cache")):
        return step.input_anchor("cache-environment" if step.input("cache-environment")
                                 else "cache")
    return None


def cache_in_release(ctx: Context) -> Iterator[Problem]:
    for _workflow, job in _release_jobs(ctx):
        for step in job.steps:
            anchor = _cache_anchor(step)
            if anchor is None:
                continue
            yield Problem(
                anchor,
                f"{job.label} builds or publishes the release and restores a cache: a cache "
                "written by any other run (a pull request, a test job) can plant files in what "
                "gets built and uploaded. Turn caching off in release jobs (remove the cache "
                "step or input).")


def artifact_path_mismatch(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.publish_jobs:
        steps = pj.job.steps
        for i, step in enumerate(steps):
            if step.uses is None or not step.uses.is_action("actions/download-artifact"):
                continue
            checkout = next((s for s in steps[i + 1:]
                             if s.uses and s.uses.is_action("actions/checkout")), None)
            if checkout is not None:
                yield Problem(
                    checkout.anchor.child("uses", node=checkout.uses_node),
                    "`actions/checkout` runs after the artifacts were downloaded: it cleans the "
                    "workspace and deletes them, so the upload finds no distributions. Check out "
                    "before downloading, or drop the checkout.",
                    (("download", step.anchor.child("uses", node=step.uses_node)),))
                break
        else:
            yield from _empty_packages_dir(pj)


def _empty_packages_dir(pj: PublishJob) -> Iterator[Problem]:
    """The pypi action's ``packages-dir`` holds no distributions when it runs: replay the
    job's downloads, copies and moves (distflow) and report where the files went instead."""
    reported: set[int] = set()
    for pypa in (s for s in pj.steps if s.method == "gh-action-pypi-publish"):
        space = replay(pj.workflow, pj.job, pypa.step)
        download = space.download
        if download is None or space.opaque or download.index in reported:
            continue
        target = packages_dir(pypa.step.input_text("packages-dir", "packages_dir"))
        if target in space.dist_dirs or any(target.startswith(d + "/")
                                            for d in space.per_artifact):
            continue
        reported.add(download.index)
        uses_anchor = download.anchor.child("uses", node=download.uses_node)
        path_anchor = download.input_anchor("path") if download.input("path") else uses_anchor
        related = (("the upload", pypa.anchor),)
        if target in space.per_artifact:
            yield Problem(
                uses_anchor,
                "This download has no `name:`, so every artifact lands in its own "
                f"sub-directory (`{target}/<artifact>/`) and the pypi action, which reads only "
                "the top of `packages-dir`, finds no distributions. Add `name:` for a single "
                "artifact, or `pattern:` with `merge-multiple: true`.", related)
        elif space.rooted is not None and space.rooted[0] == target:
            directory, name, offsets = space.rooted
            places = [f"`{posixpath.join(directory, o) if o else directory}/`" for o in offsets]
            landed = " and ".join([", ".join(places[:-1]), places[-1]] if len(places) > 1
                                  else places)
            yield Problem(
                path_anchor,
                f"The artifact `{name}` was uploaded from several paths, so "
                "`actions/upload-artifact` rooted it at their common ancestor: downloaded into "
                f"`{directory}/`, its files land in {landed}, and the pypi action, which reads "
                f"only the top of `{target}/`, finds no distributions there. Upload the "
                "distributions from one directory (copy them into `dist/` first), or point "
                "`packages-dir` at the sub-directory that holds them.", related)
        else:
            directory = posixpath.normpath(download.input_text("path") or ".")
            yield Problem(
                path_anchor,
                f"The download puts the files in `{_dir(directory)}/` but the pypi action "
                f"uploads from `{target}/`: it finds no distributions. Make the download's "
                "`path:` and the action's `packages-dir` the same directory.", related)
