"""Find the files to audit, read them safely, and load what the rules need.

Every failure to read or parse becomes a ``LoadProblem`` (reported as ``invalid-yaml``),
never an exception: the other files are still scanned. Directories are walked without
following symlinks and without entering another filesystem (``/proc``, ``/sys``, ``/dev``
when the scanned root is ``/``); a symlinked file is read only when it resolves inside the
root.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.github.model import Workflow, build_composite_action, build_workflow
from auditor.output.records import record, state
from auditor.reading import yamlsource
from auditor.reading.config import Config
from auditor.reading.source import Anchor, SourceFile, read_regular
from auditor.reading.tomlsource import TomlProblem, parse_toml

if TYPE_CHECKING:
    from auditor.gitlab.model import Pipeline

# GitLab's top-level pipeline file (at any depth of a scanned tree of repositories); the
# GitLab model itself is imported only when one exists.
GITLAB_CI_FILE = ".gitlab-ci.yml"

MAX_TEXT_BYTES = 2 * 1024 * 1024  # files scanned for leaked secrets
_MAX_GITIGNORE_BYTES = 1024 * 1024  # only its first 2,000 patterns are used
_SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", ".tox", ".nox", "__pycache__",
                        ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hg", ".svn",
                        "site-packages", ".eggs"})
# Only files containing one of these are kept for the secret rules (a fast bytes search).
# It starts with a literal so the engine can skip ahead; the rule itself checks the scheme.
# Possessive runs: "https://a:a:a:...", with no "@", fails in linear time.
_URL_USERINFO_RE = re.compile(rb"://[^\s/@'\":]++:[^\s/@'\"]++@")


@record
class LoadProblem:
    """A file that could not be read or parsed: becomes a finding, never an exception."""

    anchor: Anchor
    message: str
    rule: str = "invalid-yaml"
    unread: bool = False  # skipped (a link out of the tree, too large, not a file), not invalid


@record
class Project:
    """What ``pyproject.toml`` says that publishing depends on."""

    source: SourceFile
    name: str | None
    needs_metadata_2_4: bool  # an SPDX ``license`` string or ``license-files``
    uv_indexes: dict[str, str]  # index name -> publish-url (or url)
    workspace: tuple[str, ...] = ()  # `[tool.uv.workspace] members` globs


@state
class Repository:
    """Everything loaded from the scanned tree, before any fact is derived."""

    root: Path
    workflows: list[Workflow] = field(default_factory=list)
    actions: dict[str, Workflow] = field(default_factory=dict)  # directory -> composite action
    problems: list[LoadProblem] = field(default_factory=list)
    secret_candidates: list[SourceFile] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    project: Project | None = None
    config: Config = field(default_factory=Config)
    files_scanned: int = 0
    partial: bool = False  # only some files were given (pre-commit): repository-wide rules wait
    pipelines: list[Pipeline] = field(default_factory=list)  # GitLab CI, with their includes

    def workflow_at(self, path: str) -> Workflow | None:
        for workflow in self.workflows:
            if workflow.path == path:
                return workflow
        return None


def find_root(start: Path) -> Path:
    """The repository root of a path: the nearest ancestor with ``.git``, else the
    directory above ``.github``, else the path's own directory."""
    here = start if start.is_dir() else start.parent
    here = here.resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    parts = here.parts
    if ".github" in parts:
        return Path(*parts[:parts.index(".github")])
    return here


def _kind(rel: str, explicit: bool) -> str:
    parts = rel.split("/")
    name = parts[-1]
    lower = name.lower()
    if name == GITLAB_CI_FILE:
        return "gitlab"
    if len(parts) >= 3 and parts[-3] == ".github" and parts[-2] == "workflows" and \
            lower.endswith((".yml", ".yaml")):
        return "workflow"  # at any depth: a tree of repositories can be scanned at once
    if lower in ("action.yml", "action.yaml"):
        return "action"
    if explicit and lower.endswith((".yml", ".yaml")):
        return "workflow?"  # named on the command line: a workflow if it looks like one
    if rel == "pyproject.toml":
        return "pyproject"
    return "text"


