"""How much of a document the front-end understands, and what it does not."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from specmc.spec import ir
from specmc.spec.load import fully_parsed

_NORMALISE = [
    (re.compile(r"_[A-Za-z0-9]+_"), "_x_"),
    (re.compile(r"\*\"[^\"]*\"\*"), '*"…"*'),
    (re.compile(r"\*[^*\s][^*]*\*"), "*v*"),
    (re.compile(r"\|[A-Za-z]+(?:\[[^\]]*\])?(?:_opt)?\|"), "|N|"),
    (re.compile(r"\[\[[^\]]+\]\]"), "[[F]]"),
    (re.compile(r"~[\w-]+~"), "~e~"),
    (re.compile(r"\b\d+\b"), "N"),
]
FORM_WORDS = 6


def form_of(text: str) -> str:
    """A step's text with names and literals abstracted, cut to its first words."""
    for pattern, repl in _NORMALISE:
        text = pattern.sub(repl, text)
    words = text.split()
    return " ".join(words[:FORM_WORDS]) + (" …" if len(words) > FORM_WORDS else "")


@dataclass(frozen=True)
class Form:
    form: str
    count: int
    example: str  # FILE:LINE


@dataclass(frozen=True)
class Coverage:
    algorithms: int
    steps: int
    typed_steps: int
    fully_parsed_steps: int
    unknown_forms: tuple[Form, ...]
    opaque_forms: tuple[Form, ...]

    def share(self, n: int) -> float:
        return 100.0 * n / self.steps if self.steps else 100.0

    def to_json(self) -> dict:
        def forms(fs: tuple[Form, ...]) -> list[dict]:
            return [{"form": f.form, "count": f.count, "example": f.example} for f in fs]

        return {
            "algorithms": self.algorithms,
            "steps": self.steps,
            "typed_steps": self.typed_steps,
            "fully_parsed_steps": self.fully_parsed_steps,
            "unknown_forms": forms(self.unknown_forms),
            "opaque_forms": forms(self.opaque_forms),
        }


def _top(steps: list[ir.Step], texts: list[str], limit: int) -> tuple[Form, ...]:
    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    for step, text in zip(steps, texts, strict=True):
        f = form_of(text)
        counts[f] += 1
        example.setdefault(f, f"{step.loc.file}:{step.loc.line}")
    return tuple(Form(f, n, example[f]) for f, n in counts.most_common(limit))


def coverage(spec: ir.Spec, limit: int = 20) -> Coverage:
    steps = [s for a in spec.algorithms for s in a.walk()]
    unknown = [s for s in steps if isinstance(s.stmt, ir.Unknown)]
    partial = [s for s in steps if not isinstance(s.stmt, ir.Unknown) and not fully_parsed(s)]
    opaque_texts = [
        next(n.text for n in ir.iter_nodes(s.stmt) if isinstance(n, ir.Opaque | ir.Unknown))
        for s in partial
    ]
    return Coverage(
        algorithms=len(spec.algorithms),
        steps=len(steps),
        typed_steps=len(steps) - len(unknown),
        fully_parsed_steps=len(steps) - len(unknown) - len(partial),
        unknown_forms=_top(unknown, [s.text for s in unknown], limit),
        opaque_forms=_top(partial, opaque_texts, limit),
    )
