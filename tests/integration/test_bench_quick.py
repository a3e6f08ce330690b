"""`xiezuo bench --quick` works (issue 7: CI runs it only to prove that; figures are not judged
here — benchmarks are not timed tests). Every line is one JSON figure with a name, a value and
a unit, and every figure the issue asks for is there."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.once]

WANTED = (
    "intake_csv_2000_rows", "intake_xlsx_10000_rows", "intake_csv_10000_rows_peak_rss",
    "pipeline_warm_latency_small_file", "reprocess_all_files",
)


def test_bench_quick_prints_every_figure(xz_env):
    """Also: it leaves no folder behind. Run as a user runs it, without the test session's Airflow
    home: each section's Airflow then lives in the section's folder (the history section's child
    process once inherited the pipeline section's metadata DB path, and recreated that folder)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k != "XIEZUO_AIRFLOW_HOME"}
    env["PYTHONUNBUFFERED"] = "1"
    folders = lambda: set(Path(tempfile.gettempdir()).glob("xiezuo-bench-*"))  # noqa: E731
    before = folders()
    res = subprocess.run([sys.executable, "-m", "xiezuo.bench", "--quick"], env=env, capture_output=True,
                         text=True, timeout=1800, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    assert folders() - before == set()
    figures = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    names = {f["name"] for f in figures}
    for f in figures:
        assert {"name", "value", "unit"} <= set(f), f
        if "baseline" in f:
            assert f["baseline_name"], f
    missing = [w for w in WANTED if w not in names]
    assert not missing, f"missing figures {missing}; got {sorted(names)}"
    assert any(n.startswith("publish_after_new_file_") for n in names), sorted(names)
    assert any(n == "pipeline_marginal_throughput" for n in names), sorted(names)
    intake = next(f for f in figures if f["name"] == "intake_csv_10000_rows")
    assert intake["value"] > 0 and intake["baseline"] > 0 and intake["copy_logged_rows_per_s"] > 0
