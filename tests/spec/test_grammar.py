"""Step and expression forms of the WeakRef/FinalizationRegistry clauses, one by one."""

from __future__ import annotations

import pytest
from specmc.spec import ir
from specmc.spec.parser import PARSE_ERRORS, step_parser


def stmt(text: str) -> ir.Stmt:
    return step_parser().parse_stmt(text)[0]


def test_let_call_with_check_and_slot_list():
    s = stmt('Let _weakRef_ be ? OrdinaryCreateFromConstructor(NewTarget, '
             '*"%WeakRef.prototype%"*, « [[WeakRefTarget]] »).')
    assert isinstance(s, ir.Let) and s.var == "weakRef"
    call = s.value
    assert isinstance(call, ir.Call) and call.check == "?"
    assert call.args[0] == ir.Special("new-target")
    assert call.args[1] == ir.Literal("string", "%WeakRef.prototype%")
    assert call.args[2] == ir.ListLit((ir.SlotName("WeakRefTarget"),))


@pytest.mark.parametrize("text", [
    "Let _agentRecord_ be the surrounding agent's Agent Record.",
    "Let _AR_ be the Agent Record of the surrounding agent.",
    "Let _agent_ be the surrounding agent.",
])
def test_agent_record_phrasings_agree(text):
    assert stmt(text).value == ir.Special("agent-record")


def test_heap_quantifier_with_nested_such_that():
    s = stmt("For each FinalizationRegistry _fg_ such that _fg_.[[Cells]] contains a Record "
             "_cell_ such that _cell_.[[WeakRefTarget]] is _value_, do")
    assert isinstance(s, ir.ForEach) and s.source is None
    assert s.binder == ir.Binder("fg", "FinalizationRegistry")
    c = s.such_that
    assert isinstance(c, ir.Contains) and c.element == ir.Binder("cell", "Record")
    assert c.such_that == ir.Compare(ir.Field(ir.Var("cell"), "WeakRefTarget"), ir.Var("value"))


def test_proposal_comma_such_that_means_the_same():
    new = stmt("For each FinalizationRegistry _fg_ such that _fg_.[[Cells]] contains a Record "
               "_cell_ such that _cell_.[[WeakRefTarget]] is _obj_, do")
    old = stmt("For each FinalizationRegistry _fg_ such that _fg_.[[Cells]] contains _cell_, "
               "such that _cell_.[[WeakRefTarget]] is _obj_,")
    assert old.such_that.such_that == new.such_that.such_that


def test_while_an_implementation_may():
    s = stmt("While _finalizationRegistry_.[[Cells]] contains a Record _cell_ such that "
             "_cell_.[[WeakRefTarget]] is ~empty~, an implementation may perform the "
             "following steps:")
    assert isinstance(s, ir.While) and s.may


def test_inline_if_forms():
    s = stmt("If _callback_ is not present or *undefined*, set _callback_ to "
             "_finalizationRegistry_.[[CleanupCallback]].")
    assert isinstance(s, ir.If) and isinstance(s.inline, ir.Set)
    assert s.cond == ir.Logic("or", (ir.Present(ir.Var("callback"), True),
                                     ir.Compare(ir.Var("callback"), ir.Literal("value", "undefined"))))
    s = stmt("If _cleanupResult_ is an abrupt completion, perform any host-defined steps for "
             "reporting the error.")
    assert s.cond == ir.TypeTest(ir.Var("cleanupResult"), "abrupt completion")
    assert s.inline == ir.HostDefined("steps for reporting the error")


def test_type_macro_and_type_test_agree():
    old = stmt("If Type(_target_) is not Object, throw a *TypeError* exception.")
    new = stmt("If _target_ is not an Object, throw a *TypeError* exception.")
    assert old == new and new.inline == ir.Throw("TypeError")


def test_optionally_replace_choose_assert():
    s = stmt("Optionally, perform HostEnqueueFinalizationRegistryCleanupJob(_fg_).")
    assert isinstance(s, ir.Optionally) and isinstance(s.body, ir.Perform)
    s = stmt("Replace the element of _set_.[[WeakSetData]] whose value is _value_ with an "
             "element whose value is ~empty~.")
    assert isinstance(s, ir.Replace) and s.new == ir.Literal("enum", "empty")
    assert stmt("Choose any such _cell_.") == ir.Choose("cell")
    s = stmt("Assert: _finalizationRegistry_ has [[Cells]] and [[CleanupCallback]] internal slots.")
    assert s.cond == ir.HasSlots(ir.Var("finalizationRegistry"), ("Cells", "CleanupCallback"))


def test_record_literal_and_completion():
    s = stmt("Return the JobCallback Record { [[Callback]]: _callback_, [[HostDefined]]: ~empty~ }.")
    assert s.value == ir.RecordLit("JobCallback Record", (
        ("Callback", ir.Var("callback")), ("HostDefined", ir.Literal("enum", "empty"))))
    s = stmt("Let _cleanupResult_ be Completion(CleanupFinalizationRegistry(_finalizationRegistry_)).")
    assert isinstance(s.value, ir.Call) and s.value.callee == ir.Name("Completion")


def test_rejected_text_raises_for_the_fallback():
    from specmc.spec.parser import PARSE_ERRORS
    with pytest.raises(PARSE_ERRORS):
        stmt("Frobnicate the quux.")


def test_a_list_walk_that_reads_ahead():
    """The host-profile form of list_for_each_safe (docs/spec-language.md, "Two ways to walk a
    list"): the same loop as the spec's live `For each ... of`, marked `read_ahead`."""
    ahead = stmt("For each Record { [[WeakRefTarget]], [[HeldValue]] } _cell_ of _fg_.[[Cells]], "
                 "reading the next element before the steps run, do")
    live = stmt("For each Record { [[WeakRefTarget]], [[HeldValue]] } _cell_ of _fg_.[[Cells]], do")
    assert isinstance(ahead, ir.ForEach) and isinstance(live, ir.ForEach)
    assert ahead.read_ahead and not live.read_ahead
    assert (ahead.binder, ahead.source) == (live.binder, live.source)
    assert ahead.source == ir.Field(ir.Var("fg"), "Cells")


@pytest.mark.parametrize("tail", [
    "reading ahead, do",
    "reading the next element after the steps run, do",
    "reading the next element before the steps run",
])
def test_other_wordings_of_the_read_ahead_form_are_not_it(tail):
    """Only the one wording is the form; the grammar rejects the others (the model then refuses
    the step, E040: tests/model/test_bounds_hosts.py)."""
    with pytest.raises(PARSE_ERRORS):
        stmt(f"For each Record {{ [[WeakRefTarget]] }} _cell_ of _fg_.[[Cells]], {tail}")
