"""No secret is committed (issue 6): every tracked file is searched for credentials in URLs,
private keys, assignments of passwords/keys to real-looking values, and Fernet/API keys. The
example env file may only hold placeholders (`change-me...`)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"^(change-me[\w.-]*|\$\{[^}]+\}|\{\{.*\}\}|<[^>]+>|)$")
PATTERNS = {
    "credentials in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^:/\s@'\"]+:([^@\s'\"]+)@"),
    "a private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "a password or key assignment": re.compile(
        r"(?im)^\s*[\w.]*(?:PASSWORD|SECRET|PII_KEY|FERNET_KEY|TOKEN)[\w]*\s*[=:]\s*['\"]?([^'\"\s#]+)"),
    "a Fernet key": re.compile(r"\b[A-Za-z0-9_-]{43}=(?![\w=])"),
    "an AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
}


def _tracked() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return [REPO / p for p in out.decode().split("\0") if p]


ALLOW = "pragma: allowlist secret"  # on a line whose value is made at run time, for a test


def _hits(text: str) -> list[str]:
    found = []
    for what, pattern in PATTERNS.items():
        for m in pattern.finditer(text):
            line_end = text.find("\n", m.end())
            if ALLOW in text[text.rfind("\n", 0, m.start()) + 1:None if line_end < 0 else line_end]:
                continue
            value = m.group(1) if m.groups() else m.group(0)
            if m.groups() and PLACEHOLDER.match(value):
                continue
            if what == "a password or key assignment" and (value.startswith(("$", "{", "[", "(", "os.environ", "env_var"))
                                                           or re.fullmatch(r"[\w.]+\(.*|None|\"\"|''", value)):
                continue
            found.append(f"{what}: {m.group(0)[:60]!r}")
    return found


def test_the_scanner_finds_what_it_looks_for():
    assert _hits("url = postgresql://app:s3cret@db:5432/x")
    assert _hits("AIRFLOW_FERNET_KEY=ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=")
    assert _hits("-----BEGIN RSA PRIVATE KEY-----")
    assert _hits("XIEZUO_PII_KEY=0123456789abcdef")
    assert not _hits("AIRFLOW_FERNET_KEY=change-me-generate-a-fernet-key")
    assert not _hits("postgresql://postgres@127.0.0.1:5432/postgres")
    assert not _hits(f'TOKEN = "tok-" + os.urandom(8).hex()  # {ALLOW}')


def test_no_secret_in_any_tracked_file():
    found = []
    files = _tracked()
    assert len(files) > 50
    for path in files:
        if not path.is_file() or path.suffix in {".xlsx", ".xls", ".png"} or path == Path(__file__):
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        found += [f"{path.relative_to(REPO)}: {h}" for h in _hits(text)]
    assert not found, "\n".join(found)
