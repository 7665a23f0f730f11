"""GitLab CI: the pipeline model (includes, merging, extends, default, !reference, inputs,
positions), tag-only conditions, upload recognition, discovery and the inventory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.engine.scan import Options, scan
from auditor.facts.context import Context
from auditor.formats import json as json_format
from auditor.gitlab.conditions import FALSE, TRUE, UNKNOWN, without_tag
from auditor.gitlab.merge import glob_matches
from auditor.gitlab.model import GitlabJob, Pipeline
from auditor.gitlab.pipeline import is_top_level
from auditor.reading.config import Config
from auditor.reading.source import Anchor
from auditor.repository.discovery import Repository, load_repository
from auditor.upload.gitlab import GitlabPublishJob, id_token_variable
from tests.conftest import scan_tree, write_tree


def load(tmp_path: Path, files: dict[str, str]) -> Repository:
    return load_repository(write_tree(tmp_path, files), Config())


def pipeline(tmp_path: Path, files: dict[str, str]) -> Pipeline:
    repo = load(tmp_path, files)
    assert len(repo.pipelines) == 1, [p.path for p in repo.pipelines]
    return repo.pipelines[0]


def job(p: Pipeline, name: str) -> GitlabJob:
    found = p.job(name)
    assert found is not None, [j.name for j in p.jobs]
    return found


def line_of(anchor: Anchor) -> tuple[str, int]:
    """(file, 1-based line) of an anchor."""
    if anchor.span is not None:
        return anchor.path, anchor.span[0] + 1
    assert anchor.node is not None
    return anchor.path, anchor.node.start.line + 1


def script_lines(j: GitlabJob) -> list[str]:
    return [line.node.value for line in j.script]


def problems(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, str, int, str]]:
    repo = load(tmp_path, files)
    return [(p.rule, *line_of(p.anchor), p.message) for p in repo.problems]


def publish_jobs(tmp_path: Path, files: dict[str, str]) -> list[GitlabPublishJob]:
    return Context(load(tmp_path, files)).gitlab_publish_jobs


JOB = """
{name}:
  stage: deploy
  script:
    - echo {name}
"""


# --------------------------------------------------------------------------- includes


def test_include_forms_are_all_loaded(tmp_path: Path) -> None:
    p = pipeline(tmp_path, {
        ".gitlab-ci.yml": """
include:
  - 'ci/a.yml'
  - local: /ci/b.yml
  - local: ci/nested/*.yml
  - remote: https://example.com/ci.yml
  - project: group/other
    file: /templates/ci.yml
  - template: Security/SAST.gitlab-ci.yml
  - component: gitlab.com/components/sast/sast@1
""",
        "ci/a.yml": JOB.format(name="a"),
        "ci/b.yml": JOB.format(name="b"),
        "ci/nested/c.yml": JOB.format(name="c"),
        "ci/nested/d.yaml": JOB.format(name="d"),  # not matched by *.yml
        "ci/nested/deeper/e.yml": JOB.format(name="e"),  # `*` stays in one directory
    })
    assert p.files == (".gitlab-ci.yml", "ci/a.yml", "ci/b.yml", "ci/nested/c.yml")
    assert [j.name for j in p.jobs] == ["a", "b", "c"]
    kinds = [(i.kind, i.target) for i in p.includes]
    assert kinds[3:] == [("remote", "https://example.com/ci.yml"), ("project", "group/other"),
                         ("template", "Security/SAST.gitlab-ci.yml"),
                         ("component", "gitlab.com/components/sast/sast@1")]
    assert not p.complete  # remote includes may define anything
    assert p.ci_config_path == ".gitlab-ci.yml"
    assert p.included_files == ("ci/a.yml", "ci/b.yml", "ci/nested/c.yml")


@pytest.mark.parametrize("include", ["ci/one.yml", "{local: ci/one.yml}", "[{local: ci/one.yml}]",
                                     "/ci/one.yml", "[ci/one.yml]"])
def test_single_include_spellings(tmp_path: Path, include: str) -> None:
    p = pipeline(tmp_path, {".gitlab-ci.yml": f"include: {include}\n",
                            "ci/one.yml": JOB.format(name="one")})
    assert [j.name for j in p.jobs] == ["one"]
    assert p.complete


def test_double_star_glob_and_glob_matching() -> None:
    assert glob_matches(".gitlab/ci/*.yml", ".gitlab/ci/a.yml")
    assert not glob_matches(".gitlab/ci/*.yml", ".gitlab/ci/x/a.yml")
    assert glob_matches(".gitlab/**/*.yml", ".gitlab/ci/x/a.yml")
    assert glob_matches(".gitlab/**/*.yml", ".gitlab/a.yml")
    assert glob_matches("ci/{a,b}.yml", "ci/b.yml")
    assert not glob_matches("ci/?.yml", "ci/ab.yml")


