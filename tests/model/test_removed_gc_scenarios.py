"""The collection scenarios of the GC tests test262 removed (../shared/test262/removed-gc-tests/)
are reachable in the spec host's model at the default bounds, each by a test named for it.

Those tests were removed because no host can be made to collect on demand; a model can. Each test
here finds the situation the removed test was about, so a PROVED at these bounds is known to
cover it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host
from specmc.model.layout import EMPTY, FALSE, PHASE_DEREF
from specmc.proofs.properties import CATALOGUE
from specmc.spec.load import load_spec

from tests.conftest import SHARED

REMOVED = SHARED.parent / "test262" / "removed-gc-tests" / "test" / "built-ins"
B = Bounds()


@pytest.fixture(scope="module")
def model():
    program = build(load_spec(), load_host("ecma262"), B)
    r = explore(program, {}, B.steps, keep=True)
    assert r.complete
    return program, r


def _get(program, state, name, i=0):
    return state[program.layout.where(name)[0] + i]


def _running(program, state, name):
    code = program.code_of(name)
    sp = _get(program, state, "sp")
    return any(_get(program, state, "frame_alg", d) == code for d in range(sp))


def test_gc_has_one_chance_to_call_cleanup_callback_for_object(model):
    """gc-has-one-chance-to-call-cleanupCallback-for-object.js: after a held value was delivered,
    a later collection runs, and the callback is never called again for that cell."""
    name = "gc-has-one-chance-to-call-cleanupCallback-for-object.js"
    assert (REMOVED / "FinalizationRegistry" / name).exists()
    program, r = model
    cells = range(B.cells)
    later_gc = [s for s in r.reached if _running(program, s, "Execution")
                and any(_get(program, s, "cell_delivered", c) == 1 for c in cells)]
    assert later_gc, "no collection after a delivery is reachable"
    assert not any(_get(program, s, "cell_delivered", c) > 1 for s in r.reached for c in cells)


def test_unregister_cleaned_up_object_cell_returns_false(model):
    """unregister-cleaned-up-object-cell.js: once a registration's held value was delivered,
    unregister with its token finds nothing and returns false."""
    assert (REMOVED / "FinalizationRegistry" / "prototype" / "unregister" /
            "unregister-cleaned-up-object-cell.js").exists()
    program, r = model
    code = program.code_of("FinalizationRegistry.prototype.unregister")
    info = program.alg(code)
    k = program.layout.locals_per_frame
    tok, removed = info.locals.index("unregisterToken"), info.locals.index("removed")
    final = [pc for pc, st in enumerate(info.pcs)
             if st is not None and st.kind == "return" and "." not in st.number]

    def returns_false_for_a_delivered_cell(s):
        for d in range(_get(program, s, "sp")):
            if _get(program, s, "frame_alg", d) != code or _get(program, s, "frame_pc", d) not in final:
                continue
            t = _get(program, s, "frame_local", d * k + tok)
            if _get(program, s, "frame_local", d * k + removed) != FALSE:
                continue
            if any(_get(program, s, "cell_delivered", c) == 1 and _get(program, s, "cell_token", c) == t
                   and t != EMPTY for c in range(B.cells)):
                return True
        return False

    assert any(returns_false_for_a_delivered_cell(s) for s in r.reached)


def test_gc_cleanup_not_prevented_with_wr_deref(model):
    """gc-cleanup-not-prevented-with-wr-deref.js: a deref that returned the target in an earlier
    job does not stop the target from being collected and its registration delivered later."""
    assert (REMOVED / "WeakRef" / "prototype" / "deref" /
            "gc-cleanup-not-prevented-with-wr-deref.js").exists()
    program, r = model
    lay = program.layout

    def deref_returned_a_registered_target(s):
        sp = _get(program, s, "sp")
        if sp == 0 or _get(program, s, "frame_phase", sp - 1) != PHASE_DEREF:
            return False
        got = _get(program, s, "ret")
        return any(_get(program, s, "cell_target", c) == got and got >= lay.obj(0) for c in range(B.cells))

    starts = [s for s in r.reached if deref_returned_a_registered_target(s)]
    assert starts, "no deref returns a registered target"
    delivered = CATALOGUE["held-value-once"].cover
    for start in sorted(starts)[:20]:
        later = explore(replace(program, init=start),
                        {"delivered": lambda S: not delivered(program, S)}, B.steps)
        if "delivered" in later.violations:
            path = later.violations["delivered"]
            # the deref's turn ended (ClearKeptObjects ran) before the delivery
            assert any(cmd is not None and cmd.name == "event loop: ClearKeptObjects" for cmd, _ in path)
            return
    pytest.fail("after a successful deref, no delivery of its target's registration is reachable")

