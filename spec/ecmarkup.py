"""Phase 1: read an ecmarkup document into a clause tree and raw algorithm blocks.

Only the elements that carry semantics are tracked (clauses, headers, `<emu-alg>`,
the `<p>` that introduces an algorithm, `<emu-grammar>` before an SDO's steps);
everything else is skipped by a fast tag scanner, so that a whole 3 MB spec.html
reads in a fraction of a second. Balance is enforced for the tracked elements,
and every complaint carries the offset of the tag at fault.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from specmc.spec import diagnostics as diag
from specmc.spec.diagnostics import Diagnostic, SpecError
from specmc.spec.source import SourceText

# Tags whose nesting we check. <emu-alg> may be left open in old proposal text;
# it is closed implicitly (with a warning) by the next clause boundary.
_BALANCED = ("emu-clause", "emu-annex", "emu-alg", "emu-table", "emu-grammar", "h1", "dl")
_CLAUSES = ("emu-clause", "emu-annex")
_RAW_SKIP = ("pre", "script", "style", "code")

_TAG = re.compile(
    r"<!--.*?-->"
    r"|<(/?)([A-Za-z][\w-]*)((?:\s(?:[^<>\"']|\"[^\"]*\"|'[^']*')*?)?)(/?)>"
    r"|<(?=[A-Za-z/])",
    re.S,
)
_ATTR = re.compile(r"""([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_TAGS_IN_TEXT = re.compile(r"<[^>]*>")
# a header's (dt, dd) pairs: neither half may run into the next <dt> or <dd>, so that a <dt> left
# without its <dd> is not read together with the next pair as one odd key; tags in any case and
# with attributes, as HTML reads them (`<dt class="k">` and `<DT>` were skipped, and the option
# silently took its default: fifth review)
DT_DD = re.compile(r"<dt\b[^>]*>((?:(?!</?d[td]\b).)*?)</dt\s*>\s*<dd\b[^>]*>((?:(?!</?d[td]\b).)*?)</dd\s*>",
                   re.S | re.I)
DT = re.compile(r"<dt\b[^>]*>", re.I)
DD = re.compile(r"<dd\b[^>]*>", re.I)
# an unterminated comment runs to the end, as an HTML reader takes it
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)


def blank_comments(text: str) -> str:
    """`text` with each HTML comment replaced by as many spaces: what a reader skips, at the same
    offsets (an option commented out of a host profile's header was still read: fourth review)."""
    return _COMMENT.sub(lambda m: " " * len(m.group()), text)


def parse_attrs(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _ATTR.finditer(raw):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        if value is None:
            value = m.group(4) if m.group(4) is not None else ""
        out[m.group(1).lower()] = value
    return out


def plain_text(fragment: str) -> str:
    """Tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(_TAGS_IN_TEXT.sub("", fragment)).split())


@dataclass(frozen=True, slots=True)
class ClauseNode:
    id: str
    type: str
    aoid: str
    title: str  # plain text of the first <h1>
    parent: str
    offset: int  # of the opening tag
    depth: int
    header: tuple[tuple[str, str], ...] = ()  # <dl class="header"> (dt, dd) pairs


@dataclass(frozen=True, slots=True)
class AlgBlock:
    """The raw body of one <emu-alg>, with what introduced it."""

    clause: str
    body: str
    body_offset: int  # offset of body[0] in the source
    offset: int  # offset of the <emu-alg> tag
    attrs: tuple[tuple[str, str], ...]
    preamble: str  # plain text of the <p> right before it in the same clause ('' if none)
    grammar: str  # plain text of an <emu-grammar> right before it ('' if none)
    implicit_close: bool = False


@dataclass(frozen=True)
class Document:
    source: SourceText
    clauses: tuple[ClauseNode, ...]
    blocks: tuple[AlgBlock, ...]
    warnings: tuple[Diagnostic, ...]


@dataclass
class _Open:
    tag: str
    offset: int
    content_start: int
    clause: str = ""


def _error(src: SourceText, code: str, offset: int, clause: str = "", **fields: object) -> SpecError:
    loc = src.loc(offset, clause=clause)
    return SpecError([diag.make(code, loc, src.line_text(loc.line), **fields)])


def read_document(src: SourceText) -> Document:
    text = src.text
    clauses: list[ClauseNode] = []
    blocks: list[AlgBlock] = []
    warnings: list[Diagnostic] = []
    stack: list[_Open] = []
    clause_stack: list[str] = []
    titles: dict[str, str] = {}
    headers: dict[str, list[tuple[str, str]]] = {}
    # What introduced the next <emu-alg> in the current clause.
    last_p = ""
    last_grammar = ""
    pos = 0
    n = len(text)

    def current_clause() -> str:
        return clause_stack[-1] if clause_stack else ""

    def close_alg(end: int, implicit: bool) -> None:
        nonlocal last_p, last_grammar
        top = stack.pop()
        body = text[top.content_start:end]
        attrs = tuple(sorted(parse_attrs(text[top.offset + len("<emu-alg"):top.content_start - 1]).items()))
        blocks.append(AlgBlock(top.clause, body, top.content_start, top.offset, attrs,
                               last_p, last_grammar, implicit))
        if implicit:
            line, _ = src.position(end)
            loc = src.loc(top.offset, clause=top.clause)
            warnings.append(diag.make("W100", loc, src.line_text(loc.line), line=line))
        last_p = ""
        last_grammar = ""

    while pos < n:
        m = _TAG.search(text, pos)
        if m is None:
            break
        pos = m.end()
        whole = m.group(0)
        if whole.startswith("<!--"):
            continue
        if m.group(2) is None:  # a '<' that starts a tag but never reaches '>'
            nxt = text.find(">", m.start())
            lt = text.find("<", m.start() + 1)
            if nxt == -1 or (lt != -1 and lt < nxt):
                raise _error(src, "E013", m.start(), current_clause())
            continue
        closing = m.group(1) == "/"
        tag = m.group(2).lower()
        if tag in _RAW_SKIP and not closing and not m.group(4):
            end = text.find(f"</{tag}", pos)
            if end == -1:
                raise _error(src, "E010", m.start(), current_clause(), tag=tag)
            pos = end
            continue
        inside_alg = bool(stack) and stack[-1].tag == "emu-alg"
        if not closing:
            if tag == "p" and not inside_alg:
                end = text.find("</p>", pos)
                nxt_block = text.find("<emu-", pos)
                if end != -1 and (nxt_block == -1 or end < nxt_block):
                    last_p = plain_text(text[pos:end])
                    pos = end + 4
                continue
            if tag not in _BALANCED:
                continue
            if inside_alg:
                if tag not in _CLAUSES:
                    continue  # inline markup of a step (<emu-grammar>, <emu-xref>, ...)
                close_alg(m.start(), implicit=True)
            if m.group(4):  # self-closing
                continue
            stack.append(_Open(tag, m.start(), pos, current_clause()))
            if tag in _CLAUSES:
                attrs = parse_attrs(m.group(3))
                cid = attrs.get("id", "")
                parent = current_clause()
                clause_stack.append(cid)
                stack[-1].clause = cid
                clauses.append(ClauseNode(cid, attrs.get("type", ""), attrs.get("aoid", ""), "",
                                          parent, m.start(), len(clause_stack) - 1))
                last_p = ""
                last_grammar = ""
            elif tag == "emu-alg":
                stack[-1].clause = current_clause()
            continue
        # closing tag
        if tag not in _BALANCED:
            continue
        if inside_alg and tag != "emu-alg":
            if tag not in _CLAUSES:
                continue
            close_alg(m.start(), implicit=True)
        if not stack:
            raise _error(src, "E011", m.start(), current_clause(), tag=tag)
        top = stack[-1]
        if top.tag != tag:
            line, _ = src.position(top.offset)
            raise _error(src, "E012", m.start(), current_clause(), tag=tag, open=top.tag, line=line)
        if tag == "emu-alg":
            close_alg(m.start(), implicit=False)
            continue
        stack.pop()
        if tag == "h1":
            cid = current_clause()
            if cid and cid not in titles:
                titles[cid] = plain_text(text[top.content_start:m.start()])
        elif tag == "dl":
            cid = current_clause()
            if cid and cid not in headers:
                body = blank_comments(text[top.content_start:m.start()])
                headers[cid] = [(plain_text(dt), plain_text(dd)) for dt, dd in DT_DD.findall(body)]
        elif tag == "emu-grammar":
            last_grammar = plain_text(text[top.content_start:m.start()])
        elif tag in _CLAUSES:
            clause_stack.pop()
            last_p = ""
            last_grammar = ""
    if stack:
        top = stack[-1]
        if top.tag == "emu-alg" and len(stack) == 1:
            close_alg(n, implicit=True)
        else:
            raise _error(src, "E010", top.offset, top.clause, tag=top.tag)
    done = tuple(
        ClauseNode(c.id, c.type, c.aoid, titles.get(c.id, ""), c.parent, c.offset, c.depth,
                   tuple(headers.get(c.id, ())))
        for c in clauses
    )
    return Document(src, done, tuple(blocks), tuple(warnings))
