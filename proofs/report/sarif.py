"""SARIF 2.1.0, the one writer behind `check --format sarif` and `review --format sarif`.

Each command decides what its results are (check: the rows that failed or are worth a look, and
stale expectations; review: what the change made worse, new unknown steps, model changes);
this module gives them their SARIF shape: a location on a line of a file, a code flow through
a counterexample's steps, and the document around rules and results.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"


def location(uri: str, line: int, column: int | None = None) -> dict[str, Any]:
    """A physical location: a line of a file, and its column when known (SARIF counts both from 1)."""
    region: dict[str, int] = {"startLine": max(line, 1)}
    if column is not None:
        region["startColumn"] = max(column, 1)
    return {"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}


def code_flows(steps: Iterable[tuple[dict[str, Any] | None, str]]) -> list[dict[str, Any]]:
    """A counterexample as one thread flow: each step's location (None when the step has no place
    in a file: an action of the environment) and what it did."""
    return [{"threadFlows": [{"locations": [{"location": {**(where or {}), "message": {"text": text}}}
                                            for where, text in steps]}]}]


def artifact_uri(path: str) -> str:
    """A file as code scanning wants it: relative to the working folder when it lies below it,
    else a file:// URI."""
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return p.resolve().as_uri()


def document(rules: list[dict[str, Any]], results: list[dict[str, Any]],
             information_uri: str | None = None, invocations: list[dict[str, Any]] | None = None) -> str:
    """The SARIF file: one run of specmc with its rules and results, as UTF-8 JSON text, and how
    the run ended (`invocations`: its exit code) when the command gives it."""
    driver: dict[str, Any] = {"name": "specmc"}
    if information_uri:
        driver["informationUri"] = information_uri
    driver["rules"] = rules
    run: dict[str, Any] = {"tool": {"driver": driver}, "results": results}
    if invocations is not None:
        run["invocations"] = invocations
    doc = {"$schema": SCHEMA, "version": VERSION, "runs": [run]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
