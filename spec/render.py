"""IR -> the JSON contract of `specmc parse`, and a text listing for people.

The JSON shape is a contract other tools rely on (see docs/commands.md, "parse"):
keys are only ever added, never renamed.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

from specmc.spec import ir
from specmc.spec.load import unknown_steps


def step_json(step: ir.Step, with_ir: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "number": step.number,
        "line": step.loc.line,
        "column": step.loc.column,
        "text": step.text,
        "kind": step.kind,
        "steps": [step_json(s, with_ir) for s in step.substeps],
    }
    if step.attrs:
        out["attributes"] = dict(step.attrs)
    if with_ir:
        out["ir"] = node_json(step.stmt)
    return out


def node_json(node: Any) -> Any:
    """Any IR value as plain JSON: dataclasses become {"node": ClassName, field: ...}."""
    if isinstance(node, tuple):
        return [node_json(n) for n in node]
    if is_dataclass(node) and not isinstance(node, type):
        out: dict[str, Any] = {"node": type(node).__name__}
        for f in fields(node):
            if f.name == "loc":
                continue
            out[f.name] = node_json(getattr(node, f.name))
        return out
    return node


def algorithm_json(alg: ir.Algorithm, with_ir: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "clause": alg.clause,
        "name": alg.name,
        "kind": alg.kind,
        "params": [{"name": p.name, "type": p.type, "optional": p.optional} for p in alg.params],
        "file": alg.loc.file,
        "line": alg.loc.line,
        "steps": [step_json(s, with_ir) for s in alg.steps],
    }
    if alg.return_type:
        out["return_type"] = alg.return_type
    if alg.closure:
        out["closure"] = alg.closure
        out["captures"] = list(alg.captures)
    if alg.binds:
        out["binds"] = list(alg.binds)
    if alg.atomic:
        out["atomic"] = True
    return out


def spec_json(spec: ir.Spec, with_ir: bool = False) -> dict[str, Any]:
    return {
        "algorithms": [algorithm_json(a, with_ir) for a in spec.algorithms],
        "unknown_steps": len(unknown_steps(spec)),
    }


def _params(alg: ir.Algorithm) -> str:
    return ", ".join(f"[{p.name}]" if p.optional else p.name for p in alg.params)


def spec_text(spec: ir.Spec) -> str:
    lines: list[str] = []
    for alg in spec.algorithms:
        extra = " atomic" if alg.atomic else ""
        if alg.closure:
            extra += f" closure {alg.closure} captures {', '.join(alg.captures) or '-'}"
        lines.append(f"{alg.name} ({_params(alg)})  [{alg.kind}{extra}]  "
                     f"{alg.clause}  {alg.loc.file}:{alg.loc.line}")
        for step in alg.walk():
            depth = step.number.count(".")
            mark = "?" if step.kind == "unknown" else " "
            lines.append(f"  {mark}{'  ' * depth}{step.number}. {step.text}    "
                         f"<{step.kind} @{step.loc.line}:{step.loc.column}>")
        lines.append("")
    lines.append(f"{len(spec.algorithms)} algorithms, "
                 f"{sum(1 for a in spec.algorithms for _ in a.walk())} steps, "
                 f"{len(unknown_steps(spec))} unknown")
    return "\n".join(lines)
