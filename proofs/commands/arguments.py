"""What every command checks before any work starts, and the paths it hands on.

Numbers argparse accepts but no run can use, and places the command will write that cannot be
written, are bad input (exit 2, E075 and E077) found in a second rather than after a finished
run whose report has nowhere to go.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from pathlib import Path

from specmc.spec import diagnostics as diag
from specmc.spec.diagnostics import SpecError
from specmc.spec.source import read_input


def files(given: list[str]) -> tuple[str, ...]:
    """Paths from the command line, absolute (engines may run in another folder)."""
    return tuple(str(Path(f).resolve()) for f in given)


def find_plan(given: str | None) -> str | None:
    """The plan file: the one given, else ./specmc.toml, else ./pyproject.toml when it has a
    [tool.specmc] table or cannot be read as TOML; None (the embedded plan) when there is none."""
    import tomllib

    if given:
        return given
    # a name that is there but no readable regular file (a dangling link, a FIFO) is returned, so
    # that reading it gives the located E001: skipping it ran the embedded plan (fifth review)
    if os.path.lexists("specmc.toml"):
        return "specmc.toml"
    py = Path("pyproject.toml")
    if os.path.lexists(py):
        try:
            tool = tomllib.loads(read_input(py).decode("utf-8")).get("tool", {})
            if isinstance(tool, dict) and "specmc" in tool:
                return str(py)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            # it may hold a plan, and there is no telling: reading it gives the located E070 (or
            # E001); running the embedded plan instead passed a check the user's plan fails
            return str(py)
        except OSError as e:
            raise SpecError([diag.make("E001", path=str(py), reason=e.strerror or str(e))]) from None
    return None


def host_arg(h: str) -> str:
    """A shipped profile's name stays a name; a profile file becomes an absolute path (engines run
    in other processes and other folders)."""
    return h if "/" not in h and not h.endswith(".html") else str(Path(h).resolve())


def _number_error(option: str, want: str, value: object) -> SpecError:
    return SpecError([diag.make("E075", key=option, want=want, value=value)])


def check_numbers(args: argparse.Namespace) -> None:
    """Numbers argparse accepts but no run can use: `--timeout nan` compares false with
    everything, so it slipped past `<= 0` and no deadline ever came; `inf` is no limit at all;
    `--depth 0` checks no transition."""
    from specmc.proofs.run.plan import DEPTH_WANT, MIN_DEPTH, TIMEOUT_WANT

    depth = getattr(args, "depth", None)
    if depth is not None and depth < MIN_DEPTH:
        raise _number_error("--depth", DEPTH_WANT, depth)
    timeout = getattr(args, "timeout", None)
    if isinstance(timeout, float) and not (math.isfinite(timeout) and timeout > 0):
        raise _number_error("--timeout", TIMEOUT_WANT, args.timeout)
    max_states = getattr(args, "max_states", None)
    if max_states is not None and max_states < 1:
        raise _number_error("--max-states", "a whole number, at least 1", max_states)
    workers = getattr(args, "workers", None)  # mutate: 0 side by side would run no mutant
    if workers is not None and workers < 1:
        raise _number_error("--workers", "a whole number, at least 1", workers)
    top = getattr(args, "top", None)
    if top is not None and top < 0:
        raise _number_error("--top", "a whole number, at least 0", top)


def _nearest_existing(p: Path) -> Path:
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _unwritable(option: str, path: str, reason: str) -> SpecError:
    return SpecError([diag.make("E077", option=option, path=path, reason=reason)])


def check_folder(option: str, given: str, folder: Path | None = None) -> None:
    """A folder that will be written to (created if missing): it, or the nearest folder above it
    that exists, must be a writable folder. Checked without creating anything, so that a run
    that fails here leaves no trace. `given` is the argument as typed, for the message."""
    p = folder if folder is not None else Path(given).absolute()
    if p.exists() and not p.is_dir():
        raise _unwritable(option, given, f"{p} is a file, not a folder")
    base = _nearest_existing(p)
    if not base.is_dir():
        raise _unwritable(option, given, f"{base} is a file, not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise _unwritable(option, given, f"the folder {base} is not writable")
    # os.access answers from permission bits, and root "may write" anywhere, /proc included: a file
    # is made there and removed at once (it has no name on Linux), so the answer is the system's
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError as e:
        raise _unwritable(option, given, f"the folder {base} cannot be written ({e.strerror or e})") from None


def check_store(option: str, given: str) -> None:
    """A folder of files specmc derives (certificates, cached verdicts): created now and written to
    once, since asking the system whether it could be written is not enough (root may "write" to
    /proc, a read-only mount answers late); nothing of the user's is at stake in creating it."""
    import tempfile

    check_folder(option, given)
    try:
        Path(given).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=given):
            pass
    except OSError as e:
        raise _unwritable(option, given, e.strerror or str(e)) from None


