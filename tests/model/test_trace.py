"""The trace as data: frames with arguments, readable changes, the schema document, folding."""

from __future__ import annotations

import json

import pytest
from specmc.model.actions import Drop, Register
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host
from specmc.model.trace import SCHEMA, build_trace, fold, trace_json
from specmc.proofs.properties import CATALOGUE
from specmc.spec.load import load_spec


@pytest.fixture(scope="module")
def seed():
    """The seed violation: quickjs-ng 0.5 calls the cleanup callback on the stack of a free."""
    program = build(load_spec(), load_host("quickjs-ng-0.5"), Bounds(objects=2))
    prop = CATALOGUE["cleanup-not-on-free-stack"]
    r = explore(program, {prop.id: lambda S: prop.holds(program, S)}, Bounds(objects=2).steps)
    return build_trace(program, r.violations[prop.id])


def test_frames_carry_arguments_rendered_as_names(seed):
    last = seed[-1]
    assert [f.alg for f in last.frames] == list(last.stack)
    assert [f.role for f in last.frames][-3:] == ["free-path", "spec", "user"]
    free = last.frames[-3]
    assert free.call() == "FreeObject(obj=obj1)"
    register = next(t for t in seed if t.stack[-1:] == ("FinalizationRegistry.prototype.register",))
    assert dict(register.frames[-1].args) == {"this": "obj0", "target": "obj1", "heldValue": "undefined",
                                              "unregisterToken": "obj0"}


def test_changes_are_named_after_what_they_index(seed):
    removed = next(t for t in seed if t.text.startswith("Remove _cell_ from"))
    assert dict(removed.changes)["cell_owner[cell0]"] == "~empty~"
    assert dict(removed.changed)["cell_owner"] == 0  # the raw form stays for current readers
    created = next(t for t in seed if dict(t.changes).get("obj_kind[obj0]"))
    assert dict(created.changes)["obj_kind[obj0]"] == "FinalizationRegistry"
    assert any(k.startswith("frame1.") for t in seed for k in dict(t.changes))


def test_schema_document_round_trips_through_json(seed):
    doc = json.loads(json.dumps(trace_json(seed, folded=True)))
    assert doc["schema"] == SCHEMA == "specmc-trace/1"
    assert [s["index"] for s in doc["steps"]] == list(range(len(seed)))
    step = doc["steps"][-1]
    assert set(step) >= {"clause", "step", "text", "stack", "actor", "changed", "frames", "changes", "index"}
    assert step["frames"][1] == {"alg": "FreeObject", "role": "free-path", "args": {"obj": "obj1"}}
    # the same document from the JSON step objects that `specmc check` carries
    assert trace_json([s.to_json() for s in seed])["steps"] == doc["steps"]


def test_fold_hides_only_bookkeeping_and_accounts_for_every_step(seed):
    entries = fold(seed)
    assert len(entries) < len(seed)
    covered = []
    for e in entries:
        if "folded" in e:
            assert e["folded"] >= 2 and e["folded"] == len(e["steps"]) == e["to"] - e["from"] + 1
            covered += range(e["from"], e["to"] + 1)
        else:
            covered.append(e["index"])
    assert covered == list(range(len(seed)))
    kept = {e["index"] for e in entries if "folded" not in e}
    for i, t in enumerate(seed):
        if any(k.startswith(("obj_", "cell_", "root", "err_")) for k, _ in t.changed):
            assert i in kept, t.text
    assert len(seed) - 1 in kept and 0 in kept


def test_mutator_steps_carry_their_action_and_its_label(seed):
    """The witness generator reads `action`, never `text`; `text` stays the label people read."""
    mutator = [t for t in seed if t.actor == "mutator"]
    assert mutator and all(t.action is not None and t.text == t.action.label for t in mutator)
    assert all(t.action is None and "action" not in t.to_json() for t in seed if t.actor != "mutator")
    register = next(t for t in mutator if isinstance(t.action, Register))
    assert register.to_json()["action"] == {"kind": "register", "this": "obj0", "target": "obj1",
                                            "heldValue": "undefined", "unregisterToken": "obj0"}
    assert Drop(1) in [t.action for t in mutator]
