"""``--online`` (to come): the GitHub and PyPI clients, with httpx — the only place that
imports it."""
