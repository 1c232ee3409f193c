"""Texts the project ships: its own rendition of the WeakRef/FinalizationRegistry clauses."""
