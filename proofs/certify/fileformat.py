"""The certificate file: its header and seal, its sections, and the SMT-LIB scanner.

A certificate is gzip-compressed text: `; key: value` header lines, the last of which is
`; digest:` (a SHA-256 of everything else, the seal), then a body cut into sections by `;; NAME`
lines (state, inputs, next, init, transition, property, invariant). This module reads and writes
that envelope and cuts SMT-LIB text into top-level forms; what the forms mean as terms is
terms.py's business, and what they prove is obligations.py's. The format is in
docs/certificates.md.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from specmc.model.domain import WIDTH
from specmc.spec.source import read_input

FORMAT = "specmc certificate 2"
INVARIANT = "invariant"
KIND = "k-induction"
BV = f"(_ BitVec {WIDTH})"
SECTIONS = ("state", "inputs", "next", "init", "transition", "property", "invariant")
MODEL_SECTIONS = SECTIONS[:5]
# header keys every certificate has; `k` only a k-induction one, `origin` only one written by an
# engine that knows where its spec came from (used by `recheck --against`)
REQUIRED = ("format", "spec", "host", "host-profile", "property", "bounds", "method", "variables",
            "claim", "model", "digest")


class CertificateError(Exception):
    """The certificate does not prove what it claims; never a PROVED."""


class Unreadable(CertificateError):
    """The file cannot be read as a certificate at all (not gzip, not text, not the format)."""


def sha(text: str) -> str:
    """The hex SHA-256 of text: the seal, the model digest, and the caches' keys."""
    return hashlib.sha256(text.encode()).hexdigest()


def seal(head: dict[str, str], body: str) -> str:
    """Header and body with `; digest:` (a SHA-256 of everything else) as the last header line."""
    lines = "".join(f"; {k}: {v}\n" for k, v in head.items() if k != "digest")
    return f"{lines}; digest: {sha(lines + body)}\n{body}"


_DROPPED: dict[str, str] = {}  # the last invariant text and its stripped form (one per engine run)


def drop_declarations(text: str, names: set[str]) -> str:
    """The text without its `declare-fun`s of state variables (by name and bit-vector sort);
    any other declaration is kept, for the reader to refuse."""
    key = sha(text) + sha("\n".join(sorted(names)))
    if key not in _DROPPED:
        _DROPPED.clear()
        _DROPPED[key] = _strip_declarations(text, names)
    return _DROPPED[key]


def _strip_declarations(text: str, names: set[str]) -> str:
    out, last = [], 0
    for f in scan(text):
        if f.head == "declare-fun" and f.name in names and f.signature() == ("()", BV):
            out.append(text[last:f.start])
            last = f.end
    out.append(text[last:])
    return re.sub(r"\n\s*\n", "\n", "".join(out)).lstrip("\n")


# --- reading -----------------------------------------------------------------------------------

_TOKEN = re.compile(r'\|[^|]*\||"(?:[^"]|"")*"|;[^\n]*|[()]|[^\s()|";]+')


@dataclass
class Form:
    """One top-level command of the text: its span, its elements' spans, and its section."""

    text: str
    start: int
    end: int
    parts: list[tuple[int, int]]
    section: str = ""

    def part(self, i: int) -> str:
        a, b = self.parts[i]
        return self.text[a:b]

    @property
    def head(self) -> str:
        return self.part(0) if self.parts else ""

    @property
    def name(self) -> str:
        n = self.part(1) if len(self.parts) > 1 else ""
        return n[1:-1] if n.startswith("|") and n.endswith("|") and len(n) > 1 else n

    def signature(self) -> tuple[str, str]:
        """(parameters, sort) of a declare-fun or define-fun, whitespace normalised."""
        if len(self.parts) < 4:
            return "", ""
        norm = [" ".join(self.part(i).replace("(", " ( ").replace(")", " ) ").split())
                .replace("( ", "(").replace(" )", ")") for i in (2, 3)]
        return norm[0], norm[1]

    def body(self) -> str:
        return self.part(4) if len(self.parts) == 5 else ""


def scan(text: str) -> list[Form]:
    """The top-level forms of SMT-LIB text, each tagged with the `;; name` section comment
    before it. Raises Unreadable on unbalanced parentheses or a stray atom at the top."""
    forms: list[Form] = []
    depth, section, start = 0, "", 0
    parts: list[tuple[int, int]] = []
    elem = -1
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok[0] == ";":
            if depth == 0 and tok.startswith(";; "):
                section = tok[3:].strip()
            continue
        if tok == "(":
            if depth == 0:
                start, parts = m.start(), []
            elif depth == 1:
                elem = m.start()
            depth += 1
        elif tok == ")":
            depth -= 1
            if depth < 0:
                raise Unreadable(f"unbalanced parenthesis at offset {m.start()}")
            if depth == 1:
                parts.append((elem, m.end()))
            elif depth == 0:
                forms.append(Form(text, start, m.end(), parts, section))
        elif depth == 0:
            raise Unreadable(f"not SMT-LIB2: stray {tok[:40]!r} at the top level")
        elif depth == 1:
            parts.append((m.start(), m.end()))
    if depth:
        raise Unreadable("not SMT-LIB2: unbalanced parentheses (truncated?)")
    return forms


