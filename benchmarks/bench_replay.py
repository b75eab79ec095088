"""The main job's cost against what a user would otherwise write: a hand-written vcrpy + OpenAI SDK replay of the
same cassettes (each recorded request sent again through the SDK, or httpx for the REST cassettes, under
``vcr.use_cassette``, the answer parsed). Run on demand: `python benchmarks/bench_replay.py`. Goal: the suite's
replay of the Python surfaces (which also validates every response, runs every check and writes three reports)
costs no more than that hand-written replay. Bare pytest running as many no-op tests is printed for scale.

It prints where the replay's time goes (imports, each surface, judging, report rendering), measured in process,
so that the next optimisation starts from a measurement.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASSETTES = REPO / "cassettes" / "llamacpp"


def timed(args: list[str], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(args, check=False, capture_output=True, cwd=REPO)
        best = min(best, time.perf_counter() - started)
    return best


PROFILE = '''
import collections, sys, time
started = time.perf_counter()
import conformance.report.write as write, conformance.runner as runner
from conformance.surfaces import SURFACES
spent = collections.Counter(imports=time.perf_counter() - started)
def timed(owner, name, key):
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[key] += time.perf_counter() - began
    setattr(owner, name, wrapper)
timed(runner, "judge", "judging")
timed(write, "render_all", "rendering md+html")
for surface in SURFACES.values():
    timed(surface, "run", "surface " + surface.name)
from conformance.cli import main
began = time.perf_counter()
main(["run", "--target", "llamacpp", "--report-dir", sys.argv[1]])
spent["whole run (after imports)"] = time.perf_counter() - began
print(", ".join(f"{k} {v:.2f}s" for k, v in spent.items()))
'''


HAND_WRITTEN = '''
import json, sys, time
from pathlib import Path
import httpx, openai, vcr
started = time.perf_counter()
root = Path(sys.argv[1])
recorder = vcr.VCR(record_mode="none", match_on=["method", "path", "body"], decode_compressed_response=True)
base = "http://127.0.0.1:8089/v1/"
sent = 0
for surface in ("python-sdk", "rest"):
    for path in sorted((root / surface).glob("*.yaml")):
        import yaml
        interactions = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)["interactions"]
        with recorder.use_cassette(str(path), allow_playback_repeats=True):
            client = openai.OpenAI(base_url=base, api_key="replay", max_retries=0)
            for interaction in interactions:
                request = interaction["request"]
                endpoint = request["uri"].split("/v1/", 1)[-1].split("?")[0]
                body = json.loads(request["body"]) if request.get("body") else {}
                sent += 1
                try:
                    if surface == "rest":
                        httpx.request(request["method"], base + endpoint, json=body or None).json()
                    elif endpoint == "chat/completions" and body.get("stream"):
                        list(client.chat.completions.create(**body))
                    elif endpoint == "chat/completions":
                        client.chat.completions.create(**body)
                    elif endpoint == "embeddings":
                        client.embeddings.create(**body)
                    elif endpoint == "models":
                        client.models.list()
                    else:
                        client.models.retrieve(endpoint.split("/", 1)[1])
                except (openai.APIError, ValueError, vcr.errors.CannotOverwriteExistingCassetteException):
                    pass
print(f"{sent} exchanges in {time.perf_counter() - started:.2f}s")
'''


def main() -> None:
    count = len(list(CASSETTES.rglob("*.yaml")))
    with tempfile.TemporaryDirectory() as tmp:
        noop = Path(tmp) / "test_noop.py"
        noop.write_text(f"import pytest\n\n@pytest.mark.parametrize('n', range({count}))\ndef test_noop(n):\n"
                        "    pass\n")
        bare = timed([sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider", str(noop)])
        replay = timed([sys.executable, "-m", "conformance.cli", "run", "--target", "llamacpp", "--report-dir",
                        f"{tmp}/r"])
        python_surfaces = timed([sys.executable, "-m", "conformance.cli", "run", "--target", "llamacpp",
                                 "--surfaces", "python-sdk,rest", "--report-dir", f"{tmp}/py"])
        hand = timed([sys.executable, "-c", HAND_WRITTEN, str(CASSETTES)])
        breakdown = subprocess.run([sys.executable, "-c", PROFILE, f"{tmp}/p"], capture_output=True, text=True,
                                   cwd=REPO).stdout.strip().splitlines()
    ratio = python_surfaces / hand
    print(f"{count} cassettes in {CASSETTES.relative_to(REPO)}: hand-written vcrpy + SDK replay of the python-sdk "
          f"and rest cassettes {hand:.2f}s; conformance run of those two surfaces (replay, every check, reports) "
          f"{python_surfaces:.2f}s, ratio {ratio:.2f}: goal <= 1 {'met' if ratio <= 1 else 'NOT met'}")
    print(f"all four surfaces: conformance run {replay:.2f}s; for scale, bare pytest with {count} no-op tests "
          f"{bare:.2f}s")
    print("where the time goes: " + (breakdown[-1] if breakdown else "(profile failed)"))


if __name__ == "__main__":
    main()