class _Excluder:
    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.patterns = [p.strip().rstrip("/") for p in patterns if p.strip() and
                         not p.startswith("#")]

    def excluded(self, rel: str) -> bool:
        if not self.patterns:
            return False
        parts = rel.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        for pattern in self.patterns:
            anchored = pattern.startswith("/")
            pat = pattern.lstrip("/")
            for prefix in prefixes:
                if fnmatch.fnmatchcase(prefix, pat):
                    return True
                if not anchored and "/" not in pat and fnmatch.fnmatchcase(
                        prefix.rsplit("/", 1)[-1], pat):
                    return True
        return False


_WORKFLOW_KEY_RE = re.compile(rb"^(?:on|jobs|[\"']on[\"'])\s*:", re.M)


def _looks_like_workflow(path: Path) -> bool:
    """A YAML file named on the command line outside ``.github/workflows`` is audited as a
    workflow only when it has a top-level ``on:`` or ``jobs:`` (a pre-commit config or a
    docker-compose file is not one)."""
    head = read_regular(path, yamlsource.MAX_BYTES)
    if isinstance(head, str):
        return True  # let the loader report why it cannot be read
    return _WORKFLOW_KEY_RE.search(head) is not None


def _decode(data: bytes) -> tuple[str | None, str, int, int]:
    """``(text, error, line, column)``; text is ``None`` when the bytes are not UTF-8 text."""
    if b"\x00" in data[:8192]:
        return None, "binary file (NUL bytes), not a YAML text file", 0, 0
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        line = before.count(b"\n")
        column = len(before) - (before.rfind(b"\n") + 1)
        return None, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line, column
    return text, "", 0, 0


def _load_yaml(repo: Repository, rel: str, path: Path, kind: str, walked: bool) -> None:
    data = read_regular(path, yamlsource.MAX_BYTES, repo.root, walked)
    anchor = Anchor(rel, ())
    if isinstance(data, str):
        repo.problems.append(LoadProblem(Anchor(rel, (), span=(0, 0, 0, 0)),
                                         f"`{rel}` {data}", unread=True))
        return
    text, error, line, column = _decode(data)
    if text is None:
        repo.problems.append(LoadProblem(Anchor(rel, (), span=(line, column, line, column)),
                                         f"`{rel}` is a {error}" if error.startswith("binary")
                                         else f"`{rel}` is {error}"))
        return
    source = SourceFile.from_text(rel, text)
    repo.sources[rel] = source
    try:
        document = yamlsource.load(text)
    except yamlsource.YamlLoadError as exc:
        repo.problems.append(LoadProblem(
            Anchor(rel, (), span=(exc.line, exc.column, exc.line, exc.column)),
            f"not valid YAML: {exc.message}"))
        return
    for diagnostic in document.diagnostics:
        repo.problems.append(LoadProblem(
            Anchor(rel, ("diagnostic", diagnostic.line), span=(
                diagnostic.line, diagnostic.column, diagnostic.line, diagnostic.column)),
            diagnostic.message))
    if kind == "action":
        action = build_composite_action(source, document.root)
        if action is not None:
            repo.actions[rel.rsplit("/", 1)[0] if "/" in rel else ""] = action
        return
    built = build_workflow(source, document.root)
    if isinstance(built, Workflow):
        repo.workflows.append(built)
    else:
        repo.problems.append(LoadProblem(built.anchor if built.anchor.node else anchor,
                                         built.message, "invalid-workflow"))


