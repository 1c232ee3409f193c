"""A compiled model: the state layout, its initial state, and its transitions.

A transition (`Command`) is a function over a `View`; see model/domain.py for why
that single function serves as both the concrete and the symbolic semantics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from specmc.model.actions import Action
from specmc.model.layout import Layout
from specmc.spec import ir

Fire = Callable[[Any], None]  # (View) -> None; states requirements and writes


@dataclass(frozen=True)
class Command:
    """One kind of transition.

    A family (non-empty `inputs`) is a transition with arguments: the symbolic engines run its
    `fire` once with an input variable per argument, the explorer runs its instances (commands
    naming it as `family`), the same function with each choice of arguments as constants.

    actor: spec (a step of the text), host (a step of the host profile), mutator,
    collector or event-loop. `site` lets the concrete explorer skip commands that
    cannot be enabled (depth, algorithm code, pc, phase) without evaluating them;
    the guard inside `fire` states the same condition, so skipping is only a speed-up.
    """

    name: str
    actor: str
    fire: Fire
    site: tuple[int, int, int, int] | None = None
    step: ir.Step | None = None
    algorithm: str = ""
    clause: str = ""
    family: str = ""  # the family command that stands for this one in the symbolic relation
    inputs: tuple[str, ...] = ()  # a family's arguments, read with View.input (symbolic only)
    action: Action | None = None  # a mutator command's action (model/actions.py); `name` is its label


@dataclass(frozen=True)
class AlgInfo:
    code: int
    name: str
    clause: str
    kind: str
    locals: tuple[str, ...]
    pcs: tuple[ir.Step | None, ...]  # pc -> step (None for synthetic pcs)
    source: str  # "spec" or "host"
    inputs: tuple[str, ...] = ()  # parameters, captured and prose-bound names, in that order


@dataclass(frozen=True)
class Program:
    layout: Layout
    init: tuple[int, ...]
    commands: tuple[Command, ...]
    algorithms: tuple[AlgInfo, ...]  # index = code
    host: str
    free_path: str
    by_site: dict[tuple[int, int, int, int], tuple[Command, ...]] = field(compare=False)
    unsited: tuple[Command, ...] = field(compare=False)
    families: tuple[Command, ...] = ()
    # variables frozen at their initial values: a slice to a cone of influence (model/slice.py)
    dropped: tuple[int, ...] = ()
    # user code may make function objects and pass one as a registry's callback (model/env.py
    # `functions`: bound `slots` on a tracing host)
    functions: bool = False

    @property
    def symbolic_commands(self) -> tuple[Command, ...]:
        """The commands of the symbolic relation: each family of mutator calls (one per call
        shape and stack depth: the same function run with its arguments as input variables)
        in place of the commands that are its instances, one per choice of arguments. Same
        transitions, far fewer terms: at 6 objects the 12,348 `register` commands are 6."""
        return tuple(c for c in self.commands if not c.family) + self.families

    def alg(self, code: int) -> AlgInfo:
        return self.algorithms[code]

    def code_of(self, name: str) -> int:
        for a in self.algorithms:
            if a.name == name:
                return a.code
        raise KeyError(name)
