"""Log readers, one module per format, chosen by suffix from ``READERS``. candump ``-L`` text, BLF and MF4
have vectorised readers of our own (python-can's readers manage 80k-215k frames/s on the development
machine, can.md §3.4); every other format python-can reads goes through ``can.LogReader``. All yield
:class:`~edge.frames.FrameChunk` s of bounded size, so memory stays flat whatever the size of the log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from vehicle_ds.errors import InputError

from ..frames import FrameChunk
from .blf import read_blf
from .candump import read_candump, read_sniffed_candump, sniff_candump
from .python_can import read_python_can


def _read_mf4(path: Path) -> Iterator[FrameChunk]:
    from .mf4 import read_mf4  # asammdf is imported only for MF4 logs

    return read_mf4(path)


READERS: dict[str, Callable[[Path], Iterator[FrameChunk]]] = {
    ".log": read_sniffed_candump,
    ".blf": read_blf,
    ".mf4": _read_mf4,
    **{suffix: read_python_can for suffix in (".asc", ".trc", ".csv", ".db", ".txt")},
}


def read_log(path: str | Path) -> Iterator[FrameChunk]:
    """The frames of a log in any format of ``READERS``."""
    p = Path(path)
    if not p.exists():
        raise InputError("no such log file", path=str(p))
    reader = READERS.get(p.suffix.lower())
    if reader is None:
        raise InputError(f"unknown log format {p.suffix!r} ({' '.join(READERS)})", path=str(p))
    return reader(p)


__all__ = ["READERS", "read_blf", "read_candump", "read_log", "read_python_can", "sniff_candump"]
