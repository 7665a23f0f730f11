"""Where a job's distributions are, step by step, between the download and the upload.

The pypi action uploads the files at the top of ``packages-dir``; whether any are there
depends on everything the job did before: ``actions/download-artifact`` (its ``path``,
``name``/``pattern``, ``merge-multiple``), how the artifact was rooted when another job
uploaded it (several ``path:`` lines are rooted at their least common ancestor, so a download
into ``dist/`` may give ``dist/dist/``), and ``run:`` steps that ``cp``, ``mv``, ``rsync``,
``rm`` or ``cd`` (in the step's ``working-directory``). This module replays those steps on
directory names, without touching a file, and says where distributions are known to be.

A step it cannot follow (a script that mentions the directory, a path built from a variable)
makes the state *opaque*: a rule then stays silent rather than report a mismatch that the step
may have repaired.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import field
from fnmatch import fnmatchcase

from auditor.github.model import Job, Step, Workflow
from auditor.output.lazyre import lazy_re
from auditor.output.records import record, state
from auditor.reading.yamlsource import Mapping, Scalar, is_true
from auditor.upload.shell import split_commands, strip_prefixes

_WILDCARD = lazy_re(r"[*?\[]")
_DIST_SUFFIXES = (".whl", ".tar.gz", ".zip", ".egg", ".tgz")
# Commands that read or print files but never create, move or delete distributions.
_HARMLESS = frozenset({"ls", "echo", "printf", "cat", "tree", "find", "du", "stat", "file",
                       "sha256sum", "shasum", "md5sum", "test", "[", "true", "set", "export",
                       "twine", "check-wheel-contents", "unzip", "tar", "pip", "python",
                       "python3", "uv", "uvx", "pipx", "gh", "git", "cd", "mkdir", "pwd"})
_ATTESTATION_GLOB = lazy_re(r"(?:^|/)\*?(?:\.publish)?\.attestation$|\*\.attestation$")


def _norm(path: str, cwd: str = ".") -> str:
    """``path`` relative to the workspace, without ``./`` or a trailing slash; ``..`` kept
    only when it leaves the workspace (then the caller treats it as unknown)."""
    text = path.strip().strip("'\"")
    text = text.removeprefix("${{ github.workspace }}/").removeprefix("$GITHUB_WORKSPACE/")
    if text.startswith("/") or text.startswith("~"):
        return text
    joined = posixpath.normpath(posixpath.join(cwd, text)) if text else posixpath.normpath(cwd)
    return joined


def packages_dir(value: str | None) -> str:
    """The directory an upload reads, as the pypi action resolves its ``packages-dir``."""
    return _norm(value or "dist")


def _lines(value: str | None) -> list[str]:
    return [line.strip() for line in (value or "").splitlines()
            if line.strip() and not line.strip().startswith(("!", "#"))]


def _search_root(path: str) -> str | None:
    """The directory a search path of upload-artifact starts from: the part before the first
    wildcard component, or the file's directory; ``None`` for ``**`` searches, whose files
    keep sub-directories pubaudit cannot know."""
    norm = _norm(path)
    parts = norm.split("/")
    for i, part in enumerate(parts):
        if _WILDCARD.search(part):
            if "**" in parts[i:-1]:
                return None
            return "/".join(parts[:i]) or "."
    if norm.endswith(_DIST_SUFFIXES):
        return posixpath.dirname(norm) or "."
    return norm


def artifact_layout(upload: Step) -> tuple[str, ...] | None:
    """Where, inside the artifact an ``actions/upload-artifact`` step makes, the files of each
    of its paths land: ``("",)`` for one path (its contents at the top), ``("dist",
    "wheelhouse")`` for two paths rooted at their common ancestor ``.``. ``None`` when it
    cannot be known (``**`` globs, expressions, absolute paths)."""
    paths = _lines(upload.input_text("path"))
    if not paths or any("${{" in p or "$" in p for p in paths):
        return None
    roots = [_search_root(p) for p in paths]
    if any(r is None or r.startswith(("/", "~", "..")) for r in roots):
        return None
    known = [r for r in roots if r is not None]
    if len(set(known)) == 1:
        return ("",)
    ancestor = posixpath.commonpath(known) if all(r != "." for r in known) else "."
    offsets = {"" if r == ancestor else posixpath.relpath(r, ancestor) for r in known}
    return tuple(sorted(offsets))


@record
class Producer:
    """An ``actions/upload-artifact`` step of another job: the artifact's name and layout."""

    name: str  # "*" when the name is an expression
    layout: tuple[str, ...] | None


