"""One unit of checking: a spec, a host, bounds, some properties. Plain data, so it can be
sent to an engine in another process, which builds the model for itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.bounds import Bounds
from model.program import Program
from proofs.certificate import Subject, file_digest
from proofs.properties import Property


@dataclass(frozen=True)
class Job:
    specs: tuple[str, ...]  # paths; "embedded" is the shipped rendition
    host: str  # shipped name or profile path
    bounds: Bounds
    properties: tuple[str, ...]  # ids; () is the whole catalogue
    properties_files: tuple[str, ...] = ()
    depth: int = 60  # BMC / k-induction limit
    timeout: float = 600.0  # seconds for the whole job
    certificates: str = "proofs/certificates"


@dataclass(frozen=True)
class Loaded:
    job: Job
    program: Program
    properties: tuple[Property, ...]
    spec_paths: tuple[str, ...]
    host_name: str
    host_path: str

    def subject(self, prop: Property) -> Subject:
        return Subject(file_digest(*self.spec_paths), self.host_name, file_digest(self.host_path), prop.id,
                       self.job.bounds.describe())


def spec_paths(job: Job) -> tuple[str, ...]:
    from spec.load import EMBEDDED, expand_paths

    paths = [str(EMBEDDED) if s == "embedded" else s for s in job.specs]
    return tuple(str(p) for p in expand_paths(paths))


def load(job: Job) -> Loaded:
    from model.build import build
    from model.hosts import load_host
    from proofs.properties import load_properties_file, select
    from spec.load import load_specs

    for f in job.properties_files:
        load_properties_file(f)
    props = tuple(select(list(job.properties)))
    host = load_host(job.host)
    paths = spec_paths(job)
    spec = load_specs(list(paths))
    program = build(spec, host, job.bounds)
    return Loaded(job, program, props, paths, host.name, host.path)


def predicate(program: Program, prop: Property) -> Any:
    return lambda S: prop.holds(program, S)


def certificate_dir(job: Job) -> Path:
    return Path(job.certificates)
