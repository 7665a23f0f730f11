"""pubaudit: a static auditor for PyPI trusted publishing."""

__version__ = "0.1.0"
