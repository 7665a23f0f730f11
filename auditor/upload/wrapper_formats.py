"""Read the commands a wrapper file defines, statically: tox environments, nox sessions,
make targets, just recipes, shell and Python scripts, and the task tables of hatch, pdm,
pixi and npm.

Each reader takes a file's text and the name the workflow asked for (``release`` in
``tox -e release``) and returns the shell text that name runs, with where it is written, so
the publish classifier can read it like a ``run:`` line. Nothing here executes anything or
reads a file: ``auditor.upload.wrappers`` hands the text in. ``None`` means "the name is not
defined in this file" (pubaudit cannot see the upload); an empty list means "defined, and
runs nothing".
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from typing import Any

from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.reading.source import SourceFile
from auditor.reading.tomlsource import TomlProblem, parse_toml


@record
class Script:
    """Shell text a wrapper runs, found at ``line``/``column`` (0-based) of ``path``.

    ``exact`` when ``text`` is the file's own characters from that column on one line, so
    each word of a command can be pointed at; otherwise (an argv rebuilt from a Python list)
    every word points at the whole ``span``."""

    path: str
    line: int
    column: int
    end_column: int
    text: str
    exact: bool = True


def _line_script(source: SourceFile, number: int, text: str) -> Script:
    raw = source.lines[number]
    column = raw.find(text) if text else 0
    column = max(column, 0)
    return Script(source.path, number, column, column + len(text), text)


def _locate(source: SourceFile, needle: str, start_line: int = 0) -> tuple[int, int]:
    """The first line (from ``start_line``) where ``needle`` is written, and its column; a
    TOML or JSON value has no position of its own in the parsed document."""
    for number in range(start_line, len(source.lines)):
        column = source.lines[number].find(needle)
        if column >= 0:
            return number, column
    return start_line, 0


def _located(source: SourceFile, text: str, start_line: int = 0) -> Script:
    probe = text.strip().split("\n", 1)[0][:60]
    line, column = _locate(source, probe, start_line)
    exact = "\n" not in text.strip() and source.lines[line][column:].startswith(text.strip()) \
        if line < len(source.lines) else False
    return Script(source.path, line, column, column + len(probe), text.strip(), exact)


# ------------------------------------------------------------------------ tox

_SECTION_RE = lazy_re(r"^\[([^\]]+)\]\s*$")
_KEY_RE = lazy_re(r"^([A-Za-z_][\w-]*)\s*[=:]\s?(.*)$")


def _ini_value(source: SourceFile, lines: range, section: str, key: str
               ) -> list[tuple[int, str]] | None:
    """``(line, text)`` of each line of ``key`` in ``[section]`` of an INI text (keys may
    continue on indented lines); ``None`` when the section does not exist."""
    current: str | None = None
    found: list[tuple[int, str]] | None = None
    in_key = False
    for number in lines:
        raw = source.lines[number]
        match = _SECTION_RE.match(raw.strip())
        if match:
            current = match.group(1).strip()
            in_key = False
            if current == section and found is None:
                found = []
            continue
        if current != section or found is None:
            continue
        if raw[:1] in (" ", "\t") and in_key:
            if raw.strip() and not raw.strip().startswith(("#", ";")):
                found.append((number, raw.strip()))
            continue
        key_match = _KEY_RE.match(raw)
        in_key = bool(key_match and key_match.group(1).replace("-", "_") == key)
        if in_key and key_match and key_match.group(2).strip():
            found.append((number, key_match.group(2).strip()))
    return found


def tox_commands(source: SourceFile, env: str) -> list[Script] | None:
    """The ``commands`` of tox environment ``env`` in ``tox.ini``, ``tox.toml`` or a
    ``pyproject.toml`` ``[tool.tox]`` table (also its ``legacy_tox_ini`` string)."""
    if source.name == "tox.ini" or source.name == "setup.cfg":
        section = f"testenv:{env}" if source.name == "tox.ini" else f"tox:testenv:{env}"
        found = _ini_value(source, range(len(source.lines)), section, "commands")
        if found is None:
            return None
        # an INI line ending in a backslash continues the command on the next line
        return [_line_script(source, n, t.rstrip("\\").strip()) for n, t in found]
    data = _toml(source)
    if data is None:
        return None
    table: Any = data.get("tool", {}).get("tox", {}) if source.name == "pyproject.toml" \
        else data
    if not isinstance(table, dict):
        return None
    legacy = table.get("legacy_tox_ini")
    if isinstance(legacy, str):
        first, _ = _locate(source, "legacy_tox_ini")
        found = _ini_value(source, range(first, len(source.lines)), f"testenv:{env}",
                           "commands")
        if found is None:
            return None
        return [_line_script(source, n, t.rstrip("\\").strip()) for n, t in found]
    envs = table.get("env", {})
    entry = envs.get(env) if isinstance(envs, dict) else None
    if not isinstance(entry, dict):
        return None
    header, _ = _locate(source, f"env.{env}]")
    scripts = []
    for command in entry.get("commands", []):
        if isinstance(command, list) and all(isinstance(w, str) for w in command):
            line, column = _locate(source, json.dumps(command[0]), header)
            scripts.append(Script(source.path, line, column, len(source.lines[line])
                                  if line < len(source.lines) else column,
                                  shlex.join(command), exact=False))
    return scripts


# ------------------------------------------------------------------------ Python (nox, scripts)

_UPLOAD_MODULES = ("twine.commands.upload", "twine.cli")


_RUNTIME_WORD = "$VALUE"  # an argument computed at run time (a variable, an f-string)


def _word(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else str(node.value)
    if isinstance(node, ast.Starred):
        return None  # ``*session.posargs``: words pubaudit cannot count
    return _RUNTIME_WORD


def _literal_words(nodes: list[ast.expr]) -> list[str] | None:
    """The words of an argument list whose program is a literal; other arguments are run-time
    values (``["twine", "upload", wheel]`` still runs ``twine upload``)."""
    if not nodes or not (isinstance(nodes[0], ast.Constant) and isinstance(nodes[0].value,
                                                                          str)):
        return None
    return [w for w in map(_word, nodes) if w is not None]


def _argv_of(node: ast.expr) -> list[str] | None:
    if isinstance(node, (ast.List, ast.Tuple)):
        return _literal_words(node.elts)
    return None


def _call_name(node: ast.Call) -> str:
    parts: list[str] = []
    func: ast.expr = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def _script_of_node(source: SourceFile, node: ast.AST, text: str) -> Script:
    line = getattr(node, "lineno", 1) - 1
    column = getattr(node, "col_offset", 0)
    end = getattr(node, "end_col_offset", None)
    if getattr(node, "end_lineno", line + 1) - 1 != line or end is None:
        end = len(source.lines[line]) if line < len(source.lines) else column
    return Script(source.path, line, column, end, text, exact=False)


def _python_calls(source: SourceFile, tree: ast.AST, session_arg: str | None) -> list[Script]:
    """The commands a Python body runs: ``subprocess.*([...])``, ``os.system("...")``,
    ``session.run(...)`` (nox), and the twine API imported for an upload."""
    scripts: list[Script] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            names = [a.name for a in node.names]
            modules = [module] if module else names
            if any(m and m.startswith(_UPLOAD_MODULES) for m in modules) or (
                    module == "twine.commands" and "upload" in names):
                scripts.append(_script_of_node(source, node, "twine upload"))
            continue
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if session_arg is not None and name in (f"{session_arg}.run",
                                                f"{session_arg}.run_always"):
            words = _literal_words(node.args)
            if words:
                scripts.append(_script_of_node(source, node, shlex.join(words)))
            continue
        if name.startswith("subprocess.") or name in ("run", "call", "check_call",
                                                      "check_output", "Popen"):
            if not node.args:
                continue
            argv = _argv_of(node.args[0])
            if argv:
                scripts.append(_script_of_node(source, node, shlex.join(argv)))
            elif isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                scripts.append(_script_of_node(source, node, node.args[0].value))
        elif name in ("os.system", "system") and node.args and isinstance(
                node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            scripts.append(_script_of_node(source, node, node.args[0].value))
    return scripts


def _parse_python(source: SourceFile) -> ast.Module | None:
    try:
        return ast.parse(source.text, filename=source.path)
    except (SyntaxError, ValueError):
        return None


def python_script(source: SourceFile, _name: str = "") -> list[Script] | None:
    """What a Python script runs (read with ``ast``, never imported)."""
    tree = _parse_python(source)
    return None if tree is None else _python_calls(source, tree, None)


def nox_session(source: SourceFile, session: str) -> list[Script] | None:
    """The commands of the nox session named ``session`` (its function name or ``name=``)."""
    tree = _parse_python(source)
    if tree is None:
        return None
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        names = {node.name, node.name.replace("_", "-")}
        is_session = False
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call else decorator
            if not (isinstance(target, ast.Attribute) and target.attr == "session") and not (
                    isinstance(target, ast.Name) and target.id == "session"):
                continue
            is_session = True
            for keyword in call.keywords if call else ():
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    names = {str(keyword.value.value)}
        if is_session and session in names and node.args.args:
            return _python_calls(source, node, node.args.args[0].arg)
    return None


# ------------------------------------------------------------------------ make and just

_MAKE_VAR_RE = lazy_re(r"^(?:export\s+|override\s+)?([A-Za-z_][\w.-]*)\s*"
                          r"(?:::=|:=|\?=|\+=|!=|=)\s*(.*)$")
_MAKE_RULE_RE = lazy_re(r"^([^\s:=#][^:=#]*?)\s*::?(?!=)\s*([^=;#]*)(?:;\s*(.*))?$")
_MAKE_REF_RE = lazy_re(r"\$[({]([A-Za-z_][\w.-]*)[)}]")


def _expand(text: str, variables: dict[str, str]) -> str:
    """Simple ``$(VAR)``/``${VAR}`` expansion from ``VAR = value`` lines (one level deep
    each pass, three passes); unknown variables are kept as written."""
    for _ in range(3):
        expanded = _MAKE_REF_RE.sub(lambda m: variables.get(m.group(1), m.group(0)), text)
        if expanded == text:
            break
        text = expanded
    return text.replace("$$", "$")


def make_target(source: SourceFile, target: str) -> list[Script] | None:
    """The recipe lines of ``target`` and of its prerequisites (depth-first, each once)."""
    variables: dict[str, str] = {}
    rules: dict[str, tuple[list[str], list[tuple[int, str]]]] = {}
    current: list[tuple[int, str]] | None = None
    for number, raw in enumerate(source.lines):
        if raw.startswith("\t"):
            if current is not None and raw.strip() and not raw.strip().startswith("#"):
                current.append((number, raw.strip()))
            continue
        current = None
        stripped = raw.split("#", 1)[0].rstrip()
        var = _MAKE_VAR_RE.match(stripped)
        if var:
            variables[var.group(1)] = var.group(2).strip()
            continue
        rule = _MAKE_RULE_RE.match(stripped)
        if rule:
            recipe: list[tuple[int, str]] = []
            if rule.group(3):
                recipe.append((number, rule.group(3).strip()))
            for name in rule.group(1).split():
                rules.setdefault(name, ([], []))
                rules[name][0].extend(rule.group(2).split())
                rules[name] = (rules[name][0], recipe) if not rules[name][1] else rules[name]
            current = recipe
    if not target:  # no target named: make runs the first one (the default goal)
        target = next((name for name in rules if not name.startswith(".")), "")
    if target not in rules:
        return None
    scripts: list[Script] = []
    for _name, recipe in _dependency_order(
            target, {name: ([_expand(p, variables) for p in prerequisites], recipe)
                     for name, (prerequisites, recipe) in rules.items()}):
        for number, text in recipe:
            command = text.lstrip("@-+ ")
            expanded = _expand(command, variables)
            script = _line_script(source, number, command)
            scripts.append(Script(script.path, script.line, script.column, script.end_column,
                                  expanded, exact=expanded == command))
    return scripts


def _dependency_order(start: str, graph: dict[str, tuple[list[str], list[tuple[int, str]]]]
                      ) -> list[tuple[str, list[tuple[int, str]]]]:
    """``start`` and what it depends on, breadth-first, each once and at most 50 (a make
    target and its prerequisites, a just recipe and its dependencies): the bodies to read."""
    order: list[tuple[str, list[tuple[int, str]]]] = []
    seen: set[str] = set()
    pending = [start]
    while pending and len(seen) < 50:
        name = pending.pop(0)
        if name in seen or name not in graph:
            continue
        seen.add(name)
        dependencies, body = graph[name]
        pending.extend(dependencies)
        order.append((name, body))
    return order


_JUST_RECIPE_RE = lazy_re(r"^@?([A-Za-z_][\w-]*)(?:\s+[^:]*)?:(?!=)\s*(.*)$")


def just_recipe(source: SourceFile, recipe: str) -> list[Script] | None:
    """The body lines of ``recipe`` in a justfile, and of the recipes it depends on."""
    recipes: dict[str, tuple[list[str], list[tuple[int, str]]]] = {}
    current: list[tuple[int, str]] | None = None
    for number, raw in enumerate(source.lines):
        if raw[:1] in (" ", "\t"):
            if current is not None and raw.strip() and not raw.strip().startswith("#"):
                current.append((number, raw.strip()))
            continue
        current = None
        match = _JUST_RECIPE_RE.match(raw)
        if match and not raw.startswith(("set ", "export ", "alias ", "import ", "mod ")):
            body: list[tuple[int, str]] = []
            deps = [d for d in match.group(2).split() if re.match(r"^[\w-]+$", d)]
            recipes[match.group(1)] = (deps, body)
            current = body
    if recipe not in recipes:
        return None
    return [_line_script(source, n, t.lstrip("@-"))
            for _name, body in _dependency_order(recipe, recipes) for n, t in body]


def shell_script(source: SourceFile, _name: str = "") -> list[Script] | None:
    """A shell script: its whole text, read as a ``run:`` block."""
    return [Script(source.path, 0, 0, 0, source.text)]


# ------------------------------------------------------------------------ task tables

def _toml(source: SourceFile) -> dict[str, Any] | None:
    """A repository's TOML through the same limits as its pyproject.toml (size, depth, number
    length): a wrapper file is untrusted input too."""
    parsed = parse_toml(source.text)
    return None if isinstance(parsed, TomlProblem) else parsed


def _task_text(value: object) -> list[str] | None:
    """A task's command text(s): a string, a list of strings, ``{cmd = ...}``,
    ``{shell = ...}`` or ``{composite = [...]}``."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, dict):
        for key in ("cmd", "shell", "composite", "call"):
            inner = value.get(key)
            if isinstance(inner, str):
                return [inner]
            if isinstance(inner, list) and all(isinstance(v, str) for v in inner):
                return [shlex.join(inner)] if key == "cmd" else list(inner)
    return None


