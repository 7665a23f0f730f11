"""pubaudit's configuration: ``pubaudit.toml`` or ``[tool.pubaudit]`` in ``pyproject.toml``.

Unknown keys and bad values are errors with a position (the line of the key), never
ignored: a typo in ``ignore`` must not silently re-enable or hide a rule.
"""

from __future__ import annotations

import os
import re
from dataclasses import field
from pathlib import Path

from auditor.output.records import record
from auditor.reading.catalogue import CONFIDENCES, SEVERITIES, load_index
from auditor.reading.declarations import Declaration, locate_declarations
from auditor.reading.selection import expand, suggestion, unknown_message
from auditor.reading.source import read_regular, split_lines
from auditor.reading.tomlsource import MAX_BYTES, TomlProblem, decode_toml, parse_toml

TOP_KEYS = ("select", "ignore", "exclude", "min-severity", "min-confidence", "fail-on",
            "rules", "publishers")
PUBLISHER_KEYS = ("index", "project", "pending", "provider", "owner", "repository",
                  "workflow", "environment", "email", "subject", "organization", "actor")
# Keys whose value PyPI's forms take as text; ``pending`` is the only boolean.
_PUBLISHER_TEXT_KEYS = tuple(k for k in PUBLISHER_KEYS if k != "pending")


@record
class ConfigError:
    """A configuration problem at a 1-based position, reported as `invalid-config`."""

    message: str
    path: str
    line: int  # 1-based
    column: int


@record
class Config:
    """The validated configuration; errors are kept, not raised, so the scan still runs."""

    path: str | None = None  # relative to the root, or as given
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    min_severity: str | None = None
    min_confidence: str | None = None
    fail_on: str | None = None
    severity: dict[str, str] = field(default_factory=dict)
    options: dict[str, dict[str, object]] = field(default_factory=dict)
    publishers: tuple[Declaration, ...] = ()
    errors: tuple[ConfigError, ...] = ()
    text: str = field(default="", repr=False)  # the file's text, for snippets and positions

    def option(self, rule: str, name: str) -> object:
        if name in self.options.get(rule, {}):
            return self.options[rule][name]
        entry = load_index().get(rule)
        spec = entry.options.get(name) if entry else None
        return spec.default if spec else None


class _Locator:
    """Finds the line of a key in the TOML text, for error positions."""

    def __init__(self, text: str, prefix: str) -> None:
        self.lines = split_lines(text)
        self.prefix = prefix

    def find(self, *keys: str) -> tuple[int, int]:
        last = keys[-1] if keys else ""
        header = ".".join((self.prefix, *keys)) if self.prefix else ".".join(keys)
        patterns = [re.compile(r"^\s*\[\[?\s*" + re.escape(header) + r"\s*\]\]?"),
                    re.compile(r"^\s*[\"']?" + re.escape(last) + r"[\"']?\s*=")]
        section = re.compile(r"^\s*\[\[?\s*" + re.escape(self.prefix or "") )
        in_section = not self.prefix
        for number, line in enumerate(self.lines, 1):
            if self.prefix and line.lstrip().startswith("["):
                in_section = bool(section.match(line))
            if patterns[0].match(line):
                return number, 1 + len(line) - len(line.lstrip())
            if in_section and last and patterns[1].match(line):
                return number, 1 + len(line) - len(line.lstrip())
        return 1, 1


def _str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def parse_config(data: dict[str, object], path: str, text: str, prefix: str) -> Config:
    """Validate the ``[tool.pubaudit]`` table (or a whole ``pubaudit.toml``)."""
    errors: list[ConfigError] = []
    where = _Locator(text, prefix)
    rules = load_index()

    def error(message: str, *keys: str) -> None:
        line, column = where.find(*keys)
        errors.append(ConfigError(message, path, line, column))

    def rule_ids(key: str) -> tuple[str, ...] | None:
        """The valid ids of ``select``/``ignore``; ``None`` when the value is unusable (then
        nothing is narrowed: a typo must not silence every rule, invalid-config included)."""
        value = data.get(key)
        if value is None:
            return None
        if not _str_list(value):
            error(f"`{key}` must be a list of rule ids", key)
            return None
        assert isinstance(value, list)
        good = []
        for rule in value:
            if expand(rule, rules) is not None:
                good.append(rule)
            else:
                error(f"`{key}` names an {unknown_message(rule, rules)}", key)
        return tuple(good)

    for key in data:
        if key not in TOP_KEYS:
            error(f"unknown key `{key}` in pubaudit configuration (known: "
                  f"{', '.join(TOP_KEYS)})", key)
    select = rule_ids("select")
    ignore = rule_ids("ignore") or ()
    exclude: tuple[str, ...] = ()
    if "exclude" in data:
        if _str_list(data["exclude"]):
            exclude = tuple(data["exclude"])  # type: ignore[arg-type]
        else:
            error("`exclude` must be a list of path patterns", "exclude")

    def level(key: str, allowed: tuple[str, ...]) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if value not in allowed:
            error(f"`{key}` must be one of {', '.join(allowed)}, not {value!r}", key)
            return None
        return str(value)

    min_severity = level("min-severity", SEVERITIES)
    min_confidence = level("min-confidence", CONFIDENCES)
    fail_on = level("fail-on", SEVERITIES)
    severity: dict[str, str] = {}
    options: dict[str, dict[str, object]] = {}
    rules_table = data.get("rules", {})
    if not isinstance(rules_table, dict):
        error("`rules` must be a table of per-rule tables", "rules")
        rules_table = {}
    for rule_id, table in rules_table.items():
        if rule_id not in rules:
            error(f"`rules.{rule_id}`: unknown rule id{suggestion(rule_id, rules)}", "rules",
                  rule_id)
            continue
        if not isinstance(table, dict):
            error(f"`rules.{rule_id}` must be a table", "rules", rule_id)
            continue
        for name, value in table.items():
            if name == "severity":
                if value in SEVERITIES:
                    severity[rule_id] = str(value)
                else:
                    error(f"`rules.{rule_id}.severity` must be one of {', '.join(SEVERITIES)}",
                          "rules", rule_id, "severity")
                continue
            spec = rules[rule_id].options.get(name)
            if spec is None:
                known = ", ".join(["severity", *rules[rule_id].options]) or "severity"
                error(f"`rules.{rule_id}` has no option `{name}` (known: {known})",
                      "rules", rule_id, name)
                continue
            ok = (_str_list(value) if spec.type == "list[str]" else
                  isinstance(value, bool) if spec.type == "bool" else isinstance(value, str))
            if not ok:
                error(f"`rules.{rule_id}.{name}` must be {spec.type}", "rules", rule_id, name)
                continue
            options.setdefault(rule_id, {})[name] = value
    publishers = _declarations(data.get("publishers", []), path, text, prefix, errors)
    return Config(path, select, ignore, exclude, min_severity, min_confidence, fail_on,
                  severity, options, publishers, tuple(errors), text)


