"""Which package of a monorepo an upload publishes: the directory its distributions come
from, and the project named by that directory's own ``pyproject.toml``.

PyPI registers a trusted publisher per project, so a repository that publishes
``acme-core`` and ``acme-cli`` from one workflow needs two registrations with two names.
The directory comes from what the step says: the pypi action's ``packages-dir``
(``packages/core/dist/`` is the distributions of ``packages/core``), a ``run:`` step's
``working-directory``, a ``cd`` before the upload command in the same script, ``uv publish
--directory``, or the files it uploads (``twine upload packages/cli/dist/*``); matrix values
and variables set earlier are followed (:mod:`auditor.upload.values`). A directory without
a ``pyproject.toml`` naming a project says nothing, and the repository's own project stands.
"""

from __future__ import annotations

import posixpath

from auditor.facts.distflow import packages_dir, working_directory
from auditor.upload.publish import PYPI_ACTION, PublishStep
from auditor.upload.shell import split_commands, strip_prefixes
from auditor.upload.values import possible_values

_OUTPUT_DIRS = frozenset({"dist", "wheelhouse", "wheels", "target", "build", "artifacts"})


def _norm(path: str) -> str | None:
    """``path`` relative to the workspace, or ``None`` when it leaves it or is computed."""
    if "$" in path or path.startswith("/"):
        return None
    joined = posixpath.normpath(path.strip())
    if joined.startswith(".."):
        return None
    return "" if joined == "." else joined


def _expand(text: str, step: PublishStep) -> list[str]:
    """``text`` with its `${{ }}` expressions followed, one entry per possible value."""
    if "${{" not in text:
        return [text]
    values = possible_values(text, step.workflow, step.job, step.step)
    return list(values) if values else []


def _package_of(output: str) -> str | None:
    """The package directory whose distributions are in ``output`` (its parent when the
    last component is an output directory such as ``dist``)."""
    path = _norm(output)
    if path is None:
        return None
    head, tail = posixpath.split(path)
    return head if tail in _OUTPUT_DIRS else path


def _action_dirs(step: PublishStep) -> list[str]:
    node = step.step.input("packages-dir", "packages_dir")
    text = node.value.strip() if node is not None else "dist"
    found = []
    for value in _expand(text, step):
        package = _package_of(packages_dir(value))
        if package is not None:
            found.append(package)
    return found


def _joined(cwds: list[str], path: str, step: PublishStep) -> list[str]:
    """Each of ``cwds`` joined with ``path`` (each value of its expressions)."""
    out = []
    for cwd in cwds:
        for value in _expand(path, step):
            moved = _norm(posixpath.join(cwd, value))
            if moved is not None:
                out.append(moved)
    return out


def _run_dirs(step: PublishStep) -> list[str]:
    run = step.step.run
    if run is None or not step.argv:
        return []
    cwds = _joined([""], working_directory(step.job, step.step), step)
    for command in split_commands(run.value):
        argv, _ = strip_prefixes(command.argv)
        if argv[:1] == ["cd"] and len(argv) == 2:
            cwds = _joined(cwds, argv[1], step)
            continue
        if tuple(argv) != tuple(step.argv):
            continue
        if "--directory" in argv[:-1]:
            cwds = _joined(cwds, argv[argv.index("--directory") + 1], step)
        files = [a for a in argv[2:] if not a.startswith("-") and "/" in a]
        if files:
            outputs = _joined(cwds, posixpath.dirname(files[0]), step)
            return [p for p in (_package_of(o) for o in outputs) if p is not None]
        return cwds
    return []


def package_dirs(step: PublishStep) -> tuple[str, ...]:
    """The directories (relative to the repository, ``""`` for its root) whose projects
    ``step`` uploads; empty when pubaudit cannot tell."""
    if step.step.uses is not None and step.step.uses.is_action(PYPI_ACTION):
        dirs = _action_dirs(step)
    else:
        dirs = _run_dirs(step)
    return tuple(dict.fromkeys(dirs))
