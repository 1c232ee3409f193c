"""How big the modelled runtime may get. Every verdict is stated at these bounds.

Bounds are validated here, once, so that a bad `--bounds` string or plan entry
is a located message (exit 2) and never an exception deep in an engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace

from specmc.spec import diagnostics as diag
from specmc.spec.diagnostics import SpecError


@dataclass(frozen=True, slots=True)
class Bounds:
    """Defaults: small enough for the explicit explorer to be exhaustive in under a minute,
    large enough for a registry, a separate target and one registration (see docs/model.md)."""

    objects: int = 2  # heap objects (plain objects, WeakRefs, registries) the mutator may allocate
    cells: int = 1  # registrations (FinalizationRegistry cells) in the whole heap; never reused
    frames: int = 6  # execution context stack depth: the deepest non-recursive nesting is 6
    jobs: int = 1  # queued jobs
    steps: int = 10_000  # transitions in one run (explorer depth); above the diameter: exhaustive
    # property slots per object (`obj0.p0 = obj1`): strong edges of the object graph. 0 is the model
    # without an object graph: no properties and, on reference-counting hosts, no cascading frees
    slots: int = 0
    # non-registered Symbols user code may create (`Symbol()`), values and weak targets like
    # objects; with at least one, the model also has the registered `Symbol.for("k")`. 0 is the
    # model without Symbols, byte for byte the one before they existed
    symbols: int = 0
    # WeakMap entry Records ({ [[Key]], [[Value]] }) in the whole heap, never reused: with at least
    # one, user code may also make WeakMaps (`new WeakMap()`, counted in `objects`) and call their
    # get/set/has/delete, compiled from a text that defines them (a whole spec.html). 0 is the
    # model without WeakMaps, byte for byte the one before they existed
    weakmaps: int = 0
    # WeakSet elements (the entries of the [[WeakSetData]] Lists) in the whole heap, never reused:
    # with at least one, user code may also make WeakSets (`new WeakSet()`, counted in `objects`)
    # and call their add/has/delete, compiled from a text that defines them (a whole spec.html).
    # 0 is the model without WeakSets, byte for byte the one before they existed
    weaksets: int = 0

    LIMITS = {"objects": (1, 8), "cells": (1, 8), "frames": (2, 16), "jobs": (1, 6),
              "steps": (1, 10_000), "slots": (0, 4), "symbols": (0, 2),
              "weakmaps": (0, 4), "weaksets": (0, 4)}
    # the bounds `describe` leaves out at 0 (each one's 0 is the model before it existed)
    OPTIONAL = ("slots", "symbols", "weakmaps", "weaksets")
    # the collector's set _S_ is one state variable of model.domain.WIDTH bits, one per object and
    # per Symbol: together they fit in it
    SET_BITS = 8

    def __post_init__(self) -> None:
        for f in fields(self):
            lo, hi = self.LIMITS[f.name]
            v = getattr(self, f.name)
            if not isinstance(v, int) or isinstance(v, bool):  # a plan's table may hold `true`, 1.5
                raise SpecError([diag.make("E053", key=f.name, value=str(v).lower())])
            if not lo <= v <= hi:
                raise SpecError([diag.make("E050", key=f.name, value=v, lo=lo, hi=hi)])
        if self.objects + self.symbols > self.SET_BITS:
            raise SpecError([diag.make("E050", key="symbols", value=self.symbols, lo=0,
                                       hi=self.SET_BITS - self.objects)])

    def describe(self) -> str:
        """`objects=2,cells=1,...`; `slots`, `symbols`, `weakmaps` and `weaksets` only when they are
        not 0, so that every key, cache entry and report made before the object graph, Symbols,
        WeakMaps and WeakSets existed reads the same without them."""
        return ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self)
                        if f.name not in self.OPTIONAL or getattr(self, f.name))


_NUMBER = re.compile(r"[+-]?[0-9]+")


def parse_bounds(text: str, base: Bounds | None = None) -> Bounds:
    """`objects=3,cells=2` -> Bounds; every problem is an E05x diagnostic.

    A key given twice is an error rather than last-one-wins: `objects=2,objects=3` is a typo for
    some other bound far more often than a deliberate override, and the verdict is stated at
    these bounds."""
    base = base or Bounds()
    changes: dict[str, int] = {}
    items: dict[str, str] = {}
    names = {f.name for f in fields(Bounds)}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq:
            raise SpecError([diag.make("E051", item=item)])
        if key not in names:
            raise SpecError([diag.make("E052", key=key, known=", ".join(sorted(names)))])
        if key in items:
            raise SpecError([diag.make("E054", key=key, first=items[key], second=item)])
        items[key] = item
        # ASCII digits only: int() also reads other scripts' digits ('١' is 1), which a bound
        # echoed back in a verdict or a cache key would then spell differently from the input
        if not _NUMBER.fullmatch(value.strip()):
            raise SpecError([diag.make("E053", key=key, value=value.strip())])
        changes[key] = int(value.strip())
    return replace(base, **changes)
