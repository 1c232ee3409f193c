"""Phase 2: split an <emu-alg> body into a tree of raw steps.

ecmarkdown nests list items by indentation; a line that does not start a new
item continues the previous one (older texts wrap long steps). Step numbers as
people cite them (3, 3.b, 3.b.ii) are computed from the tree, never read from
the `1.` markers, which ecmarkup writes as `1.` throughout.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from dataclasses import dataclass

from specmc.spec import diagnostics as diag
from specmc.spec.diagnostics import SpecError
from specmc.spec.source import SourceText

_ITEM = re.compile(r"([ \t]*)(\d+\.|\*)[ \t]+")
_ATTR_ITEM = r"[\w-]+(?:\s*=\s*\"[^\"]*\")?"
_STEP_ATTRS = re.compile(r"\[\s*(" + _ATTR_ITEM + r"(?:\s*,\s*" + _ATTR_ITEM + r")*)\s*\]\s*")
_ONE_ATTR = re.compile(r"([\w-]+)(?:\s*=\s*\"([^\"]*)\")?")
_PIECE = re.compile(r"<[^>]*>|&#?\w+;|\s+|[^<&\s]+|[<&]")


@dataclass(frozen=True, slots=True)
class TextMap:
    """Normalised step text plus a map back to source offsets."""

    text: str
    starts: tuple[int, ...]  # index in text where each piece starts
    offsets: tuple[int, ...]  # source offset of each piece

    def source_offset(self, index: int) -> int:
        i = bisect_right(self.starts, index) - 1
        if i < 0:
            return self.offsets[0] if self.offsets else 0
        return self.offsets[i] + (index - self.starts[i])


@dataclass(frozen=True, slots=True)
class RawStep:
    number: str
    depth: int
    offset: int  # of the first character of the step's text
    text: TextMap
    attrs: tuple[tuple[str, str], ...]
    children: tuple[RawStep, ...]


def _roman(n: int) -> str:
    out = []
    for value, sym in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                       (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out.append(sym)
            n -= value
    return "".join(out)


def _alpha(n: int) -> str:
    s = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        s = chr(ord("a") + r) + s
    return s


def ordinal(depth: int, index: int) -> str:
    """ecmarkup's list style: decimal, lower-alpha, lower-roman, repeating."""
    style = depth % 3
    if style == 0:
        return str(index)
    if style == 1:
        return _alpha(index)
    return _roman(index)


def normalise(raw: str, base: int) -> TextMap:
    """Drop tags, decode entities, collapse whitespace; remember source offsets."""
    parts: list[str] = []
    starts: list[int] = []
    offsets: list[int] = []
    length = 0
    for m in _PIECE.finditer(raw):
        piece = m.group(0)
        first = piece[0]
        if first == "<" and len(piece) > 1:
            continue
        if first.isspace():
            if not parts or parts[-1] == " ":
                continue
            piece = " "
        elif first == "&" and len(piece) > 1:
            piece = html.unescape(piece)
        starts.append(length)
        offsets.append(base + m.start())
        parts.append(piece)
        length += len(piece)
    text = "".join(parts)
    if text.endswith(" "):
        text = text[:-1]
    return TextMap(text, tuple(starts), tuple(offsets))


@dataclass
class _Building:
    indent: int
    offset: int
    chunks: list[tuple[str, int]]
    children: list[_Building]
    number: str = ""  # as cited, for diagnostics (the frozen tree recomputes it)


def build_steps(src: SourceText, body: str, body_offset: int, clause: str) -> tuple[RawStep, ...]:
    """The step tree of one <emu-alg> body."""
    roots: list[_Building] = []
    open_items: list[_Building] = []  # the chain of currently open items, outermost first
    pos = 0
    for line in body.split("\n"):
        line_offset = body_offset + pos
        pos += len(line) + 1
        if not line.strip():
            continue
        m = _ITEM.match(line)
        if m is None:
            if not open_items:
                if _TAG_ONLY.fullmatch(line.strip()):
                    continue
                start = line_offset + (len(line) - len(line.lstrip()))
                loc = src.loc(start, clause=clause)
                raise SpecError([diag.make("E021", loc, src.line_text(loc.line))])
            item = open_items[-1]
            stripped = line.lstrip()
            item.chunks.append((" " + stripped, line_offset + len(line) - len(stripped) - 1))
            continue
        indent = len(m.group(1).expandtabs(2))
        text_start = line_offset + m.end()
        new = _Building(indent, line_offset + len(m.group(1)), [(line[m.end():], text_start)], [])
        while open_items and open_items[-1].indent > indent:
            open_items.pop()
        if open_items and open_items[-1].indent == indent:
            open_items.pop()
            siblings = open_items[-1].children if open_items else roots
        elif open_items:  # deeper than the innermost open item: a child of it
            siblings = open_items[-1].children
        else:
            if roots:  # dedented past every open item, to a column no item used
                expected = ", ".join(str(c + 1) for c in sorted({roots[0].indent}))
                loc = src.loc(new.offset, clause=clause, step=ordinal(0, len(roots) + 1))
                raise SpecError([diag.make("E020", loc, src.line_text(loc.line),
                                           col=indent + 1, expected=expected)])
            siblings = roots
        parent = open_items[-1] if open_items and siblings is open_items[-1].children else None
        new.number = (parent.number + "." if parent else "") + ordinal(
            len(open_items) if parent else 0, len(siblings) + 1)
        if siblings and siblings[-1].indent != indent:
            expected = str(siblings[-1].indent + 1)
            loc = src.loc(new.offset, clause=clause, step=new.number)
            raise SpecError([diag.make("E020", loc, src.line_text(loc.line),
                                       col=indent + 1, expected=expected)])
        siblings.append(new)
        open_items.append(new)
    return tuple(_freeze(b, i + 1, 0, "", src, clause) for i, b in enumerate(roots))


_TAG_ONLY = re.compile(r"(<[^>]*>\s*)+")


def _freeze(b: _Building, index: int, depth: int, prefix: str, src: SourceText,
            clause: str) -> RawStep:
    number = f"{prefix}{ordinal(depth, index)}"
    first_text, first_off = b.chunks[0]
    attrs: tuple[tuple[str, str], ...] = ()
    am = _STEP_ATTRS.match(first_text)
    if am:
        attrs = tuple((k, v) for k, v in _ONE_ATTR.findall(am.group(1)))
        first_text = first_text[am.end():]
        first_off += am.end()
    maps = [normalise(first_text, first_off)] + [normalise(t, o) for t, o in b.chunks[1:]]
    text = _join(maps)
    if not text.text.strip():
        loc = src.loc(b.offset, clause=clause, step=number)
        raise SpecError([diag.make("E022", loc, src.line_text(loc.line))])
    children = tuple(_freeze(c, i + 1, depth + 1, number + ".", src, clause)
                     for i, c in enumerate(b.children))
    return RawStep(number, depth, b.offset, text, attrs, children)


def _join(maps: list[TextMap]) -> TextMap:
    if len(maps) == 1:
        return maps[0]
    text = ""
    starts: list[int] = []
    offsets: list[int] = []
    for tm in maps:
        t = tm.text.strip()
        if not t:
            continue
        if text and not text.endswith(" "):
            text += " "
        lead = len(tm.text) - len(tm.text.lstrip())
        for s, o in zip(tm.starts, tm.offsets, strict=True):
            if s >= lead:
                starts.append(len(text) + s - lead)
                offsets.append(o)
            elif s + 1 > lead:
                pass
        text += t
    return TextMap(text, tuple(starts), tuple(offsets))