def _load_project(repo: Repository, path: Path) -> None:
    data = read_regular(path, MAX_TEXT_BYTES, repo.root)
    if isinstance(data, str):
        return
    text, _, _, _ = _decode(data)
    if text is None:
        return
    source = SourceFile.from_text("pyproject.toml", text)
    repo.sources["pyproject.toml"] = source
    repo.secret_candidates.append(source)
    doc = parse_toml(text)
    if isinstance(doc, TomlProblem):  # reported as invalid-config by auditor.reading.config
        repo.project = Project(source, None, False, {})
        return
    project = doc.get("project") if isinstance(doc.get("project"), dict) else {}
    assert isinstance(project, dict)
    name = project.get("name") if isinstance(project.get("name"), str) else None
    needs_24 = isinstance(project.get("license"), str) or "license-files" in project
    indexes: dict[str, str] = {}
    tool = doc.get("tool") if isinstance(doc.get("tool"), dict) else {}
    uv = tool.get("uv") if isinstance(tool, dict) and isinstance(tool.get("uv"), dict) else {}
    raw_indexes = uv.get("index", []) if isinstance(uv, dict) else []
    if isinstance(raw_indexes, list):
        for entry in raw_indexes:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                url = entry.get("publish-url") or entry.get("url")
                if isinstance(url, str):
                    indexes[entry["name"]] = url
    workspace = uv.get("workspace") if isinstance(uv, dict) else None
    members = workspace.get("members") if isinstance(workspace, dict) else None
    globs = tuple(m for m in members if isinstance(m, str)) if isinstance(members, list) else ()
    repo.project = Project(source, name, needs_24, indexes, globs)


def _consider_text(repo: Repository, rel: str, path: Path, walked: bool) -> None:
    data = read_regular(path, MAX_TEXT_BYTES, repo.root, walked)
    if isinstance(data, str) or b"\x00" in data[:8192]:
        return
    name = rel.rsplit("/", 1)[-1].lower()
    interesting = name in (".pypirc", "pypirc", "pip.conf", "pip.ini") or b"pypi-" in data \
        or b"PRIVATE KEY-----" in data or _URL_USERINFO_RE.search(data) is not None
    if not interesting:
        return
    text = data.decode("utf-8", errors="replace")
    source = SourceFile.from_text(rel, text)
    repo.secret_candidates.append(source)


def _device(path: str) -> int | None:
    """The filesystem ``path`` is on, or ``None`` when it is a symlink or cannot be read
    (neither is descended into)."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return None if stat.S_ISLNK(info.st_mode) else info.st_dev


def _descend(dirpath: str, names: list[str], device: int | None) -> list[str]:
    """The subdirectories of ``dirpath`` the walk enters: real directories on the scanned
    root's filesystem, in order. A special tree mounted below the root (``/proc`` has a
    ``kmsg`` that blocks) is never entered."""
    if device is None:
        return []
    return sorted(name for name in names if name not in _SKIP_DIRS and
                  _device(os.path.join(dirpath, name)) == device)


def _root_device(root: Path) -> int | None:
    try:
        return os.stat(root).st_dev
    except OSError:
        return None


# A file to audit: its path relative to the root, where it is, and whether it was named on
# the command line (a YAML file named there is a workflow if it looks like one).
Entry = tuple[str, Path, bool]


def walk_tree(root: Path, config: Config) -> list[Entry]:
    """Every file of the tree under ``root`` the scan reads, in walk order: excluded paths
    (configuration and ``.gitignore``), symlinked directories and other filesystems left
    out. Separate from loading so the engine can split a large tree of repositories."""
    excluder = _Excluder(config.exclude + _gitignore(root))
    entries: list[Entry] = []
    device = _root_device(root)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        dirnames[:] = [d for d in _descend(dirpath, dirnames, device)
                       if not excluder.excluded(f"{rel_dir}/{d}" if rel_dir else d)]
        for filename in sorted(filenames):
            rel = f"{rel_dir}/{filename}" if rel_dir else filename
            if not excluder.excluded(rel):
                entries.append((rel, Path(dirpath) / filename, False))
    return entries


def is_ci_file(rel: str) -> bool:
    """Whether a walked file is modelled (a workflow, an action or a GitLab CI file), not
    only searched for secrets: what a scan's time goes on."""
    return _kind(rel, False) in ("workflow", "action", "gitlab")


