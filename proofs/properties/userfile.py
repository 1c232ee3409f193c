"""A user's properties file: run it, and report what goes wrong in it at the user's own line
(E078 while the file runs, E079 when one of its predicates is evaluated), never as a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from specmc.proofs import properties
from specmc.proofs.exitcodes import INTERRUPTED
from specmc.proofs.properties import _CATALOGUE, _LOADING, _THIS_LOAD, CATALOGUE, Property
from specmc.spec import diagnostics as diag
from specmc.spec.diagnostics import SpecError
from specmc.spec.source import read_input


def load_properties_file(path: str) -> None:
    """Run a user's Python file; it adds properties by calling `register(Property(...))`.

    The file is the user's code, so whatever goes wrong in it is bad input (exit 2) located at
    the user's own line, never a traceback from inside specmc: a syntax error or an exception
    while the file runs (E078), and an exception in one of its predicates when an engine
    evaluates it (E079). For the latter, the properties the file registers are wrapped as they
    come in; engines in other processes load the file through here too, so they get the
    wrapped predicates as well."""
    import runpy

    from specmc.spec.source import Loc

    try:
        read_input(path)  # a regular file, or a located E001 (runpy would read a FIFO forever)
    except OSError as e:
        raise SpecError([diag.make("E001", path=path, reason=e.strerror or str(e))]) from None
    before = dict(CATALOGUE)
    stale = set(sys.modules)
    _LOADING.append(str(Path(path).resolve()))
    _THIS_LOAD.append(set())
    try:
        runpy.run_path(path, run_name="specmc_properties")
        # `from proofs.properties import register` (the names before specmc was one package) found a
        # second copy in a checkout: its registrations would go to a catalogue nobody reads
        old = sorted(m for m in set(sys.modules) - stale if _second_copy(m))
        if old:
            raise ModuleNotFoundError(_renamed(old[0]), name=old[0])
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] in _OLD_NAMES and "specmc." not in str(e):
            e = ModuleNotFoundError(_renamed(e.name or ""), name=e.name)
        raise _user_error("E078", path, e, path=path) from None
    except SpecError:
        raise
    except SyntaxError as e:
        if e.filename and _same_file(e.filename, path):
            loc = Loc(path, e.lineno or 1, e.offset or 1)
            raise SpecError([diag.make("E078", loc, (e.text or "").rstrip("\n"), path=path,
                                       reason=f"syntax error: {e.msg}")]) from None
        raise _user_error("E078", path, e, path=path) from None
    except (Exception, SystemExit) as e:  # SystemExit: a file that calls sys.exit() must not end specmc
        raise _user_error("E078", path, e, path=path) from None
    finally:
        _LOADING.pop()
        _THIS_LOAD.pop()
    _untouched(before, path)
    for pid, prop in list(CATALOGUE.items()):
        if before.get(pid) is not prop:
            _CATALOGUE[pid] = _guarded(prop, path)


def _untouched(before: dict[str, Property], path: str) -> None:
    """E078 for a file that changed what was in the catalogue before it ran, past `register`:
    CATALOGUE is a read-only view, but the module's private table (or the names themselves) can
    still be reached, and a file that replaced `held-value-once` with a tautology had turned a
    VIOLATED row into PROVED and sealed a certificate for it (third review, F8)."""
    from specmc.spec.source import Loc

    def refuse(reason: str) -> SpecError:
        return SpecError([diag.make("E078", Loc(path, 1, 1), path=path, reason=reason)])

    if properties.CATALOGUE is not CATALOGUE or properties._CATALOGUE is not _CATALOGUE:
        raise refuse("it rebinds the property catalogue; add properties with register(Property(...))")
    mine = str(Path(path).resolve())
    for pid, prop in before.items():
        if properties._ORIGIN.get(pid) == mine:
            continue  # its own property from an earlier load of the file, registered again
        if pid not in _CATALOGUE:
            raise refuse(f"it removes property '{pid}' from the catalogue")
        if _CATALOGUE[pid] is not prop:
            raise refuse(f"it replaces property '{pid}' without register (a file adds properties "
                         "with new ids; it never changes one it did not register)")


_OLD_NAMES = ("spec", "model", "proofs")


def _second_copy(module: str) -> bool:
    """`module` is one of specmc's own files imported under its old top-level name (not the user's
    own `model.py`, which is theirs to import)."""
    if module.split(".")[0] not in _OLD_NAMES:
        return False
    f = getattr(sys.modules.get(module), "__file__", None)
    root = Path(__file__).resolve().parents[2]  # the folder that holds spec/, model/ and proofs/
    return f is not None and Path(f).resolve().is_relative_to(root / module.split(".")[0])


def _renamed(name: str) -> str:
    return (f"'{name}' is 'specmc.{name}' now: specmc installs as one package "
            f"(write `from specmc.{name} import ...`)")


def _same_file(a: str, b: str) -> bool:
    import os

    return os.path.realpath(a) == os.path.realpath(b)


def _user_error(code: str, user_file: str, e: BaseException, **fields: str) -> SpecError:
    """`e` as a diagnostic at the innermost line of the user's file that it passed through (the
    file itself when it never reached one, e.g. a predicate that is not a function)."""
    import linecache
    import traceback

    from specmc.spec.source import Loc

    frame = None
    for f in traceback.extract_tb(e.__traceback__):
        if _same_file(f.filename, user_file):
            frame = f
    text = str(e).strip().splitlines()
    reason = f"{type(e).__name__}: {text[0]}" if text else type(e).__name__
    if frame is None or frame.lineno is None:
        return SpecError([diag.make(code, Loc(user_file, 1, 1), reason=reason, **fields)])
    col = (getattr(frame, "colno", None) or 0) + 1
    line = linecache.getline(frame.filename, frame.lineno).rstrip("\n")
    return SpecError([diag.make(code, Loc(user_file, frame.lineno, col), line, reason=reason, **fields)])


def _guarded(prop: Property, path: str) -> Property:
    """`prop` with each of its functions (holds, cover, and a Temporal's waiting, obligations and
    applies) turned into one whose exceptions and wrong results are E079 diagnostics at the
    user's line: without this, a predicate that raised ended as a traceback (explore) or an
    internal error (check), blaming specmc, and a temporal property's callbacks did so until
    review 6 (F8, F13)."""
    from dataclasses import replace

    from specmc.spec.source import Loc

    def guard(fn: Callable[..., Any], wrong: Callable[[Any], str]) -> Callable[..., Any]:
        def guarded(*args: Any) -> Any:
            try:
                value = fn(*args)
            except SpecError:
                raise
            except Exception as e:
                raise _user_error("E079", path, e, name=prop.id) from None
            except (SystemExit, GeneratorExit) as e:
                # (a predicate's sys.exit() was an engine's internal error with a traceback, exit 3;
                # review 7. SystemExit(130) is how an engine process is interrupted: that stays one)
                if isinstance(e, SystemExit) and e.code == INTERRUPTED:
                    raise
                raise _user_error("E079", path, e, name=prop.id) from None
            why = wrong(value)
            if why:
                line = getattr(getattr(fn, "__code__", None), "co_firstlineno", 1)
                raise SpecError([diag.make("E079", Loc(path, line, 1), name=prop.id, reason=why)])
            return value

        guarded.__wrapped__ = fn  # type: ignore[attr-defined]
        # where it was written, for model/readings.py's check of its two readings
        line = getattr(getattr(fn, "__code__", None), "co_firstlineno", 1)
        guarded.specmc_origin = (path, line, prop.id)  # type: ignore[attr-defined]
        return guarded

    changes: dict[str, Any] = {name: guard(fn, _not_a_condition) for name in ("holds", "cover")
                               if callable(fn := getattr(prop, name, None))}
    t = prop.temporal
    if t is not None:
        changes["temporal"] = replace(t, waiting=guard(t.waiting, _not_a_condition),
                                      obligations=guard(t.obligations, _not_a_count),
                                      applies=guard(t.applies, _not_a_reason))
    return replace(prop, **changes)


def _not_a_condition(value: Any) -> str:
    # a number is a value, not a verdict: the explorer read 1 as true and the symbolic reading as
    # false, and the property came out VIOLATED in its first state
    if _is_condition(value):
        return ""
    return (f"it returned {type(value).__name__} {value}, not a condition: compare values with the "
            "domain (S.d.eq, S.d.ne, ...) and return the result")


def _not_a_count(value: Any) -> str:
    """An obligation count indexes the monitor's counters, which are state variables: a byte's
    worth at most (300 aliased counters 256..299 onto 0..43 in the interpreter only), and an int
    (-1 and "2" were tracebacks; review 6, F8)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_OBLIGATIONS:
        return ""
    return (f"it returned {type(value).__name__} {value!r}: the number of obligations is an int "
            f"from 0 to {MAX_OBLIGATIONS}")


def _not_a_reason(value: Any) -> str:
    if value is None or isinstance(value, str):
        return ""
    return (f"it returned {type(value).__name__} {value!r}: applies(host) returns \"\" (or None) when "
            "the host makes the property's promise, else a string saying why not")


MAX_OBLIGATIONS = 255  # one counter per obligation, indexed by a state value


def _is_condition(value: Any) -> bool:
    """A predicate's value in either domain: a Python bool (concrete) or a Z3 Boolean term."""
    import z3

    return isinstance(value, bool) or (isinstance(value, z3.ExprRef) and z3.is_bool(value))
