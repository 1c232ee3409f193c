"""Every command the README shows is run, or checked where running it here cannot work.

The README is what a user copies from. A command in it that no longer works, an option it names
that a command no longer has, a sample output that no longer matches what the command prints, or
a verdict table that no longer matches what the main job decides, is a bug a user meets first.
`HOW` says, for every command shown, which test covers it; a command added to the README without
an entry there fails `test_every_command_shown_is_covered`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
SEED = "specmc check --host quickjs-ng-0.5 --property cleanup-not-on-free-stack"

CI_RUNS_THEM = "tests/cli/test_cli.py::test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one"
# every command the README shows -> the test that covers it (in this file unless a path is given)
HOW = {
    "pip install -e . && specmc check": "test_main_job_gives_the_readme_verdict_table",
    # the suite cannot run itself: CI (.ci/run) runs these two, which this test checks
    "pip install -e '.[test]' && python -m pytest -q": CI_RUNS_THEM,
    "python -m pytest -q -m slow": CI_RUNS_THEM,
    "specmc --version": "test_version",
    "specmc COMMAND --help": "test_help_has_every_option_the_readme_names",
    "pip install -e '.[dask]'": "test_the_dask_extra_exists",
    "specmc check": "test_main_job_gives_the_readme_verdict_table",
    "specmc check --plan proofs/plans/objects3.toml": "test_objects3_plan",
    SEED: "test_seed_output_is_what_the_readme_shows",
    "python -m bench": "test_the_bench_driver_runs_every_part_the_readme_lists",
}


def specmc(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "specmc.proofs", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=1800)


def shown_commands() -> set[str]:
    """The lines of the README's sh blocks, the `$ ` lines of its sample outputs, and its code
    spans that start with a command (specmc, python, pip)."""
    found: set[str] = set()
    for lang, body in re.findall(r"```(\w*)\n(.*?)```", README, re.S):
        for line in body.splitlines():
            if lang in ("sh", "bash") and line.strip():
                found.add(line.strip())
            elif line.startswith("$ "):
                found.add(line[2:].strip())
    prose = re.sub(r"```.*?```", "", README, flags=re.S)
    found |= {m for m in re.findall(r"`([^`\n]+)`", prose) if re.match(r"(specmc|python|pip) ", m)}
    return found


def sample(command: str) -> list[str]:
    """The output the README shows for `$ command`, line by line."""
    block = next(b for b in re.findall(r"```text\n(.*?)```", README, re.S) if b.startswith(f"$ {command}\n"))
    return block.splitlines()[1:]


def test_every_command_shown_is_covered():
    assert shown_commands() == set(HOW)


def test_the_bench_driver_runs_every_part_the_readme_lists():
    """`python -m bench` runs, one process each, the benches behind the README's speed table (it
    takes hours: here only that it starts and what it would run)."""
    r = subprocess.run([sys.executable, "-m", "bench", "--help"], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 0 and "--quick" in r.stdout
    from bench.__main__ import parts

    for quick in (True, False):
        modules = [argv[0] for _title, argv in parts(quick)]
        assert modules == ["bench.native_bench", "bench.symmetry_bench", "bench.engines_bench",
                           "bench.seed_bench", "bench.mainjob_bench"]
        assert all((ROOT / (m.replace(".", "/") + ".py")).is_file() for m in modules)


def test_version():
    r = specmc("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"specmc {version('specmc')}"


def test_the_dask_extra_exists():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(d.startswith("distributed") for d in extras["dask"])


def readme_options() -> dict[str, set[str]]:
    """The options the README's command list names, per command."""
    section = README.split("## Commands", 1)[1].split("\n## ", 1)[0]
    options: dict[str, set[str]] = {}
    for name, text in re.findall(r"^- \*\*`(\w+)[^`]*`\*\*(.*?)(?=^- \*\*|\Z)", section, re.S | re.M):
        options[name] = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", text))
    return options


def test_help_has_every_option_the_readme_names():
    options = readme_options()
    assert set(options) == {"check", "explore", "review", "witness", "replay", "mutate", "recheck",
                            "parse", "coverage"}
    for command, names in options.items():
        r = specmc(command, "--help")
        assert r.returncode == 0, r.stderr
        missing = {o for o in names if not re.search(rf"(?<![\w-]){o}(?![\w-])", r.stdout)}
        assert not missing, f"README names {sorted(missing)} for `specmc {command}`, its --help does not"