def _repository_prefix(rel: str) -> str | None:
    """The directory of the repository a CI file makes (``a/b/`` for
    ``a/b/.github/workflows/x.yml`` or ``a/b/.gitlab-ci.yml``; ``""`` for the root's own),
    ``None`` for any other file. An ``action.yml`` at the root makes the root a repository."""
    at = rel.find(".github/workflows/")
    if at >= 0 and _kind(rel, False) == "workflow":
        return rel[:at]
    if rel.rsplit("/", 1)[-1] == GITLAB_CI_FILE:
        return rel[:-len(GITLAB_CI_FILE)]
    if rel.lower() in ("action.yml", "action.yaml"):
        return ""
    return None


def tree_of_repositories(entries: list[Entry]) -> dict[str, list[Entry]] | None:
    """A walked tree split into the repositories below its root, or ``None`` when the root
    is itself a repository (it has its own workflows, GitLab CI file or action).

    Each outermost directory with ``.github/workflows`` or a ``.gitlab-ci.yml`` keeps every
    file under it (a repository nested in another stays with it: a workflow may build a
    package of a subdirectory); files in no repository go under ``""``. Every rule reads
    a nested repository only through its own paths (``Workflow.repository_prefix``), so
    these groups can be audited apart and give the same findings."""
    prefixes: set[str] = set()
    for rel, _, _ in entries:
        prefix = _repository_prefix(rel)
        if prefix == "":
            return None
        if prefix is not None:
            prefixes.add(prefix)
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        owner = _outermost(entry[0], prefixes)
        groups.setdefault(owner, []).append(entry)
    return groups


def _outermost(rel: str, prefixes: set[str]) -> str:
    """The shortest of ``prefixes`` that ``rel`` lies under, ``""`` when none."""
    at = rel.find("/")
    while at >= 0:
        if rel[:at + 1] in prefixes:
            return rel[:at + 1]
        at = rel.find("/", at + 1)
    return ""


def load_repository(root: Path, config: Config, files: list[Path] | None = None,
                    entries: list[Entry] | None = None) -> Repository:
    """Load the whole tree under ``root``, or only ``files`` (and the local files they use).
    ``entries`` are walked files to load instead of walking the tree (a part of it)."""
    repo = Repository(root=root, config=config, partial=files is not None)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        _load_project(repo, pyproject)
    if files is None:
        entries = walk_tree(root, config) if entries is None else entries
    else:
        entries = []
        for file in files:
            try:
                rel = file.resolve().relative_to(root).as_posix()
            except ValueError:
                rel = file.as_posix()
            entries.append((rel, file, True))
    if files is not None:
        _load_pipelines(repo, _pipeline_of_files(root, entries))
    in_pipelines = {f for pipeline in repo.pipelines for f in pipeline.files}
    top_levels: list[str] = []
    for rel, path, explicit in entries:
        kind = "gitlab" if rel in in_pipelines else _kind(rel, explicit)
        if kind == "workflow?":
            kind = "workflow" if _looks_like_workflow(path) else "text"
        repo.files_scanned += 1
        if kind in ("workflow", "action"):
            _load_yaml(repo, rel, path, kind, walked=not explicit)
            source = repo.sources.get(rel)
            if source is not None and ("pypi-" in source.text or
                                       "PRIVATE KEY-----" in source.text or
                                       _URL_USERINFO_RE.search(source.text.encode())):
                repo.secret_candidates.append(source)
        elif kind == "pyproject":
            continue
        else:
            if kind == "gitlab" and rel not in in_pipelines:
                top_levels.append(rel)
            _consider_text(repo, rel, path, walked=not explicit)
    _load_pipelines(repo, top_levels)
    if files is not None:
        _load_referenced(repo)
    repo.workflows.sort(key=lambda w: w.path)
    return repo


