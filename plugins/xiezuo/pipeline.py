"""The steps the DAGs run. DAG files only wire these together; the CLI only runs the DAGs."""
from __future__ import annotations

import logging
import traceback
from dataclasses import asdict

from .config import settings

log = logging.getLogger(__name__)
BATCH_FILES = 20  # many small ledgers share one mapped task


def prepare_warehouse() -> None:
    from .warehouse import raw
    from .warehouse.database import engine

    from .warehouse.roles import ensure_roles

    with engine().begin() as conn:
        raw.ensure_schema(conn)
        ensure_roles(conn)


def find_batches(batch_files: int = BATCH_FILES) -> list[list[dict]]:
    """Settled files in the inbox, in batches for mapped tasks (empty: nothing to do)."""
    from .intake.discover import discover

    s = settings()
    return pack_batches([c.to_task() for c in discover(s.inbox, s.settle_seconds)], batch_files)


def pack_batches(found: list[dict], batch_files: int = BATCH_FILES) -> list[list[dict]]:
    """Batches run in parallel and in no set order, but a county's files must be processed in the
    order they were dropped: a correction or a duplicate after its original. So all of a county's
    files go into one batch, oldest first; whole counties are packed up to `batch_files` per batch
    (a county with more files than that gets a batch of its own). Files of no county are one group."""
    groups: dict[str | None, list[dict]] = {}
    for item in found:  # oldest first (discover)
        groups.setdefault(item["county_code"], []).append(item)
    batches: list[list[dict]] = []
    for group in groups.values():
        if batches and len(batches[-1]) + len(group) <= batch_files:
            batches[-1].extend(group)
        else:
            batches.append(list(group))
    return batches


def process_batch(batch: list[dict]) -> list[dict]:
    """Process each file; one file's unexpected failure never blocks the others in the batch.
    A file that failed that way stays in the inbox and is tried again on the next run."""
    from .intake.discover import Candidate
    from .intake.process import process

    outcomes = []
    failures = []
    for item in batch:
        cand = Candidate.from_task(item)
        try:
            outcomes.append(asdict(process(cand)))
        except Exception as exc:  # noqa: BLE001 - reported below, the file stays for a retry
            log.error("processing %s failed; it stays in the inbox for the next run:\n%s",
                      item["path"], traceback.format_exc())
            failures.append({"file": item["path"], "error": f"{type(exc).__name__}: {exc}"})
    if failures and not outcomes:
        raise RuntimeError(f"every file of the batch failed: {failures}")
    return outcomes + [{"file": f["file"], "status": "failed", "error": f["error"]} for f in failures]


def failed_files(results: list[list[dict] | None]) -> list[str]:
    """Files whose processing failed (a mapped task that failed entirely left None)."""
    out = []
    for batch in results:
        if batch is None:
            out.append("(a whole batch: see the process_batch task log)")
            continue
        out += [o["file"] for o in batch if o["status"] == "failed"]
    return out


def finish_intake(results: list[list[dict]]) -> dict:
    from .quality.context import build_data_docs

    flat = [o for batch in results or [] for o in (batch or [])]
    counts: dict[str, int] = {}
    for o in flat:
        counts[o["status"]] = counts.get(o["status"], 0) + 1
    if flat:
        build_data_docs()
    log.info("intake finished: %s", counts or "no files")
    return {"files": len(flat), "counts": counts,
            "loaded": sum(1 for o in flat if o["status"] in ("accepted", "accepted_with_warnings"))}


class MartGateRefused(RuntimeError):
    """The mart gate failed: the published marts stay as they were."""


def gate_marts() -> None:
    from .quality.marts_gate import run_mart_gate
    from .warehouse.transform import BUILD

    import json

    result = run_mart_gate(BUILD)
    (settings().home / "last_mart_gate.json").write_text(json.dumps(
        {"success": result.success, "message": result.message() if not result.success else None},
        ensure_ascii=False), encoding="utf-8")
    if not result.success:
        raise MartGateRefused(result.message())