def test_seed_output_is_what_the_readme_shows(tmp_path):
    """The sample is the real output shortened: every line it shows appears, in its order, in what
    the command prints (times aside), and `...` stands for at least one line."""
    r = specmc(*SEED.split()[1:], "--certificates", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    seconds = re.compile(r"\d+(\.\d+)? s\b")
    out = [seconds.sub("T s", line).rstrip() for line in r.stdout.splitlines()]
    at = 0
    skipped = False
    for line in sample(SEED):
        if line.strip() == "...":
            skipped = True
            continue
        want = seconds.sub("T s", line).rstrip()
        assert want in out[at:], f"README line not in the output after line {at}: {line!r}"
        found = out.index(want, at)
        assert found == at or skipped, f"README shows {line!r} right after line {at - 1}, output has more"
        at, skipped = found + 1, False


def verdict_table(checked: set[str]) -> dict[tuple[str, str], str]:
    """The README's table of what `specmc check` expects at the default bounds, per host and
    property ("the other seven" stands for the properties of `checked`, the main job's, not named
    in a row)."""
    after = README.split("What `specmc check` expects", 1)[1].split("\n\n", 2)[1]  # the table
    head, *rows = after.splitlines()
    hosts = re.findall(r"`([\w.-]+)`", head)
    table: dict[tuple[str, str], str] = {}
    others: list[str] = []
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if set(cells[0]) <= {"-", " "}:
            continue
        verdicts = [c.strip("*") for c in cells[1:]]
        named = re.findall(r"`([\w-]+)`", cells[0])
        if not named:
            assert cells[0].startswith("the other "), cells[0]
            others = verdicts
            continue
        for prop in named:
            table.update({(host, prop): v for host, v in zip(hosts, verdicts, strict=True)})
    rest = sorted(checked - {p for _, p in table})
    words = "no one two three four five six seven eight nine ten eleven twelve".split()
    assert not rest or f"the other {words[len(rest)]}" in README, f"the table's other row stands for {rest}"
    for prop in rest:
        table.update({(host, prop): v for host, v in zip(hosts, others, strict=True)})
    return table


def same(shown: str, label: str) -> bool:
    """A README cell and a verdict label agree: equal, or the label adds the bound a run reached
    (`PROVED within bounds (frames hit)` passes an expected PROVED, README "Verdicts")."""
    return label == shown or label.startswith(f"{shown} within bounds")


@pytest.mark.slow
def test_main_job_gives_the_readme_verdict_table(tmp_path):
    """`specmc check` as a user runs it first: it passes, and its verdicts at the default bounds
    are the README's table, cell by cell."""
    r = specmc("check", "--format", "json", "--quiet", "--certificates", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["results"]
    decided = {(x["host"], x["property"]): x["label"] for x in rows if x["run"] == "default bounds"}
    table = verdict_table({p for _, p in decided})
    assert set(table) <= set(decided)
    differ = {k: (v, decided[k]) for k, v in table.items() if not same(v, decided[k])}
    assert not differ, f"README table vs specmc check: {differ}"
    assert {h for h, _ in decided} == {h for h, _ in table}, "a host of the main job is not in the table"


@pytest.mark.slow
def test_objects3_plan(tmp_path):
    """The objects=3 plan takes about 14 minutes and 11 GB on two cores: CI runs its seed-host run
    (the use-after-free at three objects, a search that stops at the first violation) and loads
    the rest."""
    plan = ROOT / "proofs" / "plans" / "objects3.toml"
    r = specmc("check", "--plan", str(plan), "--host", "quickjs-ng-0.5", "--quiet", "--certificates",
               str(tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"ok +VIOLATED quickjs-ng-0.5 +no-freed-observed", r.stdout)


def test_plan_example_is_a_valid_plan(tmp_path):
    """The README's plan example, with a profile of one's own where it names one, checks what it
    says, narrowed to the two properties it has expectations for. The engine of one's own is here
    QuickJS-NG's fixed one: a VIOLATED without an expectation would fail the plan, as it should."""
    block = re.search(r"```toml\n(.*?)```", README, re.S).group(1)
    (tmp_path / "profiles").mkdir()
    shutil.copy(ROOT / "spec" / "hosts" / "quickjs-ng-0.6.html", tmp_path / "profiles" / "my-engine.html")
    (tmp_path / "specmc.toml").write_text(block, encoding="utf-8")
    r = specmc("check", "--host", "quickjs-ng-0.5", "--host", "profiles/my-engine.html", "--property",
               "cleanup-not-on-free-stack", "--property", "held-value-once", "--format", "json", "--quiet",
               "--certificates", str(tmp_path / "c"),
               cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {(x["host"], x["property"]): x["verdict"] for x in json.loads(r.stdout)["results"]}
    assert rows == {("quickjs-ng-0.5", "cleanup-not-on-free-stack"): "VIOLATED",
                    ("quickjs-ng-0.5", "held-value-once"): "PROVED",
                    ("my-engine", "cleanup-not-on-free-stack"): "PROVED",
                    ("my-engine", "held-value-once"): "PROVED"}
