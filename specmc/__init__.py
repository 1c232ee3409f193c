"""specmc: a model checker for ECMAScript specification text.

The tool's three phases live in the repository's top-level folders spec/, model/ and proofs/ and
are installed as `specmc.spec`, `specmc.model` and `specmc.proofs` (pyproject.toml, package-dir),
so that nothing named `spec`, `model` or `proofs` is put on a user's import path: a user's own
`model.py` beside their plan used to shadow the tool.

Run from a checkout without installing (the tests do), the folders are found beside this one."""

from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "model" / "__init__.py").is_file():
    __path__.append(str(_CHECKOUT))  # noqa: F821  (a package's __path__)
