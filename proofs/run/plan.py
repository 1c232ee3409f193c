"""A verification plan: what to check, at which bounds, and what each verdict should be.

A plan is TOML: `specmc.toml`, or the `[tool.specmc]` table of a pyproject.toml. It holds
one or more runs; a run names spec texts, host profiles, properties, bounds, an engine,
limits and the expected verdict of each host x property. Every mistake in it is a located
diagnostic (file:line:col), never a traceback: a plan is input a user wrote.

    [[run]]
    name = "default bounds"
    spec = ["embedded"]                    # paths relative to the plan, or "embedded"
    hosts = ["ecma262", "quickjs-ng-0.5"]   # shipped names or profile files
    properties = []                        # empty: the whole catalogue
    bounds = "objects=2,cells=1"
    engine = "portfolio"
    depth = 80                             # BMC / k-induction depth limit
    timeout = 600                          # seconds per host (all engines)

    [run.expect."quickjs-ng-0.5"]
    cleanup-not-on-free-stack = "VIOLATED"
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from specmc.model.bounds import Bounds, parse_bounds
from specmc.proofs.verdict import EXPECTABLE
from specmc.spec import diagnostics as diag
from specmc.spec.diagnostics import SpecError
from specmc.spec.source import Loc, read_input

VERDICTS = EXPECTABLE
ENGINES = ("portfolio", "explicit", "dfs", "bmc", "kind", "pdr", "bdd", "houdini")
EMBEDDED_PLAN = Path(__file__).parent.parent / "plans" / "default.toml"
MIN_DEPTH = 1  # a BMC / k-induction depth of 0 would look at the initial state only
DEPTH_WANT = "a whole number of transitions, at least 1"
TIMEOUT_WANT = "a finite number of seconds above 0"
PLAN_KEYS = {"run"}  # the top level of a plan (the [tool.specmc] table of a pyproject.toml)
RUN_KEYS = {"name", "spec", "hosts", "properties", "properties_files", "bounds", "engine", "depth",
            "timeout", "expect"}


@dataclass(frozen=True)
class Expectation:
    host: str
    property: str
    verdict: str
    loc: Loc


@dataclass(frozen=True)
class Run:
    name: str
    specs: tuple[str, ...]  # resolved paths, or "embedded"
    hosts: tuple[str, ...]
    properties: tuple[str, ...]
    properties_files: tuple[str, ...]
    bounds: Bounds
    engine: str
    depth: int
    timeout: float
    expect: tuple[Expectation, ...] = ()
    loc: Loc | None = None


@dataclass(frozen=True)
class Plan:
    path: str
    runs: tuple[Run, ...] = field(default=())


class _Locator:
    """Finds where a key or value was written, for messages about a plan that parsed."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.lines = text.splitlines()

    def find(self, *needles: str, start: int = 0) -> Loc:
        for needle in needles:
            pat = re.compile(r'(?<![\w-])"?' + re.escape(needle) + r'"?(?![\w-])')
            for i in range(start, len(self.lines)):
                m = pat.search(self.lines[i])
                if m:
                    return Loc(self.path, i + 1, m.start() + 1)
        return Loc(self.path, max(start, 0) + 1, 1)

    def nth(self, needle: str, n: int, after: Loc) -> Loc:
        """The n-th (from 1) mention of `needle` as a whole word, from `after` on: the repeat of
        a name in a list, which may span lines. `after` itself when there are fewer."""
        pat = re.compile(r'(?<![\w-])"?' + re.escape(needle) + r'"?(?![\w-])')
        seen = 0
        for i in range(after.line - 1, len(self.lines)):
            col = after.column - 1 if i == after.line - 1 else 0
            for m in pat.finditer(self.lines[i], col):
                seen += 1
                if seen == n:
                    return Loc(self.path, i + 1, m.start() + 1)
        return after

    def key(self, key: str, start: int = 0) -> Loc:
        """Where `key` is assigned (`key = ...`, quoted or not, also inside an inline table), from
        line `start` on. A bare search for the word would stop at `name = "default bounds"`
        before it reached `bounds = ...`; the assignment is the line the message is about."""
        pat = re.compile(r'(?:^|[{,])\s*(["\']?)' + re.escape(key) + r'\1\s*=')
        for i in range(start, len(self.lines)):
            m = pat.search(self.lines[i])
            if m:
                return Loc(self.path, i + 1, m.start(1) + 1)
        return self.find(key, start=start)

    def table(self, *dotted: str, start: int = 0) -> Loc | None:
        """The header line of the table `[a.b."c"]` (any quoting of the parts), from `start` on."""
        parts = r"\s*\.\s*".join(r'(?:"' + re.escape(d) + r'"|\'' + re.escape(d) + r"\'|" + re.escape(d) + ")"
                                 for d in dotted)
        pat = re.compile(r"^\s*\[\s*(?:tool\s*\.\s*specmc\s*\.\s*)?" + parts + r"\s*\]")
        for i in range(start, len(self.lines)):
            if pat.search(self.lines[i]):
                return Loc(self.path, i + 1, self.lines[i].index("[") + 1)
        return None

    def top(self, key: str, pyproject: bool) -> Loc:
        """Where the top-level plan key `key` is written: a table header `[[key]]`, `[key]` or
        `[key.x]` (under `tool.specmc.` in a pyproject.toml), or an assignment `key = ...` /
        `key.x = ...` at the plan's top (before any header in specmc.toml, in `[tool.specmc]` of
        a pyproject.toml). The first mention of the word would be a run's `name = ...`."""
        prefix = r"tool\s*\.\s*specmc\s*\.\s*" if pyproject else ""
        k = r'(?:"' + re.escape(key) + r'"|\'' + re.escape(key) + r"\'|" + re.escape(key) + ")"
        header = re.compile(r"^\s*\[\[?\s*" + prefix + k + r"\s*[.\]]")
        assign = re.compile(r"^\s*(" + k + r")\s*[.=]")
        top = not pyproject  # the assignments of the plan's top table follow here
        for i, text in enumerate(self.lines):
            m = header.search(text)
            if m:
                return Loc(self.path, i + 1, text.index("[") + 1)
            if re.match(r"^\s*\[", text):
                top = pyproject and re.match(r"^\s*\[\s*tool\s*\.\s*specmc\s*\]", text) is not None
            elif top:
                m = assign.search(text)
                if m:
                    return Loc(self.path, i + 1, m.start(1) + 1)
        return self.key(key)

    def line(self, loc: Loc) -> str:
        return self.lines[loc.line - 1] if 0 < loc.line <= len(self.lines) else ""


