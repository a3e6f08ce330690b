"""A hostile and broken input corpus (issue 6, item 1), generated here: nothing is checked in.

Each `Hostile` case writes one thing into an inbox (a file, a link, a folder) and says what the
pipeline must make of it: a refusal with a given rule, acceptance, or being left alone. The files
that are meant to be big on the inside (zip bombs, a sheet that claims a huge range) stay small on
disk; the two 50 MB CSVs are the only big ones and sit right on either side of the size limit.
"""
from __future__ import annotations

import csv
import io
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tests.helpers import INVESTMENT_HEADER, investment_ledger, investment_rows, settle

NM = "150525"            # 奈曼旗, by code
KQ = "科尔沁区"           # by name
TITLE = "奈曼旗2025年3月产业合作项目台账"
MIB = 1024 * 1024
EXCEL_MAX_COLUMNS = 16384
EXCEL_MAX_CELL_CHARS = 32767
FORMULAS = ('=HYPERLINK("http://evil.example/x","点击查看")', "=cmd|' /C calc'!A0", "+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1")
SQL_HEADERS = ('"; DROP TABLE raw.submissions; --', "备注'); DROP TABLE raw.investment_rows;--")


@dataclass
class Hostile:
    id: str
    folder: str                       # the county folder under the inbox ("" = the inbox root)
    name: str | bytes                 # bytes: a name that is not valid UTF-8
    build: Callable[[Path], None]     # writes the thing at the given path
    status: str = "rejected"          # rejected | accepted | accepted_with_warnings | ignored
    rule: str | None = None           # the one file-level rule of a refusal (None: row-level errors)
    rules: set[str] = field(default_factory=set)  # row-level rules that must all be among the errors
    receipt_in: str | None = None     # folder whose 回执/ gets the receipt (default: `folder`)
    archived: bool = True             # the original's bytes are in the archive
    sensitive: bool = False           # links to a system file whose bytes must never be copied anywhere

    def path(self, inbox: Path) -> Path:
        folder = inbox / self.folder if self.folder else inbox
        if isinstance(self.name, bytes):
            return Path(os.fsdecode(os.path.join(os.fsencode(folder), self.name)))
        return folder / self.name

    @property
    def fs_name(self) -> str:
        """The name as Python sees it on this filesystem (surrogate-escaped when not UTF-8)."""
        return os.fsdecode(self.name) if isinstance(self.name, bytes) else self.name

    def write(self, inbox: Path) -> Path:
        path = self.path(inbox)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.build(path)
        if path.exists() or path.is_symlink():
            settle(path)
        return path


# -- builders ----------------------------------------------------------------------------------

def _xlsx(rows: list[list], *, strings_as_text: bool = False) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        for r, row in enumerate(rows, 1):
            for c, v in enumerate(row, 1):
                if v is None or v == "":
                    continue
                cell = ws.cell(row=r, column=c, value=v)
                if strings_as_text and isinstance(v, str):
                    cell.data_type = "s"  # as typed after an apostrophe: text, not a formula
        wb.properties.title = path.name
        wb.save(path)
    return build


def _csv(rows: list[list], encoding: str = "utf-8") -> Callable[[Path], None]:
    def build(path: Path) -> None:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows(rows)
        path.write_bytes(buf.getvalue().encode(encoding))
    return build


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def good_ledger() -> list[list]:
    return investment_ledger()


def _csv_ledger(rows=None, title=TITLE, header=None) -> list[list]:
    return [[title], header or INVESTMENT_HEADER, *(rows if rows is not None else investment_rows())]


def zip_bomb_honest(path: Path, gib: int = 2) -> None:
    """An .xlsx whose sheet inflates to `gib` GiB of zeros (declared so in the zip), ~2 MB on disk.
    The deflate stream is built once, chunk by chunk, never holding the inflated data."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"0" * (16 * MIB)
    parts, crc = [], 0
    for _ in range(gib * 64):
        parts.append(comp.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    parts.append(comp.flush())
    data = b"".join(parts)
    _raw_zip(path, [("[Content_Types].xml", b"<Types/>", None),
                    ("xl/worksheets/sheet1.xml", data, (crc, gib * 1024 * MIB))])


def zip_bomb_lying(path: Path) -> None:
    """The same kind of sheet (64 MiB of zeros) in a zip that declares it as 1 000 bytes."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = b"".join(comp.compress(b"0" * MIB) for _ in range(64)) + comp.flush()
    _raw_zip(path, [("[Content_Types].xml", b"<Types/>", None),
                    ("xl/worksheets/sheet1.xml", data, (0, 1000))])


