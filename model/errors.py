"""The model compiler's error: the text asks for something the model cannot compile (E064)."""

from __future__ import annotations

from specmc.spec import diagnostics as diag
from specmc.spec import ir
from specmc.spec.diagnostics import SpecError


class ModelError(SpecError):
    pass


def model_error(step: ir.Step | None, why: str) -> ModelError:
    """E064 at the step (its file:line:col), saying why."""
    loc = step.loc if step else None
    return ModelError([diag.make("E064", loc, why=why)])
