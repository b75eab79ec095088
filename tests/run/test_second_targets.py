"""The targets beside llamacpp: the sampled variant's model and profile, the LiteLLM proxy's configuration, and the
cross-target matrix that sets them side by side."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conformance.model.errors import UsageError
from conformance.run.profiles import load_profile
from tests.conftest import REPO


def test_the_sampled_model_differs_from_the_deterministic_one_in_one_weight_only() -> None:
    from conformance.refserver.tiny_model import IM_END, SAMPLED_END_LOGIT, build_weights

    plain, sampled = build_weights(), build_weights(sampled=True)
    assert plain.keys() == sampled.keys()
    for name in plain:
        if name != "output.weight":
            assert np.array_equal(plain[name], sampled[name]), name
    changed = np.argwhere(plain["output.weight"] != sampled["output.weight"])
    assert len(changed) == 1 and changed[0][0] == IM_END  # only "end the turn", and only from one state
    assert sampled["output.weight"][tuple(changed[0])] == pytest.approx(SAMPLED_END_LOGIT / 8.0)


def test_sampled_target_shares_the_reference_servers_gaps_and_replays_its_tier() -> None:
    from conformance.run.settings import resolve

    settings = resolve({"target": "llamacpp-sampled"})
    assert settings.profile.catalogue == "core" and settings.profile.gaps_of == "llamacpp"
    assert settings.gaps.source.endswith("llamacpp.gaps.toml")


@pytest.mark.parametrize(("key", "value", "message"), [("rpm", -1, "rpm must be a positive"),
                                                       ("rpm", "fast", "rpm must be a positive"),
                                                       ("catalogue", "most", "catalogue must be")])
def test_profile_pace_and_tier_are_checked(tmp_path: Path, key: str, value: object, message: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[target]\nname = "x"\nbase_url = "http://127.0.0.1:9/v1/"\napi_key_env = "K"\n'
                    f'chat_model = "c"\nembedding_model = "e"\n{key} = {json.dumps(value)}\n')
    with pytest.raises(UsageError, match=message):
        load_profile(str(path))


def test_gemini_states_its_pace_with_a_source() -> None:
    profile = load_profile("gemini")
    assert profile.rpm and "ai.google.dev/gemini-api/docs/rate-limits" in profile.rpm_source


def test_litellm_config_names_keys_by_variable_and_aliases_the_upstream(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.refserver.litellm import CHAT_ALIAS, EMBED_ALIAS, write_config

    monkeypatch.setenv("LLAMACPP_API_KEY", "upstream-canary-123")
    monkeypatch.setenv("LITELLM_MASTER_KEY", "sk-master-canary-456")
    text = write_config(tmp_path, "http://127.0.0.1:8089/v1/").read_text()
    assert "upstream-canary-123" not in text and "sk-master-canary-456" not in text
    assert "master_key: os.environ/LITELLM_MASTER_KEY" in text and "os.environ/LLAMACPP_API_KEY" in text
    assert f"model_name: {CHAT_ALIAS}" in text and f"model_name: {EMBED_ALIAS}" in text
    assert "api_base: http://127.0.0.1:8089/v1\n" in text and "telemetry: false" in text
    profile = load_profile("litellm")
    assert (profile.chat_model, profile.embedding_model) == (CHAT_ALIAS, EMBED_ALIAS)


def test_litellm_refuses_to_start_without_its_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.refserver.litellm import start

    monkeypatch.setenv("LITELLM_MASTER_KEY", "no-sk-prefix")
    monkeypatch.setenv("LLAMACPP_API_KEY", "k")
    with pytest.raises(SystemExit, match="start with 'sk-'"):
        start(tmp_path, "http://127.0.0.1:9/v1/", tmp_path / "litellm", 9)


def test_cross_target_matrix_says_what_the_second_target_adds_and_removes() -> None:
    from conformance.report.cross import cross_target

    llama = json.loads((REPO / "reports" / "llamacpp" / "report.json").read_text())
    litellm = json.loads((REPO / "reports" / "litellm" / "report.json").read_text())
    matrix = cross_target([llama, litellm])
    rows = {row["case"]: row for _, rows in matrix["groups"] for row in rows}
    for case, row in rows.items():
        first = {f["check"] for r in llama["results"] if r["case"] == case for f in r["findings"]}
        second = {f["check"] for r in litellm["results"] if r["case"] == case for f in r["findings"]}
        assert row["cells"]["litellm"]["added"] == sorted(second - first), case
        assert row["cells"]["litellm"]["removed"] == sorted(first - second), case
        assert row["cells"]["llamacpp"]["added"] == row["cells"]["llamacpp"]["removed"] == []
    assert any(row["cells"]["litellm"]["added"] for row in rows.values())


def test_committed_matrix_is_rendered_from_the_committed_reports(tmp_path: Path) -> None:
    from conformance.report.cross import write_cross_target

    reports = [json.loads((REPO / "reports" / t / "report.json").read_text()) for t in ("llamacpp", "litellm", "vllm")]
    write_cross_target(reports, tmp_path)
    assert (tmp_path / "matrix.md").read_text() == (REPO / "reports" / "matrix.md").read_text()


@pytest.mark.parametrize("target", ["litellm", "vllm"])
def test_a_replay_of_the_responses_family_reproduces_the_committed_results(tmp_path: Path, target: str) -> None:
    """CI replays every committed target whole; this replays the Responses family of the two targets that serve it
    (four surfaces of each of its cases, in seconds), so that a change to how its conversations go on (which ids it
    follows: LiteLLM's carry their deployment, 473 characters) shows here before CI."""
    from conformance.cli import main

    main(["run", "--target", target, "-k", "responses.", "--catalogue", "full", "--report-dir", str(tmp_path)])
    replayed = json.loads((tmp_path / "report.json").read_text())["results"]
    committed = [r for r in json.loads((REPO / "reports" / target / "report.json").read_text())["results"]
                 if r["case"].startswith("responses.")]
    from conformance.catalogue import CASES

    assert len(replayed) == len(committed) == 4 * len([c for c in CASES if c.id.startswith("responses.")])
    assert replayed == committed
