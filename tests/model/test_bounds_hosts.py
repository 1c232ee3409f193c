"""Bounds and host profiles: validated input, located messages."""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds, parse_bounds
from specmc.model.hosts import load_host, shipped
from specmc.spec.diagnostics import SpecError


def test_defaults_and_overrides():
    b = parse_bounds("objects=3, cells=2")
    assert (b.objects, b.cells, b.frames) == (3, 2, Bounds().frames)


@pytest.mark.parametrize("text,code", [
    ("objects=0", "E050"), ("objects=-1", "E050"), ("frames=99", "E050"),
    ("objects", "E051"), ("widgets=2", "E052"), ("objects=two", "E053"), ("cells=1.5", "E053"),
    ("slots=5", "E050"), ("slots=-1", "E050"), ("slots=one", "E053"),
    ("slots=\u0661", "E053"), ("objects=\uff12", "E053"), ("objects=2_0", "E053"),  # int() reads these
])
def test_bad_bounds(text, code):
    with pytest.raises(SpecError) as e:
        parse_bounds(text)
    assert e.value.diagnostics[0].code == code


@pytest.mark.parametrize("value", [True, 1.5, "2"])
def test_a_bound_that_is_not_a_whole_number_says_so(value):
    """A plan's bounds table gives values as TOML typed them: `true` is not the number 1."""
    with pytest.raises(SpecError) as e:
        Bounds(objects=value)
    assert e.value.diagnostics[0].code == "E053"


def test_slots_bound_is_described_only_when_set():
    """slots=0 (the default) leaves every bounds string as it was before the object graph: cache
    keys, reports and certificates made at those bounds still match."""
    assert parse_bounds("slots=0") == Bounds()
    assert "slots" not in Bounds().describe()
    assert parse_bounds("slots=2").describe().endswith(",slots=2")
    assert parse_bounds(Bounds(slots=1).describe()) == Bounds(slots=1)


def test_shipped_profiles():
    assert shipped() == ["ecma262", "jsc", "quickjs-ng-0.12", "quickjs-ng-0.13", "quickjs-ng-0.5",
                         "quickjs-ng-0.6", "v8"]
    qjs = load_host("quickjs-ng-0.5")
    assert qjs.collector == "reference counting" and qjs.free_path == "FreeObject"
    assert load_host("v8").scheduling == "one task per registry"
    assert load_host("ecma262").algorithms == ()


def test_unknown_profile():
    with pytest.raises(SpecError) as e:
        load_host("spidermonkey")
    assert e.value.diagnostics[0].code == "E060" and "quickjs-ng-0.5" in e.value.diagnostics[0].message


PROFILE = """<emu-clause id="host-x" type="host profile">
  <h1>X</h1>
  <dl class="header"><dt>collector</dt><dd>{collector}</dd><dt>free path</dt><dd>FreeObject</dd></dl>
  <emu-clause id="host-x-free" type="host operation">
    <h1>FreeObject ( _obj_ )</h1>
    <emu-alg>
      {step}
      1. Return ~unused~.
    </emu-alg>
  </emu-clause>
</emu-clause>
"""


def _build(tmp_path, collector="reference counting", step="1. Free _obj_."):
    from specmc.model.build import build
    from specmc.spec.load import load_spec

    f = tmp_path / "x.html"
    f.write_text(PROFILE.format(collector=collector, step=step))
    return build(load_spec(), load_host(str(f)), Bounds(objects=1))


def test_bad_profile_option(tmp_path):
    with pytest.raises(SpecError) as e:
        _build(tmp_path, collector="magic")
    d = e.value.diagnostics[0]
    assert d.code == "E066" and (d.loc.line, d.loc.column) == (3, 44)  # at the value itself


@pytest.mark.parametrize("value", ["fifo", "one task per registry"])
def test_a_scheduling_option_the_host_never_consults_is_refused(tmp_path, value):
    """`cleanup scheduling` decides only how the hook queues the cleanup job: this free path never
    calls the hook, so the option changed nothing and a user who wrote it checked a host that
    does not do it. Refused at the key, whatever the value."""
    from specmc.model.build import build
    from specmc.spec.load import load_spec

    f = tmp_path / "x.html"
    header = f"<dt>free path</dt><dd>FreeObject</dd><dt>cleanup scheduling</dt><dd>{value}</dd>"
    f.write_text(PROFILE.format(collector="reference counting", step="1. Free _obj_.").replace(
        "<dt>free path</dt><dd>FreeObject</dd>", header))
    with pytest.raises(SpecError) as e:
        build(load_spec(), load_host(str(f)), Bounds(objects=1))
    d = e.value.diagnostics[0]
    line = f.read_text().splitlines()[2]
    assert d.code == "E088" and (d.loc.line, d.loc.column) == (3, line.index("cleanup scheduling") + 1)


def test_a_scheduling_option_a_host_consults_is_kept():
    """The tracing hosts' Execution calls the hook, so the option stands (v8's is the one that
    changes the model) and the ecma262 profile may state the default."""
    from specmc.model.build import build
    from specmc.spec.load import load_spec

    for name in ("v8", "ecma262"):
        host = load_host(name)
        assert host.scheduling_at is not None
        build(load_spec(), host, Bounds(objects=1))


def test_unknown_step_in_profile_is_located(tmp_path):
    with pytest.raises(SpecError) as e:
        _build(tmp_path, step="1. Frobnicate _obj_.")
    d = e.value.diagnostics[0]
    assert d.code == "E040" and d.loc.line == 7 and d.loc.step == "1"


