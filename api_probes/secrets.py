"""Candidates for the offline HMAC-secret search: the built-in short list, a large public list of leaked
JWT secrets (api_probes/data, MIT licence), the profile's own (``jwt.secrets_file``, ``jwt.extra_secrets``),
words derived from the target (its name, host and title) with the usual decorations, and every number of
up to six digits. The order puts the likeliest first; duplicates are tried once."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path

from .forge import COMMON_SECRETS
from .profile import Profile

DECORATIONS = ("{w}", "{w}secret", "{w}_secret", "{w}-secret", "{w}123", "{w}key", "{w}_key", "jwt{w}", "{w}jwt",
               "{w}2025", "{w}2026", "{w}!")


def public_list() -> list[str]:
    """The shipped list of publicly exposed JWT secrets (wallarm/jwt-secrets, MIT)."""
    data = resources.files("api_probes").joinpath("data/jwt-secrets.txt.gz").read_bytes()
    return [w for w in gzip.decompress(data).decode("utf-8", "replace").split("\n") if w]


def derived(profile: Profile) -> list[str]:
    """Words of the target's name, host and title, decorated: teams name their secrets after their product."""
    words = set()
    for text in (profile.name, profile.host, *profile.extra_secret_words):
        for w in re.split(r"[^A-Za-z0-9]+", text):
            if len(w) >= 3:
                words.update({w, w.lower()})
    return [d.format(w=w) for w in sorted(words) for d in DECORATIONS]


def candidates(profile: Profile | None = None, digits_up_to: int = 6) -> Iterator[str]:
    seen: set[str] = set()

    def once(words: Iterable[str]) -> Iterator[str]:
        for w in words:
            if w not in seen:
                seen.add(w)
                yield w

    yield from once(COMMON_SECRETS)
    if profile is not None:
        yield from once(profile.extra_secrets)
        if profile.secrets_file:
            yield from once(w for w in Path(profile.secrets_file).read_text("utf-8", "replace").splitlines() if w)
        yield from once(derived(profile))
    yield from once(public_list())
    for n in range(1, digits_up_to + 1):
        yield from once(str(i).zfill(n) for i in range(10 ** n))
