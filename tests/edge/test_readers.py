"""Our vectorised readers agree with python-can's readers on logs python-can writes."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import can
import numpy as np
import pytest

from edge.frames import DATA, ERROR_FRAME, MALFORMED, REMOTE
from edge.readers import read_blf, read_candump, read_log
from vehicle_ds.errors import InputError


def _messages(n: int, seed: int = 7) -> list[can.Message]:
    rnd = random.Random(seed)
    out, t = [], 1_700_000_000.0
    for i in range(n):
        t += rnd.random() * 0.002
        kind = rnd.random()
        ext = rnd.random() < 0.3
        cid = rnd.randrange(0x20000000 if ext else 0x800)
        if kind < 0.15:  # CAN FD
            size = rnd.choice([0, 8, 12, 16, 20, 24, 32, 48, 64])
            out.append(can.Message(timestamp=round(t, 6), arbitration_id=cid, is_extended_id=ext, is_fd=True,
                                   bitrate_switch=True, data=rnd.randbytes(size), channel=f"can{i % 2}"))
        elif kind < 0.18:
            out.append(can.Message(timestamp=round(t, 6), arbitration_id=cid, is_extended_id=ext,
                                   is_remote_frame=True, dlc=rnd.randrange(9), channel="can0"))
        else:
            size = rnd.randrange(9)
            out.append(can.Message(timestamp=round(t, 6), arbitration_id=cid, is_extended_id=ext,
                                   data=rnd.randbytes(size), channel=f"can{i % 2}"))
    return out


def _write(path, msgs):
    with can.Logger(str(path)) as w:
        for m in msgs:
            w.on_message_received(m)


def _rows(chunks):
    rows = []
    for c in chunks:
        for i in range(len(c)):
            rows.append((round(float(c.t[i]), 6), int(c.can_id[i]), bool(c.extended[i]), bool(c.fd[i]),
                         bytes(c.data[i, : c.length[i]]), int(c.kind[i]), c.channels[c.channel[i]]))
    return rows


def _reference(path):
    rows = []
    for m in can.LogReader(str(path)):
        kind = ERROR_FRAME if m.is_error_frame else REMOTE if m.is_remote_frame else DATA
        rows.append((round(m.timestamp, 6), m.arbitration_id, m.is_extended_id, m.is_fd,
                     b"" if m.is_remote_frame else bytes(m.data), kind, str(m.channel)))
    return rows


@pytest.mark.parametrize("suffix", [".log", ".blf"])
def test_reader_matches_python_can(tmp_path, suffix):
    path = tmp_path / f"trace{suffix}"
    _write(path, _messages(3000))
    ours = _rows(read_log(path))
    ref = _reference(path)
    assert len(ours) == len(ref) == 3000
    for a, b in zip(ours, ref, strict=True):
        if suffix == ".blf":  # BLF numbers channels; python-can maps them to ints
            a, b = a[:6], b[:6]
            assert abs(a[0] - b[0]) < 2e-6
            a, b = a[1:], b[1:]
        assert a == b


def test_small_chunks_give_the_same_frames(tmp_path):
    path = tmp_path / "trace.log"
    _write(path, _messages(2000, seed=3))
    whole = _rows(read_candump(path))
    pieces = _rows(read_candump(path, chunk_bytes=4096))
    assert whole == pieces
    blf = tmp_path / "trace.blf"
    _write(blf, _messages(2000, seed=3))
    assert len(_rows(read_blf(blf, chunk_bytes=4096))) == 2000


def test_garbage_lines_are_counted_not_fatal(tmp_path):
    path = tmp_path / "dirty.log"
    path.write_bytes(b"(1.000001) can0 123#1122\n"
                     b"garbage line here\n"
                     b"(1.000002) can0 12#11\n"
                     b"(1.000003) can0 123#11G2\n"
                     b"(1.000004) can0 20000080#0000000000000000\n"
                     b"(1.000005) can0 7FF#R\n"
                     b"(1.000006) can1 18FEF100##1" + b"AB" * 12 + b"\n"
                     b"(1.000007) can0 123#112")  # truncated last line, no newline
    chunks = list(read_candump(path))
    kinds = np.concatenate([c.kind for c in chunks]).tolist()
    assert kinds == [DATA, MALFORMED, MALFORMED, MALFORMED, ERROR_FRAME, REMOTE, DATA, MALFORMED]
    fd_row = chunks[0]
    assert bool(fd_row.fd[6]) and int(fd_row.length[6]) == 12 and int(fd_row.can_id[6]) == 0x18FEF100
    assert chunks[0].malformed_lines[:3] == [2, 3, 4]


def test_truncated_blf_keeps_complete_frames(tmp_path):
    path = tmp_path / "cut.blf"
    _write(path, _messages(5000))
    data = path.read_bytes()
    (tmp_path / "half.blf").write_bytes(data[: len(data) // 2])
    chunks = []
    with pytest.raises(InputError, match=r"truncated BLF: the object at byte \d+"):  # reported, never cut silently
        for chunk in read_blf(tmp_path / "half.blf"):
            chunks.append(chunk)
    rows = [r for c in chunks for r in _rows(iter([c]))]
    assert 1000 < len(rows) < 5000  # everything before the damage was yielded first
    ref = _reference(path)[: len(rows)]
    assert [r[1:6] for r in rows] == [r[1:6] for r in ref]


@pytest.mark.parametrize("kept", [0.5, 0.99])
def test_a_cut_container_is_inflated_as_far_as_it_goes(tmp_path, kept):
    """The container the file ends in is mostly there: its complete frames are delivered before the damage is
    reported, as many as python-can's reader recovers from the same bytes (it was one container fewer)."""
    import can

    path = tmp_path / "whole.blf"
    _write(path, _messages(5000))
    data = path.read_bytes()
    cut = tmp_path / "cut.blf"
    cut.write_bytes(data[: int(len(data) * kept)])
    ours = 0
    with pytest.raises(InputError, match="cut container as far as it inflates"):
        for chunk in read_blf(cut):
            ours += len(chunk)
    theirs = 0
    with contextlib.suppress(Exception):
        for _ in can.BLFReader(str(cut)):
            theirs += 1
    assert ours == theirs and ours > int(5000 * kept) - 300


