"""Generate ``docs/rules/*.md``, the rule index and ``auditor/data/catalogue-index.json``
from the catalogue, and ``auditor/data/publish_action_releases.json`` from its TOML table:
``python -m auditor.docs``.

These are derived, never edited by hand; a test fails when they drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

from auditor.github.releases import RELEASES_JSON, render_releases_json
from auditor.reading.catalogue import INDEX_PATH, load_catalogue, render_index_json, render_markdown

FAMILIES = (("permissions", "Permissions"), ("credentials", "Credentials"),
            ("pinning", "Pinning"), ("triggers", "Environment and triggers"),
            ("structure", "Job structure"), ("publishers", "Publishers"),
            ("gitlab", "GitLab CI"), ("input", "Input"))


def render_index() -> str:
    catalogue = load_catalogue()
    lines = ["# Rules", "", "Generated from `rules/` by `python -m auditor.docs`. Rules marked "
             "*online* need `--online` (see [online mode](../online.md)).", ""]
    for family, title in FAMILIES:
        rules = [r for r in catalogue.values() if r.family == family]
        if not rules:
            continue
        lines += [f"## {title}", "", "| rule | severity | what |", "|---|---|---|"]
        lines += [f"| [`{r.id}`]({r.id}.md) | {r.severity} | {r.title}"
                  f"{' (*online*)' if r.tier == 'online' else ''} |" for r in rules]
        lines.append("")
    return "\n".join(lines)


def write(docs: Path) -> list[Path]:
    out = docs / "rules"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for rule in load_catalogue().values():
        page = out / f"{rule.id}.md"
        page.write_text(render_markdown(rule), encoding="utf-8")
        written.append(page)
    (out / "index.md").write_text(render_index(), encoding="utf-8")
    INDEX_PATH.write_text(render_index_json(load_catalogue()), encoding="utf-8")
    RELEASES_JSON.write_text(render_releases_json(), encoding="utf-8")
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "docs"
    print(f"wrote {len(write(target))} rule pages to {target / 'rules'}")
