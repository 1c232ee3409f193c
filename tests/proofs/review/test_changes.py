"""proofs/review/changes.py: what changed between two texts, step by step."""

from __future__ import annotations

from pathlib import Path

from specmc.proofs.review.changes import new_unknown
from specmc.spec.load import load_specs

from tests.proofs.review.test_review import SHARED

STEP = ("        1. Remove _cell_ from _finalizationRegistry_.[[Cells]].\n"
        "        1. Perform ? HostCallJobCallback")


def test_a_step_read_only_in_part_is_a_new_unknown_step_as_the_model_says(tmp_path: Path) -> None:
    """Review 8 (F3): a step wrapped in `<del>`, as proposals write it, is read only in part (an
    Opaque operand). The model refuses it as an unknown step (E040), but the review counted only
    steps the grammar could not read at all and said "0 new unknown step(s)"."""
    text = (SHARED / "current" / "finreg-excerpt.html").read_text()
    assert STEP in text
    head = tmp_path / "finreg-excerpt.html"
    head.write_text(text.replace(STEP, STEP.replace("        1. Remove", "        <del>1. Remove", 1)
                                 .replace("[[Cells]].\n", "[[Cells]].</del>\n", 1), 1))
    base_spec = load_specs([SHARED / "current" / "finreg-excerpt.html"])
    head_spec = load_specs([head])
    [u] = new_unknown(base_spec, head_spec, {})
    assert u.algorithm == "CleanupFinalizationRegistry" and "Choose any such _cell_" in u.step.text
    assert new_unknown(base_spec, base_spec, {}) == []
