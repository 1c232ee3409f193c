"""The front-end on unmodified ECMA-262 text: all 21 snapshots, and whole spec.html files."""

from __future__ import annotations

import re

import pytest
from specmc.spec import ir
from specmc.spec.load import fully_parsed, load_spec, load_specs, unknown_steps
from specmc.spec.render import node_json

from tests.conftest import FULL, HISTORY, snapshot_folders

_ALG = re.compile(r"<emu-alg[^>]*>(.*?)(?:</emu-alg>|(?=</emu-clause>|<emu-clause))", re.S)
_ITEM_LINE = re.compile(r"^\s*\d+\.\s", re.M)


def list_items(text: str) -> int:
    """Numbered list items inside <emu-alg>, counted independently of spec/ (regex over raw text)."""
    return sum(len(_ITEM_LINE.findall(body)) for body in _ALG.findall(text))


@pytest.mark.parametrize("folder", snapshot_folders(), ids=lambda p: p.name)
def test_snapshot_parses_fully(folder):
    excerpt = folder / "finreg-excerpt.html"
    spec = load_spec(excerpt)
    steps = [s for a in spec.algorithms for s in a.walk()]
    assert unknown_steps(spec) == []
    assert [s.number for s in steps if not fully_parsed(s)] == []
    assert len(steps) == list_items(excerpt.read_text(encoding="utf-8"))
    # every step knows where it came from
    for s in steps:
        assert s.loc.file == str(excerpt) and s.loc.line > 0 and s.loc.column > 0
        assert s.loc.clause and s.loc.step == s.number


def test_twenty_one_snapshots_are_walked():
    assert len(snapshot_folders()) == 21
    assert (HISTORY / "INDEX.md").exists()


def _top_level_ids(spec: ir.Spec) -> list[str]:
    return [c.id for c in spec.clauses if not c.parent]


def _shape(spec: ir.Spec) -> list:
    """The IR with file and line dropped (node_json omits every loc)."""
    return [
        (a.clause, a.name, a.kind, a.params, a.return_type, a.closure, a.captures, a.binds,
         [(s.number, s.text, s.kind, node_json(s.stmt)) for s in a.walk()])
        for a in spec.algorithms
    ]


PAIRS = [
    ("spec-2025-11-04-e936549f.html", "current"),
    ("spec-2021-03-17-06357938.html", "history/2021-03-17-06357938"),
    ("spec-2021-07-21-61f79507.html", "history/2021-07-21-61f79507"),
]


@pytest.mark.slow
@pytest.mark.parametrize("full,folder", PAIRS, ids=[p[0] for p in PAIRS])
def test_whole_file_matches_excerpt(shared, full, folder):
    excerpt = load_spec(shared / folder / "finreg-excerpt.html")
    whole = load_specs([FULL / full], _top_level_ids(excerpt))
    assert len(whole.algorithms) == len(excerpt.algorithms)
    assert _shape(whole) == _shape(excerpt)
    # same columns too: the excerpt lines are byte copies of the whole file's lines
    assert [s.loc.column for a in whole.algorithms for s in a.walk()] == \
        [s.loc.column for a in excerpt.algorithms for s in a.walk()]


def test_older_markup_variants(shared):
    old = load_spec(shared / "history/2020-04-06-df16d7df/finreg-excerpt.html")
    # unclosed <emu-alg> in the proposal text is closed at the clause end, with a warning
    assert [w.code for w in old.warnings].count("W100") == 2
    # the proposal's typo "Perfom" is read as Perform, and said so
    typo = [w for w in old.warnings if w.code == "W101"]
    assert typo and typo[0].loc.step == "4" and typo[0].loc.clause == "sec-weak-ref-target"
    weakref = old.by_name("WeakRef")[0]
    assert isinstance(weakref.steps[3].stmt, ir.Perform)
    # a multi-line step is one step, its text joined
    assert weakref.steps[2].text.startswith("Let _weakRef_ be ? OrdinaryCreateFromConstructor(")
    assert weakref.steps[2].text.endswith("« [[WeakRefTarget]] »).")
    # aoid + prose headers
    cleanup = old.by_name("CleanupFinalizationRegistry")[0]
    assert [(p.name, p.optional) for p in cleanup.params] == [
        ("finalizationRegistry", False), ("callback", True)]


def test_prose_semantics_are_recognised(shared):
    spec = load_spec(shared / "current/finreg-excerpt.html")
    execution = spec.by_clause("sec-weakref-execution")[0]
    assert execution.kind == "implementation-steps" and execution.atomic
    assert execution.binds == ("S",)
    job = spec.by_clause("sec-host-cleanup-finalization-registry")[0]
    assert job.kind == "job-closure"
    assert job.closure == "_cleanupJob_" and job.captures == ("finalizationRegistry",)
    assert job.name == "HostEnqueueFinalizationRegistryCleanupJob"
    make = spec.by_name("HostMakeJobCallback")[0]
    assert make.kind == "host-default"
    deref = spec.by_name("WeakRef.prototype.deref")[0]
    assert deref.kind == "built-in"


def test_embedded_rendition_matches_current_structure(shared):
    ours = load_spec()
    theirs = load_spec(shared / "current/finreg-excerpt.html")
    assert [(a.clause, a.name, a.kind) for a in ours.algorithms] == \
        [(a.clause, a.name, a.kind) for a in theirs.algorithms]
    assert [[(s.number, s.kind) for s in a.walk()] for a in ours.algorithms] == \
        [[(s.number, s.kind) for s in a.walk()] for a in theirs.algorithms]
    assert unknown_steps(ours) == []