def zip_bomb_overlap(path: Path, copies: int = 2000) -> None:
    """Many central-directory entries pointing at one 8 MiB member (the 'overlapping files' bomb)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    plain = b"0" * (8 * MIB)
    data = comp.compress(plain) + comp.flush()
    crc, name = zlib.crc32(plain), b"xl/worksheets/sheet1.xml"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), len(plain), len(name), 0) + name
    central = b""
    for i in range(copies):
        n = name if i == 0 else f"xl/worksheets/sheet{i + 1}.xml".encode()
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), len(plain),
                               len(n), 0, 0, 0, 0, 0, 0) + n
    body = local + data
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, copies, copies, len(central), len(body), 0)
    path.write_bytes(body + central + end)


def _raw_zip(path: Path, members: list[tuple[str, bytes, tuple[int, int] | None]]) -> None:
    """A zip written by hand: (name, deflated data or plain bytes, (crc, declared size) or None
    for a small member stored deflated here)."""
    out, central = b"", b""
    for name, data, declared in members:
        if declared is None:
            plain = data
            comp = zlib.compressobj(9, zlib.DEFLATED, -15)
            data = comp.compress(plain) + comp.flush()
            declared = (zlib.crc32(plain), len(plain))
        crc, size = declared
        n = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(n), 0) + n + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), size,
                               len(n), 0, 0, 0, 0, 0, offset) + n
    path.write_bytes(out + central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                                                   len(central), len(out), 0))


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal Compound File (OLE2), version 3, 512-byte sectors, every stream padded to at least
    4096 bytes so no mini-stream is needed. What Excel writes for a password-protected .xlsx is
    such a container with the streams `EncryptionInfo` and `EncryptedPackage`."""
    body, fat, dir_entries = b"", [], []
    for name, data in streams.items():
        data = data + b"\0" * (max(4096, -(-len(data) // 512) * 512) - len(data))
        start, n = len(body) // 512, len(data) // 512
        fat += [start + i + 1 for i in range(n - 1)] + [0xFFFFFFFE]
        dir_entries.append((name, start, len(data)))
        body += data
    dir_sec = len(body) // 512
    entries = 1 + len(dir_entries)
    dir_sectors = -(-entries // 4)
    fat += [dir_sec + i + 1 for i in range(dir_sectors - 1)] + [0xFFFFFFFE]
    fat_start = dir_sec + dir_sectors
    fat_sectors = 1
    while len(fat) + fat_sectors > 128 * fat_sectors:
        fat_sectors += 1
    fat += [0xFFFFFFFD] * fat_sectors
    fat += [0xFFFFFFFF] * (128 * fat_sectors - len(fat))
    difat = [fat_start + i for i in range(fat_sectors)] + [0xFFFFFFFF] * (109 - fat_sectors)
    header = (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, fat_sectors, dir_sec, 0, 0x1000, 0xFFFFFFFE, 0,
                                        0xFFFFFFFE, 0) + struct.pack("<109I", *difat))

    def entry(name, typ, left, right, child, start, size):
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), typ, 1) + struct.pack("<III", left, right, child)
                + b"\0" * 36 + struct.pack("<IQ", start, size))

    none = 0xFFFFFFFF
    # The children hang off the root as a right-leaning chain (a valid, if unbalanced, red-black tree).
    directory = entry("Root Entry", 5, none, none, 1 if dir_entries else none, 0xFFFFFFFE, 0)
    for i, (name, start, size) in enumerate(dir_entries):
        right = i + 2 if i + 1 < len(dir_entries) else none
        directory += entry(name, 2, none, right, none, start, size)
    empty = b"\0" * 64 + struct.pack("<HBB", 0, 0, 0) + struct.pack("<III", none, none, none) + b"\0" * 36 + struct.pack("<IQ", 0, 0)
    directory += empty * (dir_sectors * 4 - entries)
    return header + body + directory + struct.pack(f"<{128 * fat_sectors}I", *fat)


def encrypted_xlsx(path: Path) -> None:
    info = struct.pack("<HHI", 4, 4, 0x40) + b'<?xml version="1.0"?><encryption xmlns="http://schemas.microsoft.com/office/2006/encryption"/>'
    package = struct.pack("<Q", 9000) + os.urandom(9008)
    path.write_bytes(cfb({"EncryptionInfo": info, "EncryptedPackage": package}))


