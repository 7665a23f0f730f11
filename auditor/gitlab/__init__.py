"""The GitLab CI model: the pipeline with local includes, ``extends``, ``default`` and
``!reference`` (``pipeline``), GitLab's merge semantics (``merge``) and ``rules:``/``only:``
conditions (``conditions``). Imported only when a repository has ``.gitlab-ci.yml``."""