def _error(code: str, loc: Loc, where: _Locator, **fields: Any) -> SpecError:
    return SpecError([diag.make(code, loc=loc, source_line=where.line(loc), **fields)])


def _bound_loc(where: _Locator, at: Loc, message: str) -> Loc:
    """The bound a bounds message names (`bound objects=99 ...`, `unknown bound 'widgets'`), on
    the `bounds` line when it is there; else the line itself."""
    m = re.search(r"bound '?([a-z]+)", message)
    text = where.line(at)
    if m:
        k = re.search(r"(?<![\w-])" + m.group(1) + r"\b", text[at.column - 1:])
        if k:
            return replace(at, column=at.column + k.start())
    return at


def load_plan(path: str | Path | None = None) -> Plan:
    """Read a plan file (or the embedded default); every problem is an E07x diagnostic."""
    p = Path(path) if path is not None else EMBEDDED_PLAN
    try:
        text = read_input(p).decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError([diag.make("E001", path=str(p), reason=getattr(e, "strerror", None) or str(e))]) \
            from None
    return parse_plan(str(p), text)


def parse_plan(path: str, text: str) -> Plan:
    where = _Locator(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+), column (\d+)", str(e))
        loc = Loc(path, int(m.group(1)), int(m.group(2))) if m else Loc(path, 1, 1)
        reason = re.sub(r"\s*\(at .*\)$", "", str(e))
        raise _error("E070", loc, where, reason=reason) from None
    pyproject = path.endswith("pyproject.toml")
    if pyproject:
        tool = data.get("tool", {})
        data = tool.get("specmc") if isinstance(tool, dict) else None
        if data is None:
            raise _error("E071", Loc(path, 1, 1), where, what="no [tool.specmc] table")
        if not isinstance(data, dict):  # `[tool]` `specmc = 5`
            raise _error("E073", where.key("specmc"), where, key="tool.specmc", want="a table",
                         got=type(data).__name__)
    # an unknown key at the top is a typo as much as one inside a run: `[[runs]]` dropped a whole
    # run, and `check` passed on the runs that were left (review 8 F7)
    for key in data:
        if key not in PLAN_KEYS:
            raise _error("E072", where.top(key, pyproject), where, key=key,
                         known=", ".join(sorted(PLAN_KEYS)))
    runs = data.get("run")
    if runs is not None and not isinstance(runs, list):  # `run = 5`: at the key, not at line 1
        raise _error("E073", where.top("run", pyproject), where, key="run",
                     want="an array of tables ([[run]])", got=type(runs).__name__)
    if not runs:
        at = where.top("run", pyproject) if runs is not None else Loc(path, 1, 1)
        raise _error("E071", at, where, what="no [[run]] table")
    base = Path(path).parent
    out: list[Run] = []
    start = 0
    for n, raw in enumerate(runs):
        loc = where.find("[[run]]", "[[tool.specmc.run]]", start=start)
        start = loc.line
        if not isinstance(raw, dict):  # `run = [1]`: a list, but not of tables
            raise _error("E073", where.key("run"), where, key="run", want="an array of tables ([[run]])",
                         got=type(raw).__name__)
        run = _run(raw, n, loc, base, where)
        # runs are told apart by name: in reports, and where an expectation is looked up again
        first = next((r for r in out if r.name == run.name), None)
        if first is not None:
            at = where.key("name", start=loc.line - 1) if "name" in raw else loc
            line = first.loc.line if first.loc else 0
            raise _error("E071", at, where,
                         what=f"a second run named '{run.name}' (the first at line {line})")
        out.append(run)
    return Plan(path, tuple(out))


