"""Host profiles: how an engine implements the host hooks and its collector.

A profile is an ecmarkup file in spec/hosts/ (read by the same front-end as the
spec): one `<emu-clause type="host profile">` whose `<dl class="header">` states
the options below, plus any host algorithms (e.g. the free path of a
reference-counting engine) as ordinary `<emu-alg>` steps with the engine-level
step forms documented in docs/hosts.md.

Options (dt -> dd), checked against the schema OPTIONS below:
    collector           tracing | reference counting (required)
    free path           name of the host algorithm run when a count reaches zero
                        (required for reference counting; refused for tracing)
    cleanup scheduling  fifo (default) | one task per registry | any order: every call of the hook
                        queues a job (fifo, any order) or a registry has at most one queued (one
                        task per registry); the event loop runs the queue's first job (fifo, one
                        task per registry) or any queued job (any order: sec-jobs orders only
                        HostEnqueuePromiseJob's jobs, so the spec's own host may run scheduled
                        cleanup jobs in any order; review 8). Refused with delivery: promised,
                        whose fairness (every queued job runs) any order does not give
    unregister tokens   weak (the spec; default) | strong (a registration holds its token alive)
    delivery            optional (the spec; default) | promised: whether the host promises that
                        a registration whose target it collected is eventually passed to the
                        callback. A host that promises delivery performs the text's optional
                        delivery steps (sec-weakref-execution's "Optionally, perform
                        HostEnqueueFinalizationRegistryCleanupJob", CleanupFinalizationRegistry's
                        "an implementation may" loop while a cell waits); `eventually-delivered`
                        is checked only for such a host (docs/properties.md)
    cycle collection    none (default) | trial deletion: a reference-counting host that also frees
                        cycles as QuickJS-NG's JS_RunGC does (gc_decref, gc_scan, gc_free_cycles):
                        when user code runs (an allocation past the engine's threshold, or gc()),
                        every object no reference from outside the object graph reaches is marked
                        and freed with the free path, in tmp_obj_list's order (in a run's first
                        collection; any order after one), counts reaching zero meanwhile
                        freeing nothing; refused for a tracing host. It runs only where frees
                        cascade, with an object graph (bound `slots` >= 1; docs/model.md, "Cycle
                        collection")
    callback references none (default) | registry | registry and registrations: on a
                        reference-counting host, who counts a reference to a registry's cleanup
                        callback, as the engine's source says. With `registry` the registry holds one,
                        released when the free path frees the registry (`Free _obj_`, after its
                        cells), and each queued callback job holds one until it has run; with
                        `registry and registrations` every registration (cell) holds one more,
                        released when the cell is freed, after its held value and token. Either
                        lets user code make function objects as callbacks (bound `slots` >= 1;
                        docs/model.md, "Callbacks as objects"); `none` keeps every callback the one
                        user function. Refused for a tracing host (liveness follows
                        [[CleanupCallback]] there)
An unknown or repeated key, a missing required key or a value outside its list is an error at
the dt or dd that says it (E066-E069): a damaged header must never quietly change the model.

A host operation named HostCollectionEnd ( ) (model/layout.py `COLLECTION_END`) holds steps a
tracing host runs at the end of every collection, right after Execution and atomically with it
(model/env.py `_collection_end`): what an engine does when a collection ends whether or not it
cleared anything of a registry (JSC's reconcileWeakReferencesAtGCEnd). It takes no parameters
(E063), and a reference-counting profile, which has no collection to end, may not define it (E099).

A clause of type "host default" inside the profile holds algorithms the host uses only where
the spec text leaves that algorithm as prose (e.g. the cleanup job before ECMA-262 gave the
hook a body): the text's own steps always win over a default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import specmc.spec as spec_package
from specmc.model.layout import COLLECTION_END
from specmc.spec import diagnostics as diag
from specmc.spec import ir
from specmc.spec.diagnostics import SpecError
from specmc.spec.ecmarkup import DD, DT, DT_DD, blank_comments, plain_text
from specmc.spec.load import load_specs, read_source
from specmc.spec.source import Loc, SourceText

HOSTS_DIR = Path(spec_package.__file__).resolve().parent / "hosts"
REFERENCE_HOST = "ecma262"  # the spec's own host: what it does is the text's, hazards included


@dataclass(frozen=True)
class HostProfile:
    name: str
    title: str
    collector: str  # "tracing" | "reference counting"
    free_path: str  # host algorithm name, "" for tracing hosts
    scheduling: str  # "fifo" | "one task per registry"
    algorithms: tuple[ir.Algorithm, ...]
    path: str
    defaults: tuple[ir.Algorithm, ...] = ()  # used only where the text gives no steps
    strong_tokens: bool = False
    delivery: str = "optional"  # "optional" | "promised"
    # where the header set `cleanup scheduling`, if it did: the option acts only through the hook,
    # so a profile that sets it and never calls the hook is refused (E088, model/build.py)
    scheduling_at: Loc | None = None
    cycles: bool = False  # cycle collection: trial deletion (reference counting only)
    # `callback references` (reference counting only): "none", "registry", or "registry and
    # registrations"; who counts a reference to a registry's callback (model/env.py `functions`)
    callback_refs: str = "none"


def shipped() -> list[str]:
    return sorted(p.stem for p in HOSTS_DIR.glob("*.html"))


@dataclass(frozen=True)
class _Option:
    """One header option: the values it accepts (empty: a name checked elsewhere) and its default
    (None: the profile must say it, because no default is safe to assume)."""

    allowed: tuple[str, ...]
    default: str | None


# The header schema. `collector` has no default: a misspelled or missing collector used to turn a
# reference-counting profile into a tracing one without a word, which hides exactly the bugs the
# reference-counting profiles exist to find.
OPTIONS: dict[str, _Option] = {
    "collector": _Option(("tracing", "reference counting"), None),
    "free path": _Option((), ""),  # required for reference counting, refused for tracing
    "cleanup scheduling": _Option(("fifo", "one task per registry", "any order"), "fifo"),
    "unregister tokens": _Option(("weak", "strong"), "weak"),
    # the spec's reading is the default: sec-weakref-execution makes the cleanup job optional and
    # CleanupFinalizationRegistry's loop "may" stop, so a profile that says nothing promises nothing
    "delivery": _Option(("optional", "promised"), "optional"),
    # no collector of cycles unless the profile says so: every profile written before the option
    # existed compiles to the model it had
    "cycle collection": _Option(("none", "trial deletion"), "none"),
    # no counted callback unless the profile says who holds it: without that the free path would
    # never release a function object a registry held, so such a host gets no function objects
    "callback references": _Option(("none", "registry", "registry and registrations"), "none"),
}

_DL = re.compile(r"<dl\b[^>]*>(.*?)</dl>", re.S)
_HEADER_DL = re.compile(r"<dl\b[^>]*\bclass\s*=\s*[\"']?header\b[^>]*>", re.I)
# the clause types a profile file may use: its own two, the two the shipped profiles give their
# algorithms, and ecmarkup's algorithm types; any other (`host defualt`) was read as an override
CLAUSE_TYPES = ("host profile", "host default", "host operation", "built-in function", "abstract operation",
                "host-defined abstract operation", "implementation-defined abstract operation",
                "concrete method", "internal method", "numeric method", "sdo")


@dataclass(frozen=True)
class _Entry:
    """A header (dt, dd) pair with where each half was written, so that a complaint about a key
    points at the key and one about a value at the value."""

    key: str
    value: str
    key_loc: Loc
    value_loc: Loc


def _header_entries(src: SourceText, profile: ir.Clause) -> tuple[Loc, list[_Entry], list[_Entry]]:
    """The profile's header entries, located, and each `<dt>` written without its `<dd>` (as an
    entry with no value). The front-end keeps only the text of each pair, so the pairs are found
    again in the source (comments blanked, as the front-end reads it); if that search disagrees
    with the front-end (markup it reads differently), every entry is located at the clause
    instead: a coarser location is better than a wrong one."""
    keys = [(k.strip().lower(), v.strip()) for k, v in profile.header]
    coarse = (profile.loc, [_Entry(k, v, profile.loc, profile.loc) for k, v in keys], [])
    if not 0 < profile.loc.line <= len(src.line_starts):
        return coarse
    start = src.line_starts[profile.loc.line - 1] + profile.loc.column - 1
    dl = _DL.search(src.text, start)
    if dl is None:
        return coarse
    segment = src.text[dl.start(1):dl.end(1)]
    text = src.text[:dl.start(1)] + blank_comments(segment)
    found, paired, spans = [], set(), []
    for m in DT_DD.finditer(text, dl.start(1), dl.end(1)):
        paired.add(m.start())
        spans.append((m.start(), m.end(), len(found)))
        found.append(_Entry(plain_text(m.group(1)).lower(), plain_text(m.group(2)),
                            src.loc(m.start(1), clause=profile.id), src.loc(m.start(2), clause=profile.id)))
    lone = []
    opened = segment.rfind("<!--")
    if opened >= 0 and segment.find("-->", opened) < 0:  # (an HTML reader takes the rest as comment)
        at = src.loc(dl.start(1) + opened, clause=profile.id)
        lone.append(_Entry("", "<!--", at, at))
    for m in DD.finditer(text, dl.start(1), dl.end(1)):  # a second <dd> after a pair: the key given twice
        if not any(a <= m.start() < b for a, b, _ in spans):
            before = [k for a, _b, k in spans if a < m.start()]
            key = found[before[-1]].key if before else ""
            at = src.loc(m.start(), clause=profile.id)
            lone.append(_Entry(key, "<dd>", at, found[before[-1]].key_loc if before else at))
    for m in DT.finditer(text, dl.start(1), dl.end(1)):
        if m.start() not in paired:
            end = text.find("</dt>", m.end(), dl.end(1))
            key = plain_text(text[m.end():end if end >= 0 else dl.end(1)]).lower()
            at = src.loc(m.end(), clause=profile.id)
            lone.append(_Entry(key, "", at, at))
    if [(e.key, e.value) for e in found] != keys:
        return coarse[0], coarse[1], lone
    return src.loc(dl.start(), clause=profile.id), found, lone


def _options(src: SourceText, profile: ir.Clause) -> tuple[dict[str, str], dict[str, _Entry], Loc]:
    """The header checked against OPTIONS: every key known and given once, every value allowed,
    every required key present. Returns the values (defaults filled in), the entries by key and
    the header's location."""
    header_loc, entries, lone = _header_entries(src, profile)

    def fail(code: str, loc: Loc, **fields: object) -> SpecError:
        return SpecError([diag.make(code, loc, src.line_text(loc.line), **fields)])

    for e in lone:  # a <dt> without its <dd>: the option named but given no value (fourth review:
        # as the header's last pair it was dropped, and the option silently took its default)
        if e.value == "<!--":
            raise fail("E100", e.key_loc)
        if e.value == "<dd>":  # a <dd> with no <dt> of its own: a second value for the key before it
            raise fail("E069", e.key_loc, key=e.key or "(none)", line=e.value_loc.line)
        if e.key not in OPTIONS:
            raise fail("E067", e.key_loc, key=e.key, known=", ".join(OPTIONS))
        raise fail("E066", e.key_loc, key=e.key, value="", allowed=" | ".join(OPTIONS[e.key].allowed)
                   or "a value in its <dd>")

    given: dict[str, _Entry] = {}
    for e in entries:
        if e.key not in OPTIONS:
            raise fail("E067", e.key_loc, key=e.key, known=", ".join(OPTIONS))
        if e.key in given:
            raise fail("E069", e.key_loc, key=e.key, line=given[e.key].key_loc.line)
        given[e.key] = e
        allowed = OPTIONS[e.key].allowed
        if allowed and e.value.lower() not in allowed:
            raise fail("E066", e.value_loc, key=e.key, value=e.value, allowed=" | ".join(allowed))
    values: dict[str, str] = {}
    for key, opt in OPTIONS.items():
        if key in given:
            values[key] = given[key].value.lower() if opt.allowed else given[key].value
        elif opt.default is None:
            raise fail("E068", header_loc, key=key, why="", allowed=" | ".join(opt.allowed))
        else:
            values[key] = opt.default
    counting = values["collector"] == "reference counting"
    if counting and not values["free path"]:
        raise fail("E068", header_loc, key="free path", why=" (a reference-counting collector needs one)",
                   allowed="the name of a host algorithm of this profile")
    if not counting and "free path" in given:
        raise fail("E066", given["free path"].key_loc, key="free path", value=values["free path"],
                   allowed="none with a tracing collector (only reference counting frees objects)")
    if not counting and values["cycle collection"] != "none":
        raise fail("E066", given["cycle collection"].value_loc, key="cycle collection",
                   value=values["cycle collection"],
                   allowed="none with a tracing collector (it frees unreachable cycles already)")
    if values["cleanup scheduling"] == "any order" and values["delivery"] == "promised":
        # (eventually-delivered assumes that every turn start runs the queue's head, so that every
        # queued job runs: with any order, one job could be passed over forever)
        raise fail("E066", given["cleanup scheduling"].value_loc, key="cleanup scheduling",
                   value="any order", allowed="fifo | one task per registry with delivery: promised "
                   "(its fairness, every queued job runs, needs a queue run in order)")
    if not counting and values["callback references"] != "none":
        raise fail("E066", given["callback references"].value_loc, key="callback references",
                   value=values["callback references"],
                   allowed="none with a tracing collector (liveness follows [[CleanupCallback]] already)")
    return values, given, header_loc


