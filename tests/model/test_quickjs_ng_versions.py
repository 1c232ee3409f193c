"""The QuickJS-NG v0.12.1 and v0.13.0 profiles (spec/hosts/quickjs-ng-0.12.html, -0.13.html).

They load with the header the engine has, every algorithm cites quickjs.c at its tag, they build,
and a damaged copy is a located error. Two facts about them are pinned because the docs rest on
them: the model compiles them to the same algorithms but FreeObject, whose enqueue test follows
reset_weak_ref at each tag (78494db, #1318; the other fixes between the tags are in features the
model lacks: docs/hosts.md), and they differ from quickjs-ng-0.6 exactly where they read more of
the engine (no [[KeptAlive]] in js_weakref_constructor / js_weakref_deref; js_finrec_unregister
frees what it removes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.hosts import load_host
from specmc.model.normal import model_form
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import load_spec

# profile -> (tag, commit at that tag)
TAGS = {
    "quickjs-ng-0.12": ("v0.12.1", "58bdcf0ce35594df30bf5cfbba3be8b454799cc0"),
    "quickjs-ng-0.13": ("v0.13.0", "dec012362bd93876449f3ecff4f835b2eba89bab"),
}
# each algorithm of the profiles -> the quickjs.c functions its clause must name
FUNCTIONS = {
    "WeakRef": ("js_weakref_constructor",),
    "WeakRef.prototype.deref": ("js_weakref_deref",),
    "FinalizationRegistry.prototype.register": ("js_finrec_register",),
    "FinalizationRegistry.prototype.unregister": ("js_finrec_unregister",),
    "FreeObject": ("free_object", "reset_weak_ref", "js_finrec_finalizer", "free_zero_refcount"),
}


@pytest.mark.parametrize("name", sorted(TAGS))
def test_the_profiles_load_with_the_engines_header(name: str) -> None:
    host = load_host(name)
    assert (host.collector, host.free_path, host.scheduling, host.strong_tokens) == \
        ("reference counting", "FreeObject", "fifo", True)
    # js_finrec_constructor's frd->cb; from v0.13.0 (8f62384) also js_finrec_register's fre->cb
    assert host.callback_refs == {"quickjs-ng-0.12": "registry",
                                  "quickjs-ng-0.13": "registry and registrations"}[name]
    assert sorted(a.name for a in host.algorithms) == sorted(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(TAGS))
def test_every_algorithm_cites_quickjs_c_at_its_tag(name: str) -> None:
    """Provenance is per algorithm: its clause names the file, the functions and the commit."""
    host = load_host(name)
    tag, commit = TAGS[name]
    text = Path(host.path).read_text(encoding="utf-8")
    assert commit in text.split("-->", 1)[0]  # the full hash, in the provenance comment
    for alg in host.algorithms:
        start = text.index(f'<emu-clause id="{alg.clause}"')
        clause = text[start:text.index("<emu-alg>", start)]
        assert f"quickjs.c {FUNCTIONS[alg.name][0]}, {tag} ({commit[:7]}) lines " in clause, alg.name
        for fn in FUNCTIONS[alg.name][1:]:
            assert re.search(rf"\b{fn}\b", clause), (alg.name, fn)


def test_they_differ_in_the_enqueue_test_and_the_registrations_callback_only() -> None:
    """Between the tags, 78494db (#1318) makes reset_weak_ref skip the job when the held value or
    the callback is marked by a cycle collection (header.mark), not only when it is being freed
    (free_mark); 8f62384 gives a registration its own counted callback (`callback references`,
    tested above) and takes away its pointer to the registry: v0.12.1's second pass reads the
    callback through the registry (`_rec_.[[Registry]]`, #1352), v0.13.0's from the registration.
    If another model feature lets the two differ, the profiles and docs/hosts.md must say so."""
    spec = load_spec()
    hosts = [load_host(n) for n in sorted(TAGS)]
    for host in hosts:
        assert host.cycles
        assert build(spec, host, Bounds(objects=1)).commands
    a, b = (dict(model_form(spec, h).algorithms) for h in hosts)
    assert {n for n in a.keys() | b.keys() if a.get(n) != b.get(n)} == {"FreeObject"}
    enqueue = {}
    for host in hosts:
        free = next(x for x in host.algorithms if x.name == "FreeObject")
        step = next(s for s in free.walk() if "HostEnqueueCallbackJob" in s.text)
        assert step.number == "5.a.ii"
        read = next(s for s in free.walk() if s.number == "5.a.i")
        assert read.text == ("Let _callback_ be _rec_.[[Registry]].[[CleanupCallback]]."
                             if host.name == "quickjs-ng-0.12" else
                             "Let _callback_ be _rec_.[[CleanupCallback]].")
        enqueue[host.name] = sorted(set(re.findall(r"is not an (object [a-z ]+?)(?=,| and)", step.text)))
    assert enqueue == {"quickjs-ng-0.12": ["object being freed"],
                       "quickjs-ng-0.13": ["object being freed", "object marked by cycle collection"]}


def test_what_they_read_beyond_quickjs_ng_0_6() -> None:
    spec = load_spec()
    old = dict(model_form(spec, load_host("quickjs-ng-0.6")).algorithms)
    new = dict(model_form(spec, load_host("quickjs-ng-0.12")).algorithms)
    changed = {n for n in old.keys() | new.keys() if old.get(n) != new.get(n)}
    # the engine's WeakRef constructor and deref (no AddToKeptObjects, so neither AddToKeptObjects
    # nor WeakRefDeref is compiled any more), its unregister (which frees what it removes) and the
    # enqueue test of reset_weak_ref in FreeObject (the quickjs-ng-0.6 profile enqueues always)
    assert changed == {"WeakRef", "WeakRef.prototype.deref", "WeakRefDeref", "AddToKeptObjects",
                       "FinalizationRegistry.prototype.unregister", "FreeObject"}
    assert "AddToKeptObjects" not in new and "WeakRefDeref" not in new


def _damaged(tmp_path: Path, name: str, old: str, new: str) -> tuple[Path, int, int]:
    """A copy of the profile with one text replaced; the line and column where the new text is."""
    text = Path(load_host(name).path).read_text(encoding="utf-8")
    assert text.count(old) == 1
    at = text.index(old)
    path = tmp_path / f"{name}-damaged.html"
    path.write_text(text.replace(old, new), encoding="utf-8")
    line = text.count("\n", 0, at) + 1
    return path, line, at - (text.rfind("\n", 0, at) + 1) + 1


@pytest.mark.parametrize("name", sorted(TAGS))
def test_a_misspelt_free_path_is_located(tmp_path: Path, name: str) -> None:
    path, line, col = _damaged(tmp_path, name, "<dd>FreeObject</dd>", "<dd>FreeObjekt</dd>")
    with pytest.raises(SpecError) as e:
        load_host(str(path))
    d = e.value.diagnostics[0]
    assert d.code == "E062" and d.loc.file == str(path) and (d.loc.line, d.loc.column) == (line, col + 4)


@pytest.mark.parametrize("name", sorted(TAGS))
def test_reading_the_entrys_own_context_is_located(tmp_path: Path, name: str) -> None:
    """The engine's entry holds a context (fre->ctx) the model has no slot for: a profile that
    reads it must not compile to something else."""
    text = Path(load_host(name).path).read_text(encoding="utf-8")
    old = re.search(r"If _rec_\.\[\[HeldValue\]\] is not an object being freed[^\n]*", text).group(0)
    call = "HostEnqueueCallbackJob(_callback_"
    new = old.replace(call, call.replace("_callback_", "_rec_.[[Context]]"))
    path, line, col = _damaged(tmp_path, name, old, new)
    with pytest.raises(SpecError) as e:
        build(load_spec(), load_host(str(path)), Bounds(objects=1))
    d = e.value.diagnostics[0]
    assert d.code == "E064" and "[[Context]]" in d.message
    assert d.loc.file == str(path) and (d.loc.line, d.loc.column) == (line, col)


def test_the_profiles_the_slow_sweeps_skip_have_a_twin() -> None:
    """tests/conftest.py's SAME_MODEL_AS lets the per-host sweeps check one profile of each model:
    only while the two really compile alike."""
    from tests.conftest import SAME_MODEL_AS

    spec = load_spec()
    for skipped, twin in SAME_MODEL_AS.items():
        assert model_form(spec, load_host(skipped)).digest == model_form(spec, load_host(twin)).digest
