"""Personal identifiers in frames the DBC does not describe: ASCII VINs (valid check digit) and ASCII digit
runs that pass the Luhn check as an IMEI (15 digits) or ICCID (19-20 digits, ``89`` prefix).

Nothing of an undocumented id leaves the vehicle anyway; the point is to tell the integrator which ids
carry such data, so the DBC and the catalogue can be completed. The scan is vectorised and bounded: per
id at most ``FRAMES_PER_ID`` frames over the whole run. A frame's bytes are read as one stream per id, as
multi-page identifiers are sent (a page index byte below 0x20 is dropped), so a VIN spread over three
frames is found; 17 bytes in a row from the VIN alphabet by chance is about 1e-15 for random data.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from vehicle_ds.evidence.detectors import luhn, vin_valid

FRAMES_PER_ID = 2_000
_VIN_CHARS = np.zeros(256, dtype=bool)
for _c in b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789":
    _VIN_CHARS[_c] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[ord("0"):ord("9") + 1] = True


def _runs(ok: np.ndarray, least: int) -> list[tuple[int, int]]:
    """[start, end) of runs of True at least ``least`` long."""
    edges = np.diff(np.concatenate(([0], ok.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = ends - starts >= least
    return list(zip(starts[keep].tolist(), ends[keep].tolist(), strict=True))


def find_identifiers(stream: bytes) -> set[str]:
    """Kinds of identifiers in ``stream``: ``vin``, ``imei``, ``iccid``."""
    arr = np.frombuffer(stream, dtype=np.uint8)
    found: set[str] = set()
    for a, b in _runs(_VIN_CHARS[arr], 17):
        text = stream[a:b].decode("ascii")
        if any(vin_valid(text[i:i + 17]) for i in range(b - a - 16)):
            found.add("vin")
    for a, b in _runs(_DIGIT[arr], 15):
        text = stream[a:b].decode("ascii")
        if b - a == 15 and luhn(text):
            found.add("imei")
        elif 19 <= b - a <= 20 and text.startswith("89") and luhn(text):
            found.add("iccid")
    return found


def frame_stream(data: np.ndarray, lengths: np.ndarray) -> bytes:
    """The bytes of consecutive frames as one stream; a leading page-index byte (< 0x20) is dropped."""
    width = data.shape[1]
    keep = np.arange(width)[None, :] < lengths[:, None]
    keep[:, 0] &= data[:, 0] >= 0x20
    return data[keep].tobytes()


class UndocumentedScan:
    def __init__(self, frames_per_id: int = FRAMES_PER_ID) -> None:
        self.frames_per_id = frames_per_id
        self.scanned: Counter = Counter()  # (id, extended) -> frames scanned
        self.hits: dict[tuple[int, bool], set[str]] = {}
        self._tail: dict[tuple[int, bool], bytes] = {}

    def frames(self, key: tuple[int, bool], data: np.ndarray, lengths: np.ndarray) -> None:
        room = self.frames_per_id - self.scanned[key]
        if room <= 0:
            return
        data, lengths = data[:room], lengths[:room]
        self.scanned[key] += int(data.shape[0])
        stream = self._tail.get(key, b"") + frame_stream(data, lengths)
        self._tail[key] = stream[-24:]  # an identifier cut between two chunks is still seen whole
        kinds = find_identifiers(stream)
        if kinds:
            self.hits.setdefault(key, set()).update(kinds)

    def payload(self, key: tuple[int, bool], payload: bytes) -> None:
        """A reassembled payload no decoder knows (an undocumented PGN or diagnostic response)."""
        if self.scanned[key] >= self.frames_per_id:
            return
        self.scanned[key] += 1
        kinds = find_identifiers(payload)
        if kinds:
            self.hits.setdefault(key, set()).update(kinds)

    def merge(self, o: UndocumentedScan) -> None:
        self.scanned.update(o.scanned)
        for k, v in o.hits.items():
            self.hits.setdefault(k, set()).update(v)
