"""Values set by earlier steps reach a publish step's inputs: `env:` at each level,
`$GITHUB_ENV` writes (echo, printf, heredoc), `$GITHUB_OUTPUT` step outputs and matrix
columns; anything computed stays unresolved."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.engine.scan import Options, scan
from auditor.reading.config import Config
from auditor.repository.discovery import load_repository
from auditor.upload.values import possible_values
from tests.conftest import write_tree

HEAD = "on: push\nenv:\n  URL: https://workflow.example/\njobs:\n  j:\n    runs-on: ubuntu-latest\n"


def _values(tmp_path: Path, body: str, text: str) -> tuple[str, ...] | None:
    root = write_tree(tmp_path, {".github/workflows/w.yml": HEAD + body})
    repo = load_repository(root, Config())
    [workflow] = repo.workflows
    [job] = workflow.jobs
    return possible_values(text, workflow, job, job.steps[-1])


@pytest.mark.parametrize(("body", "text", "expected"), [
    ("    steps:\n      - run: x\n", "${{ env.URL }}", ("https://workflow.example/",)),
    ("    env:\n      URL: https://job.example/\n    steps:\n      - run: x\n",
     "${{ env.URL }}", ("https://job.example/",)),
    ("    steps:\n      - run: echo \"URL=https://gh-env.example/\" >> \"$GITHUB_ENV\"\n"
     "      - run: x\n", "${{ env.URL }}", ("https://gh-env.example/",)),
    ("    steps:\n      - run: printf 'URL=https://printf.example/\\n' >> $GITHUB_ENV\n"
     "      - run: x\n", "${{env.URL}}", ("https://printf.example/",)),
    ("    steps:\n      - run: |\n          cat >> \"$GITHUB_ENV\" <<EOF\n"
     "          URL=https://heredoc.example/\n          EOF\n      - run: x\n",
     "${{ env.URL }}", ("https://heredoc.example/",)),
    ("    steps:\n      - run: x\n        env:\n          URL: https://step.example/\n",
     "${{ env.URL }}", ("https://step.example/",)),
    ("    steps:\n      - id: pick\n        run: echo \"url=https://out.example/\" >> "
     "$GITHUB_OUTPUT\n      - run: x\n", "${{ steps.pick.outputs.url }}",
     ("https://out.example/",)),
    ("    strategy:\n      matrix:\n        host: [a.example, b.example]\n    steps:\n"
     "      - run: x\n", "https://${{ matrix.host }}/legacy/",
     ("https://a.example/legacy/", "https://b.example/legacy/")),
])
def test_literal_values_are_followed(tmp_path: Path, body: str, text: str,
                                     expected: tuple[str, ...]) -> None:
    assert _values(tmp_path, body, text) == expected


@pytest.mark.parametrize(("body", "text"), [
    ("    steps:\n      - run: x\n", "${{ env.NOWHERE }}"),
    ("    steps:\n      - run: echo \"URL=$(./pick)\" >> \"$GITHUB_ENV\"\n      - run: x\n",
     "${{ env.NOWHERE }}"),
    ("    env:\n      URL: ${{ vars.URL }}\n    steps:\n      - run: x\n", "${{ env.URL }}"),
    ("    steps:\n      - run: x\n", "${{ inputs.url }}"),
    ("    steps:\n      - run: x\n", "${{ secrets.URL }}"),
    ("    strategy:\n      matrix: ${{ fromJSON(needs.a.outputs.m) }}\n    steps:\n"
     "      - run: x\n", "${{ matrix.url }}"),
    # a computed write hides the job's literal
    ("    env:\n      URL: https://job/\n    steps:\n"
     "      - run: echo \"URL=$(./pick)\" >> \"$GITHUB_ENV\"\n      - run: x\n",
     "${{ env.URL }}"),
    # a later step's write does not reach an earlier step
    ("    steps:\n      - run: x\n      - run: echo \"LATE=https://late/\" >> $GITHUB_ENV\n",
     "${{ env.LATE }}"),
])
def test_computed_values_stay_unresolved(tmp_path: Path, body: str, text: str) -> None:
    assert _values(tmp_path, body, text) is None


def test_an_index_set_in_github_env_decides_the_rules(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {".github/workflows/release.yml": """
on: {push: {tags: ["v*"]}}
jobs:
  publish:
    runs-on: ubuntu-latest
    environment: pypi
    permissions: {id-token: write}
    steps:
      - run: echo "INDEX=https://test.pypi.org/legacy/" >> "$GITHUB_ENV"
      - uses: pypa/gh-action-pypi-publish@ed0c53931b1dc9bd32cbe73a98c7f6766f8a527e # v1.13.0
        with:
          repository-url: ${{ env.INDEX }}
"""})
    report = scan([root], Options())
    assert [e.index for e in report.inventory] == ["testpypi"]


def test_a_matrix_of_indexes_lists_each_index(tmp_path: Path) -> None:
    from auditor.facts.context import Context
    from auditor.publishers.registration import registrations

    root = write_tree(tmp_path, {".github/workflows/release.yml": """
on: {push: {tags: ["v*"]}}
jobs:
  publish:
    runs-on: ubuntu-latest
    environment: pypi
    permissions: {id-token: write}
    strategy:
      matrix:
        url: [https://test.pypi.org/legacy/, https://upload.pypi.org/legacy/]
    steps:
      - uses: pypa/gh-action-pypi-publish@ed0c53931b1dc9bd32cbe73a98c7f6766f8a527e # v1.13.0
        with:
          repository-url: ${{ matrix.url }}
"""})
    report = scan([root], Options())
    assert [e.index for e in report.inventory] == ["pypi", "testpypi"]
    assert "matrix-publish" not in {f.rule for f in report.findings}
    regs = registrations(Context(load_repository(root, Config())))
    assert sorted(r.expected.index for r in regs) == ["pypi", "testpypi"]
