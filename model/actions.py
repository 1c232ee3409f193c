"""What user code does, as values: the mutator's actions.

model/mutator.py makes one `Action` per mutator command and derives the command's name (the label a
trace and every report show) from it; model/trace.py carries the action with the step, and in
the trace JSON as `action` (docs/trace-schema.md); proofs/witness/ writes it as JavaScript by
reading these fields. A label is for people: no reader parses it back.

Operands are object slots of user code (`obj0`, `obj1`, ...: the heap object user code holds in
`root[i]`), Symbols (`sym0`, ...: a Symbol user code made with `Symbol()` and holds in
`sym_root[k]`; `Symbol.for("k")`, the registered one, which any code can name; bound `symbols`)
or `undefined`. A receiver (`this` of deref, register, unregister) is always an object slot:
the mutator never calls a method on undefined or a Symbol. Labels are exactly the ones written by hand before
these values existed, so traces, reports and everything keyed on them read the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

UNDEFINED = "undefined"
REGISTERED = 'Symbol.for("k")'  # the registered Symbol's name (model/layout.py REGISTERED_NAME)


@dataclass(frozen=True, order=True)
class Sym:
    """A Symbol operand: non-registered Symbol `index` (`sym0`, made by `Symbol()`), or, with
    index None, the registered Symbol `Symbol.for("k")` (KeyForSymbol answers "k" for it, so
    CanBeHeldWeakly rejects it)."""

    index: int | None

    @property
    def registered(self) -> bool:
        return self.index is None


Operand = int | Sym | None  # an object slot user code holds (objN), a Symbol, or None for undefined


def operand_name(v: Operand) -> str:
    """`obj3`, `sym0`, `Symbol.for("k")` or `undefined`: the name values have everywhere in a
    trace."""
    if v is None:
        return UNDEFINED
    if isinstance(v, Sym):
        return REGISTERED if v.index is None else f"sym{v.index}"
    return f"obj{v}"


class ActionError(ValueError):
    """A JSON action that no `Action` reads: an unknown kind, a missing or badly named operand."""


def _digits(name: Any, prefix: str) -> bool:
    return isinstance(name, str) and name.startswith(prefix) and name[len(prefix):].isdigit() \
        and name[len(prefix):].isascii()


def _operand_of(name: Any, key: str, undefined: bool, symbol: bool) -> Operand:
    if undefined and name == UNDEFINED:
        return None
    if _digits(name, "obj"):
        return int(name[3:])
    if symbol and _digits(name, "sym"):
        return Sym(int(name[3:]))
    if symbol and undefined and name == REGISTERED:
        return Sym(None)
    expected = "an object slot" + (", a Symbol" if symbol else "") + (" or undefined" if undefined else "")
    raise ActionError(f"operand {key} is {name!r}, not {expected}")


def _json_key(f: Any) -> str:
    return f.metadata.get("json", f.name)


def property_name(s: int) -> str:
    """`p0`, `p1`, ...: the name of an object's property slot everywhere (labels, JSON, witnesses)."""
    return f"p{s}"


def _property_of(name: Any, key: str) -> int:
    if isinstance(name, str) and name.startswith("p") and name[1:].isdigit() and name[1:].isascii():
        return int(name[1:])
    raise ActionError(f"operand {key} is {name!r}, not a property slot (p0, p1, ...)")