def test_nested_includes_and_cycles(tmp_path: Path) -> None:
    files = {
        ".gitlab-ci.yml": "include: ci/a.yml\n",
        "ci/a.yml": "include: ci/b.yml\n" + JOB.format(name="a"),
        "ci/b.yml": "include: ci/a.yml\n" + JOB.format(name="b"),  # back to a: a cycle
    }
    p = pipeline(tmp_path, files)
    assert [j.name for j in p.jobs] == ["b", "a"]
    (cycle,) = [pr for pr in p.problems if "cycle" in pr.message]
    assert line_of(cycle.anchor) == ("ci/b.yml", 1)


def test_top_level_including_itself_is_a_cycle(tmp_path: Path) -> None:
    found = problems(tmp_path, {".gitlab-ci.yml": "include: .gitlab-ci.yml\n" +
                                JOB.format(name="x")})
    assert [(rule, path, line) for rule, path, line, _ in found] == [
        ("invalid-workflow", ".gitlab-ci.yml", 1)]


def test_missing_include_is_an_invalid_workflow_at_the_include(tmp_path: Path) -> None:
    found = problems(tmp_path, {".gitlab-ci.yml": """
include:
  - local: ci/present.yml
  - local: ci/missing.yml
""", "ci/present.yml": JOB.format(name="a")})
    assert len(found) == 1
    rule, path, line, message = found[0]
    assert (rule, path, line) == ("invalid-workflow", ".gitlab-ci.yml", 3)
    assert "does not exist" in message


def test_include_outside_the_repository_or_not_yaml(tmp_path: Path) -> None:
    found = problems(tmp_path, {".gitlab-ci.yml": "include: [../x.yml, ci/script.sh]\n",
                                "ci/script.sh": "echo\n"})
    assert [line for _, _, line, _ in found] == [1, 1]
    assert "inside the repository" in found[0][3] and "`.yml` or" in found[1][3]


def test_include_through_a_symlink_out_of_the_tree_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.yml").write_text("secret: {script: [x]}\n", encoding="utf-8")
    root = write_tree(tmp_path / "repo", {".gitlab-ci.yml": "include: ci/x.yml\n"})
    (root / "ci").symlink_to(outside, target_is_directory=True)
    repo = load_repository(root, Config())
    assert repo.pipelines[0].jobs == ()
    (problem,) = repo.problems
    assert "symbolic link" in problem.message


def test_invalid_yaml_in_an_include_is_reported_in_that_file(tmp_path: Path) -> None:
    found = problems(tmp_path, {".gitlab-ci.yml": "include: ci/bad.yml\n",
                                "ci/bad.yml": "job: [unclosed\n"})
    assert [(rule, path) for rule, path, _, _ in found] == [("invalid-yaml", "ci/bad.yml")]


# --------------------------------------------------------------------------- merging


def test_later_definitions_override_and_hashes_deep_merge(tmp_path: Path) -> None:
    p = pipeline(tmp_path, {
        ".gitlab-ci.yml": """
include:
  - ci/first.yml
  - ci/second.yml

publish:
  variables:
    FROM_TOP: "1"
""",
        "ci/first.yml": """
publish:
  stage: build
  variables:
    FROM_FIRST: "1"
    SHARED: first
  script:
    - echo first
""",
        "ci/second.yml": """
publish:
  stage: deploy
  variables:
    SHARED: second
""",
    })
    j = job(p, "publish")
    assert j.stage == "deploy"
    assert script_lines(j) == ["echo first"]
    variables = {v.name: (v.value, line_of(v.anchor)) for v in j.variables}
    assert variables == {"FROM_FIRST": ("1", ("ci/first.yml", 4)),
                         "SHARED": ("second", ("ci/second.yml", 4)),
                         "FROM_TOP": ("1", (".gitlab-ci.yml", 7))}
    assert j.path == "ci/first.yml" and line_of(j.anchor) == ("ci/first.yml", 1)
    assert [line_of(a) for a in j.definitions] == [
        ("ci/first.yml", 1), ("ci/second.yml", 1), (".gitlab-ci.yml", 5)]
    assert line_of(j.script[0].anchor) == ("ci/first.yml", 7)


