"""End to end through the `specmc` command: JSON contracts and exit codes."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from specmc.proofs import exitcodes

from tests.conftest import CURRENT, FULL, ROOT


def specmc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "specmc.proofs", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def test_parse_json_contract():
    r = specmc("parse", str(CURRENT / "finreg-excerpt.html"), "--clause",
               "sec-cleanup-finalization-registry", "--format", "json")
    assert r.returncode == exitcodes.OK, r.stderr
    out = json.loads(r.stdout)
    assert set(out) >= {"algorithms", "unknown_steps"} and out["unknown_steps"] == 0
    (alg,) = out["algorithms"]
    assert alg["clause"] == "sec-cleanup-finalization-registry"
    assert alg["name"] == "CleanupFinalizationRegistry" and alg["kind"] == "abstract-operation"
    assert alg["params"][0]["name"] == "finalizationRegistry"
    numbers = [s["number"] for s in alg["steps"]]
    assert numbers == ["1", "2", "3", "4"]
    loop = alg["steps"][2]
    assert loop["kind"] == "while" and [s["number"] for s in loop["steps"]] == ["3.a", "3.b", "3.c"]
    lines = (CURRENT / "finreg-excerpt.html").read_text(encoding="utf-8").split("\n")
    for step in [loop, *loop["steps"]]:
        src = lines[step["line"] - 1]
        assert src[step["column"] - 1:].startswith(step["text"][:20])


def test_parse_embedded_default_text():
    r = specmc("parse")
    assert r.returncode == 0, r.stderr
    assert "CleanupFinalizationRegistry" in r.stdout and "0 unknown" in r.stdout


def test_parse_unknown_steps_counted(tmp_path):
    f = tmp_path / "x.html"
    f.write_text('<emu-clause id="sec-x"><h1>X ( )</h1><emu-alg>\n  1. Frobnicate.\n'
                 '</emu-alg></emu-clause>\n')
    out = json.loads(specmc("parse", str(f), "--format", "json").stdout)
    assert out["unknown_steps"] == 1 and out["algorithms"][0]["steps"][0]["kind"] == "unknown"


@pytest.mark.parametrize("args,needle", [
    (("parse", "/nonexistent/spec.html"), "E001"),
    (("parse", "--clause", "sec-does-not-exist"), "E030"),
    (("parse", "."), "E004"),
    (("coverage", str(ROOT / "tests")), "E004"),
])
def test_input_errors_exit_2(args, needle):
    r = specmc(*args)
    assert r.returncode == exitcodes.INPUT_ERROR
    assert needle in r.stderr and "Traceback" not in r.stderr


def test_malformed_file_message_is_located(tmp_path):
    f = tmp_path / "bad.html"
    f.write_text('<emu-clause id="sec-x">\n  <h1>X ( )</h1>\n  <emu-alg>\n    1. Return 1.\n'
                 '      1. Return 2.\n     1. Return 3.\n  </emu-alg>\n</emu-clause>\n')
    r = specmc("parse", str(f))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert re.search(r"bad\.html:6:6: error E020", r.stderr)
    assert "sec-x" in r.stderr and "^" in r.stderr


@pytest.mark.slow
def test_coverage_json_contract():
    r = specmc("coverage", str(FULL / "spec-2025-11-04-e936549f.html"), "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) >= {"algorithms", "steps", "typed_steps", "fully_parsed_steps", "unknown_forms"}
    assert out["typed_steps"] / out["steps"] >= 0.95
    for f in out["unknown_forms"]:
        assert set(f) >= {"form", "count", "example"}
        path, line = f["example"].rsplit(":", 1)
        assert Path(path).name.startswith("spec-") and int(line) > 0


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2
    main_job, tests = blocks[0].strip(), blocks[1].strip()
    assert main_job.startswith("pip install -e . && specmc ")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci
    assert "python -m pytest -q -m slow" in ci  # the slow tests run too, as the second step


def test_explore_never_says_holds_for_a_temporal_property():
    """Fourth review: explore evaluated eventually-delivered's state predicate, a placeholder true in
    every state, and said HOLDS under a profile that never delivers (check: VIOLATED). It is UNKNOWN
    with the reason; the safety property beside it is still searched."""
    r = specmc("explore", "--host", "v8", "--property", "eventually-delivered",
               "--property", "held-value-once",
               "--bounds", "objects=1,frames=3", "--format", "json")
    assert r.returncode == 0, r.stderr
    got = {x["property"]: x for x in json.loads(r.stdout)["results"]}
    assert got["eventually-delivered"]["verdict"] == "UNKNOWN"
    assert "specmc check" in got["eventually-delivered"]["reason"]
    assert got["held-value-once"]["verdict"] == "HOLDS"


@pytest.mark.slow
def test_explore_json_contract():
    r = specmc("explore", "--host", "quickjs-ng-0.5", "--host", "quickjs-ng-0.6", "--property",
               "cleanup-not-on-free-stack", "--bounds", "objects=2", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["states"] > 0
    verdicts = {(x["host"], x["property"]): x["verdict"] for x in out["results"]}
    assert verdicts == {("quickjs-ng-0.5", "cleanup-not-on-free-stack"): "VIOLATED",
                        ("quickjs-ng-0.6", "cleanup-not-on-free-stack"): "HOLDS"}
    fixed = next(x for x in out["results"] if x["verdict"] == "HOLDS")
    # a free frame is reached under the fixed engine, so its HOLDS is not vacuous; no bound cut it
    assert fixed["cover_reached"] is True and not fixed["vacuous"] and fixed["bounds_hit"] == {}
    assert fixed["label"] == "HOLDS"
    trace = next(x["trace"] for x in out["results"] if x["verdict"] == "VIOLATED")
    for t in trace:
        assert set(t) >= {"clause", "step", "text", "stack"}
    assert trace[-1]["stack"][-3:] == ["FreeObject", "HostCallJobCallback", "user code"]
    # QuickJS-NG's own register (the profile's), appending the cell at its step 8
    assert any(t["clause"] == "host-quickjs-ng-0.5-register" and t["step"] == "8"
               and t["text"].startswith("Append _cell_") for t in trace)


@pytest.mark.parametrize("args,code", [
    (("explore", "--bounds", "objects=0"), "E050"),
    (("explore", "--bounds", "widgets=1"), "E052"),
    (("explore", "--host", "spidermonkey"), "E060"),
    (("explore", "--property", "no-such-property"), "E061"),
])
def test_explore_bad_input_exit_2(args, code):
    r = specmc(*args)
    assert r.returncode == 2 and code in r.stderr and "Traceback" not in r.stderr


def test_user_property_file(tmp_path):
    f = tmp_path / "mine.py"
    f.write_text(
        "from specmc.proofs.properties import Property, register\n"
        "register(Property('no-registry-ever', 'no FinalizationRegistry is ever allocated',\n"
        "                  'sec-finalization-registry-objects',\n"
        "                  lambda prog, S: S.d.and_(*[S.d.ne(S.get('obj_kind', i), 2)\n"
        "                      for i in range(prog.layout.bounds.objects)])))\n")
    r = specmc("explore", "--host", "ecma262", "--properties-file", str(f), "--property",
               "no-registry-ever", "--bounds", "objects=1", "--format", "json")
    assert r.returncode == 0, r.stderr
    (res,) = json.loads(r.stdout)["results"]
    assert res["verdict"] == "VIOLATED" and res["trace"][1]["text"] == "new FinalizationRegistry(callback)"


def test_every_package_folder_is_installed():
    """pyproject.toml lists the packages to install one by one (package-dir puts spec/, model/ and
    proofs/ under specmc): a folder of modules left off the list is missing from every install, but
    not from a checkout, where the rest of the suite runs."""
    import tomllib

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join((package, *init.parent.relative_to(ROOT / folder).parts))
             for package, folder in setup["package-dir"].items()
             for init in (ROOT / folder).rglob("__init__.py")}
    data = {"specmc.proofs.witness.runners"}  # scripts run by an engine's own interpreter: package data
    assert found - data == set(setup["packages"])
    assert "runners/*" in setup["package-data"]["specmc.proofs.witness"]


def test_a_users_own_model_py_does_not_shadow_the_tool(tmp_path):
    """The tool installs as one package, `specmc`; files named like its phases beside a user's
    plan (here each one raises when imported) are never imported by it."""
    for name in ("spec", "model", "proofs"):
        (tmp_path / f"{name}.py").write_text(f"raise RuntimeError('own {name}.py was imported')\n")
    args = ["check", "--host", "ecma262", "--property", "held-value-once", "--bounds", "objects=1,frames=3",
            "--engine", "explicit", "--quiet", "--certificates", str(tmp_path / "c")]
    r = subprocess.run([sys.executable, "-m", "specmc.proofs", *args], capture_output=True, text=True,
                       cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "was imported" not in r.stderr and "PROVED" in r.stdout


@pytest.mark.slow
def test_the_wheel_installs_one_package(tmp_path):
    """What `pip install .` puts into site-packages is the wheel's content: one top-level package,
    `specmc` (with spec/, model/ and proofs/ under it, their data files included), and its
    metadata; no top-level `spec`, `model` or `proofs` that a user's own modules would clash with."""
    import zipfile

    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("specmc-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/", 1)[0] for n in names} == {"specmc", wheel.name.split("-py3")[0] + ".dist-info"}
    for data in ("specmc/spec/grammar/steps.lark", "specmc/spec/hosts/quickjs-ng-0.5.html",
                 "specmc/proofs/plans/default.toml", "specmc/proofs/witness/runners/bun-gc.js",
                 "specmc/proofs/run/job.py"):
        assert data in names, data