def _task_scripts(source: SourceFile, texts: list[str], name: str) -> list[Script]:
    start, _ = _locate(source, name)
    return [_located(source, text, start) for text in texts]


def hatch_script(source: SourceFile, name: str) -> list[Script] | None:
    """A ``[tool.hatch.envs.<env>.scripts]`` entry (``env:name`` or the default env)."""
    data = _toml(source)
    envs = (data or {}).get("tool", {}).get("hatch", {}).get("envs", {})
    env, _, script = name.rpartition(":")
    for env_name, table in envs.items() if isinstance(envs, dict) else ():
        if (env and env_name != env) or (not env and env_name != "default"):
            continue
        scripts = table.get("scripts", {}) if isinstance(table, dict) else {}
        texts = _task_text(scripts.get(script)) if isinstance(scripts, dict) else None
        if texts is not None:
            return _task_scripts(source, texts, script)
    return None


def pdm_script(source: SourceFile, name: str) -> list[Script] | None:
    """A ``[tool.pdm.scripts]`` entry."""
    scripts = ((_toml(source) or {}).get("tool", {}).get("pdm", {}).get("scripts", {}))
    texts = _task_text(scripts.get(name)) if isinstance(scripts, dict) else None
    return None if texts is None else _task_scripts(source, texts, name)


def pixi_task(source: SourceFile, name: str) -> list[Script] | None:
    """A ``[tasks]`` entry of ``pixi.toml`` or ``[tool.pixi.tasks]`` of ``pyproject.toml``."""
    data = _toml(source) or {}
    tasks = data.get("tool", {}).get("pixi", {}).get("tasks", {}) \
        if source.name == "pyproject.toml" else data.get("tasks", {})
    value = tasks.get(name) if isinstance(tasks, dict) else None
    texts = _task_text(value)
    if texts is None:
        return None
    depends = value.get("depends-on", value.get("depends_on", [])) \
        if isinstance(value, dict) else []
    texts += [f"pixi run {d}" for d in depends if isinstance(d, str)] \
        if isinstance(depends, list) else []
    return _task_scripts(source, texts, name)


def npm_script(source: SourceFile, name: str) -> list[Script] | None:
    """A ``package.json`` ``scripts`` entry (only a Python upload inside it matters)."""
    try:
        data = json.loads(source.text)
    except ValueError:
        return None
    scripts = data.get("scripts", {}) if isinstance(data, dict) else {}
    value = scripts.get(name) if isinstance(scripts, dict) else None
    if not isinstance(value, str):
        return None
    return _task_scripts(source, [value], f'"{name}"')