def test_default_and_legacy_globals_and_inherit(tmp_path: Path) -> None:
    p = pipeline(tmp_path, {".gitlab-ci.yml": """
image: legacy:1
before_script:
  - echo legacy
default:
  image: python:3.13
  id_tokens:
    PYPI_ID_TOKEN:
      aud: pypi
variables:
  GLOBAL: "g"
plain:
  script: [echo plain]
own-image:
  image: {name: "alpine:3"}
  before_script: []
  script: [echo own]
no-defaults:
  inherit:
    default: false
    variables: false
  script: [echo bare]
some-defaults:
  inherit:
    default: [before_script]
  script: [echo some]
"""})
    plain = job(p, "plain")
    assert plain.image == "python:3.13"
    assert script_lines(plain) == ["echo legacy", "echo plain"]
    assert [t.name for t in plain.id_tokens] == ["PYPI_ID_TOKEN"]
    assert [(v.name, v.level) for v in plain.variables] == [("GLOBAL", "global variables")]
    own = job(p, "own-image")
    assert own.image == "alpine:3" and script_lines(own) == ["echo own"]
    bare = job(p, "no-defaults")
    assert bare.image is None and bare.id_tokens == () and bare.variables == ()
    assert script_lines(bare) == ["echo bare"]
    some = job(p, "some-defaults")
    assert some.image is None and script_lines(some) == ["echo legacy", "echo some"]


def test_hidden_jobs_are_templates_not_jobs(tmp_path: Path) -> None:
    p = pipeline(tmp_path, {".gitlab-ci.yml": """
.template:
  script: [twine upload dist/*]
.anchor: &scalar "3.11"
job:
  script: [echo hi]
"""})
    assert [j.name for j in p.jobs] == ["job"]


def test_extends_multi_level_deep_merge_arrays_replaced(tmp_path: Path) -> None:
    p = pipeline(tmp_path, {".gitlab-ci.yml": """
.base:
  image: python:3.12
  variables: {A: base, B: base}
  script: [echo base-1, echo base-2]
  rules:
    - if: $CI_COMMIT_TAG
.middle:
  extends: .base
  variables: {B: middle}
.other:
  variables: {C: other}
  script: [echo other]
publish:
  extends: [.middle, .other]
  variables: {D: own}
"""})
    j = job(p, "publish")
    assert j.extends == (".middle", ".other")
    assert j.image == "python:3.12"
    assert {v.name: v.value for v in j.variables} == {"A": "base", "B": "middle", "C": "other",
                                                      "D": "own"}
    assert script_lines(j) == ["echo other"]  # arrays are replaced, never concatenated
    assert j.condition.tag_only
    assert line_of(j.script[0].anchor) == (".gitlab-ci.yml", 12)


def test_extends_cycles_and_unknown_bases(tmp_path: Path) -> None:
    found = problems(tmp_path, {".gitlab-ci.yml": """
.a:
  extends: .b
  script: [echo a]
.b:
  extends: .a
job:
  extends: [.a, .nowhere]
"""})
    messages = [message for _, _, _, message in found]
    assert any("a cycle" in m for m in messages)
    assert any("`.nowhere`" in m for m in messages)


def test_unknown_extends_is_not_reported_when_includes_are_remote(tmp_path: Path) -> None:
    found = problems(tmp_path, {".gitlab-ci.yml": """
include:
  - template: Python.gitlab-ci.yml
job:
  extends: .from-template
"""})
    assert found == []


def test_anchors_aliases_and_merge_keys(tmp_path: Path) -> None:
    p = pipeline(tmp_path, {".gitlab-ci.yml": """
.common: &common
  image: python:3.13
  script:
    - echo common
publish:
  <<: *common
  stage: deploy
other:
  <<: *common
  script: [echo other]
"""})
    assert script_lines(job(p, "publish")) == ["echo common"]
    assert job(p, "publish").image == "python:3.13"
    assert line_of(job(p, "publish").script[0].anchor) == (".gitlab-ci.yml", 4)
    assert script_lines(job(p, "other")) == ["echo other"]


