"""The reusable GitHub Action (action.yml): actionlint lints workflows, not an action's own metadata, so the
rules that keep a composite action working and safe are held here: every input it reads is declared, every
output names a step that exists, every run step has a shell, and no input is pasted into a script (an input is
text from the caller's workflow: it goes through an environment variable, never into the shell's source)."""

from __future__ import annotations

import re

import yaml

from tests.conftest import REPO

ACTION = yaml.safe_load((REPO / "action.yml").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _expressions(value: object) -> list[str]:
    if isinstance(value, dict):
        return [e for v in value.values() for e in _expressions(v)]
    if isinstance(value, list):
        return [e for v in value for e in _expressions(v)]
    return EXPRESSION.findall(value) if isinstance(value, str) else []


def test_it_is_a_composite_action_with_the_inputs_the_issue_names() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert {"target", "record-mode", "baseline", "api-key", "surfaces"} <= set(ACTION["inputs"])
    assert {"summary", "report-dir"} <= set(ACTION["outputs"])


def test_every_input_read_is_declared_and_every_output_names_a_step() -> None:
    steps = ACTION["runs"]["steps"]
    ids = {s["id"] for s in steps if "id" in s}
    for expression in _expressions(ACTION["runs"]) + _expressions(ACTION["outputs"]):
        for name in re.findall(r"inputs\.([\w-]+)", expression):
            assert name in ACTION["inputs"], f"undeclared input {name} in {expression}"
        for step in re.findall(r"steps\.([\w-]+)\.", expression):
            assert step in ids, f"no step with id {step} in {expression}"


def test_run_steps_have_a_shell_and_no_expression_in_their_script() -> None:
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash", step.get("name")
            assert not EXPRESSION.search(step["run"]), f"an expression in the script of {step.get('name')!r}"


def test_the_key_travels_only_in_an_environment_variable() -> None:
    uses = [e for e in _expressions(ACTION["runs"]) if "inputs.api-key" in e]
    assert uses == ["inputs.api-key"]
    (step,) = [s for s in ACTION["runs"]["steps"] if "inputs.api-key" in str(s.get("env", {}))]
    assert step["env"]["CONFORMANCE_API_KEY"] == "${{ inputs.api-key }}"
    assert "--api-key-env CONFORMANCE_API_KEY" in step["run"]


def test_the_summary_step_runs_a_module_the_package_has() -> None:
    import importlib

    scripts = " ".join(s.get("run", "") for s in ACTION["runs"]["steps"])
    for module in re.findall(r"python -m ([\w.]+)", scripts):
        importlib.import_module(module)
