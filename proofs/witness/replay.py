"""Replay a JavaScript witness on a real engine and say what the engine did.

A model-checker counterexample is only convincing once a real engine shows the
same behaviour, so `specmc replay` runs a witness program in a subprocess,
under a time limit, and reduces everything that can happen (a verdict line, a
wasm trap, a signal, a hang) to one of five outcomes.

Engines other than `node` are installed by specmc itself into a cache folder,
never into the user's environment: a pinned engine version must not depend on,
or disturb, whatever the user has installed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from specmc.spec import diagnostics as diag
from specmc.spec.diagnostics import SpecError
from specmc.spec.source import read_input

OUTCOMES = ("synchronous", "asynchronous", "never", "crash", "timeout")
KINDS = ("node", "quickjs-ng", "quickjs-ng-wasm", "bun")
KNOWN = "node, quickjs-ng@VERSION, quickjs-ng-wasm@VERSION, bun@VERSION"
DEFAULT_TIMEOUT = 60.0
RUNNERS = Path(__file__).resolve().parent / "runners"
MARKER = ".installed"
# Installs fetch from a registry; a stuck network must still end in a diagnostic.
INSTALL_TIMEOUT = 900.0
# Keeps a witness that prints without end from filling memory; the verdict is at the end.
OUTPUT_CAP = 1 << 20

_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+)*(?:[-+.]?[A-Za-z0-9]+)*")
_RESULT = re.compile(r"^witness: result timing=(synchronous|asynchronous|never)(?:\s|$)", re.M)
# What a runner (or the engine itself) prints when the engine broke rather than the witness
# finishing: wasm traps, emscripten aborts, native or JS stack exhaustion.
TRAP_MARKERS = (
    "RuntimeError",
    "Aborted(",
    "memory access out of bounds",
    "table index is out of bounds",
    "Maximum call stack size exceeded",
    "InternalError: stack overflow",
)

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Engine:
    """An engine as named on the command line: `node`, `quickjs-ng@0.17.0.2`, ..."""

    kind: str
    version: str | None = None

    @property
    def name(self) -> str:
        return self.kind if self.version is None else f"{self.kind}@{self.version}"

    @property
    def folder(self) -> str:
        """The cache subfolder: one per kind and version, so versions never overwrite each other."""
        return f"{self.kind}-{self.version}"


@dataclass(frozen=True, slots=True)
class Answer:
    """What a call the witness made answered on the engine (`witness: returned ...`), beside what it
    answered in the counterexample (`model`; None when the trace ends before it returned, and for
    an `observed` deref after the last statement)."""

    call: str
    value: str
    model: str | None

    @property
    def same(self) -> bool | None:
        return None if self.model is None else self.value == self.model

    def to_json(self) -> dict[str, object]:
        return {"call": self.call, "value": self.value, "model": self.model, "same": self.same}


_ANSWER = re.compile(r"^witness: (?:returned|observed) call=(.*) value=(\S+)(?: model=(\S+))?$", re.M)


def answers(output: str) -> tuple[Answer, ...]:
    """The answers the witness printed. The outcome is about the cleanup callback only: for a
    counterexample about an answer (deref-consistent, unregister-result, weak-collection-results)
    it read `never` whether or not the engine answered as the model (fourth review)."""
    return tuple(Answer(m[1], m[2], m[3]) for m in _ANSWER.finditer(output))


@dataclass(frozen=True, slots=True)
class Replay:
    engine: str
    outcome: str
    exit_code: int
    output: str

    @property
    def answers(self) -> tuple[Answer, ...]:
        return answers(self.output)

    def to_json(self) -> dict[str, object]:
        return {"engine": self.engine, "outcome": self.outcome, "exit_code": self.exit_code,
                "answers": [a.to_json() for a in self.answers],
                "answers_differ": sum(a.same is False for a in self.answers), "output": self.output}


def parse_engine(text: str) -> Engine:
    """Versions are checked strictly because they become pip/npm arguments and folder names."""
    kind, at, version = text.partition("@")
    if kind == "node" and not at:
        return Engine("node")
    if kind in ("quickjs-ng", "quickjs-ng-wasm", "bun") and at and _VERSION.fullmatch(version):
        return Engine(kind, version)
    raise SpecError([diag.make("E090", name=text, known=KNOWN)])


def parse_timeout(text: str | float | None) -> float:
    """A NaN or infinite limit would disable the one guard against a hanging engine."""
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (0 < value < float("inf")):
        raise SpecError([diag.make("E093", value=text)])
    return value


def default_engines_dir() -> Path:
    env = os.environ.get("SPECMC_ENGINES")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "specmc" / "engines"


def read_witness(path: str | Path) -> Path:
    """Fail early with a diagnostic: an engine's own error for a missing file would read as a crash.
    So would a program that is not a witness: the outcome is read from the `witness: result` line
    the program prints, and `console.log("hi")` was reported as `outcome crash` (sixth review).
    A file whose text cannot print that line is refused; a witness that crashes before printing
    it is still run and reported as the crash it is."""
    p = Path(path)
    try:
        data = read_input(p)
        text = data.decode("utf-8")
    except OSError as e:
        raise SpecError([diag.make("E092", path=path, reason=e.strerror or str(e))]) from None
    except UnicodeDecodeError as e:
        raise SpecError([diag.make("E092", path=path, reason=f"not UTF-8 text (byte {e.start})")]) from None
    if "witness: result timing=" not in text:
        raise SpecError([diag.make("E092", path=path, reason=(
            "not a witness: it prints no 'witness: result timing=...' line, so any run of it would "
            "read as a crash (specmc witness writes one)"))])
    return p.resolve()


# -- classification -------------------------------------------------------------------------------


def result_timing(stdout: str) -> str | None:
    """The timing of the last result line; the witness may print earlier lines that look alike."""
    found = _RESULT.findall(stdout)
    return found[-1] if found else None


def classify(exit_code: int, stdout: str, stderr: str, timed_out: bool) -> str:
    """One outcome per run, most alarming first.

    `exit_code` is as subprocess reports it (negative: killed by that signal). A trap
    reported by a failing run beats the witness's own verdict, since an engine that
    corrupts memory while tearing down is the more important finding.
    """
    if timed_out:
        return "timeout"
    if exit_code < 0:
        return "crash"
    if exit_code != 0 and any(m in stderr for m in TRAP_MARKERS):
        return "crash"
    timing = result_timing(stdout)
    if timing is None:
        return "crash"
    return timing


def shell_exit_code(returncode: int) -> int:
    """Report a death by signal as a shell would (SIGSEGV -> 139), which users recognise."""
    return 128 - returncode if returncode < 0 else returncode


# -- installation ---------------------------------------------------------------------------------


def _stderr_progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "(no output)"


def _need(tool: str, engine: Engine) -> str:
    found = shutil.which(tool)
    if found is None:
        raise SpecError([diag.make("E094", tool=tool, engine=engine.name)])
    return found


def _step(engine: Engine, cmd: list[str], cwd: Path | None = None) -> None:
    try:
        r = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace", timeout=INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise SpecError([diag.make("E091", engine=engine.name,
                                   last=f"{cmd[0]} took over {INSTALL_TIMEOUT:.0f} s")]) from None
    except OSError as e:
        raise SpecError([diag.make("E091", engine=engine.name, last=f"{cmd[0]}: {e}")]) from None
    if r.returncode != 0:
        raise SpecError([diag.make("E091", engine=engine.name, last=_last_line(r.stdout + "\n" + r.stderr))])


def _install_pyqjs(engine: Engine, target: Path) -> None:
    _step(engine, [sys.executable, "-m", "venv", str(target)])
    # `python -m pip` rather than bin/pip: the venv is renamed after install, which breaks shebangs
    # but not the interpreter.
    _step(engine, [str(target / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                   "--no-input", f"quickjs-ng=={engine.version}"])


def _install_wasm(engine: Engine, target: Path) -> None:
    npm = _need("npm", engine)
    (target / "package.json").write_text(
        '{"name": "specmc-engine", "private": true, "version": "0.0.0"}\n', encoding="utf-8")
    _step(engine, [npm, "install", "--no-save", "--no-audit", "--no-fund", "--no-package-lock",
                   f"quickjs-emscripten-core@{engine.version}",
                   f"@jitl/quickjs-ng-wasmfile-release-sync@{engine.version}"], cwd=target)


def _install_bun(engine: Engine, target: Path) -> None:
    """npm's `bun` package: its install script links the binary for this platform (glibc or
    musl, baseline or not) from the optional @oven/bun-* packages to bin/bun.exe."""
    npm = _need("npm", engine)
    (target / "package.json").write_text(
        '{"name": "specmc-engine", "private": true, "version": "0.0.0"}\n', encoding="utf-8")
    _step(engine, [npm, "install", "--no-save", "--no-audit", "--no-fund", "--no-package-lock",
                   f"bun@{engine.version}"], cwd=target)
    if not (target / "node_modules" / "bun" / "bin" / "bun.exe").is_file():
        last = "npm installed bun without its binary (were npm's install scripts disabled?)"
        raise SpecError([diag.make("E091", engine=engine.name, last=last)])


def ensure_installed(engine: Engine, engines_dir: Path, progress: Progress = _stderr_progress) -> Path | None:
    """Install once per cache: into a private temp folder, marked complete, then renamed into place.

    The rename is the commit point, so a killed install leaves only a temp folder and two
    concurrent installs both succeed (the loser discards its copy).
    """
    if engine.kind == "node":
        return None
    final = engines_dir / engine.folder
    if (final / MARKER).is_file():
        return final
    if engine.kind in ("quickjs-ng-wasm", "bun"):
        _need("node", engine)
        _need("npm", engine)
    try:
        engines_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{engine.folder}.", dir=engines_dir))
    except OSError as e:
        raise SpecError([diag.make("E091", engine=engine.name, last=f"{engines_dir}: {e.strerror or e}")]) \
            from None
    progress(f"specmc: installing {engine.name} into {final} (first use) ...")
    started = time.monotonic()
    try:
        install = {"quickjs-ng": _install_pyqjs, "quickjs-ng-wasm": _install_wasm, "bun": _install_bun}
        install[engine.kind](engine, tmp)
        (tmp / MARKER).write_text(f"{engine.name}\n", encoding="utf-8")
        if final.exists() and not (final / MARKER).is_file():
            shutil.rmtree(final, ignore_errors=True)  # debris of an install not made by this scheme
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / MARKER).is_file():
                raise
    except OSError as e:
        raise SpecError([diag.make("E091", engine=engine.name, last=str(e))]) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    progress(f"specmc: installed {engine.name} in {time.monotonic() - started:.1f} s")
    return final


# -- running --------------------------------------------------------------------------------------


def command(engine: Engine, witness: Path, home: Path | None) -> list[str]:
    if engine.kind == "node":
        return [_need("node", engine), "--expose-gc", str(witness)]
    assert home is not None
    if engine.kind == "quickjs-ng":
        return [str(home / "bin" / "python"), str(RUNNERS / "pyqjs.py"), str(witness)]
    if engine.kind == "bun":  # the witness as bun runs a script, with gc() made Bun.gc(true) first
        bun = home / "node_modules" / "bun" / "bin" / "bun.exe"
        return [str(bun), "--preload", str(RUNNERS / "bun-gc.js"), str(witness)]
    return [_need("node", engine), str(RUNNERS / "wasm.mjs"), str(home), str(witness)]


def _read_capped(f: IO[bytes]) -> str:
    """Keep head and tail of a huge output: the tail holds the verdict and the last error."""
    size = f.seek(0, os.SEEK_END)
    f.seek(0)
    if size <= OUTPUT_CAP:
        data = f.read()
    else:
        half = OUTPUT_CAP // 2
        head = f.read(half)
        f.seek(size - half)
        data = head + f"\n[... {size - 2 * half} bytes left out ...]\n".encode() + f.read()
    return data.decode("utf-8", errors="replace")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """The whole group: an engine may have children (npm-style wrappers, workers)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _exited(pid: int, timeout: float) -> bool:
    """Wait without reaping: while the leader is an unreaped zombie its group id cannot be reused,
    so killing the group afterwards cannot hit an unrelated process."""
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.05)


