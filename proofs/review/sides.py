"""The two sides of a review: a file, a folder of clause files, or `REV:path` in a git
repository, read and parsed once (a series of reviews meets the same side again and again)."""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specmc.model.build import build
from specmc.model.hosts import HostProfile
from specmc.spec import diagnostics as diag
from specmc.spec import ir
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import SPEC_SUFFIXES, load_specs, load_text
from specmc.spec.source import MAX_INPUT

# ------------------------------------------------------------------------------ the two sides


@dataclass(frozen=True)
class Side:
    """One side of the review: the text as the user named it, and files an engine can read."""

    label: str
    paths: tuple[str, ...]  # on disk (git revisions are written to a private folder)
    spec: ir.Spec
    shown: dict[str, str] = field(default_factory=dict, compare=False)  # disk path -> path shown
    rev: str = ""  # the git revision the files were read from ("" for files on disk)

    def locate(self, text: str) -> str:
        """`text` with every location on this side written as the user can find it.

        Engines read a git side from a private temporary copy, and the parser names its files by
        their path in the repository, which is the same on both sides; a reason must say which
        side it is about and must not point into a folder that is gone once the review ends. So
        `/tmp/.../side1/spec.html:12:3` and `spec.html:12:3` both become `HEAD:spec.html:12:3`.
        """
        if not self.shown or not text:
            return text
        names = {**{v: v for v in self.shown.values()}, **self.shown}
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        # not already preceded by a revision or a folder, and followed by ":LINE"
        return re.sub(rf"(?<![\w/.:~^-])({alternatives})(?=:\d)",
                      lambda m: f"{self.rev}:{names[m.group(1)]}", text)


# Texts parsed lately, by what they were read from: a series of reviews (a history sweep, the
# harmful-change test, a CI job reviewing several pairs) meets the same side again and again, and
# a whole spec.html costs seconds to parse. The parse is a pure function of the text, so a hit is
# exactly what parsing again would give.
_PARSED: OrderedDict[tuple[Any, ...], ir.Spec] = OrderedDict()
_PARSED_KEEP = 4


def _parsed(key: tuple[Any, ...], parse: Callable[[], ir.Spec]) -> ir.Spec:
    if key in _PARSED:
        _PARSED.move_to_end(key)
        return _PARSED[key]
    spec = parse()
    _PARSED[key] = spec
    while len(_PARSED) > _PARSED_KEEP:
        _PARSED.popitem(last=False)
    return spec


def _disk_key(arg: str) -> tuple[Any, ...]:
    """What a text on disk is, for the parse cache: the path as given, and every file's size and
    modification time (an edited file is parsed again)."""
    p = Path(arg)
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    stats = []
    for f in files:
        st = f.stat()
        stats.append((str(f), st.st_size, st.st_mtime_ns))
    return ("disk", arg, str(p.resolve()), tuple(stats))


def open_side(arg: str, repo: str | None, scratch: Path) -> Side:
    """A file, a folder of clause files, or REV:path inside --repo. A text with no clause and no
    algorithm at all is not a spec (a README given by mistake): it would review as two empty
    models whose every verdict is "not checked", and a report written over the user's --out."""
    side = _open_side(arg, repo, scratch)
    if not side.spec.clauses and not side.spec.algorithms:
        raise SpecError([diag.make("E083", path=arg)])
    return side


def _open_side(arg: str, repo: str | None, scratch: Path) -> Side:
    if repo is None:
        if not Path(arg).exists() and ":" in arg and not Path(arg.split(":", 1)[1]).is_absolute():
            raise SpecError([diag.make("E081", arg=arg)])
        try:
            key = _disk_key(arg)
        except OSError:  # let the reader give its located diagnostic
            spec = load_specs([arg])
        else:
            spec = _parsed(key, lambda: load_specs([arg]))
        return Side(arg, spec.files, spec)
    rev, sep, path = arg.partition(":")
    if not sep:
        rev, path = arg, ""
    path = path.strip("/")
    listed = _git(repo, ["ls-tree", "-r", "--name-only", rev, "--", path or "."], f"{rev}:{path}").decode(
        "utf-8", errors="surrogateescape")
    files = [f for f in listed.splitlines() if f == path or Path(f).suffix in SPEC_SUFFIXES]
    if not files:
        raise SpecError([diag.make("E080", what=f"{rev}:{path}", repo=repo,
                                   reason="no spec files (.html, .emu) at that path")])
    if len(files) > 1 and any(Path(f).name == "finreg-excerpt.html" for f in files):
        files = [f for f in files if Path(f).name == "finreg-excerpt.html"]
    folder = scratch / f"side{len(list(scratch.iterdir()))}"
    shown: dict[str, str] = {}
    texts = []
    for f in files:
        text = _blob_text(_git(repo, ["show", f"{rev}:{f}"], f"{rev}:{f}"), f"{rev}:{f}")
        disk = folder / f
        disk.parent.mkdir(parents=True, exist_ok=True)
        disk.write_text(text, encoding="utf-8")
        shown[str(disk)] = f
        texts.append((f, text))

    def parse() -> ir.Spec:
        parts = [load_text(name, text) for name, text in texts]
        return ir.Spec(tuple(f for f, _ in texts), tuple(c for p in parts for c in p.clauses),
                       tuple(a for p in parts for a in p.algorithms),
                       tuple(w for p in parts for w in p.warnings))

    key = ("git", tuple((f, hashlib.sha256(text.encode()).hexdigest()) for f, text in texts))
    return Side(arg, tuple(shown), _parsed(key, parse), shown, rev)


def _git(repo: str, args: list[str], what: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", repo, *args], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SpecError([diag.make("E080", what=what, repo=repo, reason=str(e))]) from None
    if done.returncode != 0:
        reason = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["git failed"])[-1]
        raise SpecError([diag.make("E080", what=what, repo=repo, reason=reason)])
    return done.stdout


def _blob_text(data: bytes, name: str) -> str:
    """A spec file read from git, held to what a file on disk is (spec/load.py `read_source`): at
    most MAX_INPUT bytes, no NUL, UTF-8. A blob that was not UTF-8 ended the review in a traceback
    with exit 1, which for review means a finding (fifth review)."""
    if len(data) > MAX_INPUT:
        raise SpecError([diag.make("E001", path=name, reason=f"larger than {MAX_INPUT // 2**20} MB")])
    nul = data.find(b"\x00")
    if nul != -1:
        raise SpecError([diag.make("E002", path=name, offset=nul)])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError([diag.make("E002", path=name, offset=e.start)]) from None


def built(side: Side, host: HostProfile, run: Any) -> Any:
    """`side`'s model under `host` at the run's bounds, or None when it cannot be built."""
    try:
        return build(side.spec, host, run.bounds)
    except SpecError:
        return None
