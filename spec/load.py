"""The front-end's phases chained: path -> SourceText -> Document -> Spec.

Bad input of every kind (missing file, directory, binary, empty, malformed
markup, bad indentation, unknown clause id) ends here as a `SpecError` carrying
located diagnostics; nothing below this module needs to know about files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from specmc.spec import diagnostics as diag
from specmc.spec import ir, stepcache
from specmc.spec.diagnostics import Diagnostic, SpecError
from specmc.spec.ecmarkup import AlgBlock, ClauseNode, read_document
from specmc.spec.headers import classify, closure_info, parse_header, prose_binds
from specmc.spec.parser import PARSE_ERRORS, StepParser, step_parser
from specmc.spec.shapes import shape
from specmc.spec.source import Loc, SourceText, read_input
from specmc.spec.steps import RawStep, build_steps

SPEC_SUFFIXES = (".html", ".emu", ".htm")
EMBEDDED = Path(__file__).parent / "texts" / "finreg.html"


def read_source(path: str | Path) -> SourceText:
    p = Path(path)
    name = str(path)
    try:
        if p.is_dir():
            raise SpecError([diag.make("E004", path=name)])
        data = read_input(p)
    except SpecError:
        raise
    except OSError as e:
        raise SpecError([diag.make("E001", path=name, reason=e.strerror or str(e))]) from None
    nul = data.find(b"\x00")
    if nul != -1:
        raise SpecError([diag.make("E002", path=name, offset=nul)])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError([diag.make("E002", path=name, offset=e.start)]) from None
    if not text.strip():
        raise SpecError([diag.make("E003", path=name)])
    return SourceText.of(name, text.replace("\r\n", "\n"))


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; a directory stands for its spec files (a folder of clause files)."""
    out: list[Path] = []
    for path in paths:
        p = Path(path)
        if p.is_dir():
            # (an entry that is no regular file is kept, and read_source refuses it with E001: left
            # out, a FIFO or a link to /dev/zero in the folder was silently not read: fifth review)
            found = sorted(f for f in p.iterdir() if f.suffix in SPEC_SUFFIXES and not f.is_dir())
            excerpt = [f for f in found if f.name == "finreg-excerpt.html"]
            if excerpt:  # a snapshot folder: the excerpt already holds every clause file
                _check_snapshot(excerpt[0], [f for f in found if f != excerpt[0]])
                found = excerpt
            if not found:
                raise SpecError([diag.make("E004", path=str(path))])
            out.extend(found)
        else:
            out.append(p)
    return out


def _check_snapshot(excerpt: Path, clause_files: list[Path]) -> None:
    """A snapshot folder is read as its excerpt alone (reading every file would define each
    clause twice or more: nested clauses have files of their own too). So every clause file must
    be a byte-for-byte piece of the excerpt, as the folder's SOURCE.md says they are: a clause
    file edited by itself would otherwise be ignored without a word (a review of such a folder
    said "model identical" for a changed WeakRefDeref). E084 at the first line of the file that
    the excerpt lacks. A clause file older than the excerpt is one the excerpt was edited after:
    the excerpt is what the user changed, and it is what is read."""
    whole = read_source(excerpt).text
    edited = excerpt.stat().st_mtime
    for f in clause_files:
        text = read_source(f).text
        if text in whole or f.stat().st_mtime < edited:
            continue
        lines = text.split("\n")
        line = next((i for i, s in enumerate(lines, 1) if s.strip() and s not in whole), 1)
        column = len(lines[line - 1]) - len(lines[line - 1].lstrip()) + 1
        raise SpecError([diag.make("E084", Loc(str(f), line, column), lines[line - 1],
                                   path=f.name, excerpt=excerpt.name)])


def load_spec(path: str | Path | None = None, clauses: Sequence[str] = ()) -> ir.Spec:
    return load_specs([path if path is not None else EMBEDDED], clauses)


def load_specs(paths: Sequence[str | Path], clauses: Sequence[str] = ()) -> ir.Spec:
    parser = step_parser()
    all_clauses: list[ir.Clause] = []
    algorithms: list[ir.Algorithm] = []
    warnings: list[Diagnostic] = []
    files = expand_paths(paths)
    # a text given twice (`--spec embedded --spec embedded`, a file and its folder, a copy) defined
    # every algorithm twice, and E087 named one algorithm instead of the repeat (sixth review)
    seen: dict[str, Path] = {}
    for f in files:
        src = read_source(f)
        first = seen.get(src.text)
        if first is not None:
            same = Path(first).resolve() == Path(f).resolve()
            raise SpecError([diag.make("E005", path=str(f), first=str(first),
                                       how="the same file as" if same else "the same text as")])
        seen[src.text] = f
        _load_source(parser, src, all_clauses, algorithms, warnings)
    spec = ir.Spec(tuple(str(f) for f in files), tuple(all_clauses), tuple(algorithms),
                   tuple(warnings))
    return select(spec, clauses) if clauses else spec


