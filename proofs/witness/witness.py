"""A counterexample's mutator actions as a JavaScript program that real engines can run.

The model's user code holds object slots obj0, obj1, ... (`root`); every mutator action of a
trace is one statement over those slots, performed in the activation of user code it happened
in: the script itself, or the n-th call of the cleanup callback. The program adds only
instrumentation, printed one line at a time (the protocol `specmc replay` parses):

    witness: cleanup #<n> held=<value> during=<phase> depth=<d>
    witness: result timing=<synchronous|asynchronous|never> calls=<n> maxdepth=<d>

`during` names the statement that was running when the callback started: `drop objN` means the
callback ran inside the statement that dropped the last reference (synchronous cleanup, the
QuickJS-NG bug); anything else means later. `depth` counts cleanup callbacks on the JavaScript
stack at once. After the script the program waits for turns of the event loop (calling
`globalThis.gc` where the engine offers it), so that an engine that runs cleanup as a job gets
the chance to, and stops when the callback has done everything the trace asked of it or after
enough idle turns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from specmc.proofs.verdict import VIOLATED

_SLOT = re.compile(r"^root(?:\[(\d+)\])?$")
_ACTION = re.compile(r"^(?:new (?P<new>FinalizationRegistry|WeakRef)\((?P<newarg>[^)]*)\)"
                     r"|obj(?P<recv>\d+)\.(?P<method>register|unregister|deref)\((?P<args>[^)]*)\)"
                     r"|(?P<alloc>allocate \{\})|drop obj(?P<drop>\d+)|(?P<ret>return)|(?P<throw>throw)"
                     r"|(?P<resumed>\(built-in returned\)))$")


class WitnessError(Exception):
    """The trace has an action this generator does not know how to write as JavaScript."""


@dataclass(frozen=True)
class Witness:
    host: str
    property: str
    source: str  # the JavaScript program
    statements: int  # mutator actions written out


def _value(token: str) -> str:
    token = token.strip()
    if token == "undefined":
        return "undefined"
    if re.fullmatch(r"obj\d+", token):
        return token
    if token == "callback":
        return "callback"
    raise WitnessError(f"unknown argument {token!r}")


def _assigned(changed: dict[str, Any]) -> list[int]:
    """Object slots user code starts to hold after this step (root[i] := 1)."""
    out = []
    for key, value in changed.items():
        m = _SLOT.match(key)
        if m and value == 1:
            out.append(int(m.group(1) or 0))
    return out


def _user_depth(step: dict[str, Any]) -> int:
    return sum(1 for name in step.get("stack", ()) if name == "user code")


def activations(trace: list[dict[str, Any]]) -> list[list[str]]:
    """JavaScript statements per activation of user code: [0] is the script, [n] the n-th
    callback call. A statement is attributed to the innermost user code below its built-in."""
    bodies: list[list[str]] = [[]]
    open_acts: list[int] = [0]  # activations on the stack, innermost last
    pending: tuple[int, str] | None = None  # a built-in call whose result slot is not known yet
    prev_depth = 1
    for step in trace:
        depth = _user_depth(step)
        if step.get("actor") != "mutator":
            while depth > len(open_acts):  # the engine called the callback: a new activation
                bodies.append([])
                open_acts.append(len(bodies) - 1)
            prev_depth = depth
            continue
        m = _ACTION.match(step.get("text", ""))
        if m is None:
            raise WitnessError(f"unknown mutator action {step.get('text')!r}")
        while prev_depth > len(open_acts):
            bodies.append([])
            open_acts.append(len(bodies) - 1)
        act = bodies[open_acts[-1]] if open_acts else bodies[0]
        changed = step.get("changed", {})
        if m.group("resumed"):
            if pending is not None:
                slots = _assigned(changed)
                act_index, call = pending
                target = bodies[act_index]
                target.append(f"obj{slots[0]} = {call};" if slots else f"{call};")
                pending = None
        elif m.group("new"):
            arg = _value(m.group("newarg"))
            pending = (open_acts[-1], f"new {m.group('new')}({arg})")
        elif m.group("method"):
            args = ", ".join(_value(a) for a in m.group("args").split(",") if a.strip())
            pending = (open_acts[-1], f"obj{m.group('recv')}.{m.group('method')}({args})")
        elif m.group("alloc"):
            slots = _assigned(changed)
            if not slots:
                raise WitnessError("allocation without a slot")
            act.append(f"obj{slots[0]} = {{}};")
        elif m.group("drop") is not None:
            i = m.group("drop")
            act.append(f'phase = "drop obj{i}"; obj{i} = undefined; phase = "{_after(open_acts)}";')
        elif m.group("ret"):
            act.append("return;")
            open_acts.pop()
        elif m.group("throw"):
            act.append('throw new Error("thrown by the cleanup callback, as in the trace");')
            open_acts.pop()
        prev_depth = _user_depth(step)
    if pending is not None:  # the trace ends inside a built-in: call it, result unused
        bodies[pending[0]].append(f"{pending[1]};")
    return bodies


def _after(open_acts: list[int]) -> str:
    return "script" if len(open_acts) <= 1 else f"callback #{open_acts[-1]}"


def _guarded(stmt: str) -> str:
    """Built-ins may throw where the model's steps throw; the witness reports it and goes on."""
    if stmt.startswith(("return", "throw", "phase =")) or stmt.endswith("= {};"):
        return stmt
    return f'try {{ {stmt} }} catch (e) {{ out("witness: threw " + e.name + " at: " + {stmt!r}); }}'


