"""The GitHub Actions model: workflows, jobs, steps, action references and permissions
(``model``), ``if:`` expressions (``guards``), what steps do to the files between build and
upload (``distflow``), and the shipped table of pypa/gh-action-pypi-publish releases
(``releases``). Built from ``reading``; knows nothing of uploads or rules."""