def load_text(name: str, text: str, clauses: Sequence[str] = ()) -> ir.Spec:
    """Like load_specs, for text already in memory (tests, review of git revisions)."""
    if not text.strip():
        raise SpecError([diag.make("E003", path=name)])
    all_clauses: list[ir.Clause] = []
    algorithms: list[ir.Algorithm] = []
    warnings: list[Diagnostic] = []
    _load_source(step_parser(), SourceText.of(name, text), all_clauses, algorithms, warnings)
    spec = ir.Spec((name,), tuple(all_clauses), tuple(algorithms), tuple(warnings))
    return select(spec, clauses) if clauses else spec


def _load_source(parser: StepParser, src: SourceText, all_clauses: list[ir.Clause],
                 algorithms: list[ir.Algorithm], warnings: list[Diagnostic]) -> None:
    doc = read_document(src)
    warnings.extend(doc.warnings)
    all_clauses.extend(
        ir.Clause(c.id, c.type, c.title, c.parent, src.loc(c.offset, clause=c.id), c.header)
        for c in doc.clauses
    )
    by_id = {c.id: c for c in doc.clauses}
    for block in doc.blocks:
        alg, typos = _algorithm(parser, src, by_id.get(block.clause), block)
        algorithms.append(alg)
        warnings.extend(typos)


def select(spec: ir.Spec, clause_ids: Sequence[str]) -> ir.Spec:
    """Algorithms of the given clauses and of every clause nested inside them."""
    known = {c.id for c in spec.clauses}
    missing = [c for c in clause_ids if c not in known]
    if missing:
        where = ", ".join(spec.files) or "the input"
        raise SpecError([diag.make("E030", clause=c, where=where) for c in missing])
    parent = {c.id: c.parent for c in spec.clauses}
    wanted = set(clause_ids)

    def inside(cid: str) -> bool:
        seen = 0
        while cid and seen < 64:
            if cid in wanted:
                return True
            cid = parent.get(cid, "")
            seen += 1
        return False

    return ir.Spec(spec.files, tuple(c for c in spec.clauses if inside(c.id)),
                   tuple(a for a in spec.algorithms if inside(a.clause)), spec.warnings)


def _algorithm(parser: StepParser, src: SourceText, node: ClauseNode | None,
               block: AlgBlock) -> tuple[ir.Algorithm, list[Diagnostic]]:
    title = node.title if node else ""
    aoid = node.aoid if node else ""
    ctype = node.type if node else ""
    header = parse_header(title, aoid)
    kind = classify(ctype, aoid, block.preamble, title)
    name, params = header.name, header.params
    closure, captures, binds = "", (), ()
    if kind in ("job-closure", "closure"):
        closure, captures, cparams = closure_info(block.preamble)
        params = cparams
    elif kind == "implementation-steps":
        binds = prose_binds(block.preamble)
        params = ()
    raw = build_steps(src, block.body, block.body_offset, block.clause)
    warnings: list[Diagnostic] = []
    steps = tuple(_step(parser, src, r, block.clause, name, warnings) for r in raw)
    return ir.Algorithm(
        clause=block.clause, name=name, kind=kind, params=params, steps=steps,
        loc=src.loc(block.offset, clause=block.clause, algorithm=name),
        return_type=header.return_type, atomic=kind == "implementation-steps",
        closure=closure, captures=captures, binds=binds,
    ), warnings


def _step(parser: StepParser, src: SourceText, raw: RawStep, clause: str, alg: str,
          warnings: list[Diagnostic]) -> ir.Step:
    tm = raw.text
    text = tm.text

    def locate(i: int) -> Loc:
        return src.loc(tm.source_offset(i), clause=clause, algorithm=alg, step=raw.number)

    stmt, typos = stepcache.parsed(text, lambda at: _parse(parser, text, at), locate)
    for word, meant, pos in typos:
        loc = locate(pos)
        warnings.append(diag.make("W101", loc, src.line_text(loc.line), word=word, meant=meant))
    children = tuple(_step(parser, src, c, clause, alg, warnings) for c in raw.children)
    return ir.Step(raw.number, text, stmt, children, locate(0), raw.attrs)


def _parse(parser: StepParser, text: str, locate: stepcache.Locate) -> tuple[ir.Stmt, list]:
    """The step's statement: the grammar's, else a known step shape's, else Unknown."""
    try:
        return parser.parse_stmt(text, locate)
    except PARSE_ERRORS:
        stmt = shape(parser, text, locate)
        return (stmt if stmt is not None else ir.Unknown(text, loc=locate(0))), []


def unknown_steps(spec: ir.Spec) -> list[ir.Step]:
    return [s for a in spec.algorithms for s in a.walk() if isinstance(s.stmt, ir.Unknown)]


def fully_parsed(step: ir.Step) -> bool:
    """No Opaque operand and no Unknown anywhere in the step's own statement."""
    return not any(isinstance(n, ir.Opaque | ir.Unknown) for n in ir.iter_nodes(step.stmt))