def run_command(cmd: list[str], timeout: float) -> tuple[int, str, str, bool]:
    """Outputs go to files, not pipes, so a chatty engine cannot block on a full pipe."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        try:
            timed_out = not _exited(proc.pid, timeout)
        finally:
            # Also after a normal exit: leftover children of the engine must not outlive the run.
            _kill_group(proc)
        returncode = proc.wait()
        return returncode, _read_capped(out), _read_capped(err), timed_out


def replay(engine: Engine, witness: Path, timeout: float, engines_dir: Path,
           progress: Progress = _stderr_progress) -> Replay:
    home = ensure_installed(engine, engines_dir, progress)
    returncode, stdout, stderr, timed_out = run_command(command(engine, witness, home), timeout)
    outcome = classify(returncode, stdout, stderr, timed_out)
    sep = "\n" if stdout and stderr and not stdout.endswith("\n") else ""
    output = stdout + sep + stderr
    return Replay(engine.name, outcome, shell_exit_code(returncode), output)


def render_text(r: Replay) -> str:
    body = r.output if r.output.endswith("\n") or not r.output else r.output + "\n"
    compared = [a for a in r.answers if a.same is not None]
    differ = [a for a in compared if not a.same]
    said = ""
    if compared:
        said = (f"answers   {len(compared)} compared with the model, {len(differ)} differ"
                + "".join(f"\n          {a.call} answered {a.value}, the model {a.model}"
                          for a in differ) + "\n")
    return (f"engine    {r.engine}\noutcome   {r.outcome}\nexit code {r.exit_code}\n{said}"
            f"--- output ---\n{body}")
