"""Verdicts kept on disk between runs, keyed by everything that decides them.

A spec-change review checks BASE and HEAD; on a pull request BASE is the text the previous review
already checked, and most pull requests leave the model alone. A verdict depends only on the
model (its normal-form digest, model/normal.py), the host profile file, the run's settings, the
property, and the code of specmc itself, so it can be kept under a hash of exactly those and
reused: an unchanged model is never checked twice. Only definite verdicts are kept (an UNKNOWN
may be decided with more time), and a PROVED is reused only while its certificate still exists,
is sealed and states the property, bounds and host profile it is reused for. An unreadable or
damaged entry is a miss, never a verdict, and a folder that others could write is not used at all
(whoever writes there chooses verdicts), by the rule of the compiled-model cache.

What the checks guard against, and what not: each entry names the key it was stored under, so an
entry copied or renamed from another key (another model's PROVED put where a VIOLATED was) is a
miss; a damaged entry or certificate is a miss. They do not guard against the folder's owner:
entries and certificate seals are plain digests, not signatures, so whoever can write the folder
can forge both. That is why only a private folder is used, and why `--no-cache` (or `specmc
recheck` on the certificates) is the way to a verdict that trusts nothing stored.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import Any

from specmc.proofs.atomic import write_atomic
from specmc.proofs.verdict import DEFINITE, PROVED, Outcome

_ROOT = Path(__file__).resolve().parents[2]  # the folder holding spec/, model/ and proofs/


def default_cache() -> str:
    """`$SPECMC_CACHE`, else `$XDG_CACHE_HOME/specmc/verdicts` (by default under `~/.cache`)."""
    if os.environ.get("SPECMC_CACHE"):
        return os.environ["SPECMC_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "specmc" / "verdicts")


@cache
def tool_digest() -> str:
    """A hash of specmc's own sources (reader, grammar, model, engines, properties): a verdict made
    by other code is not this code's verdict."""
    h = hashlib.sha256()
    for package in ("spec", "model", "proofs"):
        for f in sorted((_ROOT / package).rglob("*")):
            if f.suffix in (".py", ".lark", ".html") and "__pycache__" not in f.parts:
                h.update(str(f.relative_to(_ROOT)).encode())
                h.update(f.read_bytes())
    return h.hexdigest()


class VerdictCache:
    """A folder of JSON files, one per (key, tool digest)."""

    def __init__(self, folder: str | Path) -> None:
        from specmc.model.ccompile import Unavailable, private

        self.folder = Path(folder)
        self.hits = 0
        self.stored = 0
        self.refused = ""  # why the folder is not used, if it is not
        self.unwritable = ""  # why nothing more is stored (reading goes on), once a write failed
        try:
            private(self.folder, folder="the verdict cache", takes="verdicts", setting="--cache")
        except Unavailable as e:
            self.refused = str(e)

    @staticmethod
    def _digest(key: tuple[Any, ...]) -> str:
        return hashlib.sha256(repr((tool_digest(), key)).encode()).hexdigest()

    def _path(self, key: tuple[Any, ...]) -> Path:
        digest = self._digest(key)
        return self.folder / digest[:2] / f"{digest}.json"

    def get(self, key: tuple[Any, ...], certifies: dict[str, str] | None = None) -> Outcome | None:
        """The stored outcome of `key`, or None. A PROVED needs its certificate: present, sealed,
        and with the header fields `certifies` names (property, bounds, host profile digest)."""
        if self.refused:
            return None
        try:
            doc = json.loads(self._path(key).read_text(encoding="utf-8"))
            if doc.pop("key") != self._digest(key):  # an entry copied or renamed from another key
                return None
            o = Outcome(**{**doc, "trace": tuple(doc["trace"]),
                           "bounds_hit": None if doc["bounds_hit"] is None
                           else tuple((n, k) for n, k in doc["bounds_hit"])})
        except (OSError, ValueError, TypeError, KeyError):
            return None
        if o.verdict not in DEFINITE:
            return None
        if o.verdict == PROVED and not _certifies(o.certificate, certifies or {}):
            return None
        self.hits += 1
        return o

    def put(self, key: tuple[Any, ...], o: Outcome) -> None:
        """Keep a definite verdict. A cache that cannot be written (disk full, a read-only or
        vanished folder, a non-file in the way) is no reason to fail the review whose verdicts
        it was keeping: the first failure is noted in `unwritable`, the caller says so once, and
        nothing more is stored; what was stored stays and is still read (each entry is whole)."""
        if o.verdict not in DEFINITE or self.refused or self.unwritable:
            return
        try:
            write_atomic(self._path(key), json.dumps({**asdict(o), "key": self._digest(key)}, sort_keys=True))
        except OSError as e:
            self.unwritable = f"the verdict cache {self.folder} cannot be written ({e.strerror or e}): " \
                           "verdicts from here on were not kept"
            return
        self.stored += 1


def _certifies(path: str | None, fields: dict[str, str]) -> bool:
    """A certificate file that is there, well formed and sealed (proofs/certify/fileformat.py), and
    whose header says `fields`: a stored PROVED pointing at any other file is a miss."""
    from specmc.proofs.certify.fileformat import CertificateError, load

    if not path:
        return False
    try:
        head = load(path).head
    except CertificateError:
        return False
    return all(head.get(k) == v for k, v in fields.items())
