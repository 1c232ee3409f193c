"""Names, parameters and kinds of algorithms, from headers and the prose around them.

Three header styles occur in real text: structured headers
(`Name ( _p_: type, ): return`, 2021-07 on), the older `aoid=` attribute with a
plain `<h1>Name ( _a_, _b_ [ , _c_ ] )</h1>` and a "takes argument" preamble, and
proposal-era `<h1>Name(_a_)</h1>`. Two prose sentences give semantics to an
algorithm that has no header of its own: sec-weakref-execution's "may perform the
following steps atomically" and a "new Job Abstract Closure ... performs the
following steps when called".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from specmc.spec.ir import Param

_CALL_HEADER = re.compile(r"^\s*(?P<name>[^()]*?)\s*\((?P<params>.*)\)\s*(?::\s*(?P<ret>.*))?$", re.S)
_STRUCT_PARAM = re.compile(r"(?P<opt>optional\s+)?_(?P<name>\w+)_\s*:\s*")
_PLAIN_PARAM = re.compile(r"_(\w+)_")

ATOMIC = re.compile(r"may perform the following steps atomically", re.I)
CLOSURE = re.compile(
    r"Let (?P<var>_\w+_) be a new (?P<job>Job )?Abstract Closure"
    r"(?: with no parameters| with parameters \((?P<params>[^)]*)\))?"
    r"(?: that captures (?P<captures>.*?))? and performs the following steps when called",
    re.I,
)
_DEFAULT_IMPL = re.compile(r"default implementation of", re.I)
_BUILTIN_PREAMBLE = re.compile(
    r"(This (function|method) performs the following steps when called"
    r"|function is called with|following steps are taken)",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Header:
    name: str
    params: tuple[Param, ...]
    return_type: str


def parse_header(title: str, aoid: str = "") -> Header:
    m = _CALL_HEADER.match(title)
    if m is None:
        return Header(aoid or title.strip(), (), "")
    name = aoid or " ".join(m.group("name").split())
    inner = m.group("params")
    ret = " ".join((m.group("ret") or "").split())
    params: list[Param] = []
    if _STRUCT_PARAM.search(inner):
        marks = list(_STRUCT_PARAM.finditer(inner))
        for i, pm in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(inner)
            ptype = inner[pm.end():end].strip().rstrip(",").strip()
            params.append(Param(pm.group("name"), " ".join(ptype.split()), bool(pm.group("opt"))))
    else:
        depth_optional = 0
        for tok in re.finditer(r"\[|\]|_\w+_", inner):
            t = tok.group(0)
            if t == "[":
                depth_optional += 1
            elif t == "]":
                depth_optional -= 1
            else:
                params.append(Param(t[1:-1], "", depth_optional > 0))
    return Header(name, tuple(params), ret)


def classify(clause_type: str, aoid: str, preamble: str, title: str) -> str:
    if CLOSURE.search(preamble):
        m = CLOSURE.search(preamble)
        return "job-closure" if m and m.group("job") else "closure"
    if ATOMIC.search(preamble):
        return "implementation-steps"
    ct = clause_type.lower()
    if ct == "host-defined abstract operation":
        return "host-default" if _DEFAULT_IMPL.search(preamble) else "host-defined"
    if ct == "abstract operation":
        if _DEFAULT_IMPL.search(preamble):
            return "host-default"
        return "abstract-operation"
    if ct in ("sdo", "syntax-directed operation"):
        return "sdo"
    if ct in ("concrete method", "internal method", "numeric method"):
        return ct.replace(" ", "-")
    if ct in ("built-in function",):
        return "built-in"
    if aoid:
        if _DEFAULT_IMPL.search(preamble):
            return "host-default"
        return "abstract-operation"
    if _BUILTIN_PREAMBLE.search(preamble) and "(" in title:
        return "built-in"
    return "other"


def closure_info(preamble: str) -> tuple[str, tuple[str, ...], tuple[Param, ...]]:
    """(closure variable, captured names, parameters) of a closure-introducing sentence."""
    m = CLOSURE.search(preamble)
    if m is None:
        return "", (), ()
    captures = tuple(_PLAIN_PARAM.findall(m.group("captures") or ""))
    params = tuple(Param(p) for p in _PLAIN_PARAM.findall(m.group("params") or ""))
    return m.group("var"), captures, params


def prose_binds(preamble: str) -> tuple[str, ...]:
    """Variables an implementation-steps sentence introduces, e.g. _S_."""
    return tuple(dict.fromkeys(_PLAIN_PARAM.findall(preamble)))
