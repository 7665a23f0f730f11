"""Which repository file a command hands its work to, and what that file runs there.

``tox -e release``, ``nox -s publish``, ``make release``, ``just publish``, ``./scripts/publish``,
``bash release.sh``, ``python release.py``, ``python -m pkg.release``, ``hatch run release``,
``pdm run publish``, ``pixi run upload`` and ``npm run release`` upload through a file of the
repository. A file is read only when a command names it, through the repository's reader,
and once per scan; its text is parsed (``auditor.upload.wrapper_formats``), never executed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from auditor.output.records import record
from auditor.reading.source import SourceFile

if TYPE_CHECKING:
    from auditor.upload import wrapper_formats as formats
else:  # the parsers (ast, tomllib, json) load only when a step names a wrapper
    class _Formats:
        def __getattr__(self, name: str) -> object:
            return getattr(importlib.import_module("auditor.upload.wrapper_formats"), name)

    formats = _Formats()

Reader = Callable[[str], "SourceFile | str"]  # path -> file, or why it cannot be read
Extract = Callable[[SourceFile, str], "list[formats.Script] | None"]

_MAKE_DRY_RUN = frozenset({"-n", "--dry-run", "--just-print", "--recon", "-q", "--question"})
_PY_LAUNCHERS = frozenset({"python", "python3", "py", "pypy3"})
_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
_SCRIPT_SUFFIXES = (".sh", ".bash", ".py")
# Commands that may hand their work to a repository file: anything else is not looked at.
LAUNCHERS = frozenset({"python", "python3", "py", "pypy3", "tox", "tox4", "nox", "make",
                       "gmake", "just", "bash", "sh", "zsh", "dash", "ksh", "poetry", "uv",
                       "pipenv", "rye", "hatch", "pdm", "pixi", "npm", "yarn", "pnpm"})
# Installed modules run with ``python -m`` that are never files of the repository.
_INSTALLED_MODULES = frozenset({"pip", "build", "pytest", "twine", "venv", "ensurepip",
                                "pipx", "uv", "coverage", "mypy", "ruff", "flake8", "black",
                                "isort", "setuptools_scm", "cibuildwheel", "wheel",
                                "unittest", "sphinx", "mkdocs", "pre_commit", "hatch", "pdm",
                                "poetry", "flit", "maturin", "json.tool", "http.server"})


def may_wrap(words: list[str]) -> bool:
    """A cheap test: could ``words`` run a repository file? (before any file is read)"""
    first = words[0]
    head = first.rsplit("/", 1)[-1]
    return head in LAUNCHERS or head.startswith("python3.") or "/" in first or \
        first.endswith(_SCRIPT_SUFFIXES)


@record
class Expansion:
    """What a command runs through a repository file.

    ``label`` names the invocation for messages (``make release``); ``scripts`` is what the
    file defines for it; ``unseen`` says why pubaudit could not read it (the file is not in
    the repository, does not parse, or does not define the name)."""

    label: str
    scripts: tuple[formats.Script, ...] = ()
    unseen: str | None = None


def _option_value(args: list[str], names: tuple[str, ...]) -> str | None:
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if name.startswith("--") and arg.startswith(name + "="):
                return arg[len(name) + 1:]
            if not name.startswith("--") and arg.startswith(name) and len(arg) > len(name):
                return arg[len(name):]
    return None


def _positionals(args: list[str], valued: frozenset[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break
        if arg.startswith("-"):
            i += 2 if arg in valued else 1
            continue
        if "=" not in arg:  # `make VAR=value target`
            out.append(arg)
        i += 1
    return out


def _clean(path: str) -> str | None:
    """A repository-relative path, or ``None`` for an absolute or variable one."""
    if not path or path.startswith(("/", "~", "$")) or "${{" in path:
        return None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    return "/".join(parts)


class WrapperReader:
    """Expands wrapper invocations, reading each named file at most once per scan."""

    def __init__(self, read: Reader) -> None:
        self._read = read
        self._files: dict[str, SourceFile | str] = {}

    def file(self, path: str) -> SourceFile | str:
        if path not in self._files:
            self._files[path] = self._read(path)
        return self._files[path]

    def _from(self, label: str, candidates: tuple[str, ...], name: str,
              extract: Extract, missing: str) -> Expansion:
        """The first candidate file that exists, read for ``name``."""
        for path in candidates:
            source = self.file(path)
            if isinstance(source, str):
                continue
            scripts = extract(source, name)
            if scripts is None:
                return Expansion(label, unseen=f"`{path}` does not define it in a form "
                                               "pubaudit can read")
            return Expansion(label, tuple(scripts))
        return Expansion(label, unseen=missing)

    def expand(self, argv: list[str]) -> Expansion | None:
        """What ``argv`` runs through a repository file; ``None`` when it names none."""
        if not argv:
            return None
        head = argv[0].rsplit("/", 1)[-1]
        args = argv[1:]
        if head in _PY_LAUNCHERS or head.startswith("python3."):
            return self._python(argv, args)
        if head == "tox" or head == "tox4":
            return self._tox(argv, args)
        if head == "nox":
            return self._nox(argv, args)
        if head in ("make", "gmake"):
            return self._make(argv, args)
        if head == "just":
            if "-n" in args or "--dry-run" in args:
                return Expansion(" ".join(argv))
            recipe = next(iter(_positionals(args, frozenset({"-f", "--justfile", "-d"}))), "")
            return self._from(f"just {recipe}".strip(), ("justfile", "Justfile", ".justfile"),
                              recipe, formats.just_recipe, "no justfile is in the repository")
        if head in _SHELLS:
            if args[:1] == ["-c"] and len(args) > 1:
                return Expansion(f"{head} -c", (formats.Script("", 0, 0, 0, args[1], False),))
            script = next((a for a in args if not a.startswith("-")), None)
            return self._script(" ".join(argv[:2]), script) if script else None
        if "/" in argv[0] or argv[0].endswith(_SCRIPT_SUFFIXES):
            return self._script(argv[0], argv[0])
        if head in ("poetry", "uv", "pipenv", "rye") and args[:1] == ["run"]:
            inner = _positionals(args[1:], frozenset({"--with", "--python", "-p", "--group",
                                                      "--extra", "--package", "--directory",
                                                      "--project", "--from"}))
            return self.expand(args[args.index(inner[0]):]) if inner else None
        if head in ("hatch", "pdm", "pixi", "npm", "yarn", "pnpm") and args[:1] == ["run"]:
            return self._task(head, args[1:])
        return None

    def _python(self, argv: list[str], args: list[str]) -> Expansion | None:
        if "-c" in args:
            return None
        if "-m" in args:
            i = args.index("-m")
            if i + 1 >= len(args):
                return None
            module = args[i + 1]
            if module in ("tox", "nox"):
                return self.expand([module, *args[i + 2:]])
            if module in _INSTALLED_MODULES or module.startswith("pip."):
                return None
            base = module.replace(".", "/")
            candidates = (f"{base}.py", f"{base}/__main__.py", f"src/{base}.py",
                          f"src/{base}/__main__.py")
            for path in candidates:
                if not isinstance(self.file(path), str):
                    return self._from(f"python -m {module}", (path,), "",
                                      formats.python_script, "")
            return None  # an installed module: not a file of the repository
        named = next((a for a in args if not a.startswith("-")), None)
        if named is None or not named.endswith(".py") or named == "setup.py":
            return None
        rel = _clean(named)
        if rel is None:
            return None
        return self._from(f"python {named}", (rel,), "", formats.python_script,
                          f"`{named}` is not in the repository")

    def _tox(self, argv: list[str], args: list[str]) -> Expansion | None:
        envs = _option_value(args, ("-e", "--env"))
        if envs is None or "{" in envs or "$" in envs:
            return None
        expansions = [self._from(f"tox -e {env}", ("tox.ini", "tox.toml", "pyproject.toml",
                                                   "setup.cfg"), env, formats.tox_commands,
                                 "no tox configuration is in the repository")
                      for env in envs.split(",") if env]
        return _merged(f"tox -e {envs}", expansions)

    def _nox(self, argv: list[str], args: list[str]) -> Expansion | None:
        names: list[str] = []
        for i, arg in enumerate(args):
            if arg in ("-s", "--session", "--sessions", "-e"):
                names += [a for a in args[i + 1:] if not a.startswith("-")][:1]
            elif arg.startswith("--session="):
                names.append(arg.split("=", 1)[1])
        if not names:
            return None
        noxfile = _clean(_option_value(args, ("-f", "--noxfile")) or "noxfile.py")
        if noxfile is None:
            return None
        return _merged(f"nox -s {' '.join(names)}", [
            self._from(f"nox -s {name}", (noxfile,), name, formats.nox_session,
                       f"`{noxfile}` is not in the repository") for name in names])

    def _make(self, argv: list[str], args: list[str]) -> Expansion | None:
        if any(a in _MAKE_DRY_RUN or (a.startswith("-") and not a.startswith("--")
                                      and "n" in a[1:] and a not in ("-C", "-f"))
               for a in args):
            return Expansion(" ".join(argv))  # a dry run prints the recipe: no upload
        directory = _clean(_option_value(args, ("-C", "--directory")) or ".")
        named = _option_value(args, ("-f", "--file", "--makefile"))
        if directory is None:
            return None
        prefix = f"{directory}/" if directory else ""
        candidates = (f"{prefix}{_clean(named) or ''}",) if named else tuple(
            f"{prefix}{n}" for n in ("GNUmakefile", "makefile", "Makefile"))
        targets = _positionals(args, frozenset({"-C", "--directory", "-f", "--file",
                                                "--makefile", "-j", "-l", "-o", "-W"}))
        expansions = [self._from(f"make {target}".strip(), candidates, target,
                                 formats.make_target, "no Makefile is in the repository")
                      for target in targets or [""]]
        return _merged(f"make {' '.join(targets)}".strip(), expansions)

    def _script(self, label: str, script: str) -> Expansion | None:
        path = _clean(script)
        if path is None:
            return None
        if path.endswith(".py"):
            return self._from(label, (path,), "", formats.python_script,
                              f"`{script}` is not in the repository")
        return self._from(label, (path,), "", formats.shell_script,
                          f"`{script}` is not in the repository")

    def _task(self, tool: str, args: list[str]) -> Expansion | None:
        names = _positionals(args, frozenset({"-e", "--environment", "--manifest-path"}))
        if not names:
            return None
        name = names[0]
        label = f"{tool} run {name}"
        if tool == "hatch":
            source = self.file("pyproject.toml")
            found = formats.hatch_script(source, name) if not isinstance(source, str) else None
            return Expansion(label, tuple(found)) if found is not None else None
        if tool == "pdm":
            source = self.file("pyproject.toml")
            found = formats.pdm_script(source, name) if not isinstance(source, str) else None
            return Expansion(label, tuple(found)) if found is not None else None
        if tool == "pixi":
            return self._from(label, ("pixi.toml", "pyproject.toml"), name, formats.pixi_task,
                              "no pixi manifest is in the repository")
        return self._from(label, ("package.json",), name, formats.npm_script,
                          "no package.json is in the repository")


def _merged(label: str, expansions: list[Expansion]) -> Expansion:
    scripts = tuple(s for e in expansions for s in e.scripts)
    unseen = next((f"{e.label}: {e.unseen}" if len(expansions) > 1 else e.unseen
                   for e in expansions if e.unseen), None)
    return Expansion(label, scripts, unseen)
