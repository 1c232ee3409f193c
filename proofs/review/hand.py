"""Hand-modelled clauses: where a clause's meaning is built into the model rather than compiled
from its text, a change to that text is reported, since the verdicts cannot reflect it."""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specmc.model.by_hand import HandClause
from specmc.proofs.review.sides import Side

# ------------------------------------------------------------------- hand-modelled clauses

HAND_CHANGED = "hand-modelled clause changed: verdicts do not reflect it"


@dataclass(frozen=True)
class HandChange:
    """A clause the model builds in whose text differs between the sides (or that one side lost)."""

    clause: str
    what: str  # what of it the model builds in
    reason: str
    status: str  # changed | removed | added
    file: str  # the file as the user names it (a path in the repository for a git side)
    line: int  # the first changed line, on HEAD (on BASE when the clause or the text was removed)
    where: str  # file:line located on its side (`HEAD:spec.html:12420`)
    before: str  # the first changed text on BASE ("" if none)
    after: str  # and on HEAD

    def message(self) -> str:
        return f"{HAND_CHANGED}: {self.clause} ({self.what}) at {self.where}"

    def to_json(self) -> dict[str, Any]:
        return {"clause": self.clause, "what": self.what, "reason": self.reason, "status": self.status,
                "file": self.file, "line": self.line, "where": self.where, "before": self.before,
                "after": self.after, "message": self.message()}


@dataclass(frozen=True)
class ClauseText:
    id: str
    oldids: tuple[str, ...]
    parent: str
    file: str  # as shown to the user
    line: int  # of the opening tag
    lines: tuple[tuple[int, str], ...]  # (line, plain text) of the clause's own non-empty lines


_CLAUSE_TAG = re.compile(r"<(/?)(emu-clause|emu-annex)\b((?:[^<>\"']|\"[^\"]*\"|'[^']*')*)>", re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_ANY_TAG = re.compile(r"<[^<>]*>")
# never normative (notes) or typing only (the header's h1: the model reads steps, not signatures)
_SKIP = re.compile(r"<(emu-note|h1)\b.*?</\1\s*>", re.S | re.I)
_H1 = re.compile(r"<(h1)\b.*?</\1\s*>", re.S | re.I)  # a clause whose notes the model builds in
_ALG = re.compile(r"<(emu-alg)\b.*?</\1\s*>", re.S | re.I)


_TABLE = re.compile(r"<emu-table\b((?:[^<>\"']|\"[^\"]*\"|'[^']*')*)>.*?</emu-table\s*>", re.S | re.I)
ALGORITHM = "[an algorithm]"  # what an algorithm of a prose-only clause leaves in its text


def _blank(m: re.Match[str]) -> str:
    """A cut-out region as the newlines it spanned, so that line numbers stay right."""
    return "\n" * m.group(0).count("\n")


def _marked(m: re.Match[str]) -> str:
    """An algorithm cut out of a prose-only clause, as one marker and the newlines it spanned:
    its steps are compiled (a change to them is a model change), but an algorithm added to or
    taken from such a clause is a change of the clause itself (an independent review put an
    algorithm into sec-weakref-invariants and the review saw nothing)."""
    return ALGORITHM + "\n" * m.group(0).count("\n")


def clause_texts(text: str, file: str, wanted: set[str], prose_only: set[str],
                 with_notes: frozenset[str] = frozenset()) -> dict[str, ClauseText]:
    """The own text of each wanted clause (by id or old id) or table (by id): without nested
    clauses, notes (unless the clause is in `with_notes`) and the h1, and for `prose_only`
    clauses with each algorithm reduced to a marker; markup and entities gone, whitespace
    collapsed per line. Markup-only and reflowing changes leave it equal."""
    spans: list[tuple[str, tuple[str, ...], str, int, int, int]] = []  # id, oldids, parent, start, body, end
    stack: list[tuple[str, tuple[str, ...], int, int, list[tuple[int, int]]]] = []
    children: dict[int, list[tuple[int, int]]] = {}
    for m in _CLAUSE_TAG.finditer(text):
        if not m.group(1):
            attrs = dict(re.findall(r"([\w-]+)\s*=\s*\"([^\"]*)\"", m.group(3)))
            stack.append((attrs.get("id", ""), tuple(x for x in attrs.get("oldids", "").split(",") if x),
                          m.start(), m.end(), []))
        elif stack:
            cid, old, start, body, kids = stack.pop()
            if stack:
                stack[-1][4].append((start, m.end()))
            if cid in wanted or wanted.intersection(old):
                spans.append((cid, old, stack[-1][0] if stack else "", start, body, m.start()))
                children[start] = kids
    out: dict[str, ClauseText] = {}
    for m in _TABLE.finditer(text):  # a table the list names (the Agent Record's fields)
        attrs = dict(re.findall(r"([\w-]+)\s*=\s*\"([^\"]*)\"", m.group(1)))
        tid = attrs.get("id", "")
        if tid in wanted:
            spans.append((tid, (), _enclosing(text, m.start()), m.start(), m.start(), m.end()))
            children[m.start()] = []
    for cid, old, parent, start, body, end in spans:
        pieces, at = [], body
        for a, b in children[start]:
            pieces += [text[at:a], "\n" * text.count("\n", a, b)]
            at = b
        own = "".join(pieces) + text[at:end]
        skip = _H1 if cid in with_notes or with_notes.intersection(old) else _SKIP
        own = skip.sub(_blank, _COMMENT.sub(_blank, own))
        if cid in prose_only or prose_only.intersection(old):
            own = _ALG.sub(_marked, own)
        own = _ANY_TAG.sub(_blank, own)
        first = text.count("\n", 0, body) + 1
        lines = tuple((first + i, " ".join(html.unescape(t).split()))
                      for i, t in enumerate(own.split("\n")) if t.strip())
        out[cid] = ClauseText(cid, old, parent, file, text.count("\n", 0, start) + 1, lines)
    return out


def _enclosing(text: str, at: int) -> str:
    """The id of the innermost clause open at offset `at`."""
    stack: list[str] = []
    for m in _CLAUSE_TAG.finditer(text, 0, at):
        if not m.group(1):
            stack.append(dict(re.findall(r"([\w-]+)\s*=\s*\"([^\"]*)\"", m.group(3))).get("id", ""))
        elif stack:
            stack.pop()
    return stack[-1] if stack else ""


def _side_clauses(side: Side, hands: tuple[HandClause, ...]) -> dict[str, ClauseText]:
    """The hand-modelled clauses as one side's files have them, by the id the list uses."""
    wanted = {i for h in hands for i in (h.clause, *h.aliases)}
    prose = {i for h in hands if h.prose_only for i in (h.clause, *h.aliases)}
    notes = frozenset(i for h in hands if h.notes for i in (h.clause, *h.aliases))
    found: dict[str, ClauseText] = {}
    for path in side.paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):  # the reader already refused what it cannot read
            continue
        for c in clause_texts(text, side.shown.get(path, path), wanted, prose, notes).values():
            for name in (c.id, *c.oldids):
                found.setdefault(name, c)
    return {h.clause: next(found[i] for i in (h.clause, *h.aliases) if i in found)
            for h in hands if any(i in found for i in (h.clause, *h.aliases))}


