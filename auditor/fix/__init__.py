"""``pubaudit fix``: apply the edits that findings carry, verified before anything is written.

Rules state fixes as operations on the YAML tree (:mod:`auditor.reading.edits`); the engine
turns them into text edits. This stage picks the edits to apply, checks the result with
ruamel.yaml (the only place that imports it: it parses, keeps every comment, and its data is
the original's plus exactly the intended change), re-scans the edited text before writing it
(the targeted findings are gone, no new one appeared), writes atomically and reports what it
changed, what it left and what only the maintainer can do.
"""
