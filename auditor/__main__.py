"""``python -m auditor``: the same entry point as the ``pubaudit`` script."""

from auditor.cli import main

main()
