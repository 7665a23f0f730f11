"""Job assembly: from a job's extended configuration to a ``GitlabJob``, each value with the
node and file it came from."""

from __future__ import annotations

from auditor.gitlab.conditions import (
    Clause,
    refs_tag_only,
    rules_tag_only,
    variables_exclude_untagged,
)
from auditor.gitlab.merge import (
    MergedMap,
    Value,
    as_map,
    get,
    is_map,
    is_null,
    key_of,
    name_list,
)
from auditor.gitlab.model import (
    DEFAULT_KEYS,
    LEGACY_GLOBAL_KEYS,
    SCRIPT_SECTIONS,
    GitlabEnvironment,
    GitlabJob,
    IdToken,
    RunCondition,
    ScriptLine,
    Variable,
)
from auditor.gitlab.references import References
from auditor.reading.source import Anchor
from auditor.reading.yamlsource import Mapping, Node, Scalar, Sequence, text_of


class JobAssembly(References):
    """One job's effective values: ``default:`` and legacy globals (honouring
    ``inherit:``), scripts, variables, ID tokens, environment and run condition."""

    def inherited(self, job: MergedMap, name: str, section: str) -> bool:
        """Whether ``inherit:`` lets the job take ``name`` from ``section`` (default or
        variables)."""
        rule = self.resolve(get(get(job, "inherit"), section))
        if rule is None or is_null(rule):
            return True
        if isinstance(rule, Scalar):
            return rule.value.strip().lower() != "false"
        return name in name_list(rule)

    def effective(self, job: MergedMap, key: str) -> tuple[Value | None, Scalar | None]:
        """A job key, else the ``default:`` one, else a legacy global, with its key node."""
        if key in job.entries:
            return job.entries[key][1], job.entries[key][0]
        if key in DEFAULT_KEYS and self.inherited(job, key, "default"):
            default = self.resolve(get(self.config, "default"))
            if is_map(default) and key_of(default, key) is not None:
                return get(default, key), key_of(default, key)
            if key in LEGACY_GLOBAL_KEYS and key in self.config.entries:
                return self.config.entries[key][1], self.config.entries[key][0]
        return None, None

    def script(self, name: str, job: MergedMap) -> tuple[ScriptLine, ...]:
        lines: list[ScriptLine] = []
        for section in SCRIPT_SECTIONS:
            value, _key = self.effective(job, section)
            for position, item in enumerate(self.items(value)):
                if isinstance(item, Scalar) and not item.is_null:
                    lines.append(ScriptLine(section, item,
                                            self.anchor(item, name, section, position)))
        return tuple(lines)

    def variables(self, name: str, job: MergedMap) -> tuple[Variable, ...]:
        out: list[Variable] = []
        seen: set[str] = set()
        levels = [("job variables", get(job, "variables"), False),
                  ("global variables", get(self.config, "variables"), True)]
        for level, mapping, inherited in levels:
            resolved = self.resolve(mapping)
            if not is_map(resolved):
                continue
            assert resolved is not None
            for var_name, (key, raw) in as_map(resolved).entries.items():
                if var_name in seen or (inherited and not self.inherited(job, var_name,
                                                                         "variables")):
                    continue
                seen.add(var_name)
                value = self.resolve(raw)
                if is_map(value):
                    value = self.resolve(get(value, "value"))
                text = text_of(value) if isinstance(value, Node) else None
                out.append(Variable(var_name, text or "", level,
                                    self.anchor(key, name, "variables", var_name)))
        return tuple(out)

    def id_tokens(self, name: str, job: MergedMap) -> tuple[tuple[IdToken, ...], Anchor | None]:
        value, key = self.effective(job, "id_tokens")
        value = self.resolve(value)
        if key is None or not is_map(value):
            return (), (self.anchor(key, name, "id_tokens") if key is not None else None)
        assert value is not None
        tokens: list[IdToken] = []
        for token_name, (token_key, token_value) in as_map(value).entries.items():
            aud = self.resolve(get(self.resolve(token_value), "aud"))
            aud_key = key_of(self.resolve(token_value), "aud")
            audiences: list[str] = []
            is_list = isinstance(aud, Sequence)
            for item in self.items(aud):
                if isinstance(item, Scalar) and not item.is_null:
                    audiences.append(item.value.strip())
            aud_node: Node | None = aud if isinstance(aud, Node) else aud_key
            tokens.append(IdToken(
                token_name, self.anchor(token_key, name, "id_tokens", token_name),
                tuple(audiences),
                self.anchor(aud_node or token_key, name, "id_tokens", token_name, "aud"),
                is_list))
        return tuple(tokens), self.anchor(key, name, "id_tokens")

    def environment(self, name: str, job: MergedMap) -> GitlabEnvironment | None:
        value = self.resolve(get(job, "environment"))
        key = key_of(job, "environment")
        if key is None or is_null(value):
            return None
        name_node: Value | None = value
        if is_map(value):
            name_node = self.resolve(get(value, "name"))
        env_name = text_of(name_node) if isinstance(name_node, Node) else None
        env_name = env_name.strip() if env_name is not None else None
        node = name_node if isinstance(name_node, Node) else key
        return GitlabEnvironment(env_name, self.anchor(key, name, "environment"),
                                 self.anchor(node, name, "environment", "name"),
                                 bool(env_name and "$" in env_name))

    def clauses(self, rules: Value | None) -> list[Clause]:
        out: list[Clause] = []
        for item in self.items(rules):
            if not is_map(item):
                continue
            if_ = self.resolve(get(item, "if"))
            when = self.resolve(get(item, "when"))
            out.append(Clause(text_of(if_) if isinstance(if_, Node) else None,
                              text_of(when) if isinstance(when, Node) else None,
                              get(item, "changes") is not None or
                              get(item, "exists") is not None))
        return out

    def condition(self, name: str, job: MergedMap, when: str | None) -> RunCondition:
        workflow_rules = get(self.resolve(get(self.config, "workflow")), "rules")
        by_workflow = workflow_rules is not None and rules_tag_only(
            self.clauses(workflow_rules))
        manual = (when or "").strip() == "manual"
        if "rules" in job.entries:
            key = job.entries["rules"][0]
            clauses = self.clauses(job.entries["rules"][1])
            active = [c for c in clauses if (c.when or "").strip() != "never"]
            manual = manual or (bool(active) and all(
                (c.when or "").strip() == "manual" for c in active))
            return RunCondition("rules", self.anchor(key, name, "rules"),
                                rules_tag_only(clauses) or by_workflow, manual,
                                by_workflow and not rules_tag_only(clauses))
        only, except_ = self.resolve(get(job, "only")), self.resolve(get(job, "except"))
        if only is None and except_ is None:
            return RunCondition("none", None, by_workflow, manual, by_workflow)
        only_key = key_of(job, "only") if only is not None else key_of(job, "except")
        only_refs: list[str] | None = None
        if is_map(only):
            refs = get(only, "refs")
            only_refs = name_list(refs) if refs is not None else None
        elif only is not None:
            only_refs = name_list(only)
        except_refs = name_list(get(except_, "refs")) if is_map(except_) else name_list(except_)
        only_vars = name_list(get(only, "variables")) if is_map(only) else []
        except_vars = name_list(get(except_, "variables")) if is_map(except_) else []
        tag_only = (refs_tag_only(only_refs, except_refs)
                    or variables_exclude_untagged(only_vars, all_false=True)
                    or variables_exclude_untagged(except_vars, all_false=False))
        return RunCondition("only/except",
                            self.anchor(only_key, name, only_key.value if only_key else "only"),
                            tag_only or by_workflow, manual, by_workflow and not tag_only)

    def job(self, name: str, value: Value) -> GitlabJob | None:
        keys = self.definitions.get(name) or [self.config.entries[name][0]]
        first = keys[0]
        if not is_map(value):
            if not is_null(value):
                self.problem(first, f"job `{name}` must be a mapping of keywords", "job", name)
            return None
        expanded = self.extended(name, ())
        job = as_map(expanded if expanded is not None else value)
        if self.complete and not any(k in job.entries for k in ("script", "run", "trigger")):
            self.problem(first, f"job `{name}` has no `script:`, `run:` or `trigger:` keyword "
                         "(GitLab: \"config should implement the script:, run:, or trigger: "
                         "keyword\")", "job", name)
        image_value, _ = self.effective(job, "image")
        image_value = self.resolve(image_value)
        image_name = self.resolve(get(image_value, "name")) if is_map(image_value) \
            else image_value
        image = text_of(image_name) if isinstance(image_name, Node) else None
        stage = self.resolve(get(job, "stage"))
        when = self.resolve(get(job, "when"))
        when_text = text_of(when) if isinstance(when, Node) else None
        tokens, tokens_anchor = self.id_tokens(name, job)
        return GitlabJob(
            name=name,
            path=self.where(first),
            key=first,
            anchor=self.anchor(first, name),
            definitions=tuple(self.anchor(k, name) for k in keys),
            stage=text_of(stage) if isinstance(stage, Node) else None,
            image=image,
            extends=tuple(name_list(get(value, "extends"))),
            script=self.script(name, job),
            variables=self.variables(name, job),
            id_tokens=tokens,
            id_tokens_anchor=tokens_anchor,
            environment=self.environment(name, job),
            condition=self.condition(name, job, when_text),
            when=when_text,
            node=value if isinstance(value, Mapping) and len(keys) == 1 and
            get(value, "extends") is None else None,
        )