@pytest.mark.parametrize("tail", ["reading ahead, do", "reading the next element after the steps run, do"])
def test_a_misworded_read_ahead_loop_is_an_unknown_step(tmp_path, tail):
    """A wording the grammar does not know is refused at the step, at every bound, not built as a
    loop over an unreadable list (spec/shapes.py keeps the list as prose)."""
    loop = "1. For each Record { [[HeldValue]] } _cell_ of _obj_.[[Cells]], "
    body = "\n        1. Free _cell_."
    _build(tmp_path, step=loop + "reading the next element before the steps run, do" + body)
    with pytest.raises(SpecError) as e:
        _build(tmp_path, step=loop + tail + body)
    d = e.value.diagnostics[0]
    assert d.code == "E040" and d.loc.line == 7 and d.loc.step == "1" and tail in d.message


def test_wrong_arity_is_located(tmp_path):
    with pytest.raises(SpecError) as e:
        _build(tmp_path, step="1. Perform CleanupFinalizationRegistry(_obj_, _obj_).")
    d = e.value.diagnostics[0]
    assert d.code == "E063" and d.loc.line == 7 and "CleanupFinalizationRegistry" in d.message


def test_delivery_header_per_shipped_profile():
    """`delivery` defaults to the spec's `optional`; the profiles that read their engine's source
    say `promised` (docs/hosts.md, "Delivery")."""
    got = {name: load_host(name).delivery for name in shipped()}
    assert got["ecma262"] == "optional"
    assert {n for n, v in got.items() if v == "promised"} == {
        "v8", "jsc", "quickjs-ng-0.5", "quickjs-ng-0.6", "quickjs-ng-0.12", "quickjs-ng-0.13"}


def _with_delivery(tmp_path, value: str):
    from specmc.model.hosts import HOSTS_DIR

    text = (HOSTS_DIR / "ecma262.html").read_text(encoding="utf-8")
    f = tmp_path / "d.html"
    # (fifo: `any order`, the reference host's own, is refused with promised delivery)
    key = f"<dd>fifo</dd>\n    <dt>delivery</dt>\n    <dd>{value}</dd>\n"
    assert "<dd>any order</dd>\n" in text
    f.write_text(text.replace("<dd>any order</dd>\n", key, 1), encoding="utf-8")
    return f


def test_bad_delivery_value_is_located(tmp_path):
    f = _with_delivery(tmp_path, "always")
    with pytest.raises(SpecError) as e:
        load_host(str(f))
    d = e.value.diagnostics[0]
    line = next(i for i, s in enumerate(f.read_text().splitlines(), 1) if "<dd>always</dd>" in s)
    assert d.code == "E066" and d.loc.line == line and "optional | promised" in str(e.value)


def test_a_promising_host_performs_the_optional_delivery_steps(tmp_path):
    """With `delivery: promised` Execution's "Optionally" has no [skip] command and the cleanup
    loop's [exit] requires that no cell waits; with the spec's `optional` both choices stay."""
    from specmc.model.build import build
    from specmc.model.domain import View
    from specmc.model.explore import CONCRETE
    from specmc.spec.load import load_spec

    spec = load_spec()
    optional = build(spec, load_host(str(_with_delivery(tmp_path, "optional"))), Bounds(objects=1))
    promised = build(spec, load_host(str(_with_delivery(tmp_path, "promised"))), Bounds(objects=1))
    names = {c.name for c in optional.commands}
    assert "Execution 1.b.ii [skip]" in names
    assert "Execution 1.b.ii [skip]" not in {c.name for c in promised.commands}
    # the loop's exit, in a state where a cell waits: enabled only for the optional host
    for program, enabled in ((optional, True), (promised, False)):
        exit_cmd = next(c for c in program.commands if c.name == "CleanupFinalizationRegistry 3 [exit]"
                        and c.site[0] == 0)
        lay = program.layout
        s = list(program.init)
        code = program.code_of("CleanupFinalizationRegistry")
        s[lay.where("frame_alg")[0]] = code
        s[lay.where("frame_pc")[0]] = exit_cmd.site[2]
        reg = lay.obj(0)
        s[lay.where("obj_status")[0]] = 1
        s[lay.where("obj_kind")[0]] = 2
        s[lay.where("cell_status")[0]] = 1
        s[lay.where("cell_owner")[0]] = reg
        s[lay.where("cell_target")[0]] = 0  # ~empty~: the target was collected
        info = program.alg(code)
        s[lay.where("frame_local")[0] + info.locals.index("finalizationRegistry")] = reg
        view = View(CONCRETE, lay, tuple(s))
        from specmc.model.domain import Disabled
        try:
            exit_cmd.fire(view)
            fired = True
        except Disabled:
            fired = False
        assert fired is enabled


def test_an_engine_profile_at_two_cells_says_it_runs_the_texts_one_cell_step():
    """Review 8 (F8): v8 runs the text's Execution 1.b, which empties one matching cell per
    registry, and was VIOLATED at cells=2 by a run V8's collector (every dead WeakCell nullified)
    does not have. Its rows (and jsc's) now say so at cells >= 2; the spec's own host, whose
    hazard it is, and counting hosts do not."""
    from specmc.model.build import host_notes

    for name in ("v8", "jsc"):
        (note,) = [n for n in host_notes(load_host(name), Bounds(cells=2)) if "Execution 1.b" in n]
        assert "the text's hazard, not the engine's" in note
        assert not any("Execution 1.b" in n for n in host_notes(load_host(name), Bounds(cells=1)))
    assert host_notes(load_host("ecma262"), Bounds(cells=2)) == ()
    assert not any("Execution 1.b" in n for n in host_notes(load_host("quickjs-ng-0.6"), Bounds(cells=2)))
