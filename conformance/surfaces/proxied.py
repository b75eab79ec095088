"""Surfaces whose client is a separate program (the Node.js SDK, curl): they talk to the recording proxy.

The raw exchange comes from the proxy's capture, exactly as for the Python surfaces; the client program reports
what it made of the answer.
"""

from __future__ import annotations

import atexit
import json
import select
import shutil
import subprocess
import threading
from typing import Any

from conformance.catalogue.model import Case
from conformance.model.findings import Finding, Severity
from conformance.surfaces.base import RunEnv, SurfaceOutcome
from conformance.surfaces.node_setup import missing_reason, pinned_version, program_path
from conformance.wire.proxy import CLIENT_KEY, RecordingProxy
from conformance.wire.transport import FailureKind


class ProxiedSurface:
    name = "proxied"
    label = "client through the recording proxy"

    def unavailable(self) -> str | None:
        raise NotImplementedError

    def client(self, case: Case, env: RunEnv, base_url: str) -> tuple[dict[str, Any] | None, str | None]:
        """Run the client: (what it reported, or None; an error of the client program itself, or None)."""
        raise NotImplementedError

    def message(self, report: dict[str, Any], outcome: SurfaceOutcome, case: Case) -> dict[str, Any] | None:
        """The assistant message this client holds (curl: the raw JSON, as REST)."""
        from conformance.surfaces.rest import answered_message

        return answered_message(outcome, case)

    def run(self, case: Case, env: RunEnv) -> SurfaceOutcome:
        capture = env.capture(case)
        outcome = SurfaceOutcome(exchanges=capture.exchanges)
        with RecordingProxy(env.profile.server_url(case.operation.server), env.auth_headers(case), env.auth_query(case),
                            capture, env.timeout_s, max_body_bytes=env.max_body_bytes, share=env.share) as proxy:
            report, failure = self.client(case, env, proxy.base_url)
        if report is not None:  # a client's error message may quote the server's body, key included
            report = env.scrubber.deep(report)
        if proxy.failures:
            outcome.error_kind, outcome.error = proxy.failures[0]
            return outcome
        if failure:
            outcome.error_kind, outcome.error = FailureKind.SURFACE, env.scrubber.text(failure)
            return outcome
        outcome.message = self.message(report or {}, outcome, case)
        if report is not None and isinstance(report.get("returned"), dict):  # the message travels on; the report
            report = {**report, "returned": {k: v for k, v in report["returned"].items() if k != "message"}}  # keeps
            # a summary
        outcome.sdk = report or {}
        raised = (report or {}).get("raised")
        exchange = outcome.exchange
        if raised and exchange is not None and exchange.status is not None and 200 <= exchange.status < 300:
            message = env.scrubber.text(f"{self.label} raised {raised.get('name')}: {raised.get('message')}")
            outcome.findings.append(Finding("sdk.raised", "", message, Severity.FAILURE,
                                            expected="a parsed response", seen=raised.get("name")))
        elif report:
            choices = (report.get("returned") or {}).get("choices")
            if isinstance(choices, list):  # compared with the exchange by the runner (oracle.sdk_findings)
                outcome.sdk_choices, outcome.sdk_label = choices, self.label
        outcome.sdk = trimmed(outcome.sdk)
        return outcome


def trimmed(value: Any, limit: int = 200) -> Any:
    """A client's report as kept in the result: texts shortened (a 10 MB answer is the cassette's business)."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + f"... [{len(value) - limit} more characters]"
    if isinstance(value, dict):
        return {k: trimmed(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [trimmed(v, limit) for v in value]
    return value


class NodeSdkSurface(ProxiedSurface):
    name = "node-sdk"
    label = f"Node.js SDK (openai {pinned_version()})"

    def unavailable(self) -> str | None:
        return missing_reason()

    def client(self, case: Case, env: RunEnv, base_url: str) -> tuple[dict[str, Any] | None, str | None]:
        job = {"base_url": base_url, "api_key": CLIENT_KEY, "operation": case.operation.id,
               "params": case.path_params_for(env.profile), "body": case.request_body(env.profile),
               "timeout_ms": int(env.timeout_s * 1000)}
        reply, failure = NODE_WORKER.ask(job, env.timeout_s + 30)
        if reply is not None and "worker_error" in reply:
            return None, f"the Node.js program failed: {reply['worker_error']}"
        return reply, failure


    def message(self, report: dict[str, Any], outcome: SurfaceOutcome, case: Case) -> dict[str, Any] | None:
        message = (report.get("returned") or {}).get("message")
        return message if isinstance(message, dict) else None


class NodeWorker:
    """One long-lived ``node surface.mjs`` per process, fed a job per line; restarted if it dies or hangs."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        atexit.register(self.stop)

    def ask(self, job: dict[str, Any], timeout_s: float) -> tuple[dict[str, Any] | None, str | None]:
        with self._lock:
            process = self._ensure()
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(json.dumps(job) + "\n")
                process.stdin.flush()
            except OSError:
                return None, self._failed("the Node.js program stopped")
            ready, _, _ = select.select([process.stdout], [], [], timeout_s)
            line = process.stdout.readline() if ready else ""
            if not line:
                return None, self._failed("the Node.js SDK did not answer in time" if not ready else
                                          "the Node.js program stopped")
            try:
                return json.loads(line), None
            except ValueError:
                return None, self._failed(f"the Node.js program wrote something else than JSON: {line[:120]!r}")

    def _ensure(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            program = program_path()
            self._process = subprocess.Popen(["node", str(program)], cwd=program.parent, text=True,
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=subprocess.DEVNULL, bufsize=1)
        return self._process

    def _failed(self, message: str) -> str:
        self.stop()
        return message

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=5)


NODE_WORKER = NodeWorker()


class CurlSurface(ProxiedSurface):
    name = "curl"
    label = "curl (the documentation's REST examples)"

    def unavailable(self) -> str | None:
        return None if shutil.which("curl") else "curl is not installed (curl not on PATH)"

    def client(self, case: Case, env: RunEnv, base_url: str) -> tuple[dict[str, Any] | None, str | None]:
        # The documentation's command: curl URL -H "Content-Type: application/json" -H "Authorization: Bearer KEY"
        # -d 'BODY'. The body goes through stdin so no shell quoting is involved.
        command = ["curl", "-sS", "-N", "--max-time", str(max(1, int(env.timeout_s))), "-o", "/dev/null",
                   "-w", "%{http_code}", base_url.rstrip("/") + "/" + case.path(env.profile),
                   "-H", f"Authorization: Bearer {CLIENT_KEY}"]
        body = case.request_body(env.profile)
        stdin = ""
        if case.is_upload:  # the documentation's upload: curl -F purpose=batch -F file=@requests.jsonl
            command += ["-F", f"purpose={body['purpose']}",
                        "-F", f"file=@-;filename={body['file']['filename']};type=application/jsonl"]
            stdin = body["file"]["content"]
        elif case.method == "POST":
            command += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
            stdin = json.dumps(body)
        elif case.method != "GET":
            command += ["-X", case.method]
        try:
            done = subprocess.run(command, input=stdin, text=True,
                                  capture_output=True, timeout=env.timeout_s + 30)
        except subprocess.TimeoutExpired:
            return None, "curl did not finish in time"
        if done.returncode != 0:
            return None, f"curl failed (exit {done.returncode}): {done.stderr.strip()[:200]}"
        return {"http_code": done.stdout.strip()}, None