@dataclass(frozen=True)
class Action:
    """One mutator action. Subclasses are the kinds; `KIND` names a kind in JSON, and each field
    is an operand whose JSON key is the built-in's parameter (`this`, `target`, `heldValue`,
    `unregisterToken`), as the trace's frames name them."""

    KIND: ClassVar[str] = ""

    @property
    def label(self) -> str:
        raise NotImplementedError

    def to_json(self) -> dict[str, str]:
        out = {"kind": self.KIND}
        for f in fields(self):
            v = getattr(self, f.name)
            out[_json_key(f)] = property_name(v) if f.metadata.get("property") else operand_name(v)
        return out

    @staticmethod
    def from_json(doc: Any) -> Action:
        """The action a trace's `action` object describes; ActionError for anything else."""
        if not isinstance(doc, Mapping):
            raise ActionError(f"an action is a JSON object, not {doc!r}")
        kind = doc.get("kind")
        cls = _KINDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise ActionError(f"unknown action kind {kind!r}")
        values: dict[str, Operand] = {}
        for f in fields(cls):
            key = _json_key(f)
            if key not in doc:
                raise ActionError(f"{cls.KIND} has no operand {key}")
            if f.metadata.get("property"):
                values[f.name] = _property_of(doc[key], key)
            else:
                values[f.name] = _operand_of(doc[key], key, undefined=f.metadata["undefined"],
                                             symbol=f.metadata.get("symbol", False))
        return cls(**values)


def _slot(json: str) -> Any:
    """A receiver or a dropped slot: always an object slot, never undefined."""
    return field(metadata={"json": json, "undefined": False})


def _operand(json: str) -> Any:
    """An argument: an object slot, a Symbol or undefined."""
    return field(metadata={"json": json, "undefined": True, "symbol": True})


def _held(json: str) -> Any:
    """What user code holds and may let go of: an object slot or a non-registered Symbol."""
    return field(metadata={"json": json, "undefined": False, "symbol": True})


def _property() -> Any:
    """A property slot of the receiver (`p0`): a name, never undefined."""
    return field(metadata={"json": "property", "undefined": False, "property": True})


@dataclass(frozen=True)
class NewRegistry(Action):
    """`new FinalizationRegistry(callback)`: user code has one callback, the model's USERFN."""

    KIND: ClassVar[str] = "new FinalizationRegistry"

    @property
    def label(self) -> str:
        return "new FinalizationRegistry(callback)"


@dataclass(frozen=True)
class NewRegistryOf(Action):
    """`new FinalizationRegistry(objR)`: the callback is an object user code holds (bound `slots`,
    tracing hosts). A function object it made is callable; any other object is the text's
    TypeError (IsCallable, sec-iscallable). The USERFN form (NewRegistry) stays beside it."""

    KIND: ClassVar[str] = "new FinalizationRegistry of"
    callback: int = _slot("cleanupCallback")

    @property
    def label(self) -> str:
        return f"new FinalizationRegistry({operand_name(self.callback)})"


@dataclass(frozen=True)
class NewFunction(Action):
    """`function () {}` into the first free slot (bound `slots`, tracing hosts): a function object,
    whose property slots are the variables it captures (a captured object is a strong edge, as a
    property is). Which slot it fills depends on the state, so the trace's `changed` (`root[i]`
    set to 1) says it, as for Allocate."""

    KIND: ClassVar[str] = "new function"

    @property
    def label(self) -> str:
        return "function () {}"


@dataclass(frozen=True)
class NewWeakRef(Action):
    KIND: ClassVar[str] = "new WeakRef"
    target: Operand = _operand("target")

    @property
    def label(self) -> str:
        return f"new WeakRef({operand_name(self.target)})"


@dataclass(frozen=True)
class Deref(Action):
    KIND: ClassVar[str] = "deref"
    receiver: int = _slot("this")

    @property
    def label(self) -> str:
        return f"{operand_name(self.receiver)}.deref()"


@dataclass(frozen=True)
class Unregister(Action):
    KIND: ClassVar[str] = "unregister"
    receiver: int = _slot("this")
    token: Operand = _operand("unregisterToken")

    @property
    def label(self) -> str:
        return f"{operand_name(self.receiver)}.unregister({operand_name(self.token)})"


@dataclass(frozen=True)
class Register(Action):
    KIND: ClassVar[str] = "register"
    receiver: int = _slot("this")
    target: Operand = _operand("target")
    held: Operand = _operand("heldValue")
    token: Operand = _operand("unregisterToken")

    @property
    def label(self) -> str:
        args = ", ".join(operand_name(v) for v in (self.target, self.held, self.token))
        return f"{operand_name(self.receiver)}.register({args})"


