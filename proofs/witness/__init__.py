"""Witnesses: a counterexample as a JavaScript program, and that program run on real engines.

witness.py turns a VIOLATED trace's mutator actions into a program with instrumentation
(`specmc witness`); replay.py runs a program on node or on a pinned QuickJS-NG (PyPI or wasm,
installed by specmc into its own cache) under a time limit and says what the engine did
(`specmc replay`), with the engine-side drivers in runners/.
"""
