"""The spec language: ecmarkup text in, located IR out.

Phases (each a function from one frozen value to another):

    read_source(path)            -> SourceText
    read_document(SourceText)    -> Document   (clause tree, raw algorithm blocks)
    build_steps(Document)        -> raw step trees with computed step numbers
    parse_document(...)          -> Spec        (typed IR, every node located)

`load_spec` chains them; the CLI and later phases only ever see `Spec`.
"""

from specmc.spec.load import load_spec, load_specs

__all__ = ["load_spec", "load_specs"]
