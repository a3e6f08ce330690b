"""The archive of originals: the one place that keeps files as dropped (0700, by SHA-256)."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path


def _open_no_link(path: Path):
    """Open for reading, refusing a symbolic link (ELOOP): the intake checked with lstat that
    this is a regular file; a link swapped in after that check is not followed either."""
    return os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with _open_no_link(path) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ensure_archive(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    return root


def archive_path(root: Path, sha256: str, suffix: str) -> Path:
    return root / sha256[:2] / f"{sha256}{suffix.lower()}"


def store(root: Path, src: Path, sha256: str) -> Path:
    """Copy the original into the archive (idempotent: the same bytes land in the same place)."""
    ensure_archive(root)
    dest = archive_path(root, sha256, src.suffix)
    if dest.exists():
        return dest
    dest.parent.mkdir(mode=0o700, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with _open_no_link(src) as fin, open(tmp, "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
    os.chmod(tmp, 0o600)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
    return dest
