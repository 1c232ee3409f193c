"""model/env.py: the environment hands values to the text's algorithms by position, never by the
names one edition of the text happens to use."""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host
from specmc.spec.load import EMBEDDED, load_spec, load_text

RENAMES = {"_heldValue_": "_holdings_", "_unregisterToken_": "_token_", "_cleanupCallback_": "_callback_",
           "_finalizationRegistry_": "_registry_", "_target_": "_referent_"}


@pytest.mark.parametrize("host", ["ecma262", "quickjs-ng-0.5"])
def test_renaming_parameters_and_captures_keeps_every_state(host):
    """An editorial rename (register's _heldValue_, the cleanup job's captured registry, ...) is
    the same model: the mutator used to pass arguments by the parameters' names and the job its
    registry by `finalizationRegistry`, so a renamed parameter silently received nothing."""
    text = EMBEDDED.read_text(encoding="utf-8")
    for old, new in RENAMES.items():
        assert old in text
        text = text.replace(old, new)
    bounds = Bounds(objects=1, frames=3)
    original = explore(build(load_spec(), load_host(host), bounds), {}, 10_000, keep=True)
    renamed = explore(build(load_text("renamed.html", text), load_host(host), bounds), {}, 10_000, keep=True)
    assert original.complete and renamed.complete
    assert set(renamed.reached) == set(original.reached)


def test_a_registry_readied_twice_before_its_task_runs_with_the_queue_full() -> None:
    """V8's ordinary case: two targets of one registry collected (here in one collection) before
    its cleanup task runs, with jobs=1. The second readying enqueues nothing (the registry is
    queued already): that write's guard is false and its index, queue[1], is past the queue.
    The interpreter raised IndexError there (an internal error for any trace through it), where
    the C search and the symbolic relation skip the write (found by an independent review)."""
    from tests.model.test_object_graph import _get, _run

    p = build(load_spec(), load_host("v8"), Bounds(objects=3, cells=2, frames=4, jobs=1))
    r = "(built-in returned)"
    s, _ = _run(p, ["new FinalizationRegistry(callback)", r, "allocate {}", "allocate {}",
                    "obj0.register(obj1, undefined, undefined)", r,
                    "obj0.register(obj2, undefined, undefined)", r, "drop obj1", "drop obj2",
                    "collector: S = {obj1, obj2} is not live"])
    assert _get(p, s, "qlen") == 1 and _get(p, s, "queue", 0) == p.layout.obj(0)
