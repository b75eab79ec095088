"""A user's own project: config discovery and precedence, `conformance init`, the project's targets/ folder, and a
first record and replay from it. Servers here are the SYNTHETIC stand-in, on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import build_parser, main
from conformance.judge.gaps import load_manifest, manifest_path
from conformance.run.config import load_project
from tests.standin.server import running


def _run_args(*argv: str) -> dict:
    return vars(build_parser().parse_args(["run", *argv]))


def test_config_values_apply_and_a_flag_beats_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "conformance.toml").write_text('timeout = 12\nsurfaces = ["rest", "curl"]\nretry-budget = 7\n'
                                               'cassette_dir = "recorded"\n')
    monkeypatch.chdir(tmp_path)
    values = _run_args()
    assert values["timeout"] == 12.0 and values["surfaces"] == "rest,curl" and values["retry_budget"] == 7.0
    assert values["cassette_dir"] == str(tmp_path.resolve() / "recorded")
    assert _run_args("--timeout", "5")["timeout"] == 5.0
    assert _run_args()["rpm"] is None  # not in the config: the built-in default


def test_environment_beats_config_and_flag_beats_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "conformance.toml").write_text('target = "llamacpp"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONFORMANCE_TARGET", raising=False)
    assert _run_args()["target"] == "llamacpp"
    monkeypatch.setenv("CONFORMANCE_TARGET", "openai")
    assert _run_args()["target"] == "openai"
    assert _run_args("--target", "gemini")["target"] == "gemini"


def test_pyproject_table_is_found_from_a_sub_folder_and_paths_are_its_own(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.conformance]\nreport_dir = "out"\n')
    (tmp_path / "src" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "src" / "deep")
    project = load_project()
    assert project.root == tmp_path.resolve() and project.path == tmp_path.resolve() / "pyproject.toml"
    assert project.values["report_dir"] == str(tmp_path.resolve() / "out")


def test_a_pyproject_without_the_table_is_not_a_config_and_the_walk_stops_at_the_repository(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "conformance.toml").write_text('timeout = 3\n')  # outside the repository below: not its config
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n')
    monkeypatch.chdir(repo)
    project = load_project()
    assert project.path is None and project.root == repo.resolve() and project.values == {}


@pytest.mark.parametrize("text,expected", [
    ("timout = 3\n", "unknown key 'timout'"),
    ("timeout = -1\n", "timeout = -1 is not valid"),
    ("timeout = [1]\n", "must be a string or a number"),
    ("timeout = \n", "is not valid TOML"),
])
def test_a_bad_config_is_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str,
                                            expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "conformance.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_init_writes_the_four_files_and_never_overwrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--target", "gemini"]) == 0
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {"targets/gemini.toml", "targets/gemini.gaps.toml", "conformance.toml",
                       ".github/workflows/conformance.yml"}
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    (tmp_path / "conformance.toml").unlink()  # one file gone, three there: still nothing is written
    assert main(["init", "--target", "gemini"]) == 2
    err = capsys.readouterr().err
    assert "not overwriting" in err and "targets/gemini.toml" in err
    assert not (tmp_path / "conformance.toml").exists()
    assert all(p.read_bytes() == data for p, data in before.items() if p.exists())


def test_init_refuses_a_pyproject_that_already_has_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.conformance]\ntarget = "gemini"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 2
    assert not (tmp_path / "targets").exists()


def test_the_project_profile_and_manifest_beat_the_built_in_and_extend_it(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--target", "gemini", "--no-workflow"]) == 0
    own = tmp_path / "targets" / "gemini.gaps.toml"
    assert manifest_path("gemini") == own.resolve()
    builtin = load_manifest(Path(__file__).resolve().parents[2] / "conformance" / "targets" / "gemini.gaps.toml")
    assert [g.id for g in load_manifest(own).gaps] == [g.id for g in builtin.gaps]  # extends, adds nothing yet
    own.write_text(own.read_text() + '\n[[gap]]\nid = "mine"\nverdict = "ERROR"\nreason = "r"\nsource = "s"\n')
    assert [g.id for g in load_manifest(own).gaps][-1] == "mine"
    (tmp_path / "targets" / "gemini.toml").write_text((tmp_path / "targets" / "gemini.toml").read_text().replace(
        'chat_model = "gemini-3.5-flash"', 'chat_model = "my-model"'))
    from conformance.run.profiles import load_profile

    profile = load_profile("gemini")
    assert profile.chat_model == "my-model" and profile.source.startswith("project target gemini")


def test_a_manifest_extending_an_unknown_target_is_a_usage_error(tmp_path: Path) -> None:
    from conformance.model.errors import UsageError

    path = tmp_path / "x.gaps.toml"
    path.write_text('extends = "nope"\n')
    with pytest.raises(UsageError, match="no built-in known-gaps manifest"):
        load_manifest(path)
    path.write_text('extend = "gemini"\n')
    with pytest.raises(UsageError, match="unknown key"):
        load_manifest(path)


def test_first_record_then_replay_from_an_initialised_project_rewrites_the_report_byte_for_byte(
        tmp_path: Path, canary_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STANDIN_KEY", canary_key)
    args = ["--surfaces", "rest", "-k", "chat.system_user or stream.basic or embeddings.single"]
    with running(canary_key) as server:
        assert main(["init", "--base-url", server.base_url, "--name", "mine", "--api-key-env", "STANDIN_KEY",
                     "--chat-model", "standin-chat", "--embedding-model", "standin-embed", "--no-workflow"]) == 0
        assert main(["run", "--record-mode", "once", *args]) == 0
    monkeypatch.delenv("STANDIN_KEY")
    assert (tmp_path / "cassettes" / "mine" / "rest" / "chat.system_user.yaml").is_file()
    assert main(["run", *args]) == 0
    first = {p.name: p.read_bytes() for p in (tmp_path / "reports" / "mine").iterdir()}
    assert set(first) == {"report.json", "report.md", "report.html", "badge.json"}
    assert main(["run", *args]) == 0
    assert {p.name: p.read_bytes() for p in (tmp_path / "reports" / "mine").iterdir()} == first
    report = json.loads(first["report.json"])
    assert report["target"]["source"].startswith("project target mine")
    assert {r["verdict"] for r in report["results"]} == {"PASS"}
    for data in first.values():
        assert canary_key.encode() not in data
