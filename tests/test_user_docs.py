"""The hand-written documentation stays true: rule ids it names exist, links resolve, and the
configuration and action references list every key and input the code accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from auditor.reading.catalogue import load_catalogue
from auditor.reading.config import PUBLISHER_KEYS, TOP_KEYS
from tests.conftest import REPO_ROOT

DOCS = REPO_ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)
_LINK = re.compile(r"\[(?:[^\]\\]|\\.)*\]\(([^)\s]+)\)")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def prose(path: Path) -> str:
    """The page without its fenced code blocks (examples are not links)."""
    return _FENCE.sub("", path.read_text(encoding="utf-8"))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_\[\]()]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in prose(path).splitlines()
            if line.startswith("#")}


def test_pages_exist() -> None:
    names = {p.name for p in PAGES}
    assert {"index.md", "getting-started.md", "configuration.md", "integrations.md",
            "exit-codes.md", "errors.md"} <= names


@pytest.mark.parametrize("page", [*PAGES, REPO_ROOT / "README.md"], ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    for target in _LINK.findall(prose(page)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path_part, _, fragment = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        assert destination.exists(), f"{page.name}: broken link {target}"
        if fragment and destination.suffix == ".md":
            assert fragment in anchors(destination), f"{page.name}: no anchor {target}"


def error_table_rules() -> list[tuple[str, set[str]]]:
    """(message cell, rule ids of the last column) for every row of docs/errors.md."""
    rows = []
    for line in (DOCS / "errors.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("| ") or line.startswith(("| what you see", "|---")):
            continue
        cells = [c.strip() for c in _CELL_SPLIT.split(line)[1:-1]]
        assert len(cells) == 4, line
        rows.append((cells[0], set(re.findall(r"`([a-z0-9-]+)`", cells[3]))))
    return rows


def test_every_rule_named_in_errors_is_shipped_and_linked_or_marked_online() -> None:
    # A rule pubaudit ships is linked to its page; one that needs the network (issue: --online)
    # is named with "(online)" after it, so a reader knows today's scan does not report it.
    shipped = set(load_catalogue())
    rows = error_table_rules()
    assert len(rows) >= 30
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    for message, named in rows:
        for rule in named:
            if rule in shipped:
                assert f"[`{rule}`](rules/{rule}.md)" in text, rule
            else:
                assert f"`{rule}` (online)" in text, (message, rule)


def test_errors_page_covers_the_messages_users_search_for() -> None:
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    for message in ("invalid-publisher", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "manifest unknown",
                    "File already exists", "Non-user identities cannot create new projects",
                    "invalid-pending-publisher", "Password-based uploads disabled",
                    "already has a publish attestation",
                    "This action is only able to run under GNU/Linux",
                    "is only allowed 'id-token: none'",
                    "Missing credentials for https://upload.pypi.org/legacy/",
                    "Certificate's Build Config URI", "pubaudit explain-log"):
        assert message in text, message


def test_configuration_page_lists_every_key_and_option() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for key in (*TOP_KEYS, *PUBLISHER_KEYS):
        assert f"| `{key}` |" in text, key
    for rule in load_catalogue().values():
        for option in rule.options:
            assert f"| `{option}` |" in text and f"rules/{rule.id}.md" in text, \
                (rule.id, option)


def test_integrations_page_lists_every_action_input() -> None:
    action = yaml.safe_load((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
    text = (DOCS / "integrations.md").read_text(encoding="utf-8")
    for name in action["inputs"]:
        assert f"| `{name}` |" in text, name
    for name in action["outputs"]:
        assert f"`{name}`" in text, name
