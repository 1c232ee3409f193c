"""Counterexample traces as data: the steps taken, with clause, step number, text and stack.

A trace is a list of `TraceStep` values (data first); the CLI renders them as text,
JSON or HTML. Each entry says which transition was taken and what the stack looked
like after it, so a reader can follow the spec steps one by one. The JSON form is a
documented, versioned schema (docs/trace-schema.md) so that tools other than ours can
read a counterexample without knowing how the state is encoded: values are rendered
as names (obj0, cell0, undefined, ~empty~), never as the layout's small integers. A
mutator step also carries its action as a value (model/actions.py), so that a tool such
as the witness generator reads what user code did without parsing the step's text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from specmc.model.actions import Action
from specmc.model.layout import FREED, KIND_NAMES, LIVE, NONE, Layout
from specmc.model.program import AlgInfo, Command, Program

SCHEMA = "specmc-trace/1"

# Variables whose value is an encoded ECMAScript value (model/layout.py), as opposed to a
# counter, a program counter or a status flag.
_VALUE_VARS = frozenset({"ret", "obj_target", "obj_cb", "cell_owner", "cell_target", "cell_held",
                         "cell_token", "queue", "queue_cb", "cell_cb", "frame_local"})
_STATUS_VARS = frozenset({"obj_status", "cell_status"})
_STATUS_NAMES = {NONE: "none", LIVE: "live", FREED: "freed"}
# What a step "does" to the world, as opposed to bookkeeping inside one frame; `fold` keeps these.
_WORLD_PREFIXES = ("obj_", "cell_", "root", "kept", "queue", "qlen", "need_clear", "err_")


@dataclass(frozen=True)
class Frame:
    """One activation on the stack: which algorithm, called with what.

    role says whose code it is, because the interesting counterexamples are about user
    code running where the spec says it must not (on top of the host's free path).
    """

    alg: str
    role: str  # user | free-path | host | spec
    args: tuple[tuple[str, str], ...] = ()  # (parameter, rendered value), in declaration order

    def call(self) -> str:
        if self.role == "user":
            return self.alg
        return f"{self.alg}({', '.join(f'{k}={v}' for k, v in self.args)})"

    def to_json(self) -> dict[str, Any]:
        return {"alg": self.alg, "role": self.role, "args": dict(self.args)}


@dataclass(frozen=True)
class TraceStep:
    actor: str  # spec | host | mutator | collector | event-loop | init
    clause: str
    step: str  # "3.b", "" for environment actions
    text: str  # the step's text, or the action's description
    stack: tuple[str, ...]  # algorithm names, bottom first
    changed: tuple[tuple[str, int], ...]  # state variables that changed: (name[index], new value)
    file: str = ""
    line: int = 0
    frames: tuple[Frame, ...] = field(default=())  # the stack again, with arguments (same length)
    changes: tuple[tuple[str, str], ...] = field(default=())  # `changed`, named and rendered
    action: Action | None = None  # what user code did, for a mutator step (`text` is its label)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"clause": self.clause, "step": self.step, "text": self.text,
                               "stack": list(self.stack), "actor": self.actor}
        if self.file:
            out["file"], out["line"] = self.file, self.line
        out["changed"] = {k: v for k, v in self.changed}
        out["frames"] = [f.to_json() for f in self.frames]
        out["changes"] = {k: v for k, v in self.changes}
        if self.action is not None:
            out["action"] = self.action.to_json()
        return out


def stack_of(program: Program, state: tuple[int, ...]) -> tuple[str, ...]:
    lay = program.layout
    sp = state[lay.where("sp")[0]]
    base = lay.where("frame_alg")[0]
    return tuple(program.alg(state[base + d]).name for d in range(sp))


def params_of(info: AlgInfo) -> tuple[str, ...]:
    """The locals that are inputs of the algorithm: parameters, captures, prose-bound names.
    `this` and NewTarget are shown only when the call sets them."""
    return tuple(n for n in info.inputs if n in info.locals)


def role_of(program: Program, info: AlgInfo) -> str:
    if info.kind == "user":
        return "user"
    if info.name == program.free_path:
        return "free-path"
    return "host" if info.source == "host" else "spec"


def frames_of(program: Program, state: tuple[int, ...]) -> tuple[Frame, ...]:
    lay = program.layout
    sp = state[lay.where("sp")[0]]
    alg_base = lay.where("frame_alg")[0]
    loc_base = lay.where("frame_local")[0]
    k = lay.locals_per_frame
    out = []
    for d in range(sp):
        info = program.alg(state[alg_base + d])
        local = {n: state[loc_base + d * k + i] for i, n in enumerate(info.locals)}
        args = [(n, lay.describe(local[n])) for n in ("this",) if local.get(n)]
        args += [(n, lay.describe(local[n])) for n in params_of(info)]
        out.append(Frame(info.name, role_of(program, info), tuple(args)))
    return tuple(out)


def render_value(program: Program, var: str, value: int) -> str:
    """A state variable's value for people: names for values, statuses, kinds and algorithms."""
    lay: Layout = program.layout
    if var in _VALUE_VARS:
        return lay.describe(value)
    if var in _STATUS_VARS:
        return _STATUS_NAMES.get(value, str(value))
    if var == "obj_kind":
        return KIND_NAMES.get(value, str(value))
    if var == "frame_alg":
        return program.alg(value).name or "-"
    return str(value)


def _label(program: Program, name: str, i: int, size: int, before: tuple[int, ...] | None,
           after: tuple[int, ...]) -> str:
    """`obj_status[obj1]`, `cell_owner[cell0]`, `frame1.cell`: indices named after what they index,
    whatever the bounds (the raw `changed` drops the index of a variable of size one)."""
    lay = program.layout
    if name.startswith("obj_") or name in ("root", "kept"):
        return f"{name}[obj{i}]"
    if name.startswith("cell_"):
        return f"{name}[cell{i}]"
    if name.startswith("ent_"):  # WeakMap entry Records (bound `weakmaps`), named as layout.describe does
        return f"{name}[entry{i}]"
    if name.startswith("wse_"):  # WeakSet elements (bound `weaksets`), named as layout.describe does
        return f"{name}[element{i}]"
    if size == 1:
        return name
    if name == "frame_local":
        d, slot = divmod(i, lay.locals_per_frame)
        alg_at = lay.where("frame_alg")[0] + d
        code = after[alg_at] or (before[alg_at] if before is not None else 0)
        locals_ = program.alg(code).locals
        return f"frame{d}.{locals_[slot] if slot < len(locals_) else slot}"
    return f"{name}[{i}]"


def _diff(program: Program, before: tuple[int, ...] | None, after: tuple[int, ...]) -> tuple:
    if before is None:
        return (), ()
    raw, named = [], []
    for name, base, size in program.layout.names:
        for i in range(size):
            if before[base + i] != after[base + i]:
                key = f"{name}[{i}]" if size > 1 else name
                raw.append((key, after[base + i]))
                named.append((_label(program, name, i, size, before, after),
                              render_value(program, name, after[base + i])))
    return tuple(raw), tuple(named)


def build_trace(program: Program, path: list[tuple[Command | None, tuple[int, ...]]]) -> list[TraceStep]:
    out = []
    prev = None
    for cmd, state in path:
        stack = stack_of(program, state)
        frames = frames_of(program, state)
        raw, named = _diff(program, prev, state)
        if cmd is None:
            out.append(TraceStep("init", "", "", "the script starts", stack, (), frames=frames))
        elif cmd.step is not None:
            loc = cmd.step.loc
            text = cmd.step.text
            if cmd.name.endswith("(resume)"):
                text = f"(returned to) {text}"
            elif cmd.name.endswith("(next)"):
                text = f"(next iteration) {text}"
            out.append(TraceStep(cmd.actor, cmd.clause, cmd.step.number, text, stack, raw, loc.file,
                                 loc.line, frames, named))
        else:
            out.append(TraceStep(cmd.actor, cmd.clause, "", cmd.name, stack, raw, frames=frames,
                                 changes=named, action=cmd.action))
        prev = state
    return out


# --- the schema and folding -------------------------------------------------------------------

def _as_json(step: TraceStep | dict[str, Any]) -> dict[str, Any]:
    return step.to_json() if isinstance(step, TraceStep) else dict(step)


def trace_json(steps: Iterable[TraceStep | dict[str, Any]], folded: bool = False) -> dict[str, Any]:
    """The trace as a self-describing document (docs/trace-schema.md).

    Step objects are the ones `specmc check --format json` puts in `results[i].trace`,
    with their position added, so a tool can read either without a second parser.
    """
    items = [dict(_as_json(s), index=i) for i, s in enumerate(steps)]
    doc: dict[str, Any] = {"schema": SCHEMA, "steps": items}
    if folded:
        doc["folded"] = fold(items)
    return doc


def _world_changed(step: dict[str, Any]) -> bool:
    return any(k.startswith(_WORLD_PREFIXES) for k in step.get("changed", {}))


def fold(trace: Sequence[TraceStep | dict[str, Any]], keep_edges: int = 1) -> list[dict[str, Any]]:
    """Consecutive steps inside one frame, collapsed where they only move that frame along.

    A run of steps with the same stack keeps its first and last step and every step that
    changes the heap, a registry, the job queue or an error flag; what lies between is one
    `{"folded": n, ...}` entry that still lists the step numbers it stands for, so nothing
    is hidden that a reader could not ask for. Kept steps carry their `index` in the trace.
    """
    steps = [dict(_as_json(s), index=s.get("index", i) if isinstance(s, dict) else i)
             for i, s in enumerate(trace)]
    out: list[dict[str, Any]] = []
    i = 0
    while i < len(steps):
        j = i
        while j + 1 < len(steps) and steps[j + 1]["stack"] == steps[i]["stack"]:
            j += 1
        run = steps[i:j + 1]
        hidden: list[dict[str, Any]] = []
        for n, s in enumerate(run):
            edge = n < keep_edges or n >= len(run) - keep_edges
            if edge or _world_changed(s) or s["actor"] not in ("spec", "host"):
                _flush(out, hidden)
                hidden = []
                out.append(s)
            else:
                hidden.append(s)
        _flush(out, hidden)
        i = j + 1
    return out


def _flush(out: list[dict[str, Any]], hidden: list[dict[str, Any]]) -> None:
    """A single hidden step is shown as it is: a fold would take as much room and say less."""
    if len(hidden) < 2:
        out.extend(hidden)
        return
    first, last = hidden[0], hidden[-1]
    out.append({"folded": len(hidden), "from": first["index"], "to": last["index"],
            "alg": first["stack"][-1] if first["stack"] else "", "clause": first["clause"],
            "steps": [s["step"] for s in hidden]})