def _declarations(raw: object, path: str, text: str, prefix: str,
                  errors: list[ConfigError]) -> tuple[Declaration, ...]:
    """The publisher tables, typed and positioned. Wrong types and unknown keys are
    configuration errors; values PyPI would refuse are left to ``publisher-malformed``."""
    table = f"[[{prefix}.publishers]]" if prefix else "[[publishers]]"
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        line, column = _Locator(text, prefix).find("publishers")
        errors.append(ConfigError(f"`publishers` must be an array of tables ({table})",
                                  path, line, column))
        return ()
    positions = locate_declarations(path, text, prefix, len(raw))
    declarations = []
    for number, (entry, (anchor, spans)) in enumerate(zip(raw, positions, strict=True)):
        assert isinstance(entry, dict)
        good: list[tuple[str, object]] = []
        for name, value in entry.items():
            where = spans.get(name, anchor)
            line, column = (where.span or (0, 0, 0, 0))[:2]
            if name not in PUBLISHER_KEYS:
                errors.append(ConfigError(
                    f"unknown key `{name}` in publisher #{number + 1} (known: "
                    f"{', '.join(PUBLISHER_KEYS)})", path, line + 1, column + 1))
            elif name == "pending" and not isinstance(value, bool):
                errors.append(ConfigError(
                    f"`pending` in publisher #{number + 1} must be true or false, not "
                    f"{value!r}", path, line + 1, column + 1))
            elif name in _PUBLISHER_TEXT_KEYS and not isinstance(value, str):
                errors.append(ConfigError(
                    f"`{name}` in publisher #{number + 1} must be a string, not {value!r}",
                    path, line + 1, column + 1))
            else:
                good.append((name, value))
        declarations.append(Declaration(number, anchor, tuple(good),
                                        tuple(sorted(spans.items()))))
    return tuple(declarations)


def load_config(root: Path, explicit: Path | None = None,
                pyproject_text: str | None = None) -> Config:
    """Find and validate the configuration for ``root``.

    ``explicit`` is ``--config``; otherwise ``pubaudit.toml`` wins over ``pyproject.toml``.
    """
    candidates: list[tuple[Path, str]] = []
    if explicit is not None:
        candidates.append((explicit, "" if explicit.name != "pyproject.toml" else "tool.pubaudit"))
    else:
        candidates.append((root / "pubaudit.toml", ""))
        candidates.append((root / "pyproject.toml", "tool.pubaudit"))
    for path, prefix in candidates:
        if explicit is None and not os.path.lexists(path):
            continue
        try:
            display = path.relative_to(root).as_posix()
        except ValueError:
            display = str(path)
        if pyproject_text is not None and path.name == "pyproject.toml" and explicit is None:
            text: str | TomlProblem = pyproject_text
        else:
            raw = read_regular(path, MAX_BYTES, None if explicit is not None else root)
            if isinstance(raw, str):
                return Config(display, errors=(ConfigError(
                    f"cannot read the configuration: `{display}` {raw}", display, 1, 1),))
            text = decode_toml(raw)
        if isinstance(text, TomlProblem):
            return Config(display, errors=(ConfigError(
                f"cannot read the configuration: {text.message}", display, text.line,
                text.column),))
        parsed = parse_toml(text)
        if isinstance(parsed, TomlProblem):
            error = ConfigError(parsed.message, display, parsed.line, parsed.column)
            if prefix:  # its [tool.pubaudit] cannot be known: never guess "no configuration"
                error = ConfigError(f"{error.message}; pubaudit cannot read its "
                                    "[tool.pubaudit] settings or the project name (and build "
                                    "tools cannot build the project)", display, error.line,
                                    error.column)
            return Config(display, errors=(error,), text=text)
        if prefix:
            table: object = parsed.get("tool", {})
            table = table.get("pubaudit") if isinstance(table, dict) else None
            if table is None:
                if explicit is not None:
                    return Config(display)
                continue
            if not isinstance(table, dict):
                return Config(display, errors=(ConfigError("`tool.pubaudit` must be a table",
                                                           display, 1, 1),))
            return parse_config(table, display, text, prefix)
        return parse_config(parsed, display, text, prefix)
    return Config()