def generate(trace: list[dict[str, Any]], host: str, prop: str, slots: int) -> Witness:
    bodies = activations(trace)
    count = sum(len(b) for b in bodies)
    lines = [
        f"// specmc witness: {prop} under {host}, from a {len(trace)}-step counterexample.",
        "// Generated by `specmc witness`; run it with `specmc replay` (or node --expose-gc).",
        "// Each statement below is one mutator action of the trace, in the activation it ran in.",
        "var out = (typeof print === 'function') ? function (s) { print(s); }",
        "  : function (s) { console.log(s); };",
        f"var {', '.join(f'obj{i}' for i in range(slots))};",
        'var phase = "script", calls = 0, depth = 0, maxDepth = 0, timing = null, lastCall = 0, turn = 0;',
        "var bodies = [];",
        "",
        "function callback(held) {",
        "  calls++; depth++; lastCall = turn;",
        "  if (depth > maxDepth) maxDepth = depth;",
        '  var during = phase, sync = during.indexOf("drop ") === 0;',
        '  if (timing === null || sync) timing = sync ? "synchronous" : (timing || "asynchronous");',
        '  out("witness: cleanup #" + calls + " held=" + describe(held) + " during=" + during'
        ' + " depth=" + depth);',
        "  var saved = phase;",
        '  phase = "callback #" + calls;',
        "  try {",
        "    var body = bodies[calls];",
        "    if (body) body(held);",
        "  } finally {",
        "    depth--; phase = saved;",
        "  }",
        "}",
        "",
        "function describe(v) {",
        f"  var named = [{', '.join(f'obj{i}' for i in range(slots))}];",
        "  for (var i = 0; i < named.length; i++) if (v !== undefined && v === named[i]) return 'obj' + i;",
        "  return v === undefined ? 'undefined' : typeof v;",
        "}",
        "",
    ]
    for n, body in enumerate(bodies[1:], start=1):
        lines.append(f"bodies[{n}] = function (held) {{  // cleanup callback call #{n}")
        lines += [f"  {_guarded(s)}" for s in body]
        lines.append("};")
    # the script's statements run inside a function: V8 may keep an object created by top-level
    # code alive in the script's own scope, which the model's user code does not have
    lines += ["", "function script() {"]
    lines += [f"  {_guarded(s)}" for s in bodies[0] if s != "return;"]
    lines += ["}", "script();", 'phase = "after the script";']
    lines += [
        "",
        "function maybeCollect() { if (typeof globalThis.gc === 'function') globalThis.gc(); }",
        "function nextTurn() {",
        "  return typeof setTimeout === 'function' ? new Promise(function (r) { setTimeout(r, 0); })",
        "    : Promise.resolve();",
        "}",
        "async function settle() {",
        f"  var expected = {len(bodies) - 1};",
        "  for (turn = 1; turn <= 200; turn++) {",
        '    phase = "turn " + turn;',
        "    maybeCollect();",
        "    await nextTurn();",
        "    if (calls >= Math.max(expected, 1) && turn - lastCall > 3) break;",
        "    if (turn - lastCall > 30) break;",
        "  }",
        '  out("witness: result timing=" + (timing || "never") + " calls=" + calls'
        ' + " maxdepth=" + maxDepth);',
        "  globalThis.witnessDone = true;",
        "}",
        'settle().catch(function (e) { out("witness: error " + e); });',
    ]
    return Witness(host, prop, "\n".join(lines) + "\n", count)


def witness_for(plan: Any, overrides: Any, certificates: str,
                progress: Any = lambda _m: None) -> tuple[Witness | None, Any]:
    """Check the one (host, property) the overrides name and write the witness of its
    counterexample; (None, row) when the verdict is not VIOLATED."""
    from dataclasses import replace

    from specmc.model.bounds import parse_bounds
    from specmc.proofs.check import check

    # one run: the first that names the host (its bounds and limits), else the plan's first
    host = overrides.hosts[0] if overrides.hosts else ""
    runs = [r for r in plan.runs if host in r.hosts] or list(plan.runs[:1])
    report = check(replace(plan, runs=tuple(runs[:1])), overrides, certificates, progress)
    for row in report.rows:
        if row.outcome.verdict == VIOLATED:
            slots = parse_bounds(row.bounds).objects
            return generate(list(row.outcome.trace), row.host, row.property, slots), row
    return None, report.rows[0] if report.rows else None