def producers(workflow: Workflow) -> list[Producer]:
    """Every artifact the jobs of ``workflow`` upload."""
    found = []
    for job in workflow.jobs:
        for step in job.steps:
            if step.uses is not None and step.uses.is_action("actions/upload-artifact"):
                name = step.input_text("name") or "artifact"
                found.append(Producer("*" if "${{" in name else name, artifact_layout(step)))
    return found


@state
class Workspace:
    """What the replay knows at one step: the directories whose top holds distributions,
    the directories whose attestation files were deleted since the last upload, and whether a
    step changed files in a way it could not follow."""

    dist_dirs: set[str] = field(default_factory=set)
    per_artifact: set[str] = field(default_factory=set)  # dirs holding one sub-dir an artifact
    cleared: dict[str, int] = field(default_factory=dict)  # directory -> step index
    opaque: bool = False
    download: Step | None = None  # the last download, for the finding's position
    rooted: tuple[str, str, tuple[str, ...]] | None = None  # (download dir, name, offsets)


def working_directory(job: Job, step: Step) -> str:
    """The directory a `run:` step starts in, relative to the workspace (`.` for it)."""
    node = step.node.get("working-directory")
    if isinstance(node, Scalar):
        return _norm(node.value)
    defaults = job.node.get("defaults")
    run = defaults.get("run") if isinstance(defaults, Mapping) else None
    node = run.get("working-directory") if isinstance(run, Mapping) else None
    return _norm(node.value) if isinstance(node, Scalar) else "."


def _matching(wanted: str, made: Sequence[Producer]) -> list[Producer]:
    return [p for p in made if p.name == "*" or wanted == "*" or fnmatchcase(p.name, wanted)]


def _apply_download(space: Workspace, step: Step, made: Sequence[Producer]) -> None:
    directory = _norm(step.input_text("path") or ".")
    space.download = step
    name = step.input_text("name") or step.input_text("artifact-ids")
    if name is not None and "${{" not in name and not is_true(step.input("merge-multiple")):
        layouts = [p.layout for p in _matching(name, made)]
        known = [layout for layout in layouts if layout is not None]
        if not layouts or len(known) < len(layouts) or all(layout == ("",) for layout in known):
            space.dist_dirs.add(directory)
            return
        offsets = tuple(sorted({o for layout in known for o in layout}))
        space.rooted = (directory, name, offsets)
        space.dist_dirs.update(posixpath.normpath(posixpath.join(directory, o))
                               for o in offsets)
        if "" in offsets:
            space.dist_dirs.add(directory)
        return
    if name is not None and "${{" in name:
        space.dist_dirs.add(directory)  # one artifact chosen by expression: at the top
        return
    if is_true(step.input("merge-multiple")):
        space.dist_dirs.add(directory)
        return
    space.per_artifact.add(directory)
    for producer in _matching(step.input_text("pattern") or "*", made):
        if producer.name != "*":
            space.dist_dirs.add(posixpath.join(directory, producer.name)
                                if directory != "." else producer.name)


def _holds(space: Workspace, path: str) -> bool:
    """Whether ``path`` (a file, a glob or a directory) names distributions the replay knows."""
    for directory in space.dist_dirs | space.per_artifact:
        if path == directory or path.startswith(directory + "/") or (
                _WILDCARD.search(path) and fnmatchcase(directory + "/x.whl", path)):
            return True
    return False


