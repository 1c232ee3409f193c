"""The order in which the event loop runs queued jobs (model/env.py `_event_loop`).

sec-jobs orders only the jobs of HostEnqueuePromiseJob: two scheduled cleanup jobs may run either
way round, and the spec's own host (`cleanup scheduling: any order`) runs any queued job next.
Review 8 found the reference host running its queue first-in first-out, which proved an order
the text does not promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.hosts import load_host
from specmc.proofs import exitcodes
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import load_spec

ROOT = Path(__file__).resolve().parents[2]

# Registry Y's cleanup job runs while registry X's, queued by the same collection for a
# registration of the same target, waits, where X was allocated before Y: the order "fifo" keeps
# out (Execution 1.b walks registries in allocation order), and the spec's host allows.
LATER_FIRST = '''
from specmc.model.layout import CLEANUP_JOB, EMPTY, JOB_CLEANUP
from specmc.proofs.properties import Property, register


def later_first(prog, S):
    d, lay = S.d, prog.layout
    code = prog.code_of(CLEANUP_JOB)
    running = S.get("frame_local", prog.alg(code).locals.index("finalizationRegistry"))
    cases = []
    for a in range(lay.bounds.cells):
        for b in range(lay.bounds.cells):
            x = S.get("reg_owner", a)
            if a == b:
                continue
            waiting = d.or_(*[d.and_(d.lt(q, S.get("qlen")), d.eq(S.get("queue", q), x),
                                     d.eq(S.get("queue_kind", q), JOB_CLEANUP))
                              for q in range(lay.bounds.jobs)])
            cases.append(d.and_(d.ne(x, EMPTY), d.eq(S.get("reg_owner", b), running), d.lt(x, running),
                                d.eq(S.get("reg_target", a), S.get("reg_target", b)), waiting))
    return d.not_(d.and_(d.ne(S.get("sp"), 0), d.eq(S.get("frame_alg", 0), code), d.or_(*cases)))


register(Property("earlier-registry-first", "x", "sec-jobs", later_first))
'''


def test_the_spec_host_may_run_a_later_queued_cleanup_job_first(tmp_path):
    f = tmp_path / "order.py"
    f.write_text(LATER_FIRST, encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "specmc.proofs", "check", "--host", "ecma262",
                        "--engine", "dfs",
                        "--bounds", "objects=2,cells=2,jobs=2,frames=4", "--properties-file", str(f),
                        "--property", "earlier-registry-first", "--certificates", str(tmp_path / "c")],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == exitcodes.FINDING, r.stdout + r.stderr
    assert "VIOLATED" in r.stdout and "run queued job 2 first (any order)" in r.stdout, r.stdout


def test_one_queue_position_a_command_and_none_more_at_one_job():
    """At jobs=1 the model is the one it was (the queue has one place); with two, the spec's host
    has a command for each place, a first-in first-out host one."""
    def names(host: str, jobs: int) -> list[str]:
        program = build(load_spec(), load_host(host), Bounds(objects=1, jobs=jobs))
        return [c.name for c in program.commands if c.name.startswith("event loop: run ")]

    assert names("ecma262", 1) == ["event loop: run the next job"]
    assert names("ecma262", 2) == ["event loop: run the next job",
                                   "event loop: run queued job 2 first (any order)"]
    assert names("v8", 2) == ["event loop: run the next job"]


def test_any_order_with_promised_delivery_is_refused(tmp_path):
    """eventually-delivered assumes every queued job runs once turns keep starting, which a queue
    run in any order does not give (one job could be passed over forever)."""
    text = (ROOT / "spec" / "hosts" / "v8.html").read_text(encoding="utf-8")
    assert "<dd>one task per registry</dd>" in text
    f = tmp_path / "v8-any.html"
    f.write_text(text.replace("<dd>one task per registry</dd>", "<dd>any order</dd>", 1), encoding="utf-8")
    with pytest.raises(SpecError) as e:
        load_host(str(f))
    assert "E066" in str(e.value) and "any order" in str(e.value)
