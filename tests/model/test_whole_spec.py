"""A whole spec.html builds the same model as the clause-set excerpt of the same revision.

The whole file also defines the general operations the clause set calls (Call, SameValue,
OrdinaryCreateFromConstructor, Completion, ...). The model gives those a meaning by hand
(`model.by_hand.BY_HAND`), so the selection must leave the text's general steps out and list each
substitution. These tests hold the two inputs to the same normal-form digest (model/normal.py)
and, at small bounds, to the same explored state space and verdicts, for every shipped host.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build, select_algorithms
from specmc.model.by_hand import BY_HAND
from specmc.model.explore import explore
from specmc.model.hosts import load_host, shipped
from specmc.model.normal import model_form
from specmc.proofs.properties import CATALOGUE
from specmc.spec import ir
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import EMBEDDED, load_spec, load_text

from tests.conftest import CURRENT, FULL, HISTORY

# Each whole file and the excerpt of its revision. The two parents (3cd00d74, ee2d7909) have no
# snapshot folder of their own: the newest snapshot before each is used, and INDEX.md's appendix
# shows that every commit in between that touched the clause set is editorial or markup
# (9b5b0ca5, 5c7ef704, 28213d7b, c328b0ad; a44f0102), which the normal form does not see.
PAIRS: dict[str, Path] = {
    "spec-2025-11-04-e936549f.html": CURRENT,
    "spec-2021-07-21-61f79507.html": HISTORY / "2021-07-21-61f79507",
    "spec-2021-07-19-ee2d7909.html": HISTORY / "2021-07-14-f64df565",
    "spec-2021-03-17-06357938.html": HISTORY / "2021-03-17-06357938",
    "spec-2021-03-15-3cd00d74.html": HISTORY / "2020-09-01-0038073a",
}

# small enough that 5 files x 4 hosts x 2 sides explore in seconds, large enough to reach
# a collection, a cleanup job and a callback on every host
SMALL = Bounds(objects=1, frames=4)

_loaded: dict[Path, ir.Spec] = {}


def _spec(path: Path) -> ir.Spec:
    """Each file is parsed once per test session (a whole spec.html takes seconds)."""
    if path not in _loaded:
        _loaded[path] = load_spec(path)
    return _loaded[path]


def _outcome(spec: ir.Spec, host: str) -> tuple:
    """What exploring the model says: sizes, completeness and the violated properties; or, when
    the model cannot be built, the diagnostic code and message (without the location, which
    names the file)."""
    try:
        program = build(spec, load_host(host), SMALL)
    except SpecError as e:
        return ("not built",) + tuple((d.code, d.message) for d in e.diagnostics)
    preds = {p.id: (lambda S, p=p: p.holds(program, S)) for p in CATALOGUE.values()}
    r = explore(program, preds, SMALL.steps)
    return (r.states, r.transitions, r.complete, tuple(sorted(r.violations)))


def test_pairs_cover_every_whole_file():
    assert sorted(PAIRS) == sorted(p.name for p in FULL.glob("spec-*.html"))
    assert all((folder / "finreg-excerpt.html").is_file() for folder in PAIRS.values())


@pytest.mark.slow
@pytest.mark.parametrize("whole", sorted(PAIRS), ids=lambda n: n[5:-5])
def test_whole_file_builds_the_excerpts_model(shared, whole):
    text, excerpt = _spec(FULL / whole), _spec(PAIRS[whole] / "finreg-excerpt.html")
    for host in shipped():
        h = load_host(host)
        ours, theirs = model_form(text, h), model_form(excerpt, h)
        assert ours.digest == theirs.digest, (host, [n for (n, f) in ours.algorithms
                                                     if theirs.of(n) != f])
        assert _outcome(text, host) == _outcome(excerpt, host), host


@pytest.mark.slow
def test_current_whole_file_lists_its_substitutions(shared):
    text = _spec(FULL / "spec-2025-11-04-e936549f.html")
    sel = select_algorithms(text, load_host("ecma262"))
    subs = {s.name: s for s in sel.substituted}
    assert set(subs) == {"Call", "Completion", "IsCallable", "OrdinaryCreateFromConstructor",
                         "RequireInternalSlot", "SameValue"}
    assert not set(subs) & set(sel.algorithms)
    for name, sub in subs.items():
        assert sub.algorithm.clause == BY_HAND[name].clause  # the text's definition it replaces
        assert sub.describe().startswith(f"{name} ({BY_HAND[name].clause}, ")
    # the general definitions' own callees (GetPrototypeFromConstructor, SameType, ...) are not
    # pulled in either: the model runs the clause set's 15 algorithms, as from the excerpt
    assert len(sel.algorithms) == 15
    excerpt = select_algorithms(_spec(CURRENT / "finreg-excerpt.html"), load_host("ecma262"))
    assert excerpt.substituted == () and list(excerpt.algorithms) == list(sel.algorithms)


@pytest.mark.slow
def test_review_of_excerpt_against_whole_file_names_the_substitutions(shared):
    """Review's per-host model line: the excerpt and the whole file of one revision are the same
    model, and the operations the whole file defines but the model runs by hand are named."""
    from specmc.proofs.review.review import _host_model
    from specmc.proofs.review.sides import Side

    whole, excerpt = FULL / "spec-2025-11-04-e936549f.html", CURRENT / "finreg-excerpt.html"
    base = Side(str(excerpt), (str(excerpt),), _spec(excerpt))
    head = Side(str(whole), (str(whole),), _spec(whole))
    host = load_host("ecma262")
    m = _host_model(host, model_form(base.spec, host), model_form(head.spec, host), base, head)
    assert m.identical and m.changed == () and not m.base_error and not m.head_error
    assert m.by_hand == ("Call", "Completion", "IsCallable", "OrdinaryCreateFromConstructor",
                         "RequireInternalSlot", "SameValue")


# A general definition of SameValue, written as ECMA-262 writes it: its callees are operations
# the model has no semantics for. Appended to the embedded rendition, it must be substituted.
_SAME_VALUE = """
<emu-clause id="sec-samevalue" type="abstract operation">
  <h1>
    SameValue (
      _x_: an ECMAScript language value,
      _y_: an ECMAScript language value,
    ): a Boolean
  </h1>
  <dl class="header">
  </dl>
  <emu-alg>
    1. If SameType(_x_, _y_) is *false*, return *false*.
    1. If _x_ is a Number, then
      1. Return Number::sameValue(_x_, _y_).
    1. Return SameValueNonNumber(_x_, _y_).
  </emu-alg>