class _PipelineFiles:
    """Reads the files of a GitLab pipeline for ``auditor.gitlab.pipeline`` (no I/O there)."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo

    def read(self, path: str) -> SourceFile | str:
        known = self.repo.sources.get(path)
        if known is not None:
            return known
        full = self.repo.root / path
        if not full.exists():
            return "does not exist"
        data = read_regular(full, yamlsource.MAX_BYTES, self.repo.root)
        if isinstance(data, str):
            return data
        text, error, _, _ = _decode(data)
        if text is None:
            return f"is a {error}" if error.startswith("binary") else f"is {error}"
        source = SourceFile.from_text(path, text)
        self.repo.sources[path] = source
        return source

    def list(self, directory: str) -> list[str]:
        found: list[str] = []
        base = self.repo.root / directory
        device = _root_device(self.repo.root)
        for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
            dirnames[:] = _descend(dirpath, dirnames, device)
            rel_dir = Path(dirpath).relative_to(self.repo.root).as_posix()
            found += [f"{rel_dir}/{f}" if rel_dir != "." else f for f in sorted(filenames)]
            if len(found) > 5000:
                break
        return found


def repository_file_reader(repo: Repository) -> _PipelineFiles:
    """The one reader of repository files loaded on demand (GitLab includes, wrapper files
    a workflow step runs): bounded, regular files inside the tree, each read once."""
    return _PipelineFiles(repo)


def _pipeline_of_files(root: Path, entries: list[tuple[str, Path, bool]]) -> list[str]:
    """In file mode, the repository's top-level GitLab CI file when a given file may belong
    to its pipeline: pre-commit may pass only an included file, whose jobs mean nothing
    without the file that includes it."""
    if not (root / GITLAB_CI_FILE).is_file():
        return []
    wanted = any(rel.lower().endswith((".yml", ".yaml")) and not rel.startswith(".github/")
                 for rel, _, _ in entries)
    return [GITLAB_CI_FILE] if wanted else []


def _load_pipelines(repo: Repository, paths: list[str]) -> None:
    """Model each top-level GitLab CI file with its includes; a file that another pipeline
    includes is part of that pipeline, not one of its own."""
    if not paths:
        return
    # only repositories with GitLab CI pay for it
    from auditor.gitlab.pipeline import build_pipeline

    reader = _PipelineFiles(repo)
    built = [build_pipeline(path, reader) for path in paths]
    included = {f for pipeline in (*repo.pipelines, *built) for f in pipeline.included_files}
    for pipeline in built:
        if pipeline.path in included:
            continue
        repo.pipelines.append(pipeline)
        repo.problems.extend(LoadProblem(p.anchor, p.message, p.rule) for p in pipeline.problems)


def _load_referenced(repo: Repository) -> None:
    """In file mode, also load the local reusable workflows and actions the files use."""
    seen = {w.path for w in repo.workflows} | set(repo.actions)
    pending = list(repo.workflows)
    while pending:
        workflow = pending.pop()
        refs = [job.uses for job in workflow.jobs if job.uses] + [
            step.uses for job in workflow.jobs for step in job.steps if step.uses]
        for ref in refs:
            if ref is None or ref.kind != "local":
                continue
            target = workflow.local_target(ref.subpath)
            if target in seen:
                continue
            seen.add(target)
            path = repo.root / target
            if target.endswith((".yml", ".yaml")) and path.is_file():
                _load_yaml(repo, target, path, "workflow", walked=False)
                added = repo.workflow_at(target)
                if added is not None:
                    pending.append(added)
            else:
                for name in ("action.yml", "action.yaml"):
                    if (path / name).is_file():
                        _load_yaml(repo, f"{target}/{name}", path / name, "action",
                                   walked=False)
                        break


def _gitignore(root: Path) -> tuple[str, ...]:
    data = read_regular(root / ".gitignore", _MAX_GITIGNORE_BYTES, root)
    if isinstance(data, str):
        return ()
    text = data.decode("utf-8", errors="replace")
    return tuple(line.strip() for line in text.splitlines()[:2000]
                 if line.strip() and not line.startswith(("#", "!")))
