"""Code spans in the review's Markdown: a name with backticks in it stays one span."""

from __future__ import annotations

import re

from specmc.proofs.report.review import _code


def spans(markdown: str) -> list[str]:
    """The code spans CommonMark reads: a run of backticks opens one, the same run closes it."""
    out, at = [], 0
    while (m := re.compile(r"`+").search(markdown, at)) is not None:
        close = re.compile(rf"(?<!`){m.group(0)}(?!`)").search(markdown, m.end())
        if close is None:
            break
        out.append(markdown[m.end():close.start()].strip())
        at = close.end()
    return out


def test_a_name_with_backticks_is_one_code_span() -> None:
    name = "`Promise.all` Resolve Element Functions"
    assert spans(_code(name) + ", " + _code("WeakRefDeref")) == [name, "WeakRefDeref"]
    # what the report wrote before: three spans, the middle one the wrong text
    assert spans(f"`{name}`") != [name]