def test_reference_tags_flatten_and_point_at_their_file(tmp_path: Path) -> None:
    p = pipeline(tmp_path, {
        ".gitlab-ci.yml": """
include: ci/setup.yml
publish:
  before_script:
    - !reference [.setup, script]
    - echo own
  script: !reference [.upload, script]
""",
        "ci/setup.yml": """
.install:
  script:
    - pip install twine
.setup:
  script:
    - !reference [.install, script]
    - echo setup
.upload:
  script: [twine upload dist/*]
""",
    })
    j = job(p, "publish")
    assert script_lines(j) == ["pip install twine", "echo setup", "echo own",
                               "twine upload dist/*"]
    assert [line_of(line.anchor) for line in j.script] == [
        ("ci/setup.yml", 3), ("ci/setup.yml", 7), (".gitlab-ci.yml", 5), ("ci/setup.yml", 9)]


def test_reference_to_nothing_is_a_problem(tmp_path: Path) -> None:
    found = problems(tmp_path, {".gitlab-ci.yml": """
job:
  script:
    - !reference [.missing, script]
"""})
    assert [(rule, line) for rule, _, line, _ in found] == [("invalid-workflow", 3)]


def test_unknown_tags_do_not_break_loading(tmp_path: Path) -> None:
    p = pipeline(tmp_path, {".gitlab-ci.yml": """
job:
  variables: !custom {A: "1"}
  script: !!seq [echo ok]
"""})
    assert script_lines(job(p, "job")) == ["echo ok"]


def test_spec_inputs_are_interpolated_per_include(tmp_path: Path) -> None:
    p = pipeline(tmp_path, {
        ".gitlab-ci.yml": """
include:
  - local: ci/publish-job.yml
    inputs:
      job_name: publish
      rules:
        - if: $CI_COMMIT_TAG
  - local: ci/publish-job.yml
    inputs:
      job_name: publish_test
      index: testpypi
""",
        "ci/publish-job.yml": """
spec:
  inputs:
    job_name:
    index:
      default: pypi
    rules:
      type: array
      default: [{if: $CI_COMMIT_BRANCH}]
---
$[[ inputs.job_name ]]:
  environment: $[[ inputs.index ]]
  rules: $[[ inputs.rules ]]
  script:
    - uv publish --index $[[ inputs.index ]]
""",
    })
    publish, test = job(p, "publish"), job(p, "publish_test")
    assert script_lines(publish) == ["uv publish --index pypi"]
    assert script_lines(test) == ["uv publish --index testpypi"]
    assert publish.environment is not None and publish.environment.name == "pypi"
    assert publish.condition.tag_only and not test.condition.tag_only
    assert line_of(publish.anchor) == ("ci/publish-job.yml", 10)
    assert line_of(publish.script[0].anchor) == ("ci/publish-job.yml", 14)


# --------------------------------------------------------------------------- job facts


def test_environment_forms(tmp_path: Path) -> None:
    p = pipeline(tmp_path, {".gitlab-ci.yml": """
a: {environment: pypi, script: [x]}
b: {environment: {name: testpypi, url: "https://test.pypi.org"}, script: [x]}
c: {environment: {name: "review/$CI_COMMIT_REF_SLUG"}, script: [x]}
d: {environment: null, script: [x]}
"""})
    envs = {j.name: (j.environment.name, j.environment.is_expression) if j.environment else None
            for j in p.jobs}
    assert envs == {"a": ("pypi", False), "b": ("testpypi", False),
                    "c": ("review/$CI_COMMIT_REF_SLUG", True), "d": None}


def test_id_tokens_with_positions(tmp_path: Path) -> None:
    p = pipeline(tmp_path, {".gitlab-ci.yml": """
job:
  id_tokens:
    PYPI_ID_TOKEN:
      aud: pypi
    OTHER:
      aud: [sigstore, https://vault]
  script: [x]
"""})
    pypi, other = job(p, "job").id_tokens
    assert (pypi.name, pypi.audiences, pypi.aud_is_list) == ("PYPI_ID_TOKEN", ("pypi",), False)
    assert line_of(pypi.anchor) == (".gitlab-ci.yml", 3)
    assert line_of(pypi.aud_anchor) == (".gitlab-ci.yml", 4)
    assert other.aud_is_list and other.audiences == ("sigstore", "https://vault")


