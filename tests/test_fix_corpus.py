"""``pubaudit fix --unsafe`` over every repository of the shared corpus: no crash; every file
it would change still parses (PyYAML and ruamel.yaml), keeps every comment but replaced
version comments, and no longer reports the fixed findings; every fix it leaves says why."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml

from auditor.engine.scan import Options
from auditor.fix.run import plan_fixes
from auditor.fix.verify import comments
from tests.conftest import CORPUS

REPOS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []
VERSION = re.compile(r"^#\s*v?\d")

pytestmark = pytest.mark.skipif(not REPOS, reason="../shared/corpus is not present")


@pytest.mark.parametrize("name", REPOS)
def test_corpus_fixes_are_verified_or_refused_with_a_reason(name: str) -> None:
    outcome = plan_fixes([CORPUS / name], Options(), unsafe=True)
    for change in outcome.changes:
        assert change.findings
        yaml.load(change.after, Loader=yaml.CSafeLoader)
        lost = Counter(comments(change.before)) - Counter(comments(change.after))
        assert all(VERSION.match(c) for c in lost), (change.path, lost)
        for finding in change.findings:
            still = [f for f in outcome.after.active if f.rule == finding.rule and
                    f.location.path == change.path and f.message == finding.message]
            assert not still, (change.path, finding.rule)
    for remaining in outcome.left:
        assert remaining.why and not remaining.why.endswith(":"), remaining