def test_a_corrupt_blf_container_is_reported_with_its_offset(tmp_path):
    path = tmp_path / "trace.blf"
    _write(path, _messages(5000))
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)  # 64 zeroed bytes inside a compressed container
    (tmp_path / "bad.blf").write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"(corrupt BLF container|corrupt BLF object) at byte \d+"):
        list(read_blf(tmp_path / "bad.blf"))


def test_fixed_layout_fast_path_equals_general_search(tmp_path, monkeypatch):
    import edge.readers.candump as readers

    path = tmp_path / "trace.log"
    _write(path, _messages(5000, seed=9))
    with_flags = tmp_path / "flags.log"  # newer candump: a direction flag after the data
    with_flags.write_text("".join(line.rstrip("\n") + " R\n" for line in path.read_text().splitlines(True)))
    odd = tmp_path / "odd.log"  # one line with a longer trailing token
    text = path.read_text().splitlines(True)
    text[7] = text[7].rstrip("\n") + "XY\n"
    odd.write_text("".join(text))
    for p in (path, with_flags, odd):
        fast = _rows(read_candump(p))
        monkeypatch.setattr(readers, "_fixed_layout", lambda *a: None)
        slow = _rows(read_candump(p))
        monkeypatch.undo()
        assert fast == slow and len(fast) == 5000


PYTHON_CAN_BLF = sorted((Path(__file__).resolve().parents[1] / "data" / "python_can_blf").glob("*.blf"))


@pytest.mark.parametrize("path", PYTHON_CAN_BLF, ids=lambda p: p.stem)
def test_blf_objects_as_vector_tools_write_them_read_as_python_can_reads_them(path):
    """CAN_MESSAGE, CAN_MESSAGE2, CAN_FD_MESSAGE, CAN_FD_MESSAGE_64 and CAN_ERROR_EXT objects written by
    Vector tools (python-can's test files): time, id, flags, channel, length and data equal python-can's
    BLFReader; an error frame is an error frame with its id (its data is not read)."""
    ref = list(can.BLFReader(str(path)))
    got = [(round(float(c.t[i]), 6), int(c.can_id[i]), bool(c.extended[i]), bool(c.fd[i]), int(c.kind[i]),
            c.channels[c.channel[i]], int(c.length[i]), bytes(c.data[i, :c.length[i]]))
           for c in read_blf(path) for i in range(len(c))]
    want = [(round(m.timestamp, 6), m.arbitration_id, m.is_extended_id, m.is_fd,
             2 if m.is_error_frame else 1 if m.is_remote_frame else 0, str(m.channel),
             0 if m.is_error_frame or m.is_remote_frame else len(m.data),
             b"" if m.is_error_frame or m.is_remote_frame else bytes(m.data)) for m in ref]
    assert len(PYTHON_CAN_BLF) == 6 and ref
    assert got == want
