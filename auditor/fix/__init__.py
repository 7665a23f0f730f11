"""``pubaudit fix`` (to come): edits that keep layout and comments, with ruamel.yaml — the only
place that imports it."""
