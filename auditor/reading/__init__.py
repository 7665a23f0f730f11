"""Reading the repository's files with positions: the bounded regular-file reader and line
index (``source``), YAML with marks (``yamlsource``, the only module that imports PyYAML),
TOML with limits (``tomlsource``), spans of scalars (``positions``), configuration and the
declared publishers (``config``, ``declarations``, ``selection``), inline suppression
comments (``suppression``), the rule catalogue (``catalogue``), git remotes and the project
name (``gitremote``, ``identity``)."""
