"""Both decode paths give exactly what cantools decodes (decode_choices=False, allow_truncated=True)."""

from __future__ import annotations

from pathlib import Path

import cantools
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.decode import decode_batch, decode_frame
from edge.plan import compile_plan
from tests.conftest import SAMPLE_DBC
from vehicle_ds.dbc import load_database
from vehicle_ds.policy import load_policy

OPENDBC = ["tesla_model3_party.dbc", "hyundai_2015_ccan.dbc", "toyota_nodsu_pt_generated.dbc", "vw_mqb.dbc",
           "honda_civic_touring_2016_can_generated.dbc", "gm_global_a_powertrain_generated.dbc", "psa_aee2010_r3.dbc"]


def _databases() -> list[Path]:
    paths = [SAMPLE_DBC]
    try:
        import opendbc
    except ImportError:
        return paths
    base = Path(opendbc.__file__).parent / "dbc"
    return paths + [base / n for n in OPENDBC if (base / n).exists()]


def _pairs(path: Path):
    loaded = load_database(path)
    plan = compile_plan([loaded], load_policy())
    return [(m, plan.exact[(m.frame_id, bool(m.is_extended_frame))]) for m in loaded.db.messages]


PAIRS = [p for path in _databases() for p in _pairs(path)]


def _cantools(msg, data: bytes):
    try:
        return msg.decode(data, decode_choices=False, allow_truncated=True, allow_excess=True)
    except Exception:  # cantools refuses an unknown multiplexer value or an impossible layout
        return None


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return float(a) == float(b) or (a != a and b != b)
    return int(a) == int(b)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_per_frame_path_matches_cantools(data):
    msg, mplan = data.draw(st.sampled_from(PAIRS))
    length = data.draw(st.sampled_from([msg.length, max(0, msg.length - 1), msg.length // 2, msg.length]))
    payload = data.draw(st.binary(min_size=length, max_size=length))
    ref = _cantools(msg, payload)
    ours = decode_frame(mplan, payload)
    if ref is None:
        return
    assert set(ours) == set(ref), (msg.name, sorted(set(ours) ^ set(ref)))
    for k, v in ref.items():
        assert _same(ours[k], v), (msg.name, k, ours[k], v)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_batch_path_matches_cantools(data):
    msg, mplan = data.draw(st.sampled_from(PAIRS))
    n = data.draw(st.integers(1, 12))
    rows = [data.draw(st.binary(min_size=msg.length, max_size=msg.length)) for _ in range(n)]
    lengths = np.array([data.draw(st.sampled_from([msg.length, msg.length // 2])) for _ in range(n)])
    arr = np.zeros((n, max(msg.length, 1)), dtype=np.uint8)
    for i, r in enumerate(rows):
        arr[i, :len(r)] = np.frombuffer(r, dtype=np.uint8)
        arr[i, lengths[i]:] = 0
    cols = decode_batch(mplan, arr, lengths)
    for i in range(n):
        ref = _cantools(msg, bytes(arr[i, :lengths[i]]))
        if ref is None:
            continue
        got = {k: c.values[i] for k, c in cols.items() if c.valid[i]}
        assert set(got) == set(ref), (msg.name, sorted(set(got) ^ set(ref)))
        for k, v in ref.items():
            assert _same(got[k], v), (msg.name, k, got[k], v)


def test_j1939_matches_by_pgn_not_exact_id():
    plan = compile_plan([load_database(SAMPLE_DBC)], load_policy())
    ccvs = plan.exact[(0x18FEF1FE, True)]
    # Same PGN 0xFEF1 from another source address and priority: still CCVS1.
    assert plan.lookup(0x0CFEF100, True) is ccvs
    assert plan.lookup(0x18FEF200, True) is None
    db = cantools.database.load_file(SAMPLE_DBC)
    with pytest.raises(KeyError):  # what cantools' decode_message does with it
        db.decode_message(0x0CFEF100, b"\x00" * 8)


WIDE_DBC = """VERSION ""
BU_: CAM
BO_ 768 CameraTile: 64 CAM
 SG_ Tile : 0|448@1+ (1,0) [0|0] "" Vector__XXX
 SG_ TileSeq : 448|16@1+ (1,0) [0|65535] "" Vector__XXX
 SG_ Tail : 467|45@1+ (1,0) [0|0] "" Vector__XXX
"""


@pytest.mark.parametrize("handling", ["drop", "keep"])
def test_signals_wider_than_64_bits_never_crash_and_decode_as_their_raw_bits(tmp_path, handling):
    """A 448-bit camera tile full of random bytes: both paths decode it (as hex of its raw bits, as cantools'
    integer) or, when every rule drops it, never read it; the ordinary signals beside it decode exactly."""
    import dataclasses

    dbc = tmp_path / "wide.dbc"
    dbc.write_text(WIDE_DBC)
    loaded = load_database(dbc)
    msg = loaded.db.get_message_by_name("CameraTile")
    mplan = compile_plan([loaded], load_policy()).exact[(msg.frame_id, False)]
    mplan.signals = [dataclasses.replace(s, handling=handling) if s.length > 64 else s for s in mplan.signals]
    rng = np.random.default_rng(7)
    data = rng.integers(0, 256, size=(50, 64), dtype=np.uint8)
    cols = decode_batch(mplan, data, np.full(50, 64))
    for i in range(50):
        want = msg.decode(bytes(data[i]), decode_choices=False)
        frame = decode_frame(mplan, bytes(data[i]))
        assert cols["TileSeq"].values[i] == want["TileSeq"] == frame["TileSeq"]
        if handling == "keep":
            assert int(cols["Tile"].values[i], 16) == want["Tile"] and int(frame["Tile"], 16) == want["Tile"]
        else:
            assert "Tile" not in frame


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_signals_nobody_reads_keep_their_validity_and_no_values(data):
    """The agent reads only the signals something uses (``read``): the others keep exactly the validity the
    full decode gives, and any use of their values fails loudly instead of seeing zeros."""
    msg, mplan = data.draw(st.sampled_from(PAIRS))
    n = data.draw(st.integers(1, 8))
    arr = np.frombuffer(data.draw(st.binary(min_size=n * max(msg.length, 1), max_size=n * max(msg.length, 1))),
                        dtype=np.uint8).reshape(n, max(msg.length, 1)).copy()
    lengths = np.array([data.draw(st.sampled_from([msg.length, msg.length // 2])) for _ in range(n)])
    names = [s.name for s in mplan.signals]
    read = frozenset(data.draw(st.lists(st.sampled_from(names), unique=True))) if names else frozenset()
    full, lean = decode_batch(mplan, arr, lengths), decode_batch(mplan, arr, lengths, read)
    assert set(full) == set(lean)
    for name, col in full.items():
        assert (lean[name].valid == col.valid).all(), name
        if name in read or mplan.by_name[name].is_multiplexer:
            assert lean[name].values.shape == col.values.shape
            assert all(_same(a, b) for a, b in zip(lean[name].values.tolist(), col.values.tolist(), strict=True))
        else:
            assert lean[name].values.shape == (0,), name


def test_pages_of_a_multiplexed_message_stay_valid_when_nothing_is_read():
    """The selector is read for its pages even when no signal of the message is: every page signal is valid
    exactly where the full decode says, on the sample vehicle's multiplexed messages."""
    plan = compile_plan([load_database(SAMPLE_DBC)], load_policy())
    muxed = [m for m in plan.messages if any(s.mux_parent for s in m.signals)]
    assert muxed
    rng = np.random.default_rng(7)
    for m in muxed:
        arr = rng.integers(0, 256, size=(40, m.length), dtype=np.uint8)
        arr[:, 0] = rng.integers(0, 4, size=40)  # selectors in the low bits of byte 0 hit real pages
        lengths = np.full(40, m.length)
        full, lean = decode_batch(m, arr, lengths), decode_batch(m, arr, lengths, frozenset())
        assert {k: c.valid.tolist() for k, c in full.items()} == {k: c.valid.tolist() for k, c in lean.items()}
        assert any(c.valid.any() for k, c in full.items() if m.by_name[k].mux_parent), m.name
