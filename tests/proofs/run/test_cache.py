"""proofs/run/cache.py: a stored verdict is reused only where it cannot lie. A PROVED needs its
own certificate (sealed, for the same property, bounds and host profile), and a folder others
can write is not used at all (found by an independent review: a hand-edited entry pointing at
/etc/hostname was reused as PROVED, also from a world-writable folder)."""

from __future__ import annotations

import dataclasses
import os

import pytest
from specmc.model.bounds import Bounds
from specmc.proofs.certify.certificate import file_digest
from specmc.proofs.engines import explicit
from specmc.proofs.run.cache import VerdictCache
from specmc.proofs.run.job import Job, load

BOUNDS = Bounds(objects=1, frames=3)


@pytest.fixture(scope="module")
def proved(tmp_path_factory):
    """A real PROVED with its certificate, and the header fields a reuse must match."""
    loaded = load(Job(("embedded",), "ecma262", BOUNDS, ("held-value-once",),
                      certificates=str(tmp_path_factory.mktemp("certs"))))
    found = []
    explicit.run(loaded, found.append)
    (o,) = found
    assert o.verdict.name == "PROVED" and o.certificate
    return o, {"property": "held-value-once", "bounds": BOUNDS.describe(),
               "host-profile": file_digest(loaded.host_path)}


def test_a_proved_is_reused_with_its_own_certificate(tmp_path, proved):
    o, fields = proved
    cache = VerdictCache(tmp_path / "v")
    cache.put(("k",), o)
    assert cache.get(("k",), fields) == o and cache.hits == 1


@pytest.mark.parametrize("change", [
    {"certificate": "/etc/hostname"}, {"certificate": ""}, {"certificate": "/no/such/file.smt2.gz"}])
def test_a_proved_without_a_certificate_of_its_own_is_a_miss(tmp_path, proved, change):
    o, fields = proved
    cache = VerdictCache(tmp_path / "v")
    cache.put(("k",), dataclasses.replace(o, **change))
    assert cache.get(("k",), fields) is None


@pytest.mark.parametrize("field,value", [("property", "no-dangling-cell"), ("bounds", "objects=2"),
                                         ("host-profile", "0" * 64)])
def test_a_certificate_of_something_else_is_a_miss(tmp_path, proved, field, value):
    o, fields = proved
    cache = VerdictCache(tmp_path / "v")
    cache.put(("k",), o)
    assert cache.get(("k",), {**fields, field: value}) is None


def test_a_folder_others_can_write_is_not_used(tmp_path, proved):
    o, fields = proved
    folder = tmp_path / "v"
    VerdictCache(folder).put(("k",), o)
    os.chmod(folder, 0o777)
    cache = VerdictCache(folder)
    assert "can be written by others" in cache.refused and "--cache" in cache.refused
    assert cache.get(("k",), fields) is None
    cache.put(("other",), o)
    assert cache.stored == 0


def test_an_entry_copied_from_another_key_is_a_miss(tmp_path, proved):
    """helper-30's review: another model's PROVED entry copied over a VIOLATED one was reused (its
    certificate states the same property, bounds and host profile), and a broken change passed
    review. Each entry names its key now."""
    o, fields = proved
    cache = VerdictCache(tmp_path / "v")
    cache.put(("base model",), o)
    cache._path(("head model",)).parent.mkdir(parents=True, exist_ok=True)
    cache._path(("head model",)).write_bytes(cache._path(("base model",)).read_bytes())
    assert cache.get(("head model",), fields) is None
    assert cache.get(("base model",), fields) == o


def test_a_cache_that_cannot_be_written_is_said_once_and_stores_nothing_more(tmp_path, proved):
    """A full disk or a folder made read-only during a review used to end it in a traceback. Now the
    first failed write stops storing and says why; what was stored stays readable."""
    o, fields = proved
    cache = VerdictCache(tmp_path / "v")
    cache.put(("first",), o)
    assert cache.stored == 1
    second = cache._path(("second",))
    second.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(second)  # something that is not a regular file where the entry goes: refused, not replaced
    cache.put(("second",), o)
    assert cache.stored == 1 and "cannot be written" in cache.unwritable
    assert str(cache.folder) in cache.unwritable
    assert second.is_fifo()
    cache.put(("third",), o)
    assert cache.stored == 1 and not cache._path(("third",)).exists()
    assert cache.get(("first",), fields) == o
