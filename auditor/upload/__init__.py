"""Upload recognition, shared by GitHub ``run:`` and GitLab ``script:``: shell splitting
(``shell``), index URLs (``indexes``), the command classifier and GitHub publish steps
(``publish``), GitLab publish jobs (``gitlab``), tokens minted from the OIDC exchange
(``exchange``) and which rules an index admits (``scope``)."""
