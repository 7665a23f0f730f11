"""The GitHub Actions model: workflows, jobs, steps, action references and permissions
(``model``), ``if:`` expressions (``guards``) and the situations they are evaluated in
(``situations``: caller inputs, job outputs, the events behind ``workflow_run``), and the
shipped table of pypa/gh-action-pypi-publish releases (``releases``). Built from
``reading``; knows nothing of uploads or rules."""
