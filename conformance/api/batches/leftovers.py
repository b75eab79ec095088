"""What a live run made on the server and has not removed yet (the Batch API's uploaded files and running batches).

Each process of a run keeps its own ledger file in the report folder, rewritten whole at every change, so that a
run stopped at any point (Ctrl-C, a killed worker) still says what it left behind: the run command gathers the
ledgers when it ends, however it ends, and prints what is left and how to remove it. Nothing secret goes in: ids,
what they were for, and the case and surface that made them.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LEDGER_GLOB = ".left-on-server.*.json"
SUMMARY_NAME = "left-on-server.json"


@dataclass
class Ledger:
    """One lifecycle's ledger (a case on a surface), kept in its process's file beside the others'."""

    folder: Path
    case: str
    surface: str
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.folder / f".left-on-server.{os.getpid()}.json"

    def add(self, kind: str, resource_id: str, what: str) -> None:
        self.items[self._key(kind, resource_id)] = {"kind": kind, "id": resource_id, "what": what,
                                                    "case": self.case, "surface": self.surface}
        self._save()

    def remove(self, kind: str, resource_id: str) -> None:
        if self.items.pop(self._key(kind, resource_id), None) is not None:
            self._save()

    def _key(self, kind: str, resource_id: str) -> str:
        """A file and a batch may share an id, and so may two lifecycles' resources: each entry is its own."""
        return json.dumps([self.case, self.surface, kind, resource_id])

    def _save(self) -> None:
        """Merged with what this process's other lifecycles left (one file per process, one ledger per case and
        surface)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        mine = {k: v for k, v in _read(self.path).items()
                if (v.get("case"), v.get("surface")) != (self.case, self.surface)}
        mine.update(self.items)
        if not mine:
            self.path.unlink(missing_ok=True)
            return
        fd, temp = tempfile.mkstemp(prefix=".left-on-server.", suffix=".tmp", dir=self.folder)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(mine, out, indent=1)
        os.replace(temp, self.path)


def _read(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def gather(folder: Path) -> list[dict[str, Any]]:
    """Every process's ledger in ``folder`` merged into one summary file (removed when nothing is left)."""
    items: dict[str, dict[str, Any]] = {}
    ledgers = sorted(folder.glob(LEDGER_GLOB)) if folder.is_dir() else []
    for ledger in ledgers:
        items.update(_read(ledger))
    summary = folder / SUMMARY_NAME
    if items:
        fd, temp = tempfile.mkstemp(prefix=".left-on-server.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(sorted(items.values(), key=lambda v: (v["case"], v["surface"], v["id"])), out, indent=1)
        os.replace(temp, summary)
    else:
        summary.unlink(missing_ok=True)
    for ledger in ledgers:
        ledger.unlink(missing_ok=True)
    return sorted(items.values(), key=lambda v: (v["case"], v["surface"], v["id"]))


def describe(items: list[dict[str, Any]], base_url: str, summary: Path) -> str:
    """What a user reads: each thing left, and the request that removes it."""
    base = base_url.rstrip("/")
    lines = [f"conformance: the server still holds {len(items)} thing(s) this run made and could not remove "
             f"(listed in {summary}):"]
    for item in items:
        if item["kind"] == "pending":  # stopped while the answer that names it was in flight
            where = "files" if item["id"] == "upload" else "batches"
            lines.append(f"  {item['what']} ({item['case']} on {item['surface']}); look for it with GET "
                         f"{base}/{where}")
            continue
        from conformance.api.operation import segment

        how = f"DELETE {base}/files/{segment(str(item['id']))}" if item["kind"] == "file" else \
            f"POST {base}/batches/{segment(str(item['id']))}/cancel (batches cannot be deleted)"
        lines.append(f"  {item['kind']} {item['id']}: {item['what']} ({item['case']} on {item['surface']}); "
                     f"remove with {how}")
    return "\n".join(lines)
