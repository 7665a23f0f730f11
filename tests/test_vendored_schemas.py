"""The vendored schemas are the files their provenance note describes: a schema edited by hand
(or truncated by a bad merge) would make the format tests prove nothing."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.conftest import SCHEMAS

CHECKSUMS = {
    "sarif-schema-2.1.0.json":
        "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e",
    "sarif-schema-2.1.0.github.json":
        "46d4203e43b978a433943881354db1e40e81437d4b46c00f05016110c6b14693",
    "github-workflow.json": "d10c9f4656e1bd5bc6727e9b35080e017dc167154726fca93da33c7a6bd1c4f3",
    "github-action.json": "224326cc5a334bdb97b56b6fc320cd4381ba7d61b477b425ed506e6a420b52ba",
    "pre-commit-hooks.json":
        "5bcbbd11044facc322693987b55c30abbdec0e7c107a1605140a143fe7c51652",
}


@pytest.mark.parametrize("name", sorted(CHECKSUMS))
def test_vendored_schema_matches_its_provenance(name: str) -> None:
    data = (SCHEMAS / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == CHECKSUMS[name]
    assert CHECKSUMS[name] in (SCHEMAS / "README.md").read_text(encoding="utf-8")
    assert isinstance(json.loads(data), dict)


def test_every_vendored_schema_has_a_checksum() -> None:
    assert {p.name for p in SCHEMAS.glob("*.json")} == set(CHECKSUMS)
    assert (SCHEMAS / "LICENSE.schemastore").is_file()