def check_file(option: str, given: str, target: Path | None = None) -> None:
    """A place a report will be written (`target`, default `given`), as proofs/output.py
    `destination` reads it: a new or regular file needs its folder writable (it is replaced
    atomically), a FIFO or a descriptor must take writing, and anything else (a folder, a device)
    is refused whatever --force says."""
    import fcntl

    from specmc.proofs.output import Refused, destination

    try:
        d = destination(target if target is not None else given)
    except Refused as e:
        raise _unwritable(option, given, str(e)) from None
    if d.kind == "descriptor":
        try:
            flags = fcntl.fcntl(d.fd, fcntl.F_GETFL)
        except OSError:
            raise _unwritable(option, given, f"descriptor {d.fd} is not open") from None
        if flags & os.O_ACCMODE == os.O_RDONLY:
            raise _unwritable(option, given, f"descriptor {d.fd} is open for reading only")
    elif d.kind == "fifo":
        if not os.access(d.path, os.W_OK):
            raise _unwritable(option, given, f"the FIFO {d.path} is not writable")
    else:
        check_folder(option, given, d.path.parent)


def out_files(args: argparse.Namespace) -> tuple[Path, ...]:
    """The files `--out` will name: the file itself, or in a folder (check's html, a review in
    several formats) the files the command writes there. check's html writes one trace-N.json
    per counterexample, a number known only at the end: any trace-N.json there counts."""
    out = getattr(args, "out", None)
    if not out:
        return ()
    from specmc.proofs.report.formats import REVIEW_FORMATS

    fmt = getattr(args, "format", None)
    folder = Path(out).absolute()
    if fmt == "html":
        return (folder / "index.html", *trace_names(folder))
    if isinstance(fmt, tuple) and len(fmt) > 1:
        return tuple(folder / f"review.{REVIEW_FORMATS[f]}" for f in fmt)
    return (folder,)


def trace_names(folder: Path) -> list[Path]:
    """The files in `folder` named as check's html report names its traces, trace-N.json."""
    return sorted(f for f in folder.glob("trace-*.json") if re.fullmatch(r"trace-\d+\.json", f.name))


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def check_not_input(args: argparse.Namespace, inputs: list[tuple[str, str]]) -> None:
    """`--out` never names what the run reads: `check --plan mine.toml --out mine.toml` replaced the
    plan with its report. `inputs` is (path, what it is) for every file the run reads (a folder of
    clause files counts for every file in it). Refused even with --force, and before any work."""
    out = getattr(args, "out", None)
    targets = out_files(args)
    for t in targets:
        # the embedded text, the shipped profiles and plans are read by name, not by a path the user
        # gave: `--out .../spec/texts/finreg.html --force` replaced the embedded text (fourth review)
        for package in _packages():
            if t.resolve().is_relative_to(package):
                raise _unwritable("--out", out, f"{t} is inside specmc's own {package.name}/ (the embedded "
                                  "text, shipped host profiles and plans, and the code), which runs read; "
                                  "choose another file")
    for given, what in inputs:
        if given == "embedded" or not given:
            continue
        p = Path(given)
        for t in targets:
            # a folder of clause files: a .html written anywhere in it would be read as one
            inside = p.is_dir() and t.suffix in (".html", ".emu") and t.resolve().is_relative_to(p.resolve())
            if _same(t, p) or inside:
                raise _unwritable("--out", out, f"{t} is {what}, which this run reads; choose another file")


