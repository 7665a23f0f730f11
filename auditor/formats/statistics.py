"""``--statistics``: how many findings each rule produced, instead of the findings.

One line per rule, most frequent first: count, rule id, severity, title (the catalogue's),
like ruff's ``--statistics``. Suppressed findings are not counted, as they are not reported.
"""

from __future__ import annotations

from collections import Counter

from auditor.engine.scan import Report
from auditor.formats.text import summary
from auditor.reading.catalogue import SEVERITIES, load_index


def render(report: Report) -> str:
    counts = Counter((f.rule, f.severity) for f in report.active)
    index = load_index()
    rows = sorted(counts.items(), key=lambda item: (-item[1], -SEVERITIES.index(item[0][1]),
                                                     item[0][0]))
    width = max((len(str(n)) for n in counts.values()), default=1)
    rule_width = max((len(rule) for rule, _ in counts), default=0)
    out = [f"{n:>{width}}  {rule:<{rule_width}}  {severity:<6}  "
           f"{index[rule].title if rule in index else ''}".rstrip()
           for (rule, severity), n in rows]
    out.append(summary(report))
    return "\n".join(out) + "\n"
