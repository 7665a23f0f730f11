"""Who the repository is: its project name and its git remotes, read without running anything.

The project name comes from ``pyproject.toml`` (``[project].name``, else Poetry's
``[tool.poetry].name``), else ``setup.cfg``'s ``[metadata] name``, else a literal
``name="..."`` in ``setup.py`` (never executed). Each comes with the position of the value,
so a finding can point at the name it compared.
"""

from __future__ import annotations

import re
from pathlib import Path

from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.reading.gitremote import Remote, remotes
from auditor.reading.source import Anchor, read_regular, split_lines
from auditor.reading.tomlsource import TomlProblem, parse_toml

_MAX_BYTES = 2 * 1024 * 1024
_SETUP_PY_NAME_RE = lazy_re(r"""\bname\s*=\s*(['"])([A-Za-z0-9][A-Za-z0-9._-]*)\1""")


@record
class ProjectName:
    """The project name and where it was read, for findings to point at."""

    name: str
    source: str  # e.g. "pyproject.toml [project].name"
    anchor: Anchor


@record
class Identity:
    """Who the repository is: project name and git remotes."""

    project: ProjectName | None
    origin: Remote | None
    others: tuple[tuple[str, Remote], ...]  # other remotes (``upstream`` of a fork...)


def _read(path: Path) -> str | None:
    data = read_regular(path, _MAX_BYTES, path.parent)
    return None if isinstance(data, str) else data.decode("utf-8", errors="replace")


def _find_value(path: str, text: str, section: str, key: str, value: str) -> Anchor:
    """The position of ``key = value`` inside ``[section]`` of an ini/TOML text."""
    in_section = False
    header = re.compile(r"^\s*\[\s*" + re.escape(section) + r"\s*\]\s*(#.*)?$")
    for number, line in enumerate(split_lines(text)):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = bool(header.match(line))
            continue
        if in_section and re.match(r"\s*" + re.escape(key) + r"\s*[=:]", line):
            at = line.find(value, line.find(key) + len(key))
            if at >= 0:
                return Anchor(path, ("project-name",), span=(number, at, number,
                                                             at + len(value)))
            return Anchor(path, ("project-name",), span=(number, 0, number, len(line)))
    return Anchor(path, ("project-name",), span=(0, 0, 0, 0))


def project_name(root: Path) -> ProjectName | None:
    text = _read(root / "pyproject.toml")
    if text is not None:
        parsed = parse_toml(text)  # a problem is reported as invalid-config (reading.config)
        data = {} if isinstance(parsed, TomlProblem) else parsed
        project = data.get("project")
        if isinstance(project, dict) and isinstance(project.get("name"), str):
            name = project["name"]
            return ProjectName(name, "pyproject.toml [project].name",
                               _find_value("pyproject.toml", text, "project", "name", name))
        tool = data.get("tool")
        poetry = tool.get("poetry") if isinstance(tool, dict) else None
        if isinstance(poetry, dict) and isinstance(poetry.get("name"), str):
            name = poetry["name"]
            return ProjectName(name, "pyproject.toml [tool.poetry].name",
                               _find_value("pyproject.toml", text, "tool.poetry", "name", name))
    text = _read(root / "setup.cfg")
    if text is not None:
        import configparser  # only for projects without pyproject.toml

        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text)
            name = parser.get("metadata", "name", fallback=None)
        except configparser.Error:
            name = None
        if name and name.strip() and "%" not in name and "attr:" not in name:
            name = name.strip()
            return ProjectName(name, "setup.cfg [metadata] name",
                               _find_value("setup.cfg", text, "metadata", "name", name))
    text = _read(root / "setup.py")
    if text is not None:
        for number, line in enumerate(split_lines(text)):
            match = _SETUP_PY_NAME_RE.search(line)
            if match and not line.lstrip().startswith("#"):
                return ProjectName(match.group(2), "setup.py name=",
                                   Anchor("setup.py", ("project-name",), span=(
                                       number, match.start(2), number, match.end(2))))
    return None


def identity(root: Path) -> Identity:
    found = remotes(root)
    origin = found.get("origin")
    others = tuple((name, remote) for name, remote in found.items() if name != "origin")
    return Identity(project_name(root), origin, others)
