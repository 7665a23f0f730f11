"""Both sides of the publisher comparison for a repository on disk: what explain-log compares
a failed run's claims with."""

from __future__ import annotations

from pathlib import Path

from auditor.facts.context import Context
from auditor.publishers.matching import Sides, sides_of
from auditor.reading.config import load_config
from auditor.repository.discovery import load_repository


def publisher_sides(root: Path, config_file: Path | None = None) -> Sides:
    """Load the repository at ``root`` and return its declared and expected publishers."""
    config = load_config(root, config_file)
    return sides_of(Context(load_repository(root, config)))
