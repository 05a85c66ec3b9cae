"""zlib-format deflate and inflate for BLF containers and uplink batches: ISA-L (python-isal) where it is
installed, the standard library's zlib otherwise. Same format either way (the hub inflates with zlib);
measured here, ISA-L inflates BLF containers about twice and deflates batches at level 1 about eight times
as fast, and its level-1 output is a little smaller."""

from __future__ import annotations

import zlib

try:
    from isal import isal_zlib as _impl
except ImportError:  # pragma: no cover - a platform without an isal wheel: the standard library
    _impl = zlib

# what a damaged stream raises, from either implementation
errors: tuple[type[Exception], ...] = (zlib.error, _impl.error) if _impl is not zlib else (zlib.error,)


def compress(data: bytes, level: int = 1) -> bytes:
    return _impl.compress(data, level)


def decompress(data: bytes) -> bytes:
    return _impl.decompress(data)


def decompress_partial(data: bytes) -> bytes:
    """As much of a cut stream as inflates (a truncated BLF container)."""
    return _impl.decompressobj().decompress(data)
