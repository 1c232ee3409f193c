"""The property catalogue: named state predicates, evaluable concretely and symbolically.

A property is a function `(program, view) -> domain boolean` written with the
same `Domain` operations as the semantics, so the explorer and Z3 check the very
same definition. Users add their own in a Python file (see docs/properties.md, "Adding a
property") by calling `register` with a new `Property`; nothing in model/ or the
engines changes.

This module is what users and the engines import: the `Property` type, the `CATALOGUE`, and the
shipped properties (meaning and clause) at its end. Their predicates are in predicates.py;
running a user's properties file, and reporting what goes wrong in it, is userfile.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from specmc.model.compile import USER  # the frame code of user code, for properties files
from specmc.model.domain import Concrete
from specmc.model.program import Program
from specmc.proofs.properties import predicates
from specmc.proofs.properties.liveness import Temporal, delivery_applies, delivery_waits, registrations
from specmc.spec import diagnostics as diag
from specmc.spec.diagnostics import SpecError


@dataclass(frozen=True)
class Property:
    """`cover` is the situation the property is about (a free frame on the stack, a delivery):
    a predicate like `holds`. A PROVED whose cover no reachable state meets says nothing about
    that situation, and is reported as vacuous. A property without a cover is never called
    vacuous, and its results say the cover was not given."""

    id: str
    meaning: str
    clause: str
    holds: Callable[[Program, Any], Any]  # (program, View) -> domain boolean
    cover: Callable[[Program, Any], Any] | None = None  # (program, View) -> domain boolean
    cover_meaning: str = ""
    # a temporal property (proofs/properties/liveness.py): its `holds` is true everywhere, and only
    # the engines that search for lassos (explicit, bdd) check it; the others answer UNKNOWN
    temporal: Temporal | None = None
    # bounds of which at least one must be above 0 for the property to read anything (the model has
    # no WeakMap at weakmaps=0): below, it is true by construction, and a PROVED says which to give
    needs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # a name in `needs` that is no bound was read only when a report said why a PROVED is
        # vacuous, after the whole search, as a traceback (fourth review); from a properties
        # file this ValueError is E078 at the Property(...) call
        from dataclasses import fields

        from specmc.model.bounds import Bounds

        if not isinstance(self.id, str) or not _ID.fullmatch(self.id):
            # an empty id gave a row with an empty property column, a newline or `|` broke the
            # reports' lines and tables, and "x\n; host: ..." wrote a second header line into the
            # certificate (review 6, F9)
            raise ValueError(f"property id {self.id!r} is not a name: give 1 to 64 letters, digits, '-', "
                             "'_' or '.', starting with a letter or digit")
        # (review 7: a holds of None or a cover given as a string loaded, and the check then ended in
        # a traceback, exit 3; a newline in a temporal property's wording wrote header lines of its
        # own into the certificate, `; host: v8` among them)
        if not callable(self.holds) or not (self.cover is None or callable(self.cover)):
            bad = "holds" if not callable(self.holds) else "cover"
            raise ValueError(f"property '{self.id}': {bad}= takes a function (program, S) -> condition, "
                             f"not {type(getattr(self, bad)).__name__}")
        texts = {"meaning": self.meaning, "clause": self.clause, "cover_meaning": self.cover_meaning}
        if isinstance(self.temporal, Temporal):
            t = self.temporal
            texts |= {"waiting_meaning": t.waiting_meaning, "obligation": t.obligation}
            odd_fn = [n for n in ("waiting", "obligations", "applies") if not callable(getattr(t, n))]
            if odd_fn:
                raise ValueError(f"property '{self.id}': Temporal's {odd_fn[0]} takes a function, not "
                                 f"{type(getattr(self.temporal, odd_fn[0])).__name__}")
        for name, text in texts.items():
            if not isinstance(text, str) or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
                raise ValueError(f"property '{self.id}': {name} must be one line of text"
                                 + ("" if isinstance(text, str) else f", not {type(text).__name__}")
                                 + " (reports and certificate headers are written line by line)")
        if self.temporal is not None:
            if not isinstance(self.temporal, Temporal):
                raise ValueError(f"property '{self.id}': temporal= takes a Temporal(...), not "
                                 f"{type(self.temporal).__name__}")
            _true_everywhere(self)
        names = [f.name for f in fields(Bounds)]
        if isinstance(self.needs, str) or not all(isinstance(b, str) for b in self.needs):
            raise ValueError(f"property '{self.id}': needs= takes a tuple of bound names, not {self.needs!r}")
        odd = [b for b in self.needs if b not in names]
        if odd:
            raise ValueError(f"property '{self.id}': needs= names {', '.join(map(repr, odd))}, which is no "
                             f"bound (the bounds: {', '.join(names)})")

    def idle_at(self, bounds: Any) -> str:
        """Why the property reads nothing at these bounds ("" when it does)."""
        if not self.needs or any(getattr(bounds, b) for b in self.needs):
            return ""
        return ("it judges what exists only with " + " or ".join(f"{b} >= 1" for b in self.needs)
                + ", from a spec text that defines those built-ins")


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class _NoState:
    """A view with no state: `holds` of a temporal property may read none (`_true_everywhere`)."""

    d = Concrete()

    def get(self, name: str, index: Any = None) -> Any:
        raise LookupError(f"it reads {name!r}")


def _true_everywhere(p: Property) -> None:
    """A temporal property's `holds` must be true in every state without reading one (as the
    catalogue's `predicates.temporal_placeholder` is): only the lasso search checks a temporal
    property, so a state condition there was never looked at, and a Property whose `holds` was
    false in the initial state came out "ok PROVED" (review 6, F7). Raised from Property(...),
    a properties file gets it as E078 at that call."""
    why = ""
    try:
        value = p.holds(None, _NoState())  # type: ignore[arg-type]  # it may not read the program either
    except Exception as e:
        why = str(e) or type(e).__name__
    else:
        if value is not True:
            why = f"it returns {value!r}"
    if why:
        raise ValueError(
            f"property '{p.id}': a temporal property is checked by its Temporal alone, so its holds "
            f"must be true in every state (S.d.true()), and this one is not ({why}); register the "
            "state condition as a property of its own")


_CATALOGUE: dict[str, Property] = {}
# what everyone reads: a view that cannot be assigned to, so that a properties file cannot replace a
# shipped property past `register`'s check (`CATALOGUE["held-value-once"] = ...` turned a VIOLATED
# row into PROVED, with a sealed certificate; third review, F8). Only `register` writes.
CATALOGUE: MappingProxyType[str, Property] = MappingProxyType(_CATALOGUE)


_LOADING: list[str] = []  # the properties file being run by load_properties_file, if any
_ORIGIN: dict[str, str] = {}  # property id -> the properties file that registered it
_THIS_LOAD: list[set[str]] = []  # the ids each file being loaded has registered so far, this time


def register(p: Property) -> Property:
    """Add a property to the catalogue. From a properties file, an id the catalogue already has
    (a shipped property, or one another file registered) is refused: the file would silently
    replace it, and a check of that id, its certificate and its expectation would then be about
    the file's definition (an always-true `unregister-result` came out PROVED under
    quickjs-ng-0.5, where the shipped one is VIOLATED; found by an independent review)."""
    if _LOADING and p.id in _CATALOGUE and _ORIGIN.get(p.id) != _LOADING[-1]:
        where = _ORIGIN.get(p.id)
        raise ValueError(f"property id '{p.id}' is already " + (
            f"registered by {where}" if where else "a catalogue property") + ": choose another id")
    if _THIS_LOAD and p.id in _THIS_LOAD[-1]:
        # (a file may be loaded again, and re-registers its ids then; but one load registering an
        # id twice replaced the first definition without a word: review 7, F8)
        raise ValueError(f"property id '{p.id}' is registered twice in this file: choose another id")
    _CATALOGUE[p.id] = p
    if _LOADING:
        _ORIGIN[p.id] = _LOADING[-1]
        if _THIS_LOAD:
            _THIS_LOAD[-1].add(p.id)
    return p


def has_cover(property_id: str) -> bool:
    """The property names the situation it is about (a cover), so a proof of it can be vacuous.
    An id the catalogue does not hold is taken to have one: nothing is known to rule it out."""
    return property_id not in CATALOGUE or CATALOGUE[property_id].cover is not None


def select(ids: list[str] | tuple[str, ...]) -> list[Property]:
    """The properties with these ids, in the order given (the whole catalogue for none); an
    unknown id is E061."""
    if not ids:
        return list(CATALOGUE.values())
    out = []
    for i in dict.fromkeys(ids):  # a property asked for twice is checked and reported once
        if i not in CATALOGUE:
            raise SpecError([diag.make("E061", name=i, known=", ".join(CATALOGUE))])
        out.append(CATALOGUE[i])
    return out


# --- the shipped catalogue, in the order reports list it ------------------------------------------

register(Property(
    "cleanup-not-on-free-stack",
    "no frame of CleanupFinalizationRegistry, or of a callback, is ever above a frame of the host's "
    "free operation",
    "sec-weakref-invariants",
    predicates.cleanup_or_callback_above_free,
    cover=predicates.cover_free_frame,
    cover_meaning="a frame of the host's free operation is on the stack"
))

register(Property(
    "no-dangling-cell",
    "no step reads or writes a freed cell, list, registry or target; no live registry holds a cell "
    "that refers to a freed object; no live cell outlives its registry",
    "sec-weakref-execution",
    predicates.no_dangling,
    cover=predicates.cover_freed_with_cells,
    cover_meaning="an object has been freed while a registration exists"
))

register(Property(
    "cleanup-only-from-job",
    "CleanupFinalizationRegistry starts only when the stack holds nothing but the job that invoked it",
    "sec-jobs",
    predicates.cleanup_only_from_job,
    cover=predicates.cover_cleanup_frame,
    cover_meaning="CleanupFinalizationRegistry is running"
))

register(Property(
    "held-value-once",
    "each cell's held value is passed to the cleanup callback at most once",
    "sec-cleanup-finalization-registry",
    predicates.held_value_once,
    cover=predicates.cover_delivered,
    cover_meaning="a held value has been passed to the cleanup callback"
))

register(Property(
    "no-reentrant-cleanup",
    "at most one CleanupFinalizationRegistry frame is on the stack (reaching the stack bound is "
    "reported as a bound, not as a violation)",
    "sec-weakref-invariants",
    predicates.no_reentrant,
    cover=predicates.cover_cleanup_frame,
    cover_meaning="CleanupFinalizationRegistry is running"
))

register(Property(
    "unregister-complete",
    "when unregister(token) returns normally, no cell of that registry has that token",
    "sec-finalization-registry.prototype.unregister",
    predicates.unregister_complete,
    cover=predicates.cover_unregister_returns,
    cover_meaning="unregister is about to return"
))

register(Property(
    "kept-alive-until-clear",
    "an object in [[KeptAlive]] (returned by deref or passed to new WeakRef) is not freed before "
    "the next ClearKeptObjects",
    "sec-addtokeptobjects",
    predicates.kept_alive,
    cover=predicates.cover_kept_during_collection,
    cover_meaning="an object is in [[KeptAlive]] while the collector or a free runs"
))

register(Property(
    "weakref-not-dangling",
    "a WeakRef's target is ~empty~ or an allocated object",
    "sec-weak-ref-objects",
    predicates.weakref_not_dangling,
    cover=predicates.cover_weakref_and_free,
    cover_meaning="a WeakRef exists after an object was freed"
))

register(Property(
    "spec-asserts",
    "every Assert: step of the compiled text holds, no `!` call completes abruptly, and no step "
    "reads or writes an internal slot its object does not have",
    "(every Assert: step)",
    predicates.no_failed_assert,
    cover=predicates.cover_algorithm_running,
    cover_meaning="an algorithm of the text is running"
))

register(Property(
    "no-freed-observed",
    "no step reads a freed object or cell, and no user variable, [[KeptAlive]] entry, queued job, "
    "active frame, WeakMap key or WeakSet element refers to a freed object or Symbol",
    "sec-liveness",
    predicates.no_freed_observed,
    cover=predicates.cover_freed,
    cover_meaning="an object has been freed"
))

register(Property(
    "deref-consistent",
    "deref() returns the target its WeakRef was made with, or undefined exactly once the collector "
    "took it; an object deref() returned, or a WeakRef was made for, stays allocated until the next "
    "ClearKeptObjects",
    "sec-weakref-invariants",
    predicates.deref_consistent,
    cover=predicates.cover_deref_after_collection,
    cover_meaning="deref() returns undefined after its target was collected",
))

register(Property(
    "unregister-result",
    "unregister(token) returns true exactly when a registration user code made with that registry and "
    "token was neither delivered nor unregistered yet",
    "sec-finalization-registry.prototype.unregister",
    predicates.unregister_result,
    cover=predicates.cover_unregister_true,
    cover_meaning="unregister(token) returns true",
))

register(Property(
    "delivered-as-registered",
    "the cleanup callback gets the held value user code registered, for a registration not yet "
    "delivered or unregistered, and only once the collector took its target",
    "sec-cleanup-finalization-registry",
    predicates.no_bad_delivery,
    cover=predicates.cover_delivered,
    cover_meaning="a held value has been passed to the cleanup callback",
))

register(Property(
    "cleanup-job-reports-abrupt",
    "an abrupt completion of a cleanup callback is handled inside its job (as the host hook says) "
    "and never escapes the job",
    "sec-host-cleanup-finalization-registry",
    predicates.no_escaped_abrupt,
    cover=predicates.cover_callback_threw,
    cover_meaning="a cleanup callback threw",
))

register(Property(
    "argument-checks",
    "new WeakRef, deref, register and unregister throw a TypeError exactly when their arguments are "
    "refused: a target or token that cannot be held weakly, a held value that is the target, a "
    "receiver of the wrong kind",
    "sec-finalization-registry.prototype.register",
    predicates.argument_checks,
    cover=predicates.cover_refused,
    cover_meaning="register or unregister throws",
))

register(Property(
    "weak-collection-results",
    "WeakMap get/set/has/delete and WeakSet add/has/delete answer as the calls user code made filled "
    "the collection: get gives the value last set, has and delete whether the key is held, set and add "
    "the receiver; a TypeError exactly for a receiver of the wrong kind or a key that cannot be held "
    "weakly (bounds weakmaps, weaksets)",
    "sec-weakmap.prototype.get",
    predicates.weak_collection_results,
    cover=predicates.cover_weak_found,
    cover_meaning="a WeakMap or WeakSet call answers about a key its receiver holds",
    needs=("weakmaps", "weaksets"),
))

register(Property(
    "eventually-delivered",
    "under a fair event loop, every registration whose target was collected is eventually passed to "
    "the callback or unregistered, or its registry is reclaimed (temporal; hosts that promise delivery)",
    "sec-weakref-execution",
    predicates.temporal_placeholder,
    cover=predicates.cover_waiting_delivery,
    cover_meaning="a registration whose target was collected waits for delivery",
    temporal=Temporal(delivery_waits, registrations, delivery_applies,
                      "it is live and its target was collected", obligation="registration"),
))


__all__ = ["Property", "CATALOGUE", "register", "select", "USER"]
