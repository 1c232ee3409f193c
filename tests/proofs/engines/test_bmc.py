"""BMC (first cut): its counterexample is replayed by the interpreter and is as short as the
explorer's (a corrupted solver trace is refused: tests/proofs/engines/test_unrolling.py)."""

from __future__ import annotations

from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host
from specmc.model.symbolic import relation
from specmc.proofs.engines.bmc import bmc
from specmc.proofs.properties import Property
from specmc.spec.load import load_spec

NO_REGISTRY = Property(
    "no-registry-ever", "no FinalizationRegistry is ever allocated", "test",
    lambda prog, S: S.d.and_(*[S.d.ne(S.get("obj_kind", i), 2)
                               for i in range(prog.layout.bounds.objects)]))


def test_bmc_counterexample_is_shortest_and_replays():
    program = build(load_spec(), load_host("ecma262"), Bounds(objects=1))
    r = bmc(program, relation(program), NO_REGISTRY.holds, 8)
    assert r.violated
    ex = explore(program, {"p": lambda S: NO_REGISTRY.holds(program, S)}, 50)
    assert r.depth == len(ex.violations["p"]) - 1
    assert [c.name for c, _ in r.path[1:]] == [c.name for c, _ in ex.violations["p"][1:]]


def test_bounded_says_whether_its_depth_met_the_cover():
    """A BOUNDED whose depth never reaches the property's situation checked nothing (review
    counts it so): bmc says whether some state within the depth meets the cover."""
    program = build(load_spec(), load_host("ecma262"), Bounds(objects=1))
    cover = NO_REGISTRY.holds  # true from the start: met at depth 0
    registry = Property("r", "", "test", lambda prog, S: S.d.not_(NO_REGISTRY.holds(prog, S)))
    never = Property("n", "", "test", lambda prog, S: S.d.true())
    shallow = bmc(program, relation(program), never.holds, 1, cover=registry.holds)
    assert not shallow.violated and shallow.cover_reached is False  # no registry within one step
    deep = bmc(program, relation(program), never.holds, 8, cover=registry.holds)
    assert not deep.violated and deep.cover_reached is True
    assert bmc(program, relation(program), never.holds, 0, cover=cover).cover_reached is True
    assert bmc(program, relation(program), never.holds, 2).cover_reached is None  # no cover given