def _run(raw: dict[str, Any], n: int, loc: Loc, base: Path, where: _Locator) -> Run:
    from specmc.model.hosts import shipped

    for key in raw:
        if key not in RUN_KEYS:
            raise _error("E072", where.key(key, start=loc.line - 1), where, key=key,
                         known=", ".join(sorted(RUN_KEYS)))

    def typed(key: str, kind: type | tuple[type, ...], default: Any) -> Any:
        v = raw.get(key, default)
        if not isinstance(v, kind) or isinstance(v, bool):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise _error("E073", where.key(key, start=loc.line - 1), where, key=key, want=names,
                         got=type(v).__name__)
        return v

    def strings(key: str, default: list[str]) -> tuple[str, ...]:
        """A list of names, each once. A bare string is refused, not read as a list of one:
        `properties = "spec-asserts"` is most likely a list whose brackets were forgotten, and
        TOML gives no way to tell. A name written twice is a slip that would check (or load) the
        same thing twice; the message points at the repeat."""
        v = raw.get(key, default)
        at = where.key(key, start=loc.line - 1)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            got = "a string" if isinstance(v, str) else type(v).__name__
            raise _error("E073", at, where, key=key, want="a list of strings", got=got)
        for i, x in enumerate(v):
            if x in v[:i]:
                again = where.nth(x, 2, at)
                raise _error("E071", again, where, what=f"'{x}' twice in the list '{key}' of one run")
        return tuple(v)

    name = typed("name", str, f"run {n + 1}")
    spec_names = strings("spec", ["embedded"])
    if not spec_names:  # (an empty list built a model of no text: "E062 ... 'FinalizationRegistry'")
        raise _error("E073", where.key("spec", start=loc.line - 1), where, key="spec",
                     want="a list of at least one spec text (leave the key out for the embedded text)",
                     got="an empty list")
    specs = tuple(s if s == "embedded" else str((base / s).resolve()) for s in spec_names)
    pfile_names = strings("properties_files", [])
    for given in (*[s for s in spec_names if s != "embedded"], *pfile_names):
        # a file the plan names that is not there is the plan's mistake, said at its line (it was
        # an unlocated E001 once the run had started: review 8)
        if not (base / given).exists():
            raise _error("E001", where.find(given, start=loc.line - 1), where, path=str(base / given),
                         reason="no such file or folder (named by the plan)")
    hosts = tuple(h if h in shipped() else str((base / h).resolve()) if h.endswith(".html") else h
                  for h in strings("hosts", list(shipped())))
    if not hosts:  # a run that checks nothing would pass with "0 results"
        raise _error("E073", where.key("hosts", start=loc.line - 1), where, key="hosts",
                     want="a list of at least one host (leave the key out for every shipped one)",
                     got="an empty list")
    if len(set(hosts)) < len(hosts):  # two spellings of one profile file
        twice = next(h for i, h in enumerate(hosts) if h in hosts[:i])
        raise _error("E071", where.key("hosts", start=loc.line - 1), where,
                     what=f"the host profile {twice} twice in the list 'hosts' of one run")
    for h in hosts:
        if h not in shipped() and not h.endswith(".html"):
            raise _error("E060", where.find(h, start=loc.line - 1), where, name=h, known=", ".join(shipped()))
    props = strings("properties", [])
    pfiles = tuple(str((base / f).resolve()) for f in pfile_names)
    bounds_raw = raw.get("bounds", "")
    try:
        if isinstance(bounds_raw, dict):
            bounds = replace(Bounds(), **bounds_raw) if all(k in Bounds.LIMITS for k in bounds_raw) \
                else parse_bounds(",".join(f"{k}={v}" for k, v in bounds_raw.items()))
        elif isinstance(bounds_raw, str):
            bounds = parse_bounds(bounds_raw)
        else:
            raise _error("E073", where.key("bounds", start=loc.line - 1), where, key="bounds",
                         want="a string or a table", got=type(bounds_raw).__name__)
    except SpecError as e:
        if e.diagnostics[0].loc is not None:
            raise
        bloc = _bound_loc(where, where.key("bounds", start=loc.line - 1), e.diagnostics[0].message)
        raise SpecError([replace(d, loc=bloc, source_line=where.line(bloc)) for d in e.diagnostics]) from None
    engine = typed("engine", str, "portfolio")
    if engine not in ENGINES:
        raise _error("E074", where.find(engine, start=loc.line - 1), where, name=engine,
                     known=", ".join(ENGINES))
    depth = typed("depth", int, 60)
    timeout = typed("timeout", (int, float), 600)
    # TOML has nan and inf; neither is a time limit, and a depth of 0 checks no transition at all
    if depth < MIN_DEPTH:
        raise _error("E075", where.key("depth", start=loc.line - 1), where, key="plan key 'depth'",
                     want=DEPTH_WANT, value=depth)
    if not math.isfinite(timeout) or timeout <= 0:
        raise _error("E075", where.key("timeout", start=loc.line - 1), where, key="plan key 'timeout'",
                     want=TIMEOUT_WANT, value=timeout)
    expect = []
    table = typed("expect", dict, {})
    for host, row in table.items():
        # the expectation's own table, not the first mention of the host (in `hosts = [...]`)
        hloc = (where.table("run", "expect", host, start=loc.line - 1)
                or where.key("expect", start=loc.line - 1))
        if not isinstance(row, dict):
            raise _error("E073", hloc, where, key=f"expect.{host}", want="a table", got=type(row).__name__)
        for prop, verdict in row.items():
            ploc = where.key(prop, start=hloc.line - 1)
            if verdict not in VERDICTS:
                raise _error("E076", ploc, where, value=verdict, known=", ".join(VERDICTS))
            expect.append(Expectation(host, prop, verdict, ploc))
    return Run(name, specs, hosts, props, pfiles, bounds, engine, depth, float(timeout), tuple(expect), loc)
