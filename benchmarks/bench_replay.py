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
import conformance.report.write as write, conformance.run.scenarios as scenarios
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
timed(scenarios, "judge", "judging")
timed(write, "render_all", "rendering md+html")
for surface in SURFACES.values():
    timed(surface, "run", "surface " + surface.name)
from conformance.cli import main
began = time.perf_counter()
main(["run", "--target", "llamacpp", "--report-dir", sys.argv[1]])
spent["whole run (after imports)"] = time.perf_counter() - began
print(", ".join(f"{k} {v:.2f}s" for k, v in spent.items()))
'''


# What a user would otherwise write: pytest-recording's documented pattern (a ``vcr`` mark, the cassette dir and
# name as fixtures), one test per cassette, each recorded request sent again through the OpenAI SDK (httpx for the
# REST cassettes) and the answer read.
HAND_WRITTEN = '''
import json
from pathlib import Path

import httpx
import openai
import pytest
import vcr.errors
import yaml

ROOT = Path(__file__).parent / "cassettes"
BASE = "http://127.0.0.1:8089/v1/"
FILES = sorted(p.relative_to(ROOT).with_suffix("").as_posix() for s in ("python-sdk", "rest")
               for p in (ROOT / s).glob("*.yaml"))


@pytest.fixture
def vcr_config():
    return {"record_mode": "none", "match_on": ["method", "path", "body"], "allow_playback_repeats": True}


@pytest.fixture
def vcr_cassette_dir():
    return str(ROOT)


@pytest.fixture
def default_cassette_name(name):
    return name


@pytest.mark.vcr
@pytest.mark.parametrize("name", FILES)
def test_replay(name):
    interactions = yaml.load((ROOT / f"{name}.yaml").read_text(), Loader=yaml.CSafeLoader)["interactions"]
    client = openai.OpenAI(base_url=BASE, api_key="replay", max_retries=0)
    for interaction in interactions:
        request = interaction["request"]
        endpoint = request["uri"].split("/v1/", 1)[-1].split("?")[0]
        body = json.loads(request["body"]) if request.get("body") else {}
        try:
            if name.startswith("rest/"):
                httpx.request(request["method"], BASE + endpoint, json=body or None).json()
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
        except (openai.APIError, ValueError, TypeError, vcr.errors.CannotOverwriteExistingCassetteException):
            pass  # an answer the SDK refuses, or a request it will not send (no messages): read like any other
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
        anchor = Path(tmp) / "anchor"
        anchor.mkdir()
        (anchor / "cassettes").symlink_to(CASSETTES)
        (anchor / "test_anchor.py").write_text(HAND_WRITTEN)
        hand = timed([sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider", "-p",
                      "no:conformance", str(anchor / "test_anchor.py")])
        breakdown = subprocess.run([sys.executable, "-c", PROFILE, f"{tmp}/p"], capture_output=True, text=True,
                                   cwd=REPO).stdout.strip().splitlines()
    ratio = python_surfaces / hand
    print(f"{count} cassettes in {CASSETTES.relative_to(REPO)}: hand-written pytest-recording + SDK replay of the "
          f"python-sdk and rest cassettes {hand:.2f}s; conformance run of those two surfaces (replay, every check, "
          f"reports) {python_surfaces:.2f}s, ratio {ratio:.2f}: goal <= 1 {'met' if ratio <= 1 else 'NOT met'}")
    print(f"all four surfaces: conformance run {replay:.2f}s; for scale, bare pytest with {count} no-op tests "
          f"{bare:.2f}s")
    print("where the time goes: " + (breakdown[-1] if breakdown else "(profile failed)"))


if __name__ == "__main__":
    main()