class _Full:
    """A standard output on a full disk: what `specmc ... > /dev/full` writes to."""

    def __init__(self, fail_on: str) -> None:
        self.fail_on = fail_on

    def write(self, text: str) -> int:
        if self.fail_on == "write":
            raise OSError(errno.ENOSPC, "No space left on device")
        return len(text)

    def flush(self) -> None:
        if self.fail_on == "flush":  # the buffer took the text; the disk refuses it on flush
            raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("fail_on", ["write", "flush"])
@pytest.mark.parametrize("args", [
    ["--version"],
    ["parse", str(CURRENT / "finreg-excerpt.html")],
    ["check", "--host", "ecma262", "--property", "spec-asserts", "--bounds", "objects=1", "--quiet"],
])
def test_a_report_stdout_cannot_take_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path, args, fail_on):
    """`specmc check ... > /dev/full` was a traceback and exit 1, which reads as a finding; and
    `specmc --version > /dev/full` exited 0 with the version lost (third review, F7)."""
    from specmc.proofs.cli import main

    monkeypatch.setenv("SPECMC_CERTIFICATES", str(tmp_path / "c"))
    monkeypatch.setattr(sys, "stdout", _Full(fail_on))
    try:
        code = main(args)
    except SystemExit as e:  # --version ends through argparse when the output went through
        code = e.code
    err = capsys.readouterr().err
    assert code == exitcodes.INPUT_ERROR, err
    assert err == "error E098: cannot write the report to the standard output: No space left on device\n"


@pytest.mark.parametrize("args, code", [
    (["parse", str(CURRENT / "finreg-excerpt.html")], exitcodes.OK),
    (["--version"], exitcodes.OK),
    (["check", "--host", "quickjs-ng-0.5", "--property", "cleanup-not-on-free-stack", "--bounds", "objects=1",
      "--quiet", "--certificates", "{tmp}"], exitcodes.FINDING),  # VIOLATED, and still said by the exit code
])
def test_a_reader_that_left_ends_the_output_quietly(tmp_path, args, code):
    """`specmc ... | head -1`: the reader left; no traceback, and the command's own exit code."""
    read, write = os.pipe()
    os.close(read)
    try:
        r = subprocess.run([sys.executable, "-m", "specmc.proofs", *[a.format(tmp=tmp_path) for a in args]],
                           stdout=write, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=300)
    finally:
        os.close(write)
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr
    assert r.returncode == code, r.stderr