@pytest.mark.parametrize(("condition", "tag_only"), [
    ("rules: [{if: $CI_COMMIT_TAG}]", True),
    ("rules: [{if: '$CI_COMMIT_TAG =~ /^v\\d+/'}]", True),
    ("rules: [{if: '$CI_COMMIT_TAG && $CI_COMMIT_REF_PROTECTED == \"true\"'}]", True),
    ("rules: [{if: '$CI_COMMIT_TAG == null', when: never}, {when: on_success}]", True),
    ("rules: [{if: $CI_COMMIT_TAG, when: manual}]", True),
    ("rules: [{if: '$CI_COMMIT_TAG || $FORCE'}]", False),
    ("rules: [{if: $CI_COMMIT_TAG}, {if: $CI_COMMIT_BRANCH == \"main\"}]", False),
    ("rules: [{if: $CI_COMMIT_BRANCH, when: never}, {when: always}]", False),
    ("rules: [{when: always}]", False),
    ("rules: [{if: '$CI_COMMIT_TAG == null', changes: [x], when: never}, {when: always}]",
     False),
    ("only: [tags]", True),
    ("only: {refs: [tags]}", True),
    ("only: {variables: [$CI_COMMIT_TAG]}", True),
    ("except: [branches]", True),
    ("except: {variables: ['$CI_COMMIT_TAG == null']}", True),
    ("only: [tags, main]", False),
    ("only: ['/^v.*$/']", False),
    ("except: [tags]", False),
    ("when: manual", False),
    ("stage: deploy", False),
])
def test_tag_only_conditions(tmp_path: Path, condition: str, tag_only: bool) -> None:
    p = pipeline(tmp_path, {".gitlab-ci.yml": f"job:\n  {condition}\n  script: [x]\n"})
    assert job(p, "job").condition.tag_only is tag_only


def test_workflow_rules_make_every_job_tag_only_and_manual_is_recorded(tmp_path: Path) -> None:
    p = pipeline(tmp_path, {".gitlab-ci.yml": """
workflow:
  rules:
    - if: $CI_COMMIT_TAG
job:
  when: manual
  script: [x]
"""})
    condition = job(p, "job").condition
    assert condition.tag_only and condition.by_workflow and condition.manual


@pytest.mark.parametrize(("expression", "value"), [
    ("$CI_COMMIT_TAG", FALSE), ("${CI_COMMIT_TAG}", FALSE), ("$CI_COMMIT_TAG != null", FALSE),
    ("$CI_COMMIT_TAG == null", TRUE), ('$CI_COMMIT_TAG == "v1"', FALSE),
    ("($CI_COMMIT_TAG) && $X", FALSE), ("$CI_COMMIT_TAG || $X", UNKNOWN),
    ('$CI_COMMIT_BRANCH == "main"', UNKNOWN), ("not an expression (", UNKNOWN),
    ("$CI_COMMIT_TAG !~ /^v/", UNKNOWN), ("$CI_COMMIT_TAG =~ $PATTERN", UNKNOWN),
])
def test_expressions_without_a_tag(expression: str, value: str) -> None:
    assert without_tag(expression) == value


def test_top_level_names() -> None:
    assert is_top_level(".gitlab-ci.yml") and is_top_level("owner__repo/.gitlab-ci.yml")
    assert not is_top_level(".gitlab/ci/publish.yml")
    assert id_token_variable("pypi") == "PYPI_ID_TOKEN"
    assert id_token_variable("http://test.audience") == "HTTP___TEST_AUDIENCE_ID_TOKEN"


# --------------------------------------------------------------------------- recognition


def one_step(tmp_path: Path, script: str, extra: str = "") -> GitlabPublishJob:
    (pj,) = publish_jobs(tmp_path, {".gitlab-ci.yml": f"job:\n{extra}  script:\n{script}"})
    return pj


def test_twine_without_credentials_is_trusted_publishing(tmp_path: Path) -> None:
    pj = one_step(tmp_path, "    - python -m pip install twine\n"
                            "    - python -m twine upload dist/*\n")
    (step,) = pj.steps
    assert (step.method, step.index, step.exchange, step.token_variable) == (
        "twine", "pypi", "twine", "PYPI_ID_TOKEN")
    assert step.trusted_publishing and pj.trusted_publishing
    assert line_of(step.anchor) == (".gitlab-ci.yml", 4)
    assert step.anchor.span is not None and step.anchor.span[1] == 6  # the command itself


