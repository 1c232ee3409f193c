"""The Lark grammar files of the spec language (loaded relative to this package)."""

from pathlib import Path

GRAMMAR_DIR = Path(__file__).parent
STEPS_GRAMMAR = GRAMMAR_DIR / "steps.lark"
