"""eventually-delivered under the shipped `jsc` profile (spec/hosts/jsc.html).

JavaScriptCore's cleanup task ends at a callback's throw (JSFinalizationRegistry::runFinalizationCleanup,
RETURN_IF_EXCEPTION) and nothing queues the registry again until a later collection ends
(reconcileWeakReferencesAtGCEnd; the profile's HostCollectionEnd), which bun does not promise.
Under a fair event loop that need not collect, the rest of the batch waits forever: a lasso. The
text is the embedded one with sec-weakref-execution 1.b reworded as meant (tests/proofs/test_hazard.py),
as JSC does it (every registration of a dead target moves to the dead list), so the lasso is the
engine's, not the literal text's hazard. The same batch under `v8`, which re-queues, is not violated
(tests/proofs/engines/test_lasso.py, test_v8_requeues_after_a_throw).
"""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds
from specmc.model.hosts import load_host
from specmc.proofs.engines import explicit
from specmc.proofs.properties.liveness import FAIR
from specmc.proofs.run.job import Job, load
from specmc.proofs.verdict import VIOLATED
from specmc.spec.load import EMBEDDED

from tests.proofs.test_hazard import LITERAL, MEANT

PROP = "eventually-delivered"
TWO = Bounds(objects=2, cells=2, frames=4, jobs=1)  # a batch of two; a callback on top of the job


@pytest.fixture(scope="module")
def meant(tmp_path_factory):
    d = tmp_path_factory.mktemp("jsc")
    text = EMBEDDED.read_text(encoding="utf-8")
    assert text.count(LITERAL) == 1
    (d / "meant.html").write_text(text.replace(LITERAL, MEANT), encoding="utf-8")
    return d / "meant.html"


def test_the_profile_header_is_read_from_the_source():
    h = load_host("jsc")
    assert (h.collector, h.scheduling, h.delivery, h.strong_tokens) == (
        "tracing", "one task per registry", "promised", False)
    assert [a.name for a in h.algorithms] == ["HostEnqueueFinalizationRegistryCleanupJob",
                                              "HostCollectionEnd"]


def test_a_throw_stalls_the_rest_of_the_batch(meant, tmp_path):
    out = []
    explicit.run(load(Job((str(meant),), "jsc", TWO, (PROP,), certificates=str(tmp_path))), out.append)
    (o,) = [x for x in out if x.property == PROP]
    assert o.verdict == VIOLATED, o
    trace = list(o.trace)
    start = next(i for i, t in enumerate(trace) if t.get("lasso") == "loop start")
    assert trace[-1]["lasso_back_to"] == start
    stem, loop = trace[:start + 1], trace[start + 1:]
    assert any(t["text"] == "throw" for t in stem)  # a callback threw inside the cleanup task
    assert any("cleanupJob" in " ".join(t["stack"]) for t in stem)
    assert any(t["text"] in FAIR for t in loop)  # the event loop keeps turning
    assert not any("cleanupJob" in " ".join(t["stack"]) for t in loop)  # no task runs the rest
    assert not any(t["actor"] == "collector" for t in loop)  # the loop collects nothing