_SECTION = re.compile(r"^;; ([a-z-]+)\n", re.M)


@dataclass
class Certificate:
    """A read, sealed certificate: header fields, and its body cut at the `;; NAME` lines into
    sections, each scanned into forms only when asked for (an engine's in-process re-check never
    reads the megabyte of model text it has as terms already)."""

    path: str
    head: dict[str, str]
    text: str
    spans: dict[str, tuple[int, int]]
    _forms: dict[str, list[Form]] = field(default_factory=dict)

    def section_text(self, name: str) -> str:
        a, b = self.spans.get(name, (0, 0))
        return self.text[a:b]

    def forms(self, name: str) -> list[Form]:
        if name not in self._forms:
            self._forms[name] = [replace(f, section=name) for f in scan(self.section_text(name))]
        return self._forms[name]

    @property
    def claim(self) -> str:
        return self.head["claim"]


def read(path: str | Path) -> tuple[dict[str, str], str]:
    """The header fields and the whole text (no check beyond decompression)."""
    text = _decompress(path)
    return _header(text), text


def _decompress(path: str | Path) -> str:
    try:
        data = read_input(path)
    except OSError as e:
        raise Unreadable(f"unreadable ({e.strerror or e})") from None
    try:
        return gzip.decompress(data).decode()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise Unreadable(f"unreadable (not a complete gzip file: {e or type(e).__name__})") from None
    except UnicodeDecodeError:
        raise Unreadable("unreadable (the gzip content is not UTF-8 text)") from None


def _header(text: str) -> dict[str, str]:
    head: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("; "):
            break
        k, _, v = line[2:].partition(": ")
        head[k] = v
    return head


def load(path: str | Path) -> Certificate:
    """Read, check the format, the header and the seal, and split the body into sections."""
    text = _decompress(path)
    head = _header(text)
    if head.get("format") != FORMAT:
        if head.get("format", "").startswith("specmc certificate"):
            raise Unreadable(f"format {head['format']!r} is not {FORMAT!r} (written by an older "
                             "specmc: it carries no model; run specmc check again)")
        raise Unreadable("not a specmc certificate (no '; format: specmc certificate' line)")
    missing = [k for k in REQUIRED if k not in head]
    if missing:
        raise Unreadable(f"the header lacks {', '.join(missing)}")
    if head["claim"] not in (INVARIANT, KIND):
        raise Unreadable(f"unknown claim {head['claim']!r}")
    if head["claim"] == KIND and not re.fullmatch(r"\d{1,4}", head.get("k", "")):
        raise Unreadable(f"a k-induction certificate needs k, a whole number (got {head.get('k')!r})")
    line = f"; digest: {head['digest']}\n"
    at = text.find(line)
    unsealed = text[:at] + text[at + len(line):] if at >= 0 else text
    if sha(unsealed) != head["digest"]:
        raise CertificateError("digest mismatch: the file was changed after it was written")
    body = text[at + len(line):]
    marks = list(_SECTION.finditer(body))
    if not marks or body[:marks[0].start()].strip():
        raise Unreadable("the body does not start with a ';; state' section")
    names = [m.group(1) for m in marks]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise Unreadable(f"unknown section {unknown[0]!r}")
    dup = first_duplicate(names)
    if dup is not None:
        raise Unreadable(f"section {dup} appears twice")
    order = [SECTIONS.index(n) for n in names]
    for a, b in zip(order, order[1:], strict=False):
        if b < a:
            raise Unreadable(f"section {SECTIONS[b]} comes after {SECTIONS[a]}: the sections are in the "
                             f"order {', '.join(SECTIONS)}")
    ends = [m.start() for m in marks[1:]] + [len(body)]
    cert = Certificate(str(path), head, body,
                       {m.group(1): (m.end(), end) for m, end in zip(marks, ends, strict=True)})
    # the model digest covers every model section, to the first section mark after them: a
    # `;; invariant` inside a comment, say, is no end (review 8: a digest that stopped there
    # covered part of T, and a second file with the same digest and another T shared the
    # first one's consecution check)
    if sha(model_text(body)) != head["model"]:
        raise CertificateError("model digest mismatch: Init or T differs from the model the header names")
    return cert


def model_text(body: str) -> str:
    """The text the model digest covers: the body up to the first section mark (a `;; NAME`
    line) that is not a model section's."""
    cut = next((m.start() for m in _SECTION.finditer(body) if m.group(1) not in MODEL_SECTIONS), len(body))
    return body[:cut]


def first_duplicate(names: list[str]) -> str | None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            return n
        seen.add(n)
    return None