@dataclass(frozen=True)
class Allocate(Action):
    """`{}` into the first free slot; which slot that is depends on the state, so the trace's
    `changed` (`root[i]` set to 1) says it, not the action."""

    KIND: ClassVar[str] = "allocate"

    @property
    def label(self) -> str:
        return "allocate {}"


@dataclass(frozen=True)
class NewSymbol(Action):
    """`Symbol()` into the first unused Symbol (bound `symbols`); which one that is depends on the
    state, so the trace's `changed` (`sym_root[k]` set to 1) says it, not the action."""

    KIND: ClassVar[str] = "new Symbol"

    @property
    def label(self) -> str:
        return "Symbol()"


@dataclass(frozen=True)
class Drop(Action):
    """User code lets go of the object in a slot (`objN = undefined`), or of a Symbol it made
    (`symK = undefined`)."""

    KIND: ClassVar[str] = "drop"
    slot: int | Sym = _held("slot")

    @property
    def label(self) -> str:
        return f"drop {operand_name(self.slot)}"


@dataclass(frozen=True)
class SetProperty(Action):
    """`objR.pS = objV`: user code stores an object it holds in a property slot of another (or the
    same) object it holds; whatever the slot held before is released. Bound `slots`."""

    KIND: ClassVar[str] = "set property"
    receiver: int = _slot("object")
    prop: int = _property()
    value: int = _slot("value")

    @property
    def label(self) -> str:
        return f"{operand_name(self.receiver)}.{property_name(self.prop)} = {operand_name(self.value)}"


@dataclass(frozen=True)
class DeleteProperty(Action):
    """`delete objR.pS`: the slot holds nothing afterwards; what it held is released."""

    KIND: ClassVar[str] = "delete property"
    receiver: int = _slot("object")
    prop: int = _property()

    @property
    def label(self) -> str:
        return f"delete {operand_name(self.receiver)}.{property_name(self.prop)}"


@dataclass(frozen=True)
class GetProperty(Action):
    """User code reads `objR.pS` back into its variables: the object there becomes one it holds
    (its `root` slot, as `deref` does); which object that is depends on the state, so the
    trace's `changed` says it, not the action."""

    KIND: ClassVar[str] = "get property"
    receiver: int = _slot("object")
    prop: int = _property()

    @property
    def label(self) -> str:
        return f"read {operand_name(self.receiver)}.{property_name(self.prop)}"


@dataclass(frozen=True)
class Collect(Action):
    """`gc()`: user code sets off the host's cycle collector (QuickJS-NG's JS_RunGC, which an
    allocation past the engine's threshold also runs). Only on a host that collects cycles."""

    KIND: ClassVar[str] = "gc"

    @property
    def label(self) -> str:
        return "gc()"


@dataclass(frozen=True)
class Return(Action):
    KIND: ClassVar[str] = "return"

    @property
    def label(self) -> str:
        return "return"


@dataclass(frozen=True)
class Throw(Action):
    """A cleanup callback ends with a throw completion (only callbacks do: depth > 0)."""

    KIND: ClassVar[str] = "throw"

    @property
    def label(self) -> str:
        return "throw"


@dataclass(frozen=True)
class Resumed(Action):
    """User code takes the value the built-in it called returned (into the slot of the object, when
    it is one); the call it resumes after is the last call action before it."""

    KIND: ClassVar[str] = "built-in returned"

    @property
    def label(self) -> str:
        return "(built-in returned)"


@dataclass(frozen=True)
class NewWeakMap(Action):
    """`new WeakMap()`: no iterable (bound `weakmaps`)."""

    KIND: ClassVar[str] = "new WeakMap"

    @property
    def label(self) -> str:
        return "new WeakMap()"


@dataclass(frozen=True)
class WeakMapSet(Action):
    """`objR.set(key, value)` on a WeakMap user code holds (bound `weakmaps`)."""

    KIND: ClassVar[str] = "WeakMap set"
    receiver: int = _slot("this")
    key: Operand = _operand("key")
    value: Operand = _operand("value")

    @property
    def label(self) -> str:
        return f"{operand_name(self.receiver)}.set({operand_name(self.key)}, {operand_name(self.value)})"


