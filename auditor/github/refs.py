"""The secrets a workflow expression reads: ``secrets.NAME`` and ``secrets['NAME']``.

One reading for every stage that names secrets to the user: the token fix's checklist, the
online secret rules, ``fix``'s "is it still used" test.
"""

from __future__ import annotations

from auditor.output.lazyre import lazy_re

_SECRET_REF = lazy_re(
    r"""secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([^'"]+)['"]\s*\])""")


def secret_refs(text: str) -> list[str]:
    """The secret names ``text`` reads, in order (``secrets.A || secrets['B']``: A, B)."""
    return [a or b for a, b in _SECRET_REF.findall(text)]