def hand_changes(base: Side, head: Side, hands: tuple[HandClause, ...]) -> tuple[HandChange, ...]:
    """Each hand-modelled clause whose own text differs between the sides. A clause one side
    lacks counts only when that side still has the clause's parent (it was taken out); an excerpt
    that never had the general operations compares nothing for them."""
    b, h = _side_clauses(base, hands), _side_clauses(head, hands)
    b_ids = {i for c in b.values() for i in (c.id, *c.oldids)}
    h_ids = {i for c in h.values() for i in (c.id, *c.oldids)}
    parents_b = _parents_present(base, {c.parent for c in h.values() if c.parent})
    parents_h = _parents_present(head, {c.parent for c in b.values() if c.parent})
    out: list[HandChange] = []
    seen: set[str] = set()
    for hand in hands:
        if hand.clause in seen:
            continue
        seen.add(hand.clause)
        old, new = b.get(hand.clause), h.get(hand.clause)
        if old is not None and new is not None:
            if " ".join(t for _, t in old.lines).split() == " ".join(t for _, t in new.lines).split():
                continue
            on_head, line, before, after = _first_change(old, new)
            side, ref = (head, new) if on_head else (base, old)
            out.append(HandChange(hand.clause, hand.what, hand.reason, "changed", ref.file, line,
                                  _where(side, ref.file, line), before, after))
        elif old is not None and old.parent in parents_h and not (h_ids & {old.id, *old.oldids}):
            out.append(HandChange(hand.clause, hand.what, hand.reason, "removed", old.file, old.line,
                                  _where(base, old.file, old.line), _excerpt(old.lines), ""))
        elif new is not None and new.parent in parents_b and not (b_ids & {new.id, *new.oldids}):
            out.append(HandChange(hand.clause, hand.what, hand.reason, "added", new.file, new.line,
                                  _where(head, new.file, new.line), "", _excerpt(new.lines)))
    return tuple(out)


def _parents_present(side: Side, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    present: set[str] = set()
    for path in side.paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        present |= {i for i in ids if f'id="{i}"' in text}
    return present


def _first_change(old: ClauseText, new: ClauseText) -> tuple[bool, int, str, str]:
    """Where the first changed text is (on HEAD, or on BASE when the change only removed text:
    the flag says which side), and the texts on both sides."""
    a, b = [t for _, t in old.lines], [t for _, t in new.lines]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        on_head = j1 < j2
        line = new.lines[j1][0] if on_head else old.lines[i1][0]
        return on_head, line, _clip(" ".join(a[i1:i2])), _clip(" ".join(b[j1:j2]))
    return True, new.line, "", ""  # the lines are equal: not reached when the words differ


def _excerpt(lines: tuple[tuple[int, str], ...]) -> str:
    return _clip(" ".join(t for _, t in lines))


def _clip(s: str, n: int = 240) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _where(side: Side, file: str, line: int) -> str:
    return f"{side.rev}:{file}:{line}" if side.rev else f"{file}:{line}"
