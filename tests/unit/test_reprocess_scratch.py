"""Reprocess re-reads each original from a copy made in a folder of the run's own under
XIEZUO_HOME (ops/reprocess.py `_scratch`): gone when the run ends, and a run removes what runs of
this host left when they were killed — never the folder of a live run, nor another host's (a
shared XIEZUO_HOME: their process ids mean nothing here)."""
from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys

from xiezuo.ops import reprocess as R


def test_a_runs_folder_goes_with_it_and_dead_runs_of_this_host_are_swept(tmp_path, monkeypatch):
    monkeypatch.setenv("XIEZUO_HOME", str(tmp_path))
    root = tmp_path / "scratch"
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    host = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:12]
    other_host = hashlib.sha256(f"{socket.gethostname()}-2".encode()).hexdigest()[:12]
    dead, live, other = (f"reprocess-{host}-{ended.pid}-a", f"reprocess-{host}-{os.getppid()}-b",
                         f"reprocess-{other_host}-{ended.pid}-c")
    for name in (dead, live, other):
        (root / name).mkdir(parents=True)
        (root / name / "台账.xlsx").write_bytes(b"a copy")

    with R._scratch() as run:
        assert R._SCRATCH["dir"] == run and run.parent == root
        assert run.name.startswith(f"reprocess-{host}-{os.getpid()}-")
        (run / "copy-x").mkdir()
        (run / "copy-x" / "台账.xlsx").write_bytes(b"a copy")
    assert not run.exists() and R._SCRATCH["dir"] is None
    assert sorted(p.name for p in root.iterdir()) == sorted([live, other])
