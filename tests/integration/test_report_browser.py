"""The dashboard in a real headless browser (Debian's chromium): it opens offline from a file: URL,
every chart mark is laid out (the page's own script measures them), and the screenshot holds the
bars' and lines' colours. The screenshot is kept under the test's tmp dir (dashboard.png)."""
from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from tests.integration.test_report import CITY, make_marts

pytestmark = [pytest.mark.integration, pytest.mark.once]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium fonts-noto-cjk)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--window-size=1300,1700"]


def chromium(page: Path, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="xz-chromium-") as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                              capture_output=True, text=True, timeout=180, check=True)


def read_png(path: Path) -> np.ndarray:
    """RGB(A) 8-bit non-interlaced PNG → array (h, w, channels); what chromium writes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    out = np.zeros((h, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1).astype(np.int32)
        if f == 0:
            cur = line
        elif f == 1:  # Sub: a running sum per channel
            cur = (np.cumsum(line.reshape(w, bpp), axis=0) % 256).reshape(-1)
        elif f == 2:
            cur = (line + prev) % 256
        else:  # Average / Paeth: sequential along the row
            cur = np.zeros(stride, dtype=np.int32)
            lst, up = line.tolist(), prev.tolist()
            c = [0] * stride
            for i in range(stride):
                a = c[i - bpp] if i >= bpp else 0
                b = up[i]
                if f == 3:
                    c[i] = (lst[i] + (a + b) // 2) & 255
                else:
                    cc = up[i - bpp] if i >= bpp else 0
                    p = a + b - cc
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                    c[i] = (lst[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else cc)) & 255
            cur = np.array(c, dtype=np.int32)
        out[y] = cur
        prev = cur
    return out.reshape(h, w, bpp)


def pixels_of(img: np.ndarray, hex_color: str) -> int:
    rgb = [int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]
    return int(np.all(img[:, :, :3] == rgb, axis=2).sum())


@pytest.fixture
def dashboard(xz_env) -> Path:
    from xiezuo.report import write_report
    from xiezuo.warehouse.database import engine

    with engine().begin() as conn:
        make_marts(conn)
        # a trend to draw: the city's investment in January and February as well
        conn.execute(sa.text("insert into marts.indicator_monthly values (:a, 'industry_investment', :m, :v, :v, :v)"),
                     [{"a": CITY, "m": date(2025, 1, 1), "v": 9000}, {"a": CITY, "m": date(2025, 2, 1), "v": 12956.28}])
    return write_report("2025-03", xz_env["tmp"] / "report").dashboard


@needs_chromium
def test_dashboard_draws_in_a_headless_browser(dashboard, tmp_path):
    from xiezuo.report.dashboard import BLUE, GREEN, ORANGE

    source = dashboard.read_text(encoding="utf-8")
    marks = len(re.findall(r"data-value=", source))
    # progress bars (investment 4, consumer 2, green power 1) + the city's monthly dots (investment Jan–Mar,
    # consumer, tourism in Feb, employment, education)
    assert marks == (4 + 2 + 1) + (3 + 1 + 1 + 1 + 1)

    dom = chromium(dashboard, "--dump-dom").stdout
    drawn = re.search(r'<html[^>]*data-marks-drawn="(\d+)"', dom)
    total = re.search(r'<html[^>]*data-marks-total="(\d+)"', dom)
    assert drawn and total, "the page's script did not run"
    assert int(drawn.group(1)) == int(total.group(1)) == marks

    shot = tmp_path / "dashboard.png"
    chromium(dashboard, f"--screenshot={shot}")
    img = read_png(shot)
    assert img.shape[:2] == (1700, 1300)
    green, orange, blue = pixels_of(img, GREEN), pixels_of(img, ORANGE), pixels_of(img, BLUE)
    # bars are 16 px high: on-track bars (city 29 %, 奈曼旗 and 科左中旗 50 %, 奈曼旗 25 %, green power 30 %)
    # are far wider than 20 px each; behind (科尔沁区 20 %, city consumer 10 %) too; the trend has a line
    assert green > 5 * 16 * 20 and orange > 2 * 16 * 10 and blue > 100, (green, orange, blue)
    # the longest green bar (50 %) is longer than the orange one (20 %) in the same chart's rows
    rows_green = np.all(img[:, :, :3] == [int(GREEN[i:i + 2], 16) for i in (1, 3, 5)], axis=2).sum(axis=1)
    rows_orange = np.all(img[:, :, :3] == [int(ORANGE[i:i + 2], 16) for i in (1, 3, 5)], axis=2).sum(axis=1)
    assert rows_green.max() > 2 * rows_orange.max() > 0
