"""``pubaudit history``: every PyPI credential the CI ever used, from ``git log``.

After a move to trusted publishing the old API token usually lives on: as a repository
secret nobody deleted, and as a token on PyPI nobody revoked. The current files no longer
name it, so ``pubaudit scan`` cannot see it; the history can. The stage runs one ``git log
-p`` over the CI and release files (``gitlog``), parses the stream into hunks (``diff``),
finds credentials in their lines (``recognise``, with ``names`` for which names are PyPI
credentials and ``places`` for the job and step around a line), accumulates where and when
each appeared (``ledger``), compares with the working tree and writes the checklist
(``audit``), and renders text or JSON (``report``).
"""
