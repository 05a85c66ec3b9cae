"""cantools' own test DBC files (tests/data/cantools_dbc, MIT): every file cantools loads, vehicle-ds loads,
with the same messages and signals, long names (``SystemMessageLongSymbol``, ``SystemSignalLongSymbol``)
included. A file without a single message is refused on purpose: a catalogue of nothing would pass review
blank. A file cantools itself refuses is repaired and loaded here, or refused with one line naming it."""

from __future__ import annotations

from pathlib import Path

import cantools
import pytest

from vehicle_ds.dbc import load_database
from vehicle_ds.errors import InputError

FILES = sorted((Path(__file__).parent.parent / "data" / "cantools_dbc").glob("*.dbc"))


def test_the_set_is_there():
    assert len(FILES) >= 80


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_what_cantools_loads_loads_here_with_the_same_signals(path):
    try:
        theirs = cantools.database.load_file(str(path))
    except Exception:  # cantools refuses it: here it is repaired and loaded, or refused with one line, never a crash
        try:
            assert load_database(path).db.messages
        except InputError as exc:
            assert str(path.name) in str(exc) and "\n" not in str(exc)
        return
    if not theirs.messages:
        with pytest.raises(InputError, match="no messages found"):
            load_database(path)
        return
    ours = load_database(path).db
    assert {m.frame_id: sorted(s.name for s in m.signals) for m in ours.messages} == \
        {m.frame_id: sorted(s.name for s in m.signals) for m in theirs.messages}


def test_a_file_cut_inside_a_signal_line_is_refused_naming_the_line(tmp_path):
    text = (Path(__file__).parent.parent / "data" / "cantools_dbc" / "long_names.dbc").read_text("utf-8")
    lines = text.splitlines()
    cut = next(i for i, ln in enumerate(lines) if ln.startswith(" SG_ "))
    (tmp_path / "cut.dbc").write_text("\n".join(lines[:cut] + [lines[cut][:12]]) + "\n", "utf-8")
    with pytest.raises(InputError, match=rf"cut.dbc:{cut + 1}: .*signal definition"):
        load_database(tmp_path / "cut.dbc")
