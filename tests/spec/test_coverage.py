"""Whole-document coverage on the current spec.html (the figures quoted in docs/spec-language.md)."""

from __future__ import annotations

import pytest
from specmc.spec.coverage import coverage, form_of
from specmc.spec.load import load_specs

from tests.conftest import FULL


@pytest.mark.slow
def test_current_spec_coverage():
    spec = load_specs([FULL / "spec-2025-11-04-e936549f.html"])
    cov = coverage(spec)
    assert cov.algorithms == 2225
    assert 13_500 <= cov.steps <= 14_500
    assert cov.typed_steps / cov.steps >= 0.95
    assert cov.fully_parsed_steps <= cov.typed_steps
    for f in cov.unknown_forms:
        assert f.count >= 1 and ":" in f.example


def test_form_of_abstracts_names_and_literals():
    assert form_of("Let _x_ be *undefined* and [[Foo]] 3") == "Let _x_ be *v* and [[F]] …"
