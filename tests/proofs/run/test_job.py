"""proofs/run/job.py: a program's dependencies are kept on disk and read back for the same
inputs; a damaged, foreign or unwritable cache costs time, never a verdict."""

from __future__ import annotations

import pytest
from specmc.model import slice as slicing
from specmc.model.bounds import Bounds
from specmc.proofs.run import job as jobmod
from specmc.proofs.run.job import Job, load, slices

JOB = Job(("embedded",), "quickjs-ng-0.5", Bounds(objects=1, frames=3), ("cleanup-not-on-free-stack",))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(tmp_path / "native"))
    monkeypatch.setattr(jobmod, "_DEPENDENCIES", [])
    return tmp_path / "native"


def built(monkeypatch) -> list[int]:
    """Counts the dependencies built from Z3 terms (not read back)."""
    made: list[int] = []
    real = slicing.Dependencies.__init__

    def counting(self, program, parts=None):
        if parts is None:
            made.append(1)
        real(self, program, parts)

    monkeypatch.setattr(slicing.Dependencies, "__init__", counting)
    return made


def test_a_second_load_reads_the_dependencies_back(cache, monkeypatch):
    made = built(monkeypatch)
    first = slices(load(JOB))
    files = list(cache.glob("deps-*.json"))
    assert made == [1] and len(files) == 1
    jobmod._DEPENDENCIES.clear()
    second = slices(load(JOB))
    assert made == [1]
    def shape(groups):
        return [(p.dropped, [x.id for x in ps]) for p, ps in groups]

    assert shape(first) == shape(second)


def test_other_bounds_are_another_file(cache, monkeypatch):
    made = built(monkeypatch)
    slices(load(JOB))
    jobmod._DEPENDENCIES.clear()
    slices(load(Job(JOB.specs, JOB.host, Bounds(objects=2, frames=3), JOB.properties)))
    assert made == [1, 1] and len(list(cache.glob("deps-*.json"))) == 2


def test_a_damaged_file_is_built_again_and_replaced(cache, monkeypatch):
    made = built(monkeypatch)
    slices(load(JOB))
    (f,) = cache.glob("deps-*.json")
    f.write_text('{"variables": 3, "guards": [0], "deps": {}}')
    jobmod._DEPENDENCIES.clear()
    slices(load(JOB))
    assert made == [1, 1] and '"variables": 3,' not in f.read_text()


def test_a_cache_that_cannot_be_written_still_checks(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(blocker / "native"))  # its parent is a file
    monkeypatch.setattr(jobmod, "_DEPENDENCIES", [])
    assert slices(load(JOB))


def test_a_dependency_file_that_drops_the_cut_bound_cannot_hide_it(cache, tmp_path):
    """`cut` (the bound a run ended at) is in every slice whatever the file says: a file that left
    it out turned "PROVED within bounds (frames hit)" into a plain PROVED."""
    import json

    from specmc.proofs.engines import explicit

    job = Job(("embedded",), "ecma262", Bounds(frames=3), ("held-value-once",), certificates=str(tmp_path))

    def verdict():
        jobmod._DEPENDENCIES.clear()
        found = []
        explicit.run(load(job), found.append)
        (outcome,) = found
        return outcome.verdict.name, dict(outcome.bounds_hit)

    honest = verdict()
    assert honest[0] == "PROVED" and honest[1].get("frames")
    (f,) = cache.glob("deps-*.json")
    data = json.loads(f.read_text())
    cut = load(job).program.layout.where("cut")[0]
    data["guards"] = [v for v in data["guards"] if v != cut]
    data["deps"] = {k: [v for v in vs if v != cut] for k, vs in data["deps"].items() if int(k) != cut}
    f.write_text(json.dumps(data))
    assert verdict() == honest


def test_a_program_derived_from_the_same_inputs_has_a_file_of_its_own(cache, monkeypatch):
    """The monitored model of a temporal property is built from the same texts and bounds: it
    must neither read the plain model's dependencies nor replace them."""
    from specmc.proofs.engines import lasso
    from specmc.proofs.properties import CATALOGUE

    made = built(monkeypatch)
    plain = load(JOB)
    slices(plain)
    monitored, _ = lasso.monitor_job(plain, CATALOGUE["eventually-delivered"])
    slices(monitored)
    jobmod._DEPENDENCIES.clear()
    slices(plain)
    assert made == [1, 1] and len(list(cache.glob("deps-*.json"))) == 2
