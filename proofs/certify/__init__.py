"""Proof certificates: what a PROVED verdict leaves behind, and its re-check by fresh solvers.

invariant.py writes a set of states (the explicit engine's visited set, the bdd engine's reachable
set) as a reduced decision diagram and as SMT-LIB2 text. certificate.py writes a certificate file
(model, property, and an inductive invariant or the k of a k-induction proof) and re-checks it,
in-process for the engines and from the file alone for `specmc recheck`; the file itself (header,
seal, sections) is fileformat.py, the model as Z3 terms (built or parsed) is terms.py, and the
obligations the solvers discharge are obligations.py.
"""
