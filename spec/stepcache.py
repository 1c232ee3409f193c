"""Parsed steps kept by their text, and put back in place for each new occurrence.

A review parses two whole spec.html files that share nearly every step, and a history sweep
parses dozens; Lark's LALR parse of a step is most of the time of reading a whole file (about
0.3 ms a step, 14,000 steps). A step's statement depends only on its text: the transformer
asks for a location by offset into that text and does nothing else with it. So the statement
is parsed once with placeholder locations that record those offsets, kept, and every later
occurrence gets a copy whose locations are the ones a fresh parse would give there.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import Any

from specmc.spec import ir
from specmc.spec.source import Loc

Locate = Callable[[int], Loc]
Typo = tuple[str, str, int]  # word, the word meant, offset into the step text

_MARK = "\0offset"  # the file name of a placeholder location; its line is the offset
_KEEP = 60_000  # statements kept: four whole spec.html files' worth of distinct step texts
_KEPT: OrderedDict[str, tuple[ir.Stmt, tuple[Typo, ...]]] = OrderedDict()
_FIELDS: dict[type, tuple[str, ...]] = {}


def _placeholder(offset: int) -> Loc:
    return Loc(_MARK, offset, 0)


def parsed(text: str, parse: Callable[[Locate], tuple[ir.Stmt, list[Typo]]],
           locate: Locate) -> tuple[ir.Stmt, list[Typo]]:
    """What `parse(locate)` returns for this step text, parsing only the first time it is met."""
    hit = _KEPT.get(text)
    if hit is None:
        stmt, typos = parse(_placeholder)
        hit = (stmt, tuple(typos))
        _KEPT[text] = hit
        if len(_KEPT) > _KEEP:
            _KEPT.popitem(last=False)
    else:
        _KEPT.move_to_end(text)
    return _relocated(hit[0], locate), list(hit[1])


def _relocated(node: Any, locate: Locate) -> Any:
    if isinstance(node, Loc):
        return locate(node.line) if node.file == _MARK else node
    if isinstance(node, tuple):
        return tuple(_relocated(n, locate) for n in node)
    if not is_dataclass(node) or isinstance(node, type):
        return node
    cls = type(node)
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))
    copy = object.__new__(cls)
    for name in names:
        object.__setattr__(copy, name, _relocated(getattr(node, name), locate))
    return copy


def clear() -> None:
    """Forget every kept statement (tests compare a cold parse with a warm one)."""
    _KEPT.clear()
