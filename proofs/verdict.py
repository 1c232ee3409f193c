"""What an engine concludes about one property, as a plain value that crosses processes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

VIOLATED, PROVED, BOUNDED, UNKNOWN = "VIOLATED", "PROVED", "BOUNDED", "UNKNOWN"
VACUOUS = "PROVED (vacuous)"  # an expectation may name it; never an engine's verdict by itself
DEFINITE = (VIOLATED, PROVED)
# when no engine is definite, the most informative answer is reported
RANK = {VIOLATED: 3, PROVED: 3, BOUNDED: 2, UNKNOWN: 1}


@dataclass(frozen=True)
class Outcome:
    """verdict: VIOLATED (trace replayed), PROVED (certificate re-checked), BOUNDED (no
    violation up to `depth`), UNKNOWN (`reason` says why)."""

    property: str
    verdict: str
    engine: str
    depth: int | None = None
    seconds: float = 0.0
    method: str = ""  # how PROVED was reached: "reachable set", "k-induction, k=3", "pdr"
    certificate: str | None = None
    reason: str = ""
    trace: tuple[dict[str, Any], ...] = field(default=())
    # whether some reachable state meets the property's cover: True (reached), False (a PROVED
    # about nothing: vacuous), None (not determined by this engine)
    cover_reached: bool | None = None
    # bounds that ended some run, with in how many states of the searched model (the explicit
    # engine searches a slice per group of properties, model/slice.py: counts are of its states);
    # () none, None: this engine did not measure it
    bounds_hit: tuple[tuple[str, int], ...] | None = None

    @property
    def vacuous(self) -> bool:
        return self.verdict == PROVED and self.cover_reached is False

    @property
    def label(self) -> str:
        """The verdict as people read it: `PROVED (vacuous)`, `PROVED within bounds (frames hit)`."""
        if self.vacuous:
            return VACUOUS if not self.bounds_hit else \
                f"{VACUOUS[:-1]}; {', '.join(n for n, _ in self.bounds_hit)} hit)"
        if self.verdict == PROVED and self.bounds_hit:
            return f"PROVED within bounds ({', '.join(n for n, _ in self.bounds_hit)} hit)"
        return self.verdict

    def timed(self, seconds: float) -> Outcome:
        return replace(self, seconds=round(seconds, 3))


def better(a: Outcome | None, b: Outcome) -> Outcome:
    """The more informative of two outcomes for the same property."""
    if a is None:
        return b
    if RANK[b.verdict] > RANK[a.verdict]:
        return b
    if b.verdict == BOUNDED and a.verdict == BOUNDED and (b.depth or 0) > (a.depth or 0):
        return b
    return a
