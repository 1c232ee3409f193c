"""Counterexample traces as data: the steps taken, with clause, step number, text and stack.

A trace is a list of `TraceStep` values (data first); the CLI renders them as text
or JSON. Each entry says which transition was taken and what the stack looked
like after it, so a reader can follow the spec steps one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.program import Command, Program


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

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"clause": self.clause, "step": self.step, "text": self.text,
                               "stack": list(self.stack), "actor": self.actor}
        if self.file:
            out["file"], out["line"] = self.file, self.line
        out["changed"] = {k: v for k, v in self.changed}
        return out


def stack_of(program: Program, state: tuple[int, ...]) -> tuple[str, ...]:
    lay = program.layout
    sp = state[lay.where("sp")[0]]
    base = lay.where("frame_alg")[0]
    return tuple(program.alg(state[base + d]).name for d in range(sp))


def _diff(program: Program, before: tuple[int, ...] | None, after: tuple[int, ...]) -> tuple:
    if before is None:
        return ()
    out = []
    for name, base, size in program.layout.names:
        for i in range(size):
            if before[base + i] != after[base + i]:
                key = f"{name}[{i}]" if size > 1 else name
                out.append((key, after[base + i]))
    return tuple(out)


def build_trace(program: Program, path: list[tuple[Command | None, tuple[int, ...]]]) -> list[TraceStep]:
    out = []
    prev = None
    for cmd, state in path:
        stack = stack_of(program, state)
        if cmd is None:
            out.append(TraceStep("init", "", "", "the script starts", stack, ()))
        elif cmd.step is not None:
            loc = cmd.step.loc
            text = cmd.step.text
            if cmd.name.endswith("(resume)"):
                text = f"(returned to) {text}"
            elif cmd.name.endswith("(next)"):
                text = f"(next iteration) {text}"
            out.append(TraceStep(cmd.actor, cmd.clause, cmd.step.number, text, stack,
                                 _diff(program, prev, state), loc.file, loc.line))
        else:
            out.append(TraceStep(cmd.actor, cmd.clause, "", cmd.name, stack,
                                 _diff(program, prev, state)))
        prev = state
    return out
