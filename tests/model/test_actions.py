"""model/actions.py: every mutator command carries its action, its name is the action's label
(the labels written by hand before, byte for byte), and an action survives the trace's JSON."""

from __future__ import annotations

import pytest
from specmc.model.actions import (
    Action,
    ActionError,
    Allocate,
    Deref,
    Drop,
    NewRegistry,
    NewWeakRef,
    Register,
    Resumed,
    Return,
    Throw,
    Unregister,
)
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.hosts import load_host, shipped
from specmc.spec.load import load_spec


@pytest.mark.parametrize(("action", "label"), [
    (NewRegistry(), "new FinalizationRegistry(callback)"),
    (NewWeakRef(None), "new WeakRef(undefined)"),
    (NewWeakRef(1), "new WeakRef(obj1)"),
    (Deref(0), "obj0.deref()"),
    (Unregister(1, None), "obj1.unregister(undefined)"),
    (Register(0, 1, None, 0), "obj0.register(obj1, undefined, obj0)"),
    (Allocate(), "allocate {}"),
    (Drop(3), "drop obj3"),
    (Return(), "return"),
    (Throw(), "throw"),
    (Resumed(), "(built-in returned)"),
])
def test_labels_are_the_ones_traces_always_showed(action: Action, label: str) -> None:
    assert action.label == label
    assert Action.from_json(action.to_json()) == action


def test_operands_are_named_after_the_builtins_parameters() -> None:
    assert Register(0, 1, None, 0).to_json() == {"kind": "register", "this": "obj0", "target": "obj1",
                                                 "heldValue": "undefined", "unregisterToken": "obj0"}
    assert Drop(2).to_json() == {"kind": "drop", "slot": "obj2"}


@pytest.mark.parametrize("host", shipped())
def test_every_mutator_command_is_named_by_its_action(host: str) -> None:
    program = build(load_spec(), load_host(host), Bounds())
    mutator = [c for c in program.commands if c.actor == "mutator"]
    assert mutator and all(c.action is not None and c.name == c.action.label for c in mutator)
    assert all(c.action is None for c in program.commands if c.actor != "mutator")
    # one command per action and depth: the registers range over every receiver and operand
    registers = {c.action for c in mutator if isinstance(c.action, Register)}
    assert len(registers) == 2 * 3 ** 3  # receivers obj0, obj1 x (undefined, obj0, obj1)^3


@pytest.mark.parametrize(("doc", "why"), [
    ({"kind": "cleanupSome", "this": "obj0"}, "unknown action kind"),
    ({"kind": ["drop"]}, "unknown action kind"),
    ("drop obj0", "is a JSON object"),
    ({"kind": "drop"}, "no operand slot"),
    ({"kind": "drop", "slot": "undefined"}, "not an object slot"),
    ({"kind": "deref", "this": "undefined"}, "not an object slot"),
    ({"kind": "new WeakRef", "target": "cell0"}, "not an object slot, a Symbol or undefined"),
    ({"kind": "new WeakRef", "target": 3}, "not an object slot, a Symbol or undefined"),
])
def test_what_is_no_action_is_refused(doc: object, why: str) -> None:
    with pytest.raises(ActionError, match=why):
        Action.from_json(doc)
