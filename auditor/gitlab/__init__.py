"""The GitLab CI model: the records of a built pipeline and GitLab's limits (``model``), the
pipeline built from ``.gitlab-ci.yml`` (``pipeline``) in three steps — the files it includes
(``includes``), ``extends:`` and ``!reference`` (``references``) and each job's effective
values (``jobs``), over shared build state (``state``) — GitLab's merge semantics (``merge``)
and ``rules:``/``only:`` conditions (``conditions``). Imported only when a repository has
``.gitlab-ci.yml``."""
