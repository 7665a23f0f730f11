"""Upload recognition, shared by GitHub ``run:`` and GitLab ``script:``: shell splitting
(``shell``), index URLs (``indexes``), the command classifier (``publish``), uploads inside
repository files a command runs (``wrappers``, ``wrapper_formats``, ``wrapped``), GitHub
publish steps (``steps``), GitLab publish jobs (``gitlab``), tokens minted from the OIDC
exchange (``exchange``) and which rules an index admits (``scope``)."""
