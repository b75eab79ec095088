"""Cases saved as JSON files (by the fuzzer, or by hand): run beside the catalogue with ``--cases-dir``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.cassettes import check_name
from conformance.catalogue.model import Case
from conformance.model.errors import UsageError
from conformance.output import atomic

FIELDS = ("id", "feature", "title", "section", "endpoint", "body")
ENDPOINTS = ("chat/completions", "embeddings")


def case_to_json(case: Case, **extra: Any) -> str:
    data = {"id": case.id, "feature": case.feature, "title": case.title, "section": case.section,
            "endpoint": case.endpoint, "body": case.body, "expect": case.expect.to_dict(), **extra}
    return json.dumps(data, indent=2) + "\n"


def save_case(case: Case, folder: str | Path, **extra: Any) -> Path:
    path = Path(folder) / f"{check_name(case.id)}.json"
    atomic.write_text(path, case_to_json(case, **extra))
    return path


def load_cases(folder: str | Path | None) -> list[Case]:
    if not folder:
        return []
    root = Path(folder)
    if not root.is_dir():
        raise UsageError(f"cases folder {root} not found")
    cases = []
    for path in sorted(root.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            missing = [f for f in FIELDS if f not in data]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            if data["endpoint"] not in ENDPOINTS:
                raise ValueError(f"endpoint {data['endpoint']!r} is not one of {', '.join(ENDPOINTS)}")
            if not isinstance(data["body"], dict):
                raise ValueError("body is not a JSON object")
            check_name(data["id"])
            cases.append(Case(data["id"], data["feature"], data["title"], data["section"], data["endpoint"],
                              data["body"], expect=data.get("expect", {})))
        except UsageError as exc:
            raise UsageError(f"saved case {path}: {exc}") from None
        except RecursionError:
            raise UsageError(f"saved case {path} is unusable (it nests too deeply to read): fix or delete it") \
                from None
        except (OSError, ValueError) as exc:
            raise UsageError(f"saved case {path} is unusable ({str(exc)[:160]}): fix or delete it") from None
    ids = [c.id for c in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise UsageError(f"saved cases in {root} repeat the id(s) {', '.join(duplicates)}: ids must be unique")
    return cases
