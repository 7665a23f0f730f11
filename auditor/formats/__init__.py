"""Output formats. Each module renders a :class:`~auditor.engine.scan.Report` to a string."""

from __future__ import annotations

FORMATS = ("text", "json", "sarif", "github", "markdown")
