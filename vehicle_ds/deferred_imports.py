"""python-can imports asammdf (and with it pandas) as soon as ``can`` is imported, if it is installed: about
100 MB of memory and a third of a second for every command, since cantools imports python-can, though only
MF4 logs need it. The import is deferred until something asks for MF4 (:func:`enable_mf4`)."""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import sys


class _DeferAsammdf(importlib.abc.MetaPathFinder):
    deferred = True

    def find_spec(self, name, path=None, target=None):
        if self.deferred and name == "asammdf":
            raise ImportError("asammdf is imported on demand (vehicle_ds.deferred_imports.enable_mf4)")
        return None


_FINDER = _DeferAsammdf()


def install() -> None:
    if "asammdf" not in sys.modules and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def enable_mf4() -> None:
    """Let asammdf be imported, and let python-can's MF4 reader see it if python-can was imported first."""
    if not _FINDER.deferred:
        return
    _FINDER.deferred = False
    mf4 = sys.modules.get("can.io.mf4")
    if mf4 is not None and getattr(mf4, "asammdf", None) is None:
        with contextlib.suppress(ImportError):
            importlib.reload(mf4)  # same module namespace: the reader class already registered sees asammdf


install()
