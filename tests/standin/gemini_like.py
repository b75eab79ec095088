"""A SYNTHETIC Gemini-like server for the suite's own tests: the stand-in, changed the way public 2025-2026 reports
say Gemini's OpenAI-compatibility layer answers (../shared/reference/gemini-evidence/DEVIATIONS.md names each
source). It is not a recording of Gemini and must never be presented as one.

- tool calls carry ``extra_content.google.thought_signature``, and a next turn whose assistant tool call does not
  echo it is refused with 400 (microsoft/agent-framework#2947);
- ``finish_reason`` is "stop" although tool calls came back (microsoft/autogen#4878);
- streamed tool-call deltas carry no ``index`` (openai/openai-python#2806);
- ``store`` is a hard 400, "Unknown name" (liliMozi/openhanako#394);
- errors are a JSON array of Google RPC errors (FuzzAnything/PromptFuzz#42).
"""

from __future__ import annotations

import json
from typing import Any

from tests.standin.server import Reply

SIGNATURE = "c2lnbmF0dXJlLW9mLWEtdGhvdWdodA=="


def _google_error(status: int, message: str, code: str = "INVALID_ARGUMENT") -> Reply:
    return Reply(status, [{"error": {"code": status, "message": message, "status": code}}])


def _echoes_signature(request: dict[str, Any]) -> bool:
    for message in request.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "assistant":
            for call in message.get("tool_calls") or []:
                extra = call.get("extra_content") if isinstance(call, dict) else None
                if not (isinstance(extra, dict) and isinstance(extra.get("google"), dict)
                        and extra["google"].get("thought_signature")):
                    return False
    return True


def gemini_like(path: str, request: dict[str, Any], reply: Reply) -> Reply:
    """The mutation: give it to a stand-in (``server.mutations.append(gemini_like)``)."""
    if not path.endswith("/chat/completions"):
        return reply
    if "store" in request:
        return _google_error(400, 'Invalid JSON payload received. Unknown name "store": Cannot find field.')
    if any(isinstance(m, dict) and m.get("role") == "tool" for m in request.get("messages") or []) \
            and not _echoes_signature(request):
        return _google_error(400, "Function call is missing a thought_signature in functionCall parts.")
    if reply.status >= 400 and isinstance(reply.body, dict) and "error" in reply.body:
        return _google_error(reply.status, str(reply.body["error"].get("message", "")))
    if isinstance(reply.body, dict):
        for choice in reply.body.get("choices") or []:
            calls = (choice.get("message") or {}).get("tool_calls")
            for call in calls or []:
                call["extra_content"] = {"google": {"thought_signature": SIGNATURE}}
            if calls:
                choice["finish_reason"] = "stop"
    if reply.events:
        changed = []
        for event in reply.events:
            try:
                chunk = json.loads(event)
            except ValueError:
                changed.append(event)
                continue
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                for call in delta.get("tool_calls") or []:
                    call.pop("index", None)
                    call["extra_content"] = {"google": {"thought_signature": SIGNATURE}}
                if choice.get("finish_reason") == "tool_calls":
                    choice["finish_reason"] = "stop"
            changed.append(json.dumps(chunk))
        reply.events = changed
    return reply