def _one_header(src: SourceText, header_loc: Loc) -> None:
    """Refuse a second `<dl class="header">` anywhere in the file (E101): only the profile
    clause's first is read, so an option written in another (after a host operation, or in a
    nested clause) was dropped without a word, and `delivery: promised` there became `optional`
    (review 8)."""
    text = blank_comments(src.text)
    found = [m.start() for m in _HEADER_DL.finditer(text)]
    if len(found) < 2:
        return
    mine = src.line_starts[header_loc.line - 1] + header_loc.column - 1 if header_loc.line else found[0]
    other = next(at for at in found if at != mine) if mine in found else found[1]
    loc = src.loc(other)
    raise SpecError([diag.make("E101", loc, src.line_text(loc.line), line=header_loc.line)])


def load_host(name_or_path: str) -> HostProfile:
    """A shipped profile by name, or a profile file; the header is validated against OPTIONS."""
    p = Path(name_or_path)
    if p.suffix not in (".html", ".emu") and "/" not in name_or_path:
        p = HOSTS_DIR / f"{name_or_path}.html"
        if not p.exists():
            raise SpecError([diag.make("E060", name=name_or_path, known=", ".join(shipped()))])
    spec = load_specs([p])
    profiles = [c for c in spec.clauses if c.type == "host profile"]
    if not profiles:
        raise SpecError([diag.make("E065", path=str(p))])
    src = read_source(p)
    if len(profiles) > 1:  # its header would go unread and its algorithms merge into the first's
        loc = profiles[1].loc
        raise SpecError([diag.make("E085", loc, src.line_text(loc.line), line=profiles[0].loc.line)])
    profile = profiles[0]
    for c in spec.clauses:
        if c.type and c.type not in CLAUSE_TYPES:
            loc = c.loc
            if 0 < loc.line <= len(src.line_starts):  # at the attribute, if it is where the tag says
                start = src.line_starts[loc.line - 1] + loc.column - 1
                at = src.text.find("type", start, src.text.find(">", start))
                loc = src.loc(at, clause=c.id) if at >= 0 else loc
            raise SpecError([diag.make("E102", loc, src.line_text(loc.line), type=c.type,
                                       known=", ".join(CLAUSE_TYPES))])
    opts, given, header_loc = _options(src, profile)
    _one_header(src, header_loc)
    collector = opts["collector"]
    free_path = opts["free path"]
    default_clauses = {c.id for c in spec.clauses if c.type == "host default"}
    algs = tuple(a for a in spec.algorithms if a.clause not in default_clauses)
    defaults = tuple(a for a in spec.algorithms if a.clause in default_clauses)
    if collector == "reference counting" and not any(a.name == free_path for a in algs):
        loc = given["free path"].value_loc
        raise SpecError([diag.make("E062", loc, src.line_text(loc.line), name=free_path, hint="")])
    named: dict[str, ir.Algorithm] = {}
    for a in (*algs, *defaults):
        # one name defined twice in one profile (a second <emu-alg> in a clause, a second clause of
        # the name): the later one used to be reported as never used, "did you mean" its own
        # name, at the other's line (review 8). A hook's job closure is named as its hook: steps
        # beside it in the clause are the hook defined twice
        if not a.name:
            continue
        if a.name in named:
            first = named[a.name]
            where = f"{first.loc.file}:{first.loc.line}"
            raise SpecError([diag.make("E087", a.loc, name=a.name, first=where)])
        named[a.name] = a
    for a in algs:
        if free_path and a.name == free_path and len(a.params) != 1:
            # the collector hands over one object, as its first argument: a second parameter was
            # accepted, and a first one named other than _obj_ silently received nothing
            raise SpecError([diag.make("E063", a.loc, name=f"{free_path} (the free path)", given=1,
                                       takes=len(a.params))])
        if a.name == COLLECTION_END:
            if collector != "tracing":  # a counting host's frees are its free path; no collection ends
                raise SpecError([diag.make("E099", a.loc, src.line_text(a.loc.line), name=COLLECTION_END)])
            if a.params:  # the collector hands it nothing: a parameter would always read ~empty~
                raise SpecError([diag.make("E063", a.loc, name=f"{COLLECTION_END} (run at the end of "
                                           "every collection)", given=0, takes=len(a.params))])
    return HostProfile(p.stem, profile.title, collector, free_path, opts["cleanup scheduling"], algs, str(p),
                       defaults, opts["unregister tokens"] == "strong", opts["delivery"],
                       given["cleanup scheduling"].key_loc if "cleanup scheduling" in given else None,
                       opts["cycle collection"] == "trial deletion", opts["callback references"])