@pytest.mark.parametrize(("script", "index"), [
    ("twine upload -r testpypi dist/*", "testpypi"),
    ("twine upload --repository-url https://test.pypi.org/legacy/ dist/*", "testpypi"),
    ("uv publish --publish-url https://test.pypi.org/legacy/", "testpypi"),
    ("twine upload --repository-url ${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/pypi "
     "dist/*", "other"),
    ("twine upload --repository-url https://${NEXUS}/repository/pypi/ dist/*", "unknown"),
    ("uvx twine upload dist/*", "pypi"),
])
def test_target_index(tmp_path: Path, script: str, index: str) -> None:
    (step,) = one_step(tmp_path, f"    - {script}\n").steps
    assert step.index == index


def test_index_from_variables(tmp_path: Path) -> None:
    files = {".gitlab-ci.yml": """
variables:
  TWINE_REPOSITORY_URL: https://test.pypi.org/legacy/
job:
  variables:
    UV_PUBLISH_URL: ${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/pypi
  script:
    - twine upload dist/*
    - uv publish
"""}
    (pj,) = publish_jobs(tmp_path, files)
    twine, uv = pj.steps
    assert (twine.index, uv.index) == ("testpypi", "other")
    assert twine.url_anchor is not None and line_of(twine.url_anchor) == (".gitlab-ci.yml", 2)


def test_static_credentials_are_not_trusted_publishing(tmp_path: Path) -> None:
    files = {".gitlab-ci.yml": """
variables:
  UV_PUBLISH_TOKEN: $PYPI_TOKEN
a:
  variables:
    TWINE_PASSWORD: $PYPI_TOKEN
  script: [twine upload dist/*]
b:
  script: [uv publish]
c:
  script:
    - export TWINE_PASSWORD=$PYPI_TOKEN
    - twine upload dist/*
d:
  script: [twine upload -u __token__ -p $PYPI_TOKEN dist/*]
e:
  variables:
    TWINE_USERNAME: __token__
  script: [twine upload dist/*]
f:
  script: [pdm publish]
"""}
    jobs = {pj.job.name: pj for pj in publish_jobs(tmp_path, files)}
    assert not any(pj.trusted_publishing for pj in jobs.values())
    levels = {name: [(c.name, c.where) for c in pj.steps[0].credentials]
              for name, pj in jobs.items()}
    assert levels["a"] == [("TWINE_PASSWORD", "job variables")]
    assert levels["b"] == [("UV_PUBLISH_TOKEN", "global variables")]
    assert levels["c"] == [("TWINE_PASSWORD", "script")]
    assert levels["d"] == [("-u", "option"), ("-p", "option")]
    (c_credential,) = jobs["c"].steps[0].credentials
    assert line_of(c_credential.anchor) == (".gitlab-ci.yml", 11)


def test_gitlab_registry_with_job_token(tmp_path: Path) -> None:
    (step,) = one_step(tmp_path, "    - TWINE_PASSWORD=${CI_JOB_TOKEN} "
                                 "TWINE_USERNAME=gitlab-ci-token python -m twine upload "
                                 "--repository-url "
                                 "${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/pypi "
                                 "dist/*\n").steps
    assert step.index == "other" and not step.trusted_publishing
    assert {c.name for c in step.credentials} == {"TWINE_PASSWORD", "TWINE_USERNAME"}


def test_not_uploads(tmp_path: Path) -> None:
    assert publish_jobs(tmp_path, {".gitlab-ci.yml": """
job:
  script:
    - twine check dist/*
    - uv publish --dry-run
    - echo "twine upload dist/*"
    - pixi publish
    - pkg-pr-new publish
"""}) == []


def test_manual_exchange_counts_as_trusted_publishing(tmp_path: Path) -> None:
    files = {".gitlab-ci.yml": """
publish:
  id_tokens:
    PYPI_ID_TOKEN: {aud: pypi}
  script:
    - oidc_token=$(python -m id PYPI)
    - resp=$(curl -X POST https://pypi.org/_/oidc/mint-token -d "{\\"token\\":\\"${oidc_token}\\"}")
    - api_token=$(jq -r '.token' <<< "${resp}")
    - twine upload -u __token__ -p "${api_token}" dist/*
"""}
    (pj,) = publish_jobs(tmp_path, files)
    (step,) = pj.steps
    assert [c.name for c in step.minted] == ["-p"]
    assert [c.name for c in step.credentials] == ["-u"]
    assert step.trusted_publishing
    assert (step.exchange, step.token_variable) == ("id", "PYPI_ID_TOKEN")
    assert step.exchange_anchor is not None and line_of(step.exchange_anchor)[1] == 5


