"""Host profiles: how an engine implements the host hooks and its collector.

A profile is an ecmarkup file in spec/hosts/ (read by the same front-end as the
spec): one `<emu-clause type="host profile">` whose `<dl class="header">` states
the options below, plus any host algorithms (e.g. the free path of a
reference-counting engine) as ordinary `<emu-alg>` steps with the engine-level
step forms documented in the README.

Options (dt -> dd):
    collector           tracing | reference counting
    free path           name of the host algorithm run when a count reaches zero
    cleanup scheduling  fifo | one task per registry
    unregister tokens   weak (the spec) | strong (a registration holds its token alive)

A clause of type "host default" inside the profile holds algorithms the host uses only where
the spec text leaves that algorithm as prose (e.g. the cleanup job before ECMA-262 gave the
hook a body): the text's own steps always win over a default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import spec as spec_package
from spec import diagnostics as diag
from spec import ir
from spec.diagnostics import SpecError
from spec.load import load_specs

HOSTS_DIR = Path(spec_package.__file__).resolve().parent / "hosts"


@dataclass(frozen=True)
class HostProfile:
    name: str
    title: str
    collector: str  # "tracing" | "reference counting"
    free_path: str  # host algorithm name, "" for tracing hosts
    scheduling: str  # "fifo" | "one task per registry"
    algorithms: tuple[ir.Algorithm, ...]
    path: str
    defaults: tuple[ir.Algorithm, ...] = ()  # used only where the text gives no steps
    strong_tokens: bool = False


def shipped() -> list[str]:
    return sorted(p.stem for p in HOSTS_DIR.glob("*.html"))


def load_host(name_or_path: str) -> HostProfile:
    p = Path(name_or_path)
    if p.suffix not in (".html", ".emu") and "/" not in name_or_path:
        p = HOSTS_DIR / f"{name_or_path}.html"
        if not p.exists():
            raise SpecError([diag.make("E060", name=name_or_path, known=", ".join(shipped()))])
    spec = load_specs([p])
    profile = next((c for c in spec.clauses if c.type == "host profile"), None)
    if profile is None:
        raise SpecError([diag.make("E065", path=str(p))])
    opts = {k.strip().lower(): v.strip() for k, v in profile.header}

    def option(key: str, allowed: tuple[str, ...], default: str) -> str:
        value = opts.get(key, default).lower()
        if value not in allowed:
            raise SpecError([diag.make("E066", profile.loc, key=key, value=value,
                                       allowed=" | ".join(allowed))])
        return value

    collector = option("collector", ("tracing", "reference counting"), "tracing")
    free_path = opts.get("free path", "")
    scheduling = option("cleanup scheduling", ("fifo", "one task per registry"), "fifo")
    tokens = option("unregister tokens", ("weak", "strong"), "weak")
    default_clauses = {c.id for c in spec.clauses if c.type == "host default"}
    algs = tuple(a for a in spec.algorithms if a.clause not in default_clauses)
    defaults = tuple(a for a in spec.algorithms if a.clause in default_clauses)
    if collector == "reference counting":
        if not free_path or not any(a.name == free_path for a in algs):
            raise SpecError([diag.make("E062", profile.loc, name=free_path or "(free path)")])
    return HostProfile(p.stem, profile.title, collector, free_path, scheduling, algs, str(p), defaults,
                       tokens == "strong")