ELF = b"\x7fELF\x02\x01\x01\0" + b"\0" * 8 + struct.pack("<HHI", 2, 62, 1) + os.urandom(4000)  # noqa: E501
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)


def plain_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("readme.txt", "这不是 Excel 文件")


def far_cell_xlsx(path: Path) -> None:
    """A tiny workbook with the ledger at the top and one stray cell at XFD1048576: read densely,
    the sheet would be 1 048 576 × 16 384 cells."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in good_ledger():
        ws.append(row)
    ws.cell(row=1048576, column=16384, value="x")
    wb.save(path)


def million_columns(path: Path) -> None:
    """A header row of the ledger followed by a million more columns (~8 MB)."""
    extra = ",".join(f"c{i}" for i in range(1_000_000))
    lines = [TITLE, ",".join(INVESTMENT_HEADER) + "," + extra]
    lines += [",".join(str(v) for v in r) for r in investment_rows()]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def one_line(size: int) -> Callable[[Path], None]:
    """A CSV that is one single line of `size` bytes (one huge cell), written in blocks."""
    def build(path: Path) -> None:
        with open(path, "wb") as f:
            block = ("台账" * 1000).encode()  # 6 000 bytes of valid UTF-8
            left = size - 2
            while left >= len(block):
                f.write(block)
                left -= len(block)
            f.write(b"x" * left + b"\r\n")
        assert path.stat().st_size == size
    return build


def formula_xlsx_cells(path: Path) -> None:
    """Real formula cells (no cached value) where text is required: =HYPERLINK and DDE."""
    rows = investment_ledger()
    rows[3][2] = FORMULAS[0]       # 项目名称 of data row 1 (Excel row 4)
    rows[4][4] = FORMULAS[1]       # 合作企业 of data row 2 (Excel row 5)
    _xlsx(rows)(path)


def formula_text_enums_csv(path: Path) -> None:
    """Formula-looking text in enum columns (so every one is echoed back in an error), in a header
    (so it is echoed in the extra-columns warning) — and a SQL-looking header too."""
    header = INVESTMENT_HEADER + ["=cmd|' /C calc'!A0"]
    rows = []
    for i, f in enumerate(FORMULAS[:5]):
        base = investment_rows()[i % 3]
        row = list(base) + [f]
        row[1] = f"NM-{i:03d}"
        row[3] = f                  # 项目类型: an enum, so the value is echoed
        rows.append(row)
    rows[0][13] = FORMULAS[5]       # 项目状态 with a leading tab
    _csv(_csv_ledger(rows, header=header))(path)


def formula_text_accepted_xlsx(path: Path) -> None:
    """Formula-looking text typed as text in free-text columns: a valid ledger, accepted."""
    rows = investment_ledger("科尔沁区2025年2月产业合作项目台账")
    rows[3][2] = FORMULAS[0]
    rows[4][2] = FORMULAS[2]
    rows[5][4] = "@SUM(A1:A9)"
    _xlsx(rows, strings_as_text=True)(path)


def sql_headers_csv(path: Path) -> None:
    header = INVESTMENT_HEADER + list(SQL_HEADERS)
    rows = [list(r) + ["'; DELETE FROM raw.submissions; --", "x"] for r in investment_rows()]
    rows[0][2] = "Robert'); DROP TABLE raw.investment_rows;--"
    _csv(_csv_ledger(rows, header=header))(path)


def extreme_numbers_xlsx(path: Path) -> None:
    rows = investment_ledger("开鲁县2025年2月产业合作项目台账")
    rows[3][8] = 1e308                      # 计划总投资 (Excel row 4)
    rows[3][9] = "1" + "0" * 40             # 本月到位投资: a 41-digit number as text
    rows[4][8] = -1e308
    rows[4][9] = "1e400"
    rows[5][8] = "NaN"
    rows[5][9] = "Infinity"
    rows[5][11] = str(10 ** 40)             # 带动农户 (whole number)
    _xlsx(rows)(path)


def long_text(n: int, fmt: str, title: str = "科尔沁区2025年3月产业合作项目台账") -> Callable[[Path], None]:
    """项目名称 of Excel row 5 (CSV line 5) holds n characters. openpyxl cuts strings at Excel's
    32 767, so a longer one is put into the sheet XML by hand, as any other program could."""
    def build(path: Path) -> None:
        rows = investment_ledger(title)
        rows[4][2] = "LONGCELL" if fmt == "xlsx" else _varied_text(n)
        if fmt == "csv":
            return _csv(rows)(path)
        _xlsx(rows)(path)
        with zipfile.ZipFile(path) as z:
            members = [(i, z.read(i)) for i in z.infolist()]
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for info, data in members:
                z.writestr(info, data.replace(b"LONGCELL", _varied_text(n).encode()))
    return build


def _varied_text(n: int) -> str:
    """n CJK characters that do not compress 20:1 (a cell of one repeated character would make
    the workbook a zip bomb by ratio, which is another case)."""
    import random

    rnd = random.Random(n)
    return "".join(chr(0x4E00 + rnd.randrange(20000)) for _ in range(n))


def symlink_to(target: str) -> Callable[[Path], None]:
    return lambda path: os.symlink(target, path)


def cases(max_file_mb: float = 50) -> list[Hostile]:
    limit = int(max_file_mb * MIB)
    c = [
        # --- refused before parsing: zip bombs, passwords, renamed binaries, sizes -------------
        Hostile("zip-bomb-honest", NM, "奈曼旗2025年3月产业合作项目台账-炸弹.xlsx", zip_bomb_honest, rule="zip_bomb"),
        Hostile("zip-bomb-lying", NM, "奈曼旗2025年3月产业合作项目台账-谎报.xlsx", zip_bomb_lying, rule="unreadable"),
        Hostile("zip-bomb-overlap", NM, "奈曼旗2025年3月产业合作项目台账-重叠.xlsx", zip_bomb_overlap, rule="zip_bomb"),
        Hostile("password-xlsx", NM, "奈曼旗2025年3月产业合作项目台账-加密.xlsx", encrypted_xlsx, rule="password"),
        Hostile("elf-as-xlsx", NM, "奈曼旗2025年3月产业合作项目台账-程序.xlsx", _bytes(ELF), rule="unreadable"),
        Hostile("png-as-xls", NM, "奈曼旗2025年3月产业合作项目台账-图片.xls", _bytes(PNG), rule="unreadable"),
        Hostile("elf-as-csv", NM, "奈曼旗2025年3月产业合作项目台账-程序.csv", _bytes(ELF + b"csv"), rule="encoding"),
        Hostile("zip-as-xlsx", NM, "奈曼旗2025年3月产业合作项目台账-压缩包.xlsx", plain_zip, rule="unreadable"),
        Hostile("empty-xlsx", NM, "奈曼旗2025年3月产业合作项目台账-空.xlsx", _bytes(b""), rule="unreadable"),
        Hostile("nul-csv", NM, "奈曼旗2025年3月产业合作项目台账-空字符.csv",
                _bytes("项目编号,项目名称\r\nNM-001,\0\0\0\r\n".encode()), rule="encoding"),
        Hostile("far-cell-xlsx", NM, "奈曼旗2025年3月产业合作项目台账-远处单元格.xlsx", far_cell_xlsx, rule="sheet_too_large"),
        Hostile("million-columns-csv", NM, "奈曼旗2025年3月产业合作项目台账-百万列.csv", million_columns,
                rule="too_many_columns"),
        Hostile("one-line-over-limit", KQ, "科尔沁区2025年3月产业合作项目台账-超限.csv", one_line(limit + 1),
                rule="too_large"),
        Hostile("one-line-at-limit", KQ, "科尔沁区2025年3月产业合作项目台账-单行.csv", one_line(limit),
                rule="cell_too_long"),
        Hostile("long-cell-xlsx", KQ, "科尔沁区2025年3月产业合作项目台账-长文本.xlsx", long_text(100_000, "xlsx"),
                rule="cell_too_long"),
        Hostile("max-cell-xlsx", "科左中旗", "科左中旗2025年3月产业合作项目台账-最长文本.xlsx",
                long_text(EXCEL_MAX_CELL_CHARS, "xlsx", "科左中旗2025年3月产业合作项目台账"), status="accepted"),
        Hostile("long-cell-csv", KQ, "科尔沁区2025年3月产业合作项目台账-长文本.csv", long_text(200_000, "csv"),
                rule="cell_too_long"),
        # --- parsed, with row-level verdicts ----------------------------------------------------
        Hostile("formula-cells-xlsx", NM, "奈曼旗2025年3月产业合作项目台账-公式.xlsx", formula_xlsx_cells,
                rules={"required"}),
        Hostile("formula-text-csv", NM, "奈曼旗2025年3月产业合作项目台账-公式文本.csv", formula_text_enums_csv,
                rules={"enum"}),
        Hostile("formula-text-accepted", KQ, "科尔沁区2025年2月产业合作项目台账-公式文本.xlsx",
                formula_text_accepted_xlsx, status="accepted"),
        Hostile("formula-file-name", KQ, '=HYPERLINK("http:evil")科尔沁区2025年1月产业合作项目台账.csv',
                _csv(_csv_ledger(title="科尔沁区2025年1月产业合作项目台账")), status="accepted"),
        Hostile("sql-headers", "开鲁县", "开鲁县2025年3月产业合作项目台账.csv", sql_headers_csv,
                status="accepted_with_warnings"),
        Hostile("extreme-numbers", "开鲁县", "开鲁县2025年2月产业合作项目台账-极值.xlsx", extreme_numbers_xlsx,
                rules={"type_number"}),
        # --- names ------------------------------------------------------------------------------
        Hostile("dot-dot-name", NM, "..奈曼旗2025年3月产业合作项目台账.xlsx", _xlsx(good_ledger()), status="ignored"),
        Hostile("lock-file", NM, "~$奈曼旗2025年3月产业合作项目台账.xlsx", _bytes(b"\0" * 165), status="ignored"),
        Hostile("backslash-dot-dot-name", "150523", "..\\..\\奈曼旗2025年3月产业合作项目台账.csv",
                _bytes(b"x"), status="ignored"),
        Hostile("backslashes-inside", "扎鲁特", "扎鲁特旗\\..\\..\\2025年3月产业合作项目台账.csv",
                _csv(_csv_ledger(title="扎鲁特旗2025年3月产业合作项目台账")), status="accepted"),
        Hostile("spaces", "扎鲁特", "  扎鲁特旗 2025年2月  产业合作项目台账 .xlsx",
                _xlsx(investment_ledger("扎鲁特旗2025年2月产业合作项目台账")), status="accepted"),
        Hostile("newline-name", "扎鲁特", "扎鲁特旗2025年1月\n产业合作项目台账.csv",
                _csv(_csv_ledger(title="扎鲁特旗2025年1月产业合作项目台账")), status="accepted"),
        Hostile("name-255-bytes", "150524", _long_name("库伦旗2025年3月产业合作项目台账", ".xlsx"),
                _xlsx(investment_ledger("库伦旗2025年3月产业合作项目台账")), status="accepted"),
        Hostile("name-gbk-bytes", "150524", "库伦旗2025年2月产业合作项目台账.xlsx".encode("gb18030"),
                _xlsx(investment_ledger("库伦旗2025年2月产业合作项目台账")), rule="file_name"),
        Hostile("name-junk-bytes", "150524", b"\xff\xfe\x80 2025-01 investment.csv",
                _csv(_csv_ledger(title="库伦旗2025年1月产业合作项目台账")), rule="file_name"),
        # --- links into the system -------------------------------------------------------------
        Hostile("symlink-etc-passwd", NM, "奈曼旗2025年4月产业合作项目台账.csv", symlink_to("/etc/passwd"),
                rule="not_regular_file", archived=False, sensitive=Path("/etc/passwd").exists()),
        Hostile("symlink-dir", NM, "奈曼旗2025年5月产业合作项目台账.xlsx", symlink_to("/etc"),
                rule="not_regular_file", archived=False),
        Hostile("symlink-dangling", NM, "奈曼旗2025年6月产业合作项目台账.xlsx", symlink_to("/nonexistent/x.xlsx"),
                rule="not_regular_file", archived=False),
        Hostile("symlink-county-folder", "", "150502", symlink_to("/etc"), rule="not_regular_file",
                receipt_in="_unassigned", archived=False),
        Hostile("sql-folder", "'; DROP TABLE raw.submissions; --", "2025年3月产业合作项目台账.csv",
                _csv(_csv_ledger()), rule="unassigned", receipt_in="_unassigned"),
    ]
    return c


def _long_name(stem: str, suffix: str, size: int = 255) -> str:
    """A name of exactly `size` bytes in UTF-8 (the most ext4 allows)."""
    fill = size - len((stem + suffix).encode())
    name = stem + "台" * (fill // 3) + "x" * (fill % 3) + suffix
    assert len(name.encode()) == size
    return name


def good_case() -> Hostile:
    return Hostile("good", NM, f"{TITLE}.xlsx", _xlsx(good_ledger()), status="accepted")