def test_password_from_an_undefined_variable_is_a_stored_secret(tmp_path: Path) -> None:
    files = {".gitlab-ci.yml": """
publish:
  id_tokens:
    PYPI_ID_TOKEN: {aud: pypi}
  script:
    - twine upload -u __token__ -p "${api_token}" dist/*
"""}
    (pj,) = publish_jobs(tmp_path, files)
    assert not pj.trusted_publishing and not pj.steps[0].minted


def test_uv_never_is_not_trusted_publishing(tmp_path: Path) -> None:
    (step,) = one_step(tmp_path, "    - uv publish --trusted-publishing never\n").steps
    assert not step.trusted_publishing


def test_publish_job_facts(tmp_path: Path) -> None:
    files = {".gitlab-ci.yml": "include: ci/release.yml\n", "ci/release.yml": """
publish:
  environment: {name: pypi}
  rules: [{if: $CI_COMMIT_TAG}]
  id_tokens:
    PYPI_ID_TOKEN: {aud: pypi}
  script: [uv publish]
"""}
    (pj,) = publish_jobs(tmp_path, files)
    assert pj.included_from == "ci/release.yml"
    assert pj.environment is not None and pj.environment.name == "pypi"
    assert pj.tag_only and [t.name for t in pj.id_tokens] == ["PYPI_ID_TOKEN"]
    assert pj.pipeline.path == ".gitlab-ci.yml"


# --------------------------------------------------------------------------- discovery, inventory


def test_tree_of_repositories(tmp_path: Path) -> None:
    repo = load(tmp_path, {
        "one__repo/.gitlab-ci.yml": "include: ci/a.yml\n",
        "one__repo/ci/a.yml": JOB.format(name="a"),
        "two__repo/.gitlab-ci.yml": JOB.format(name="b"),
        "two__repo/sub/.gitlab-ci.yml": JOB.format(name="c"),
    })
    found = {p.path: (p.prefix, p.ci_config_path, [j.name for j in p.jobs])
             for p in repo.pipelines}
    assert found == {"one__repo/.gitlab-ci.yml": ("one__repo/", ".gitlab-ci.yml", ["a"]),
                     "two__repo/.gitlab-ci.yml": ("two__repo/", ".gitlab-ci.yml", ["b"]),
                     "two__repo/sub/.gitlab-ci.yml": ("two__repo/sub/", ".gitlab-ci.yml",
                                                      ["c"])}


def test_an_included_top_level_name_is_not_a_pipeline_of_its_own(tmp_path: Path) -> None:
    repo = load(tmp_path, {".gitlab-ci.yml": "include: sub/.gitlab-ci.yml\n",
                           "sub/.gitlab-ci.yml": JOB.format(name="a")})
    assert [p.path for p in repo.pipelines] == [".gitlab-ci.yml"]


def test_file_mode_with_only_an_include_loads_the_pipeline(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        ".gitlab-ci.yml": "include: ci/release.yml\nvariables: {TWINE_PASSWORD: $TOKEN}\n",
        "ci/release.yml": "publish:\n  script: [twine upload dist/*]\n",
    })
    (tmp_path / ".git").mkdir()
    repo = load_repository(root, Config(), [root / "ci" / "release.yml"])
    assert [p.path for p in repo.pipelines] == [".gitlab-ci.yml"]
    assert repo.workflows == [] and repo.problems == []
    (pj,) = Context(repo).gitlab_publish_jobs
    assert not pj.trusted_publishing  # the global variable from the top-level file counts


def test_inventory_lists_gitlab_jobs(tmp_path: Path) -> None:
    report = scan_tree(write_tree(tmp_path, {
        ".gitlab-ci.yml": "include: ci/release.yml\n",
        "ci/release.yml": """
publish:
  environment: pypi
  rules: [{if: $CI_COMMIT_TAG}]
  id_tokens:
    PYPI_ID_TOKEN: {aud: pypi}
  script: [uv publish]
publish-test:
  environment: testpypi
  id_tokens:
    TESTPYPI_ID_TOKEN: {aud: testpypi}
  script: [uv publish --publish-url https://test.pypi.org/legacy/]
""",
    }))
    document = json.loads(json_format.render(report))
    assert document["publish_jobs"] == [
        {"path": "ci/release.yml", "job": "publish", "line": 1, "index": "pypi", "method": "uv",
         "trusted_publishing": True, "environment": "pypi",
         # PyPI matches the top-level pipeline file, not the include defining the job
         "expected_publisher": {"provider": "gitlab", "owner": None, "repository": None,
                                "workflow": ".gitlab-ci.yml", "environment": "pypi"},
         "credential": "oidc"},
        {"path": "ci/release.yml", "job": "publish-test", "line": 7, "index": "testpypi",
         "method": "uv", "trusted_publishing": True, "environment": "testpypi",
         "expected_publisher": {"provider": "gitlab", "owner": None, "repository": None,
                                "workflow": ".gitlab-ci.yml", "environment": "testpypi"},
         "credential": "oidc"},
    ]
    assert not [f for f in report.active if f.severity != "info"]


