"""What an engine concludes about one property, as a plain value that crosses processes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """An engine's answer. A StrEnum, so that it is its own name in JSON, text and comparisons with
    plan files, and one type everywhere in the code; the two orders verdicts are compared by
    (how much an answer says, and how good it is for the property) are properties of it."""

    VIOLATED = "VIOLATED"
    PROVED = "PROVED"
    BOUNDED = "BOUNDED"
    UNKNOWN = "UNKNOWN"

    @property
    def informative(self) -> int:
        """When no engine is definite, the most informative answer is reported (the portfolio)."""
        return {"VIOLATED": 3, "PROVED": 3, "BOUNDED": 2, "UNKNOWN": 1}[self.value]

    @property
    def goodness(self) -> int:
        """Worse verdicts rank lower (review: a verdict that went down is a finding)."""
        return {"VIOLATED": 0, "UNKNOWN": 1, "BOUNDED": 2, "PROVED": 3}[self.value]


VIOLATED, PROVED, BOUNDED, UNKNOWN = Verdict.VIOLATED, Verdict.PROVED, Verdict.BOUNDED, Verdict.UNKNOWN
VACUOUS = "PROVED (vacuous)"  # an expectation may name it; never an engine's verdict by itself
# a property whose promise the host does not make (eventually-delivered under a host whose
# delivery is optional): nothing was searched, so it is neither a proof nor a vacuous one
NOT_APPLICABLE = "NOT APPLICABLE"
DEFINITE = (VIOLATED, PROVED)
# the cut that ends a run at a second Append of one cell to a list (model/layout.py CUT_LISTS): a
# step the model cannot follow, not a bound the user can raise (docs/soundness.md)
CELLS_ONCE = "cells-once"
# what a plan may expect: every verdict, a PROVED about nothing, and a property that does not apply
EXPECTABLE = (VIOLATED.value, PROVED.value, VACUOUS, NOT_APPLICABLE, BOUNDED.value, UNKNOWN.value)


@dataclass(frozen=True)
class Outcome:
    """verdict: VIOLATED (trace replayed), PROVED (certificate re-checked), BOUNDED (no
    violation up to `depth`), UNKNOWN (`reason` says why)."""

    property: str
    verdict: Verdict
    engine: str
    depth: int | None = None
    seconds: float = 0.0
    method: str = ""  # how PROVED was reached: "reachable set", "k-induction, k=3", "pdr"
    certificate: str | None = None
    reason: str = ""
    trace: tuple[dict[str, Any], ...] = field(default=())
    # whether some reachable state meets the property's cover: True (reached), False (a PROVED
    # about nothing: vacuous), None (not determined by this engine). For BOUNDED, whether a state
    # within `depth` steps meets it: one that does not has checked nothing (review counts it so)
    cover_reached: bool | None = None
    # bounds that ended some run, with in how many states of the searched model (the explicit
    # engine searches a slice per group of properties, model/slice.py: counts are of its states);
    # () none, None: this engine did not measure it
    bounds_hit: tuple[tuple[str, int], ...] | None = None
    # False: the host does not make the property's promise (`method` says why); the verdict is
    # PROVED, as a claim about such a host holds trivially, and it is labelled NOT APPLICABLE
    applicable: bool = True
    # True: the property's predicate is true in every state by construction (its term simplifies
    # to true: it reads nothing, or compares a variable with itself), so a PROVED says nothing
    trivial: bool = False

    def __post_init__(self) -> None:
        # a verdict read back from JSON (the verdict cache, a report) is the same typed value;
        # a name that is no verdict is a ValueError here, not a row that matches nothing later
        object.__setattr__(self, "verdict", Verdict(self.verdict))

    @property
    def vacuous(self) -> bool:
        """A PROVED about a situation no run reached, or of a property that holds in every state
        by construction (`trivial`); not one the host never promised: that is `applicable`,
        reported apart, since its cover was never looked for."""
        return self.verdict == PROVED and (self.cover_reached is False or self.trivial) and self.applicable

    @property
    def cut_by_text(self) -> bool:
        """Some run was cut at `cells-once`: the text appends one cell twice, which the model cannot
        follow, so a PROVED or BOUNDED says nothing of what comes after (no bound removes the cut,
        unlike `frames` or `jobs`)."""
        return self.verdict in (PROVED, BOUNDED) and any(n == CELLS_ONCE for n, _ in self.bounds_hit or ())

    @property
    def cover_open(self) -> bool:
        """A PROVED the host promised whose cover this engine did not decide (a symbolic engine's
        "cover not checked"): it may be vacuous or not."""
        return self.verdict == PROVED and self.applicable and not self.trivial and self.cover_reached is None

    @property
    def label(self) -> str:
        """The verdict as people read it: `PROVED (vacuous)`, `PROVED within bounds (frames hit)`,
        `NOT APPLICABLE`."""
        if not self.applicable:
            return NOT_APPLICABLE
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
    if Verdict(b.verdict).informative > Verdict(a.verdict).informative:
        return b
    if b.verdict == BOUNDED and a.verdict == BOUNDED and (b.depth or 0) > (a.depth or 0):
        return b
    return a
