"""The command line: `conformance validate` on captured responses, and one-line errors with exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conformance.cli import main
from tests.conftest import need_reference


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


GOOD_CHUNKS = [
    {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "system_fingerprint": None,
     "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "logprobs": None,
                  "finish_reason": None}]},
    {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "system_fingerprint": None,
     "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]},
]


def sse(chunks: list[dict], done: bool = True) -> str:
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + ("data: [DONE]\n\n" if done else "")


def test_validate_clean_sse_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(write(tmp_path, "ok.sse", sse(GOOD_CHUNKS)))]) == 0
    assert "OK" in capsys.readouterr().out


def test_validate_json_format_lists_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chunks = json.loads(json.dumps(GOOD_CHUNKS))
    chunks[1]["id"] = "c2"
    path = write(tmp_path, "bad.sse", sse(chunks, done=False))
    assert main(["validate", "--format", "json", str(path)]) == 1
    findings = json.loads(capsys.readouterr().out)
    assert {(f["check"], f["pointer"]) for f in findings} >= {("stream.id.consistent", "chunk[1]/id"),
                                                              ("stream.done", "chunk[2]/")}
    assert all(set(f) == {"file", "kind", "check", "pointer", "message"} for f in findings)


def test_validate_chunk_array_and_error_body(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    array = write(tmp_path, "chunks.json", json.dumps(GOOD_CHUNKS))
    error = write(tmp_path, "err.json", '[{"error": {"code": 400, "message": "x", "status": "INVALID_ARGUMENT"}}]')
    assert main(["validate", "--kind", "stream", str(array)]) == 0
    capsys.readouterr()
    assert main(["validate", "--kind", "error", "--format", "json", str(error)]) == 1
    assert json.loads(capsys.readouterr().out)[0]["check"] == "schema.error"


def test_validate_gemini_evidence_captures_flags_known_deviations(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    captures = need_reference("gemini-evidence", "captures")
    copy = shutil.copy(captures / "sttp-ai_338_chat_completion_nonstream_no_id.json", tmp_path / "c.json")
    assert main(["validate", "--format", "json", str(copy)]) == 1
    findings = {(f["check"], f["pointer"]) for f in json.loads(capsys.readouterr().out)}
    assert ("schema.chat.completion", "/id") in findings
    assert ("chat.usage.total", "/usage/total_tokens") in findings


@pytest.mark.parametrize("argv,needle", [
    (["run", "--target", "nosuch"], "unknown target 'nosuch'"),
    (["run", "--base-url", "localhost:8080", "--chat-model", "m", "--embedding-model", "e"], "needs a scheme"),
    (["run", "--target", "gemini", "--surfaces", "carrier-pigeon"], "unknown surface"),
    (["run", "--bogus-flag"], "unrecognized arguments"),
])
def test_user_mistakes_are_one_line_and_exit_2(argv: list[str], needle: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.strip().count("\n") == 0 and "Traceback" not in err


def test_unreachable_base_url_in_record_mode_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "not-a-real-key-0000")
    assert main(["run", "--target", "gemini", "--base-url", "http://127.0.0.1:9/v1/", "--record-mode", "once"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach 127.0.0.1:9" in err and err.strip().count("\n") == 0


def test_selection_that_matches_no_case_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--target", "llamacpp", "--report-dir", "/nonexistent-never-written", "-k",
                 "no_such_case"]) == 2
    assert "no case ran" in capsys.readouterr().err


def test_malformed_profile_toml_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = write(tmp_path, "bad.toml", "[target\nname = ")
    assert main(["run", "--target", str(profile)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_validate_binary_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(write(tmp_path, "x.bin", b"\x89PNG\x00\x01"))]) == 2
    assert "binary" in capsys.readouterr().err


def test_checks_lists_every_registered_id_with_severity_and_source(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.checks import REGISTRY

    assert main(["checks", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == sorted(REGISTRY)
    assert all(r["severity"] in ("deviation", "failure") and r["checks"] and r["source"] for r in rows)
    assert {"schema.chat.completion", "sdk.assembled", "sdk.raised"} <= {r["id"] for r in rows}


def test_exclude_checks_leaves_their_findings_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chunks = json.loads(json.dumps(GOOD_CHUNKS))
    chunks[1]["id"] = "c2"
    path = write(tmp_path, "bad.sse", sse(chunks, done=False))
    assert main(["validate", "--format", "json", "--exclude-checks", "stream.id.*", str(path)]) == 1
    assert {f["check"] for f in json.loads(capsys.readouterr().out)} == {"stream.done"}
    assert main(["validate", "--checks", "stream.nothing_like_this", str(path)]) == 2
    # the selection was the command's own: the next validation in this process judges with every check again
    assert main(["validate", "--format", "json", str(path)]) == 1
    assert "stream.id.consistent" in {f["check"] for f in json.loads(capsys.readouterr().out)}


def test_every_manifest_and_injector_names_registered_checks() -> None:
    from importlib import resources

    from conformance.checks import REGISTRY
    from conformance.judge.gaps import load_manifest
    from conformance.selftest.injectors import INJECTORS

    for path in resources.files("conformance.targets").iterdir():
        if path.name.endswith(".gaps.toml"):
            unknown = {g.check for g in load_manifest(Path(str(path))).gaps if g.check} - set(REGISTRY)
            assert not unknown, (path.name, unknown)
    assert not {c for i in INJECTORS.values() for c in i.expect} - set(REGISTRY)
