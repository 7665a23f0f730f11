"""The PyPI (and TestPyPI) client: the Simple API in JSON and the Integrity API.

No token, ever: the PyPI transport has no ``Authorization`` header. The Simple API answers
404 exactly when the project does not exist (the JSON API also answers 404 for a project
without releases, so it cannot tell); a project without files answers 200.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from auditor.engine.notices import Notice
from auditor.online.transport import Transport
from auditor.output.records import record

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_NORMALIZE = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    return _NORMALIZE.sub("-", name).lower()


@record
class File:
    filename: str
    version: str | None
    has_provenance: bool
    yanked: bool
    upload_time: str


@record
class Project:
    name: str
    files: tuple[File, ...]
    versions: tuple[str, ...] = ()  # as the Simple API lists them (PEP 700)

    def latest(self) -> tuple[str, tuple[File, ...]] | None:
        """The newest release that is not yanked, by upload time (else the last of the
        listed versions with such files), and its files."""
        live = [f for f in self.files if not f.yanked and f.version]
        if not live:
            return None
        if all(f.upload_time for f in live):
            version = max(live, key=lambda f: f.upload_time).version or ""
        else:
            present = {f.version for f in live}
            listed = [v for v in self.versions if v in present]
            version = listed[-1] if listed else live[-1].version or ""
        return version, tuple(f for f in live if f.version == version)


@record
class Publisher:
    """The publisher of one attestation bundle (PEP 740 provenance)."""

    kind: str
    repository: str | None
    workflow: str | None
    environment: str | None


def file_version(filename: str) -> str | None:
    """The version in a distribution's file name (wheel or sdist), or None."""
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        return parts[1] if len(parts) >= 5 else None
    for suffix in (".tar.gz", ".zip", ".tar.bz2", ".tgz"):
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            return stem.rsplit("-", 1)[1] if "-" in stem else None
    return None


class PyPI:
    """One index (PyPI or TestPyPI) over its :class:`Transport`."""

    def __init__(self, transport: Transport, label: str) -> None:
        self.transport = transport
        self.label = label  # "PyPI" | "TestPyPI"

    def _document(self, path: str, accept: str, key: str, shape: str, rule: str | None
                  ) -> dict[str, Any] | Notice | None:
        """The JSON object at ``path`` whose ``key`` is a list; ``None`` for a 404 (the
        only answer that means "absent"); a notice for anything else."""
        answer = self.transport.get(path, accept=accept, rule=rule)
        if isinstance(answer, Notice):
            return answer
        if answer.status == 404:
            return None
        data = answer.data
        if answer.status != 200 or not isinstance(data, dict) or \
                not isinstance(data.get(key), list):
            return Notice(f"{self.label} answered {answer.status} without {shape}",
                          answer.endpoint, answer.status, rule)
        return data

    def project(self, name: str, rule: str | None) -> Project | Notice | None:
        """The project's files, None when it does not exist (404)."""
        data = self._document(f"/simple/{quote(normalize(name), safe='')}/", SIMPLE_JSON,
                              "files", "the Simple API's JSON shape", rule)
        if not isinstance(data, dict):
            return data
        files = []
        for item in data["files"]:
            if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
                continue
            filename = item["filename"]
            files.append(File(filename, file_version(filename),
                              bool(item.get("provenance")),
                              bool(item.get("yanked")), str(item.get("upload-time") or "")))
        versions = data.get("versions")
        return Project(str(data.get("name") or normalize(name)), tuple(files),
                       tuple(str(v) for v in versions) if isinstance(versions, list) else ())

    def provenance(self, project: str, version: str, filename: str, rule: str | None
                   ) -> list[Publisher] | Notice | None:
        """The publishers of a file's provenance, None when it has none (404)."""
        data = self._document(
            f"/integrity/{quote(normalize(project), safe='')}/{quote(version, safe='')}/"
            f"{quote(filename, safe='')}/provenance", "application/json",
            "attestation_bundles", "the Integrity API's provenance shape", rule)
        if not isinstance(data, dict):
            return data
        publishers = []
        for bundle in data["attestation_bundles"]:
            publisher = bundle.get("publisher") if isinstance(bundle, dict) else None
            if not isinstance(publisher, dict):
                continue

            def text(key: str, source: dict[str, object] = publisher) -> str | None:
                value = source.get(key)
                return value if isinstance(value, str) and value else None

            publishers.append(Publisher(text("kind") or "", text("repository"),
                                        text("workflow"), text("environment")))
        return publishers