def _packages() -> tuple[Path, ...]:
    """The folders specmc is installed from (spec/, model/, proofs/)."""
    import specmc.model
    import specmc.proofs
    import specmc.spec

    return tuple(Path(m.__file__).resolve().parent for m in (specmc.spec, specmc.model, specmc.proofs)
                 if m.__file__)


def run_inputs(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(path, what it is) for every file or folder this command reads: the plan (given or found)
    and its runs' spec texts, host profiles and properties files, and those given on the command
    line; review's BASE and HEAD when they are on disk."""
    def listed(name: str) -> list[str]:
        v = getattr(args, name, None)
        return [] if v is None else [v] if isinstance(v, str) else list(v)

    inputs: list[tuple[str, str]] = []
    if hasattr(args, "plan"):
        from specmc.proofs.run.plan import load_plan

        found = find_plan(args.plan)
        if found is not None:
            inputs.append((found, "the plan"))
            for run in load_plan(found).runs:
                inputs += [(s, "a spec text of the plan") for s in run.specs]
                inputs += [(h, "a host profile of the plan") for h in run.hosts if "/" in h]
                inputs += [(f, "a properties file of the plan") for f in run.properties_files]
    inputs += [(s, "a spec text given with --spec") for s in listed("spec")]
    inputs += [(h, "a host profile given with --host") for h in listed("host") if host_arg(h) != h
               or h.startswith("/")]
    inputs += [(f, "a properties file given with --properties-file") for f in listed("properties_file")]
    if getattr(args, "command", "") == "review" and not args.repo:
        inputs += [(args.base, "the BASE text"), (args.head, "the HEAD text")]
    return inputs


def check_overwrite(args: argparse.Namespace) -> None:
    """An existing file is replaced only with --force: it may be one the user wrote (a properties
    file given as `witness --out`). specmc cannot tell its own report from the user's file by its
    contents (a text report starts with the run's name), so it does not guess. A link to a file
    replaces the file it names (the link stays), and the message says which; a FIFO or a
    descriptor (/dev/stdout) is written in place, which replaces nothing; what cannot take a report
    at all was refused by check_file, where --force is never offered."""
    from specmc.proofs.output import destination

    for t in out_files(args):
        check_file("--out", args.out, t)
        d = destination(t)
        if d.kind != "file" or getattr(args, "force", False):
            continue
        named = f", a link to {d.path}" if t.is_symlink() else ""
        raise _unwritable("--out", args.out, f"{t} exists{named} (--force replaces "
                                             f"{'it' if not named else 'that file'})")


def check_outputs(args: argparse.Namespace) -> None:
    """Every place this command will write, before any work starts: a report that cannot be
    written after an hour of checking, or a certificate folder that makes every engine fail, is
    input the user can fix in a second."""
    out = getattr(args, "out", None)
    for option, given in (("--out", out), ("--certificates", getattr(args, "certificates", None))):
        if given is not None and not given.strip():
            # (`--out "$REPORT"` with REPORT unset wrote the report to stdout, and an empty
            # --certificates meant the default folder, without a word: review 8)
            raise _unwritable(option, given, "an empty path (an unset shell variable?)")
    if getattr(args, "certificates", "") is None:
        args.certificates = ""  # (not given: the default folder)
    fmt = getattr(args, "format", None)
    several = isinstance(fmt, tuple) and len(fmt) > 1
    if several and not out:
        raise SpecError([diag.make("E082", formats=",".join(fmt))])
    if out:
        if fmt == "html" or several:
            check_folder("--out", out)
        else:
            check_file("--out", out)
        check_not_input(args, run_inputs(args))
        check_overwrite(args)
    certificates = getattr(args, "certificates", None)
    if certificates is not None:  # the default folder is checked too: a read-only home is input as well
        from specmc.proofs.run.job import default_certificates

        check_store("--certificates", certificates or default_certificates())
