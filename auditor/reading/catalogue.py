"""The rule catalogue: ``rules/<id>.toml``, the single source of every rule's words.

``explain``, the JSON/SARIF rule metadata and the generated docs pages all read it. In a
wheel the files live in ``auditor/_catalogue``; in a source checkout in ``rules/``.
"""

from __future__ import annotations

import json
from dataclasses import field
from functools import cache
from pathlib import Path

from auditor.output.records import record

SEVERITIES = ("info", "low", "medium", "high")
CONFIDENCES = ("low", "medium", "high")
DOCS_BASE = "https://pubaudit.readthedocs.io/en/latest/rules/"


def help_uri(rule_id: str) -> str:
    """The rule's documentation page (SARIF ``helpUri``, JSON ``help_uri``, text output)."""
    return f"{DOCS_BASE}{rule_id}/"


@record
class RuleOption:
    """A per-rule setting users may give in `[tool.pubaudit.rules.<id>]`."""

    name: str
    type: str  # "list[str]" | "bool" | "str"
    default: object
    help: str


@record
class Rule:
    """One catalogue entry: the words of a rule (explain, SARIF, docs) and its examples."""

    id: str
    title: str
    severity: str
    confidence: str
    tier: str
    family: str
    summary: str
    what: str
    why: str
    fix: str
    references: tuple[str, ...]
    autofix: str = ""  # what `pubaudit fix` does for it, safe or unsafe; empty: nothing
    example: dict[str, str] = field(default_factory=dict)
    use_instead: dict[str, str] = field(default_factory=dict)
    options: dict[str, RuleOption] = field(default_factory=dict)

    @property
    def help_uri(self) -> str:
        return help_uri(self.id)


def catalogue_dir() -> Path:
    here = Path(__file__).resolve().parent.parent  # the package: _catalogue when installed
    shipped = here / "_catalogue"
    return shipped if shipped.is_dir() else here.parent / "rules"


def _rule(data: dict[str, object]) -> Rule:
    options = {}
    raw_options = data.get("options", {})
    assert isinstance(raw_options, dict)
    for name, spec in raw_options.items():
        options[name] = RuleOption(name, str(spec.get("type", "str")), spec.get("default"),
                                   str(spec.get("help", "")))
    refs = data.get("references", [])
    assert isinstance(refs, list)
    example = data.get("example", {})
    use_instead = data.get("use_instead", {})
    assert isinstance(example, dict) and isinstance(use_instead, dict)
    return Rule(
        id=str(data["id"]), title=str(data["title"]), severity=str(data["severity"]),
        confidence=str(data["confidence"]), tier=str(data.get("tier", "workflow")),
        family=str(data.get("family", "")), summary=str(data.get("summary", "")),
        what=str(data.get("what", "")).strip(), why=str(data.get("why", "")).strip(),
        fix=str(data.get("fix", "")).strip(), references=tuple(str(r) for r in refs),
        autofix=str(data.get("autofix", "")).strip(),
        example={str(k): str(v) for k, v in example.items()},
        use_instead={str(k): str(v) for k, v in use_instead.items()},
        options=options,
    )


@cache
def load_catalogue() -> dict[str, Rule]:
    """Every rule, keyed by id, sorted by id (a scan reads only the index)."""
    import tomllib

    rules: dict[str, Rule] = {}
    for path in sorted(catalogue_dir().glob("*.toml")):
        with path.open("rb") as handle:
            rule = _rule(tomllib.load(handle))
        rules[rule.id] = rule
    return rules


@record
class RuleSummary:
    """What a scan needs of a rule: loaded from one small JSON file instead of parsing every
    TOML file of the catalogue (that took ~20 ms, a fifth of a pre-commit run)."""

    id: str
    title: str
    severity: str
    confidence: str
    tier: str
    family: str
    options: dict[str, RuleOption] = field(default_factory=dict)

    @property
    def help_uri(self) -> str:
        return help_uri(self.id)


INDEX_PATH = Path(__file__).parent.parent / "data" / "catalogue-index.json"  # __file__ is absolute


def render_index_json(catalogue: dict[str, Rule]) -> str:
    """``auditor/data/catalogue-index.json``, generated with the docs (a test checks it)."""
    entries = [{"id": r.id, "title": r.title, "severity": r.severity,
                "confidence": r.confidence, "tier": r.tier, "family": r.family,
                "options": {o.name: {"type": o.type, "default": o.default, "help": o.help}
                            for o in r.options.values()}} for r in catalogue.values()]
    return json.dumps(entries, indent=1, ensure_ascii=False) + "\n"


@cache
def load_index() -> dict[str, RuleSummary]:
    """Every rule's id, title, severity, confidence and options, keyed by id."""
    try:
        entries = json.loads(INDEX_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # a source checkout before `python -m auditor.docs`
        entries = json.loads(render_index_json(load_catalogue()))
    index: dict[str, RuleSummary] = {}
    for entry in entries:
        options = {name: RuleOption(name, spec["type"], spec["default"], spec["help"])
                   for name, spec in entry["options"].items()}
        index[entry["id"]] = RuleSummary(entry["id"], entry["title"], entry["severity"],
                                         entry["confidence"], entry["tier"], entry["family"],
                                         options)
    return index


_NEEDS = {"workflow": "the workflow files only",
          "online": "`--online` (asks GitHub or PyPI; see [online mode](../online.md))"}


def render_markdown(rule: Rule) -> str:
    """The documentation page of a rule (docs/rules/<id>.md is this, generated)."""
    lines = [
        f"# {rule.id}", "",
        f"**{rule.title}**", "",
        f"- Severity: `{rule.severity}`",
        f"- Confidence: `{rule.confidence}`",
        f"- Needs: {_NEEDS.get(rule.tier, 'declared publishers or project metadata')}",
        "",
        rule.summary, "",
        "## What it does", "", rule.what, "",
        "## Why is this bad?", "", rule.why, "",
        "## How to fix", "", rule.fix, "",
        "## Automatic fix", "", rule.autofix or (
            "None: `pubaudit fix` leaves this finding to you (the change needs a decision "
            "pubaudit cannot make from the files), and the message says what to change."), "",
    ]
    for title, files in (("Example", rule.example), ("Use instead", rule.use_instead)):
        if not files:
            continue
        lines += [f"## {title}", ""]
        for path, text in files.items():
            language = "toml" if path.endswith(".toml") else (
                "yaml" if path.endswith((".yml", ".yaml")) else
                "json" if path.startswith("(") else "text")  # "(GitHub) GET ...": an answer
            lines += [f"`{path}`:", "", f"```{language}", text.strip("\n"), "```", ""]
    if rule.options:
        lines += ["## Options", "", f"In `[tool.pubaudit.rules.{rule.id}]`:", ""]
        for option in rule.options.values():
            lines.append(f"- `{option.name}` ({option.type}, default `{option.default!r}`): "
                         f"{option.help}")
        lines.append("")
    lines += ["## Suppressing", "",
              f"Add `# pubaudit: ignore[{rule.id}] <reason>` at the end of the reported line.",
              ""]
    if rule.references:
        lines += ["## References", ""]
        lines += [f"- {ref}" for ref in rule.references]
        lines.append("")
    return "\n".join(lines)
