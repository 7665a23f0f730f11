"""Where a line is: the kind of file, the job (or section, target, session) around it, and
the lines of its step.

A diff shows a line with a few lines of context, not the file: the job of a workflow line is
the nearest two-space key above it, in the hunk or in the header git names after ``@@``; the
step is bounded by list items and keys less indented than the line. That is enough to tell
which action a ``password:`` belongs to and which index a step uploads to, without a YAML
parse of every version of every file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_CI_FILES = frozenset({".travis.yml", ".circleci/config.yml", "azure-pipelines.yml",
                       "appveyor.yml", ".appveyor.yml"})

# Where a job begins, per kind of file.
_GITHUB_KEY_RE = re.compile(r"^( {0,2})([A-Za-z0-9_.-]+)\s*:\s*(?:#.*)?$")
_GITLAB_JOB_RE = re.compile(r"^([.A-Za-z0-9_][^:#]*?)\s*:(?:\s|$)")
SECTION_RE = re.compile(r"^\s*\[([^\]]+)\]")
_TARGET_RE = re.compile(r"^([A-Za-z0-9_.-]+)\s*:(?![=:])")
_SESSION_RE = re.compile(r"^\s*def\s+(\w+)\s*\(")
_GITLAB_KEYWORDS = frozenset({"variables", "stages", "default", "include", "workflow",
                              "image", "services", "before_script", "after_script", "cache",
                              "spec", "types"})


def file_kind(path: str) -> str:
    """``github``, ``gitlab``, ``ci``, ``pypirc``, ``nox``, ``make``, ``ini`` or ``script``:
    which names a file can hold and how its jobs are written."""
    name = path.rsplit("/", 1)[-1]
    if path.startswith(".github/") or path in ("action.yml", "action.yaml"):
        return "github"
    if path.startswith(".gitlab/") or name in (".gitlab-ci.yml", ".gitlab-ci.yaml") or \
            name.endswith((".gitlab-ci.yml", ".gitlab-ci.yaml")):
        return "gitlab"
    if path in _CI_FILES:
        return "ci"
    if name in (".pypirc", "pypirc"):
        return "pypirc"
    if name == "noxfile.py":
        return "nox"
    if name in ("Makefile", "GNUmakefile", "makefile", "justfile", "Justfile", ".justfile"):
        return "make"
    if name.endswith((".toml", ".ini", ".cfg")):
        return "ini"
    return "script"


def indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _is_item(text: str) -> bool:
    stripped = text.lstrip(" ")
    return stripped.startswith("- ") or stripped == "-"


_WINDOW = 40  # lines a step is looked for on each side: a step is short, a file may not be


def step_window(texts: Sequence[str], i: int, base: int) -> range:
    """The lines of the step (or job-level block) around line ``i``: back to the list item
    or key that opens it, forward to the next one. ``base`` is the indentation of a job
    key (2 in a workflow, 0 in a pipeline)."""
    own = texts[i]
    if SECTION_RE.match(own) or base < 0:  # INI-like: the section
        base = -1
    level_own, item = indent(own), _is_item(own)
    start = i
    if not item:
        for j in range(i - 1, max(i - _WINDOW, 0) - 1, -1):
            text = texts[j]
            if not text.strip():
                continue
            if base == -1:
                if SECTION_RE.match(text):
                    start = j
                    break
                continue
            level = indent(text)
            if level < level_own and (_is_item(text) or level <= base):
                start = j
                break
            start = j
    end = min(len(texts), i + _WINDOW + 1)
    for k in range(i + 1, end):
        text = texts[k]
        if not text.strip():
            continue
        if base == -1:
            if SECTION_RE.match(text):
                end = k
                break
            continue
        level = indent(text)
        closes_item = _is_item(text) and (level < level_own or (item and level <= level_own))
        if closes_item or (level < level_own and level <= base):
            end = k
            break
    return range(start, end)


def _github_jobs(texts: Sequence[str], header: str) -> list[str | None]:
    """The job of each line of a workflow hunk: the nearest two-space key with nothing
    after it above the line (in the hunk, or the header git found above it), unless a
    top-level key other than ``jobs:`` comes in between. Such a key above an expression is
    always a job (``on:`` holds no expressions, ``env:`` keys have values), even one named
    like an event (``release:``)."""
    candidate: str | None = None
    parent: str | None = None
    match = _GITHUB_KEY_RE.match(header) if header else None
    if match is not None:
        if match.group(1):
            candidate = match.group(2)
        else:
            parent = match.group(2)
    out: list[str | None] = []
    for text in texts:
        match = _GITHUB_KEY_RE.match(text)
        if match is not None:
            if match.group(1):
                candidate = match.group(2)
            else:
                parent, candidate = match.group(2), None
        out.append(candidate if parent in (None, "jobs") else None)
    return out


def jobs_of(kind: str, path: str, texts: Sequence[str], header: str) -> list[str | None]:
    """The job (workflow, pipeline), tox environment or section (INI, TOML), target
    (make, just) or session (nox) of each line, in one pass: a long file with many
    credentials must not be scanned back once per credential."""
    if kind == "github":
        return _github_jobs(texts, header) if path.startswith(".github/workflows/") \
            else [None] * len(texts)
    pattern = {"gitlab": _GITLAB_JOB_RE, "ini": SECTION_RE, "pypirc": SECTION_RE,
               "make": _TARGET_RE, "nox": _SESSION_RE}.get(kind)
    if pattern is None:
        return [None] * len(texts)
    match = pattern.match(header) if header else None
    name = match.group(1) if match else None
    out: list[str | None] = []
    for text in texts:
        match = pattern.match(text)
        if match:
            name = match.group(1)
        out.append(None if kind == "gitlab" and name in _GITLAB_KEYWORDS else name)
    return out


_ENVIRONMENT_RE = re.compile(r"^    environment\s*:\s*(.*?)\s*(?:#.*)?$")
_ENVIRONMENT_NAME_RE = re.compile(r"^      name\s*:\s*(.*?)\s*(?:#.*)?$")
_FLOW_NAME_RE = re.compile(r"\bname\s*:\s*([^,}]+)")


def _environment_name(value: str) -> str | None:
    """A literal environment name (``pypi``, ``"release"``); ``None`` for one computed by
    an expression, which names no settings page."""
    name = value.strip().strip("'\"").strip()
    return None if not name or "${{" in name else name


def environments_of(kind: str, path: str, texts: Sequence[str]) -> list[str | None]:
    """The GitHub environment of the job each line of a workflow is in, from the job's
    ``environment:`` (a name, ``name:`` under it, or a flow mapping) on the lines above:
    a secret used there may be that environment's secret rather than the repository's."""
    if kind != "github" or not path.startswith(".github/workflows/"):
        return [None] * len(texts)
    out: list[str | None] = []
    environment: str | None = None
    pending = False  # `environment:` with its name on a line below
    for text in texts:
        key = _GITHUB_KEY_RE.match(text)
        if key is not None:
            environment, pending = None, False  # a new job, or a top-level key
        elif (match := _ENVIRONMENT_RE.match(text)) is not None:
            value = match.group(1)
            if value.startswith("{"):
                flow = _FLOW_NAME_RE.search(value)
                environment = _environment_name(flow.group(1)) if flow else None
            else:
                environment = _environment_name(value)
            pending = not value
        elif pending and (match := _ENVIRONMENT_NAME_RE.match(text)) is not None:
            environment, pending = _environment_name(match.group(1)), False
        out.append(environment)
    return out
