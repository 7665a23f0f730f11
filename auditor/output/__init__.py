"""Output hygiene, shared by every renderer: secrets masked (``redact``), control characters
and workflow commands made inert (``inert``), paths that open from the working directory
(``paths``), reports written atomically (``write``). Imports nothing else of pubaudit."""