def _destination(argv: list[str]) -> tuple[list[str], str] | None:
    operands = [a for a in argv[1:] if not a.startswith("-")]
    if "-t" in argv or any(a.startswith("--target-directory") for a in argv):
        return None  # the target is not the last operand: not followed
    if len(operands) < 2:
        return None
    return operands[:-1], operands[-1]


def _apply_run(space: Workspace, job: Job, step: Step) -> None:
    if step.run is None:
        return
    cwd = working_directory(job, step)
    for command in split_commands(step.run.value):
        argv, _ = strip_prefixes(command.argv)
        if not argv:
            continue
        verb = posixpath.basename(argv[0])
        if verb == "cd" and len(argv) > 1:
            cwd = _norm(argv[1], cwd)
            continue
        if any("$" in a for a in argv[1:]) and verb in ("cp", "mv", "rsync", "rm", "find"):
            space.opaque = True
            continue
        if verb in ("cp", "mv", "rsync"):
            moved = _destination(argv)
            if moved is None:
                space.opaque = True
                continue
            sources, target = moved
            if any(_holds(space, _norm(s, cwd)) for s in sources):
                dest = _norm(target, cwd)
                space.dist_dirs.add(posixpath.dirname(dest) if dest.endswith(_DIST_SUFFIXES)
                                    else dest)
            continue
        if verb == "rm":
            for operand in (a for a in argv[1:] if not a.startswith("-")):
                path = _norm(operand, cwd)
                if _ATTESTATION_GLOB.search(path):
                    space.cleared[posixpath.dirname(path) or "."] = step.index
                elif path in space.dist_dirs:
                    space.dist_dirs.discard(path)
            continue
        if verb == "find" and len(argv) > 1 and "-delete" in argv and any(
                "attestation" in a for a in argv):
            space.cleared[_norm(argv[1], cwd)] = step.index
            continue
        if _builds(verb, argv):
            space.dist_dirs.add(_norm(_outdir(argv) or "dist", cwd))
            continue
        if verb in _HARMLESS:
            continue
        # a tool or script pubaudit does not follow: if it names a directory that matters,
        # it may have put distributions there
        text = " ".join(argv[1:])
        if any(d in text for d in _named_dirs(space)) or "dist" in text or verb in (
                "make", "just", "nox", "tox", "bash", "sh"):
            space.opaque = True


def _builds(verb: str, argv: list[str]) -> bool:
    """``python -m build``, ``uv build``, ``hatch build``, ``pdm build``, ``poetry build``,
    ``flit build``: the job makes its own distributions (in ``dist/`` unless told)."""
    if verb in ("python", "python3") and argv[1:3] == ["-m", "build"]:
        return True
    return verb in ("uv", "hatch", "pdm", "poetry", "flit", "pyproject-build") and (
        verb == "pyproject-build" or argv[1:2] == ["build"])


def _outdir(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg in ("-o", "--outdir", "--out-dir", "--output", "-d", "--dest") and \
                i + 1 < len(argv):
            return argv[i + 1]
        for flag in ("--outdir=", "--out-dir=", "--output=", "--dest="):
            if arg.startswith(flag):
                return arg[len(flag):]
    return None


def _named_dirs(space: Workspace) -> Iterable[str]:
    return (d for d in space.dist_dirs | space.per_artifact if d != ".")


def replay(workflow: Workflow, job: Job, until: Step) -> Workspace:
    """The workspace of ``job`` just before ``until`` runs."""
    made = producers(workflow)
    space = Workspace()
    for step in job.steps:
        if step.index >= until.index:
            break
        if step.uses is not None and step.uses.is_action("actions/download-artifact"):
            _apply_download(space, step, made)
        elif step.uses is not None and step.uses.is_action("actions/checkout"):
            space.dist_dirs.clear()  # a checkout cleans the workspace
            space.per_artifact.clear()
        elif step.run is not None:
            _apply_run(space, job, step)
        elif step.uses is not None and step.uses.kind != "remote":
            space.opaque = True  # a local action may do anything with the files
    return space
