"""Semantics: IR + host profile -> transition system (see the runtime-model issue)."""