</emu-clause>
"""


def test_a_general_definition_is_substituted_not_compiled():
    base = load_spec()
    text = EMBEDDED.read_text(encoding="utf-8")
    assert "sec-samevalue" not in text
    more = load_text("with-samevalue.html", text + _SAME_VALUE)
    assert any(a.name == "SameValue" and a.steps for a in more.algorithms)
    host = load_host("ecma262")
    sel = select_algorithms(more, host)
    assert [s.name for s in sel.substituted] == ["SameValue"]
    assert "SameValue" not in sel.algorithms and "SameType" not in sel.algorithms
    assert model_form(more, host).digest == model_form(base, host).digest
    bounds = Bounds(objects=1, frames=4)
    assert len(build(more, host, bounds).commands) == len(build(base, host, bounds).commands)


def test_the_model_form_follows_the_bounds_that_add_weakmaps():
    """A review at weakmaps=1 compares the WeakMap built-ins and Execution 1.c too: `?` turned
    into `!` in WeakMap.prototype.set changes the model there (check finds spec-asserts VIOLATED),
    and only there; without the bound the two texts have one model. (The form ignored the bounds:
    review called the change "not modelled" and the model "identical", and carried a PROVED to a
    text check refutes: found by an independent review.)"""
    path = FULL / "spec-2025-11-04-e936549f.html"
    text = path.read_text(encoding="utf-8")
    step = "          1. Perform ? RequireInternalSlot(_M_, [[WeakMapData]]).\n"
    at = text.index("<h1>WeakMap.prototype.set (")
    k = text.index(step, at)
    changed = text[:k] + step.replace("?", "!") + text[k + len(step):]
    base, head = load_text(str(path), text), load_text(str(path), changed)
    host = load_host("ecma262")
    assert model_form(base, host).digest == model_form(head, host).digest
    a, b = model_form(base, host, Bounds(weakmaps=1)), model_form(head, host, Bounds(weakmaps=1))
    assert a.digest != b.digest
    assert [n for n, f in a.algorithms if b.of(n) != f] == ["WeakMap.prototype.set"]
    # with the bound every WeakMap built-in the model runs is part of the form
    assert "WeakMap.prototype.get" in dict(a.algorithms)


def test_a_local_read_before_the_step_that_defines_it_is_refused():
    """`Let _weakRef_ be the *this* value.` moved below the step that uses _weakRef_: the model
    read ~empty~ there and built another algorithm without a word (an independent review).
    E064 now names the later step. Every shipped text and profile builds as before (a sweep of
    the 27 texts here found no such step)."""
    text = EMBEDDED.read_text(encoding="utf-8")
    let = "          1. Let _weakRef_ be the *this* value.\n"
    use = "          1. Perform ? RequireInternalSlot(_weakRef_, [[WeakRefTarget]]).\n"
    assert let + use in text
    swapped = load_text(str(EMBEDDED), text.replace(let + use, use + let, 1))
    with pytest.raises(SpecError) as e:
        build(swapped, load_host("ecma262"), Bounds())
    d = e.value.diagnostics[0]
    assert d.code == "E064" and "_weakRef_ is read before the step that defines it" in d.message
    build(load_text(str(EMBEDDED), text), load_host("ecma262"), Bounds())