@dataclass(frozen=True)
class WeakMapGet(Action):
    """`objR.get(key)`: the value found becomes one user code holds (bound `weakmaps`)."""

    KIND: ClassVar[str] = "WeakMap get"
    receiver: int = _slot("this")
    key: Operand = _operand("key")

    @property
    def label(self) -> str:
        return f"{operand_name(self.receiver)}.get({operand_name(self.key)})"


@dataclass(frozen=True)
class WeakMapHas(Action):
    KIND: ClassVar[str] = "WeakMap has"
    receiver: int = _slot("this")
    key: Operand = _operand("key")

    @property
    def label(self) -> str:
        return f"{operand_name(self.receiver)}.has({operand_name(self.key)})"


@dataclass(frozen=True)
class WeakMapDelete(Action):
    KIND: ClassVar[str] = "WeakMap delete"
    receiver: int = _slot("this")
    key: Operand = _operand("key")

    @property
    def label(self) -> str:
        return f"{operand_name(self.receiver)}.delete({operand_name(self.key)})"


@dataclass(frozen=True)
class NewWeakSet(Action):
    """`new WeakSet()`: no iterable (bound `weaksets`)."""

    KIND: ClassVar[str] = "new WeakSet"

    @property
    def label(self) -> str:
        return "new WeakSet()"


@dataclass(frozen=True)
class WeakSetAdd(Action):
    """`objR.add(value)` (bound `weaksets`)."""

    KIND: ClassVar[str] = "WeakSet add"
    receiver: int = _slot("this")
    value: Operand = _operand("value")

    @property
    def label(self) -> str:
        return f"{operand_name(self.receiver)}.add({operand_name(self.value)})"


@dataclass(frozen=True)
class WeakSetHas(Action):
    """`objR.has(value)` on a WeakSet (bound `weaksets`). Its label is WeakMapHas's: the same
    JavaScript, which calls the method of whichever the receiver is (model/mutator.py lets only
    one of the two run)."""

    KIND: ClassVar[str] = "WeakSet has"
    receiver: int = _slot("this")
    value: Operand = _operand("value")

    @property
    def label(self) -> str:
        return f"{operand_name(self.receiver)}.has({operand_name(self.value)})"


@dataclass(frozen=True)
class WeakSetDelete(Action):
    """`objR.delete(value)` on a WeakSet (bound `weaksets`); labelled as WeakSetHas is."""

    KIND: ClassVar[str] = "WeakSet delete"
    receiver: int = _slot("this")
    value: Operand = _operand("value")

    @property
    def label(self) -> str:
        return f"{operand_name(self.receiver)}.delete({operand_name(self.value)})"


CALLS: tuple[type[Action], ...] = (NewRegistry, NewWeakRef, Deref, Unregister, Register)
# the calls and the allocation of function objects (bound `slots`, tracing hosts)
FUNCTION_ACTIONS: tuple[type[Action], ...] = (NewFunction, NewRegistryOf)
# the WeakMap calls (bound `weakmaps`), kept apart from CALLS: the witness generator and the
# trace read both
WEAKMAP_CALLS: tuple[type[Action], ...] = (NewWeakMap, WeakMapSet, WeakMapGet, WeakMapHas, WeakMapDelete)
# the WeakSet calls (bound `weaksets`), likewise
WEAKSET_CALLS: tuple[type[Action], ...] = (NewWeakSet, WeakSetAdd, WeakSetHas, WeakSetDelete)
PROPERTIES: tuple[type[Action], ...] = (SetProperty, DeleteProperty, GetProperty)
_KINDS: dict[str, type[Action]] = {c.KIND: c for c in (*CALLS, *FUNCTION_ACTIONS, *WEAKMAP_CALLS,
                                                         *WEAKSET_CALLS, Allocate, NewSymbol, Drop,
                                                         *PROPERTIES, Collect, Return, Throw, Resumed)}