def test_github_rules_stay_off_gitlab_jobs(tmp_path: Path) -> None:
    report = scan_tree(write_tree(tmp_path, {".gitlab-ci.yml": """
publish:
  variables:
    TWINE_PASSWORD: $PYPI_TOKEN
  script:
    - python -m build
    - twine upload dist/*
"""}))
    # GitHub's rules (missing-id-token, missing-environment...) stay off; leftover-token
    # speaks GitLab: the CI/CD variable to delete and the ID token to add
    [finding] = report.active
    assert finding.rule == "leftover-token"
    assert "CI/CD variable `PYPI_TOKEN`" in finding.message
    assert "id_tokens: {PYPI_ID_TOKEN: {aud: pypi}}" in finding.message
    assert "permissions" not in finding.message


# --------------------------------------------------------------------------- robustness


@pytest.mark.parametrize("text", [
    "- a\n- b\n", "just a string\n", "", "~\n", "include: 5\n", "include: [{}]\n",
    "include: [{local: }]\n", "include: {local: [a, b]}\n", "job: 5\n", "job: [a]\n",
    "job: {script: {a: b}}\n", "job: {extends: {a: b}, script: [x]}\n",
    "job: {script: [!reference {a: b}]}\n", "job: {script: [!reference []]}\n",
    "job: {id_tokens: [a], script: [x]}\n", "job: {id_tokens: {A: 5}, script: [x]}\n",
    "job: {environment: [x], script: [x]}\n", "job: {rules: 'x', script: [x]}\n",
    "job: {rules: [5, [a], {if: [x]}], script: [x]}\n", "job: {variables: [a], script: [x]}\n",
    "job: {only: {refs: 5}, except: {variables: 5}, script: [x]}\n",
    "job: {inherit: {default: 5, variables: {a: b}}, script: [x]}\n",
    "default: [a]\nworkflow: [a]\nvariables: 5\njob: {script: [x]}\n",
    "spec: {inputs: 5}\n---\njob: {script: [x]}\n",
    "a: 1\n---\nb: 2\n", "a: 1\n---\nb: 2\n---\nc: 3\n",
    "job: {script: ['$[[ inputs.nothing ]]']}\n",
    "job:\n  script:\n" + "    - !reference [job, script]\n",
    ".a: {script: !reference [.a, script]}\njob: {script: !reference [.a, script]}\n",
    "job: {script: [twine upload -p, uv publish --index, 'twine upload \"unclosed']}\n",
    "job: &a {script: [x], extends: job}\n",
])
def test_hostile_gitlab_files_never_raise(tmp_path: Path, text: str) -> None:
    report = scan_tree(write_tree(tmp_path, {".gitlab-ci.yml": text,
                                             "ci/x.yml": text}))
    for finding in report.findings:
        assert finding.location.line >= 1


def test_deep_include_chains_are_bounded(tmp_path: Path) -> None:
    files = {".gitlab-ci.yml": "include: ci/0.yml\n"}
    for i in range(160):
        files[f"ci/{i}.yml"] = f"include: ci/{i + 1}.yml\njob{i}: {{script: [x]}}\n"
    files["ci/160.yml"] = "last: {script: [x]}\n"
    found = problems(tmp_path, files)
    assert any("more than" in message for *_, message in found)


def test_report_of_a_gitlab_repository_is_valid(tmp_path: Path) -> None:
    from tests.invariants import check_report

    root = write_tree(tmp_path, {".gitlab-ci.yml": "include: ci/x.yml\n",
                                 "ci/x.yml": "publish:\n  script: [twine upload dist/*]\n"})
    report = scan([root], Options())
    check_report(report, root)
    assert {f.rule for f in report.active} == {"gitlab-missing-id-token",
                                               "gitlab-unprotected-publish",
                                               "undeclared-publisher"}
