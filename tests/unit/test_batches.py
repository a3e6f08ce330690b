"""Mapped intake batches run in parallel, in no set order: a county's files must stay together,
oldest first, or a correction could be processed before its original (found by the soak)."""
from __future__ import annotations

from xiezuo.pipeline import pack_batches


def _files(spec: str) -> list[dict]:
    """'AAB' → files of counties A, A, B in drop order."""
    return [{"path": f"/inbox/{c}/{i}.xlsx", "county_code": c if c != "-" else None} for i, c in enumerate(spec)]


def test_a_countys_files_stay_in_one_batch_in_drop_order():
    found = _files("ABCABCAAB-C")
    batches = pack_batches(found, batch_files=4)
    for county in "ABC-":
        code = None if county == "-" else county
        holding = [b for b in batches if any(f["county_code"] == code for f in b)]
        assert len(holding) == 1, (county, batches)
        mine = [f for f in holding[0] if f["county_code"] == code]
        assert mine == [f for f in found if f["county_code"] == code], "oldest first"
    assert sorted(f["path"] for b in batches for f in b) == sorted(f["path"] for f in found), "none lost"


def test_small_counties_share_a_batch_and_a_big_one_gets_its_own():
    batches = pack_batches(_files("AB" + "C" * 7 + "D"), batch_files=4)
    assert [[f["county_code"] for f in b] for b in batches] == [["A", "B"], ["C"] * 7, ["D"]]
    assert pack_batches([], batch_files=4) == []
