"""`specmc review` end to end: formats (JSON contract, Markdown, SARIF 2.1.0 checked against the
official schema, GitHub annotations on the changed lines), git revisions, exit codes, and reviews
that could not check (exit 4, "not checked", reasons located on the side)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from specmc.proofs import exitcodes
from specmc.proofs.cli import main
from specmc.proofs.report.review import render
from specmc.proofs.review.review import review
from specmc.proofs.run.plan import load_plan

from tests.proofs.review.test_review import FULL, HISTORY, PLAN, SHARED, hook_calls_cleanup_directly

SARIF_TOOL = "@microsoft/sarif-multitool-linux@5.7.0"  # ships the official sarif-2.1.0.json schema


ONE_HOST = PLAN.replace('hosts = ["ecma262", "quickjs-ng-0.5"]', 'hosts = ["ecma262"]').replace(
    'properties = ["cleanup-only-from-job", "cleanup-not-on-free-stack"]',
    'properties = ["cleanup-only-from-job"]')


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The current text against a copy whose hook runs cleanup itself: the command's exit code and
    JSON from the command line, the other formats rendered from the same review."""
    tmp = tmp_path_factory.mktemp("review")
    (tmp / "specmc.toml").write_text(ONE_HOST)
    head = hook_calls_cleanup_directly(tmp)
    dest = tmp / "review.json"
    rc = main(["review", str(SHARED / "current"), str(head), "--plan", str(tmp / "specmc.toml"),
               "--format", "json", "--out", str(dest), "--certificates", str(tmp / "certs")])
    out = {"head": head, "json": (rc, dest.read_text(encoding="utf-8"))}
    r = review(str(SHARED / "current"), str(head), load_plan(str(tmp / "specmc.toml")),
               certificates=str(tmp / "certs"))
    for fmt in ("markdown", "sarif", "github", "text"):
        out[fmt] = (rc, render(r, fmt))
    return out


@pytest.mark.slow
def test_json_contract_and_exit_code(changed: dict) -> None:
    rc, text = changed["json"]
    assert rc == exitcodes.FINDING  # a verdict got worse
    doc = json.loads(text)
    assert {"changed_algorithms", "model_identical", "new_unknown_steps", "verdicts"} <= set(doc)
    assert doc["checked"] is True and doc["not_checked"] == []
    assert doc["model_identical"] is False and doc["new_unknown_steps"] == []
    assert [c["name"] for c in doc["changed_algorithms"]] == ["HostEnqueueFinalizationRegistryCleanupJob"]
    worse = [v for v in doc["verdicts"] if v["worse"]]
    assert [(v["host"], v["property"], v["base"], v["head"]) for v in worse] == [
        ("ecma262", "cleanup-only-from-job", "PROVED", "VIOLATED")]
    assert worse[0]["trace"] and worse[0]["touched_steps"]
    for v in doc["verdicts"]:
        assert set(v) >= {"run", "host", "property", "base", "head", "not_checked"}


@pytest.mark.slow
def test_markdown_is_a_pull_request_comment(changed: dict) -> None:
    _, md = changed["markdown"]
    assert md.startswith("### specmc review")
    assert "This review **fails**." in md
    assert "| review | ecma262 | `cleanup-only-from-job` | PROVED | VIOLATED | ⚠️ worse |" in md
    assert "<summary>Counterexample: <code>cleanup-only-from-job</code> under ecma262, run review (" in md
    assert "★ sec-host-cleanup-finalization-registry 1" in md


def _sarif_schema(cache: Path) -> dict:
    schema = cache / "sarif-2.1.0.json"
    if not schema.exists():
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "pack", SARIF_TOOL, "--silent"], cwd=cache, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        with tarfile.open(cache / done.stdout.strip().splitlines()[-1]) as tar:
            member = tar.extractfile("package/sarif-2.1.0.json")
            assert member is not None
            schema.write_bytes(member.read())
    return json.loads(schema.read_text(encoding="utf-8"))


@pytest.mark.skipif(os.environ.get("SPECMC_OFFLINE") == "1", reason="needs the npm registry")
@pytest.mark.slow
def test_sarif_validates_against_the_2_1_0_schema(changed: dict, engines_dir: Path, tmp_path: Path) -> None:
    import jsonschema

    schema = _sarif_schema(engines_dir / "sarif-schema")
    validator = jsonschema.validators.validator_for(schema)(schema)
    _, text = changed["sarif"]
    doc = json.loads(text)
    validator.validate(doc)
    rules = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert {"property-violation", "unknown-step", "spec-hazard"} <= rules
    results = doc["runs"][0]["results"]
    hazard = [r for r in results if r["ruleId"] == "spec-hazard"]
    assert len(hazard) == 1 and hazard[0]["codeFlows"]
    assert hazard[0]["properties"]["run"] == "review" and "(run review)" in hazard[0]["message"]["text"]
    # the schema is strict enough to catch a broken region
    broken = json.loads(text)
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert not validator.is_valid(broken)
    # a review that could not check: one not-checked result per side and reason
    (tmp_path / "specmc.toml").write_text(ONE_HOST)
    r = review(str(HISTORY / "2020-08-05-71c08971"), str(HISTORY / "2020-08-07-a59a820d"),
               load_plan(str(tmp_path / "specmc.toml")), certificates=str(tmp_path / "certs"))
    doc = json.loads(render(r, "sarif"))
    validator.validate(doc)
    results = doc["runs"][0]["results"]
    assert [(x["ruleId"], x["properties"]["side"]) for x in results if x["ruleId"] == "not-checked"] == [
        ("not-checked", "base"), ("not-checked", "head")]
    # a59a820d restates the job rules: prose the model builds in, located on HEAD's line
    [hand] = [x for x in results if x["ruleId"] == "hand-modelled-change"]
    assert hand["properties"]["clause"] == "sec-jobs" and hand["level"] == "warning"
    assert hand["locations"][0]["physicalLocation"]["region"]["startLine"] > 1


@pytest.mark.slow
def test_github_annotations_point_at_the_changed_lines(changed: dict) -> None:
    _, text = changed["github"]
    lines = (changed["head"] / "finreg-excerpt.html").read_text(encoding="utf-8").splitlines()
    step = next(i for i, line in enumerate(lines, 1) if "1. Perform ? CleanupFinalizationRegistry" in line)
    notes = [a for a in text.splitlines() if a.startswith("::")]
    assert any(a.startswith("::warning file=") and f",line={step}," in a for a in notes)
    error = next(a for a in notes if a.startswith("::error"))
    assert f",line={step}," in error and "cleanup-only-from-job under ecma262 (run review)%3A" not in error
    assert error.endswith("::cleanup-only-from-job under ecma262 (run review): PROVED -> VIOLATED")
    for a in notes:  # every annotation names a file and a line of the head text
        assert "finreg-excerpt.html" in a.split("::")[1]


@pytest.mark.slow
def test_text_report_names_the_flip(changed: dict) -> None:
    _, text = changed["text"]
    assert "result: fails\n" in text
    assert "WORSE       review  ecma262          cleanup-only-from-job        PROVED   -> VIOLATED" in text


def _repo(tmp_path: Path, base: Path, head: Path) -> Path:
    """A git repository whose HEAD~1:spec.html is `base` and HEAD:spec.html is `head`."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    shutil.copy(base, repo / "spec.html")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    shutil.copy(head, repo / "spec.html")
    subprocess.run([*git, "commit", "-qam", "head"], check=True)
    (tmp_path / "specmc.toml").write_text(ONE_HOST)
    return repo


def _review_revisions(tmp_path: Path, repo: Path, fmt: str) -> int:
    return main(["review", "HEAD~1:spec.html", "HEAD:spec.html", "--repo", str(repo), "--plan",
                 str(tmp_path / "specmc.toml"), "--format", fmt, "--certificates", str(tmp_path / "c")])


def test_git_revisions_and_an_identical_model(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    repo = _repo(tmp_path, HISTORY / "2022-04-20-ad096b3b" / "finreg-excerpt.html",
                 HISTORY / "2022-08-03-2d3ecadb" / "finreg-excerpt.html")  # an editorial change
    rc = _review_revisions(tmp_path, repo, "json")
    doc = json.loads(capsys.readouterr().out)
    assert rc == exitcodes.OK
    assert doc["model_identical"] is True and doc["checked"] is True
    assert all(v["base"] == v["head"] for v in doc["verdicts"])


def test_revisions_whose_model_cannot_be_built_are_not_checked(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture) -> None:
    """71c08971 -> a59a820d: the reference host's Execution reads an unbound _cell_ on both sides.
    The review used to pass with UNKNOWN -> UNKNOWN; now it says why, on each revision's own lines."""
    repo = _repo(tmp_path, HISTORY / "2020-08-05-71c08971" / "finreg-excerpt.html",
                 HISTORY / "2020-08-07-a59a820d" / "finreg-excerpt.html")
    rc = _review_revisions(tmp_path, repo, "text")
    out = capsys.readouterr().out
    assert rc == exitcodes.NOT_CHECKED == 4
    assert "result: not checked: 1 of 1 verdict(s) could not be checked" in out
    assert "the model cannot be built: HEAD~1:spec.html:208:14: error E064" in out
    assert re.search(r"\[2\] head \(run review, host ecma262: cleanup-only-from-job\): "
                     r"the model cannot be built: HEAD:spec\.html:\d+:\d+: error E064", out), out
    row = "NOT CHECKED review  ecma262          cleanup-only-from-job        UNKNOWN [1] -> UNKNOWN [2]"
    assert row in out
    assert "/tmp" not in out and "specmc-review-" not in out


@pytest.mark.slow
def test_whole_files_are_never_passed_unchecked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Two whole spec.html revisions. Today no host's model can be built from a whole file (issue
    16, part 1), so the review is not checked: exit 4, located reasons, no temporary paths. Once
    whole files build, the same pair is checked and must say so instead."""
    repo = _repo(tmp_path, FULL / "spec-2021-03-15-3cd00d74.html", FULL / "spec-2021-03-17-06357938.html")
    rc = _review_revisions(tmp_path, repo, "markdown")
    md = capsys.readouterr().out
    assert "/tmp" not in md and "specmc-review-" not in md
    assert "`CleanupFinalizationRegistry`" in md  # the change itself is still reported
    if "the model cannot be built" in md:
        assert rc == exitcodes.NOT_CHECKED
        assert "This review was **not checked**." in md and "| not checked |" in md
        assert re.search(r"\[1\] base \(run review, host ecma262: cleanup-only-from-job\): the model "
                         r"cannot be built: HEAD~1:spec\.html:\d+:\d+: ", md), md
        assert re.search(r"\[2\] head .*: HEAD:spec\.html:\d+:\d+: ", md), md
    else:  # the model builds on both sides: the ordinary outcomes
        assert rc in (exitcodes.OK, exitcodes.FINDING) and "not checked" not in md


def test_an_excerpt_against_itself_passes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "specmc.toml").write_text(ONE_HOST)
    text = SHARED / "current" / "finreg-excerpt.html"
    rc = main(["review", str(text), str(text), "--plan", str(tmp_path / "specmc.toml"), "--format",
               "markdown", "--certificates", str(tmp_path / "c")])
    md = capsys.readouterr().out
    assert rc == exitcodes.OK
    assert "This review passes." in md and "not checked" not in md
    assert "| review | ecma262 | `cleanup-only-from-job` | PROVED | PROVED | same model |" in md


def test_a_changed_model_with_nothing_searched_is_not_checked(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    """The hook change, reviewed only for a property the reference host does not promise, and then
    by bmc at a depth that never starts a cleanup: both sides compared nothing, and the review used
    to pass (exit 0) for it."""
    head = hook_calls_cleanup_directly(tmp_path)
    common = ["review", str(SHARED / "current"), str(head), "--host", "ecma262", "--no-cache",
              "--certificates", str(tmp_path / "c"), "--format", "json"]
    rc = main([*common, "--property", "eventually-delivered", "--bounds", "objects=1,frames=6"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == exitcodes.NOT_CHECKED and doc["checked"] is False and doc["nothing_searched"] is True
    assert {(v["base_label"], v["head_label"]) for v in doc["verdicts"]} == {("NOT APPLICABLE",) * 2}
    assert [u["side"] for u in doc["not_checked"]] == ["head"]
    assert "no verdict on it was decided by a search" in doc["not_checked"][0]["reason"]
    (tmp_path / "bmc.toml").write_text(ONE_HOST.replace('engine = "explicit"', 'engine = "bmc"\ndepth = 2'))
    rc = main([*common[:-2], "--plan", str(tmp_path / "bmc.toml"), "--format", "text"])
    out = capsys.readouterr().out
    assert rc == exitcodes.NOT_CHECKED
    assert "BOUNDED (depth 2, cover not reached) -> BOUNDED (depth 2, cover not reached)" in out


def test_review_rows_carry_the_notes_check_rows_carry(tmp_path: Path) -> None:
    """What the bounds leave out of a host's profile (model.build.host_notes) reaches every format
    of a review, as it reaches check's rows; review output used to drop it."""
    plan = tmp_path / "specmc.toml"
    plan.write_text(ONE_HOST.replace('hosts = ["ecma262"]', 'hosts = ["quickjs-ng-0.12"]'))
    text = str(SHARED / "current")
    r = review(text, text, load_plan(str(plan)), certificates=str(tmp_path / "c"))
    [(run, host, note)] = r.notes()
    assert (run, host) == ("review", "quickjs-ng-0.12") and "cycle collection" in note
    [v] = json.loads(render(r, "json"))["verdicts"]
    assert v["notes"] == [note]
    for fmt in ("text", "github"):
        assert note in render(r, fmt), fmt
    assert f"- run review, host quickjs-ng-0.12: {note.replace('>', '&gt;')}" in render(r, "markdown")
    sarif = json.loads(render(r, "sarif"))["runs"][0]["results"]
    assert [x["message"]["text"] for x in sarif if x["ruleId"] == "bounds-leave-out"] == \
        [f"run review, host quickjs-ng-0.12: {note}"]


@pytest.mark.parametrize("args,code", [
    (["HEAD~1:spec.html", "HEAD:spec.html"], "E081"),
    (["nope:spec.html", "HEAD:spec.html", "--repo", "."], "E080"),
    (["/does/not/exist", "/does/not/exist"], "E001"),
])
def test_bad_sides_are_input_errors(args: list[str], code: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["review", *args]) == 2
    assert code in capsys.readouterr().err


def test_markdown_fits_a_pull_request_comment_whatever_the_change() -> None:
    """A review of two distant whole files changes thousands of algorithms; the comment keeps the
    summary and verdicts, details what fits, names the rest and says what it left out."""
    from specmc.proofs.report.review import MARKDOWN_LIMIT, markdown
    from specmc.proofs.review.changes import AlgorithmChange, StepChange, StepRef, UnknownStep
    from specmc.proofs.review.review import Review, VerdictPair
    from specmc.proofs.verdict import Outcome

    def step(n: int) -> StepRef:
        return StepRef(str(n), f"Let _x{n}_ be the result of a fairly long step of spec text number {n}.",
                       "spec.html", n, 7)

    changes = tuple(AlgorithmChange(f"Alg{i % 700}", f"sec-{i}", "changed",
                                    tuple(StepChange("changed", step(j), step(j + 1)) for j in range(12)),
                                    i % 5 == 0, i % 10 == 0, "spec.html", i) for i in range(3000))
    unknown = tuple(UnknownStep(f"Alg{i}", f"sec-{i}", step(i), i % 7 == 0) for i in range(400))
    trace = tuple({"clause": "sec-x", "step": str(i), "text": "a step " * 20, "file": "spec.html", "line": i}
                  for i in range(300))
    verdicts = tuple(VerdictPair("review", "ecma262", f"p{i}", Outcome(f"p{i}", "PROVED", "explicit"),
                                 Outcome(f"p{i}", "VIOLATED", "explicit", trace=trace), False, (3,))
                     for i in range(6))
    r = Review("HEAD~1:spec.html", "HEAD:spec.html", "plan", changes, (), unknown, verdicts)
    md = markdown(r)
    assert len(md) <= MARKDOWN_LIMIT
    assert "This review **fails**." in md and md.count("⚠️ worse") == 6
    assert "**used by the model**" in md  # the unknown steps that fail the review come first
    assert "more changed algorithm(s)" in md and "`Alg1`" in md
    assert "_Left out to fit a pull-request comment:" in md


def _specmc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "specmc.proofs", *args], capture_output=True, text=True,
                          timeout=900)


@pytest.mark.slow
def test_verdicts_are_kept_on_disk_and_reused(tmp_path: Path) -> None:
    """A second review of the same models decides nothing anew (issue 16: unchanged models are
    never re-checked); the verdicts, and the exit code, are the same."""
    (tmp_path / "specmc.toml").write_text(ONE_HOST)
    head = hook_calls_cleanup_directly(tmp_path)
    args = ["review", str(SHARED / "current"), str(head), "--plan", str(tmp_path / "specmc.toml"),
            "--format", "json", "--certificates", str(tmp_path / "certs"), "--cache", str(tmp_path / "v")]
    runs = [_specmc(*args) for _ in range(2)]
    first, second = runs
    assert first.returncode == second.returncode == exitcodes.FINDING, first.stderr
    assert "from the cache" not in first.stderr
    assert "2 verdict(s) from the cache" in second.stderr, second.stderr
    pick = [[(v["host"], v["property"], v["base"], v["head"]) for v in json.loads(r.stdout)["verdicts"]]
            for r in runs]
    assert pick[0] == pick[1]
    # a damaged entry is a miss, never a verdict: the engines decide again
    for f in (tmp_path / "v").rglob("*.json"):
        f.write_text("{not json")
    third = _specmc(*args)
    assert third.returncode == exitcodes.FINDING and "from the cache" not in third.stderr
    # --no-cache decides anew even with a good cache
    fourth = _specmc(*args, "--no-cache")
    assert fourth.returncode == exitcodes.FINDING and "from the cache" not in fourth.stderr


def test_a_cache_folder_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = _specmc("review", str(SHARED / "current"), str(SHARED / "current"), "--cache", str(blocker / "v"))
    assert r.returncode == exitcodes.INPUT_ERROR and "Traceback" not in r.stderr
    assert "--cache" in r.stderr and "is a file" in r.stderr


def test_one_review_written_in_several_formats(tmp_path: Path) -> None:
    (tmp_path / "specmc.toml").write_text(ONE_HOST)
    out = tmp_path / "reports"
    same = (str(SHARED / "current"), str(SHARED / "current"))
    r = _specmc("review", *same, "--plan", str(tmp_path / "specmc.toml"),
                "--format", "markdown,github,sarif,json", "--out", str(out))
    assert r.returncode == exitcodes.OK, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["review.github.txt", "review.json", "review.md",
                                                     "review.sarif"]
    assert json.loads((out / "review.json").read_text())["model_identical"] is True
    assert json.loads((out / "review.sarif").read_text())["version"] == "2.1.0"
    # several formats and no folder for them; an unknown format: exit 2, one line, nothing written
    r = _specmc("review", *same, "--format", "markdown,github")
    assert r.returncode == exitcodes.INPUT_ERROR and "E082" in r.stderr and "Traceback" not in r.stderr
    r = _specmc("review", *same, "--format", "markdown,pdf")
    assert r.returncode == exitcodes.INPUT_ERROR and "pdf" in r.stderr and "Traceback" not in r.stderr


def test_bad_sides_and_stores_exit_2_located_and_leave_the_report_alone(tmp_path: Path) -> None:
    """Issue 16's bad inputs: a revision the repository lacks (BASE or HEAD), a text that is not
    ecmarkup (a file, or a path in the repository: it used to review as two empty models, exit 4,
    and write its report over --out), and a cache folder that cannot be written. Each is one
    located line on stderr, exit 2, no traceback, and the report already at --out is untouched."""
    repo = _repo(tmp_path, HISTORY / "2022-04-20-ad096b3b" / "finreg-excerpt.html",
                 HISTORY / "2022-08-03-2d3ecadb" / "finreg-excerpt.html")
    (repo / "README.md").write_text("# not a spec\n\nJust words.\n")
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", "add",
                    "README.md"], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", "commit",
                    "-qm", "readme"], check=True)
    plain = tmp_path / "page.html"
    plain.write_text("<html><body><p>A page, not a spec.</p></body></html>\n")
    report = tmp_path / "report.md"
    report.write_text("the previous review\n")
    git = ["--repo", str(repo)]
    cases = [
        (["nope:spec.html", "HEAD:spec.html", *git], "E080", "nope:spec.html"),
        (["HEAD:spec.html", "nope:spec.html", *git], "E080", "nope:spec.html"),
        (["HEAD:spec.html", "HEAD:README.md", *git], "E083", "HEAD:README.md is not ecmarkup"),
        ([str(SHARED / "current"), str(plain)], "E083", f"{plain} is not ecmarkup"),
        ([str(SHARED / "current"), str(SHARED / "current"), "--cache", "/proc/specmc-cannot-be-here"],
         "E077", "--cache /proc/specmc-cannot-be-here"),
    ]
    for args, code, where in cases:
        r = _specmc("review", *args, "--plan", str(tmp_path / "specmc.toml"), "--format", "markdown",
                    "--out", str(report), "--force")  # --force: the refusal must come from the input
        assert r.returncode == exitcodes.INPUT_ERROR, (args, r.stdout, r.stderr)
        assert code in r.stderr and where in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert report.read_text() == "the previous review\n", args


USER_PROPERTY = '''from specmc.proofs.properties import Property, register


def holds(program, S):
    return S.d.not_(S.d.ne(S.get("obj_status", 0), 0))


register(Property("no-objects", "no object is ever allocated", "sec-weak-ref-objects", holds))
'''


@pytest.mark.parametrize("properties", ['["no-objects"]', "[]"], ids=["named", "catalogue"])
def test_review_loads_the_plans_properties_files(tmp_path: Path, properties: str) -> None:
    """The plan's `properties_files` (relative to the plan, as check reads them): a plan naming
    a property one registers was refused (E061), and one listing none checked only the catalogue."""
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "mine.py").write_text(USER_PROPERTY)
    plan = tmp_path / "specmc.toml"
    plan.write_text(f'[[run]]\nname = "r"\nhosts = ["ecma262"]\nproperties = {properties}\n'
                    'properties_files = ["up/mine.py"]\nbounds = "objects=1"\nengine = "explicit"\n')
    text = str(SHARED / "current" / "finreg-excerpt.html")
    r = _specmc("review", text, text, "--plan", str(plan), "--format", "json", "--no-cache", "--quiet",
                "--certificates", str(tmp_path / "c"))
    assert r.returncode == exitcodes.OK, r.stderr
    verdicts = {v["property"]: (v["base"], v["head"]) for v in json.loads(r.stdout)["verdicts"]}
    assert verdicts["no-objects"] == ("VIOLATED", "VIOLATED")  # the user's predicate, evaluated
    from specmc.proofs.properties import CATALOGUE

    assert set(verdicts) == ({"no-objects"} if properties != "[]" else {"no-objects", *CATALOGUE})


def test_cached_verdicts_are_located_in_the_text_reviewed(tmp_path: Path) -> None:
    """A verdict from the cache was computed on another text with the same model: its trace kept
    that text's file and lines (`::error file=y.html,...` when reviewing w.html, whose comment
    lines moved every step). Every location shown is the current text's, as --no-cache gives."""
    base = SHARED / "current" / "finreg-excerpt.html"
    text = base.read_text(encoding="utf-8")
    step = "\n        1. Remove _cell_ from _finalizationRegistry_.[[Cells]].\n"
    assert text.count(step) == 1
    y = tmp_path / "y.html"
    y.write_text(text.replace(step, "\n"), encoding="utf-8")  # held-value-once: PROVED -> VIOLATED
    w = tmp_path / "w.html"
    w.write_text("<!-- editorial note -->\n" * 7 + y.read_text(encoding="utf-8"), encoding="utf-8")
    plan = tmp_path / "specmc.toml"
    plan.write_text('[[run]]\nname = "r"\nhosts = ["ecma262"]\nproperties = ["held-value-once"]\n'
                    'bounds = "objects=1"\nengine = "explicit"\n')
    common = ["--plan", str(plan), "--quiet", "--certificates", str(tmp_path / "c")]
    cache = ["--cache", str(tmp_path / "v")]
    assert _specmc("review", str(base), str(y), *common, *cache).returncode == exitcodes.FINDING
    runs = {how: _specmc("review", str(base), str(w), *common, "--format", fmt, *extra)
            for how, fmt, extra in [("cached", "github", cache), ("fresh", "github", ["--no-cache"]),
                                    ("cached-json", "json", cache), ("fresh-json", "json", ["--no-cache"])]}
    assert all(r.returncode == exitcodes.FINDING for r in runs.values()), runs
    error = [line for line in runs["cached"].stdout.splitlines() if line.startswith("::error")]
    assert error == [line for line in runs["fresh"].stdout.splitlines() if line.startswith("::error")]
    assert len(error) == 1 and f"file={w}," in error[0] and "y.html" not in runs["cached"].stdout
    traces = [[v["trace"] for v in json.loads(runs[k].stdout)["verdicts"]]
              for k in ("cached-json", "fresh-json")]
    assert traces[0] == traces[1] and any(traces[0])
    # SARIF counts the counterexample as check and witness do: transitions, not steps
    sarif = json.loads(_specmc("review", str(base), str(w), *common, "--format", "sarif", *cache).stdout)
    (flip,) = [r for r in sarif["runs"][0]["results"] if "counterexample" in r["message"]["text"]]
    assert f"({len(traces[0][0]) - 1}-transition counterexample)" in flip["message"]["text"]


@pytest.mark.slow
def test_a_review_at_weakmaps_bounds_checks_the_weakmap_builtins(tmp_path):
    """`?` -> `!` in WeakMap.prototype.set, reviewed at weakmaps=1: the model changed (the
    built-in is modelled at that bound), HEAD is re-checked, and spec-asserts got worse; the
    review used to say "[not modelled]", "identical" and carry BASE's PROVED over (exit 0)."""
    text = (FULL / "spec-2025-11-04-e936549f.html").read_text(encoding="utf-8")
    step = "          1. Perform ? RequireInternalSlot(_M_, [[WeakMapData]]).\n"
    k = text.index(step, text.index("<h1>WeakMap.prototype.set ("))
    (tmp_path / "base.html").write_text(text, encoding="utf-8")
    (tmp_path / "head.html").write_text(text[:k] + step.replace("?", "!") + text[k + len(step):],
                                        encoding="utf-8")
    r = _specmc("review", str(tmp_path / "base.html"), str(tmp_path / "head.html"), "--host", "ecma262",
                "--engine", "explicit", "--property", "spec-asserts", "--bounds",
                "objects=1,weakmaps=1,frames=4", "--no-cache", "--certificates", str(tmp_path / "c"),
                "--quiet", "--format", "json")
    assert r.returncode == exitcodes.FINDING, r.stderr
    doc = json.loads(r.stdout)
    assert doc["models"][0]["changed"] == ["WeakMap.prototype.set"] and not doc["model_identical"]
    (v,) = doc["verdicts"]
    assert (v["base"], v["head"], v["carried_over"]) == ("PROVED", "VIOLATED", False)


@pytest.mark.slow
def test_a_weakmap_delete_that_keeps_the_key_fails_the_review(tmp_path):
    """WeakMap.prototype.delete without `Set _p_.[[Key]] to ~empty~` (after `m.delete(k)`,
    `m.has(k)` is still true): every property was PROVED -> PROVED and `review --strict` passed,
    since none judged a WeakMap's answers; weak-collection-results now does."""
    text = (FULL / "spec-2025-11-04-e936549f.html").read_text(encoding="utf-8")
    step = "              1. Set _p_.[[Key]] to ~empty~.\n"
    k = text.index(step, text.index("<h1>WeakMap.prototype.delete ("))
    (tmp_path / "base.html").write_text(text, encoding="utf-8")
    (tmp_path / "head.html").write_text(text[:k] + text[k + len(step):], encoding="utf-8")
    r = _specmc("review", str(tmp_path / "base.html"), str(tmp_path / "head.html"), "--host", "ecma262",
                "--engine", "explicit", "--property", "weak-collection-results", "--bounds",
                "objects=1,weakmaps=1", "--no-cache", "--certificates", str(tmp_path / "c"),
                "--quiet", "--format", "json", "--strict")
    assert r.returncode == exitcodes.FINDING, r.stderr
    doc = json.loads(r.stdout)
    assert doc["models"][0]["changed"] == ["WeakMap.prototype.delete"]
    assert {(v["base"], v["head"]) for v in doc["verdicts"]} == {("PROVED", "VIOLATED")}


def test_the_verdict_cache_follows_what_a_property_says_not_its_file(tmp_path: Path) -> None:
    """A properties file's bytes do not cover the module it imports: with the helper changed,
    review served the old predicate's verdict from the disk cache (an independent review). The
    key now holds the predicate's term over the model, so the changed property is decided anew."""
    text = tmp_path / "spec"
    shutil.copytree(SHARED / "current", text)
    (tmp_path / "helper.py").write_text("def pred(prog, S):\n    return S.d.le(S.get('sp'), 3)\n")
    (tmp_path / "props.py").write_text(
        "import pathlib, sys\nsys.path.insert(0, str(pathlib.Path(__file__).parent))\n"
        "from helper import pred\nfrom specmc.proofs.properties import Property, register\n"
        "register(Property('mine', 'the stack stays low', 'sec-x', pred))\n")
    (tmp_path / "specmc.toml").write_text(
        '[[run]]\nhosts = ["ecma262"]\nproperties = ["mine"]\nproperties_files = ["props.py"]\n'
        'bounds = "objects=1,frames=3"\nengine = "explicit"\n')
    args = ["review", str(text), str(text), "--plan", str(tmp_path / "specmc.toml"), "--format", "json",
            "--certificates", str(tmp_path / "certs"), "--cache", str(tmp_path / "v")]
    first = _specmc(*args)
    (v,) = json.loads(first.stdout)["verdicts"]
    assert v["base"] == "PROVED", first.stderr
    (tmp_path / "helper.py").write_text("def pred(prog, S):\n    return S.d.le(S.get('sp'), 1)\n")
    second = _specmc(*args)
    (v,) = json.loads(second.stdout)["verdicts"]
    assert v["base"] == "VIOLATED" and "from the cache" not in second.stderr, second.stderr


def test_a_git_side_that_is_not_utf8_is_bad_input_not_a_finding(tmp_path, capsys):
    """Fifth review: a blob that is not UTF-8 ended `review --repo` in a UnicodeDecodeError
    traceback with exit 1 (for review: a verdict got worse). It is E002, exit 2, as on disk."""
    from specmc.spec.load import EMBEDDED

    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       check=True, capture_output=True)

    git("init", "-q")
    (repo / "spec.html").write_bytes(Path(EMBEDDED).read_bytes())
    git("add", "spec.html")
    git("commit", "-qm", "one")
    (repo / "spec.html").write_bytes(Path(EMBEDDED).read_bytes() + b"\xff\xfe")
    git("commit", "-qam", "two")
    rc = main(["review", "HEAD~1:spec.html", "HEAD:spec.html", "--repo", str(repo), "--host", "ecma262",
               "--property", "spec-asserts", "--no-cache"])
    err = capsys.readouterr().err
    assert rc == exitcodes.INPUT_ERROR and "E002" in err and "HEAD:spec.html" in err, err


def test_a_renamed_hook_is_a_head_that_cannot_be_built_with_a_located_reason(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Review 8: renaming HostEnqueueFinalizationRegistryCleanupJob (as ecma262 once renamed the
    hook) made the hook's job closure stand in for the renamed declaration; building HEAD's model
    for the review's ordering then failed with an unlocated arity error, exit 2 and no report.
    Now HEAD cannot be built, said at the step that calls the renamed hook, and the review
    reports it as not checked."""
    head = tmp_path / "head"
    shutil.copytree(SHARED / "current", head)
    for f in head.glob("*.html"):
        f.write_text(f.read_text().replace("HostEnqueueFinalizationRegistryCleanupJob",
                                           "HostEnqueueFinalizationRegistryJob"))
    (tmp_path / "specmc.toml").write_text(ONE_HOST)
    rc = main(["review", str(SHARED / "current"), str(head), "--plan", str(tmp_path / "specmc.toml"),
               "--no-cache", "--certificates", str(tmp_path / "c"), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc in (exitcodes.NOT_CHECKED, exitcodes.FINDING) and doc["checked"] is False
    [why] = [u["reason"] for u in doc["not_checked"] if u["side"] == "head" and "E062" in u["reason"]]
    assert "E062" in why and "'HostEnqueueFinalizationRegistryJob'" in why and "host-defined" in why, why
    call = next(i for i, line in enumerate((head / "finreg-excerpt.html").read_text().splitlines(), 1)
                if "perform HostEnqueueFinalizationRegistryJob(" in line)
    assert f"finreg-excerpt.html:{call}:" in why, why


def test_a_new_call_from_an_algorithm_the_model_never_runs_is_not_checked(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Review 8: a new `FinalizationRegistry.prototype.cleanupSome()` that runs
    CleanupFinalizationRegistry from user code left the model identical (its user code calls only
    the built-ins it knows), and the review passed with cleanup-only-from-job "PROVED -> PROVED".
    A change that makes an algorithm the model does not run call one it does is not checked."""
    head = tmp_path / "head"
    shutil.copytree(SHARED / "current", head)
    f = head / "finreg-excerpt.html"
    text = f.read_text()
    anchor = '<emu-clause oldids="sec-finalization-registry.prototype-@@tostringtag"'
    assert anchor in text
    f.write_text(text.replace(anchor, '''<emu-clause id="sec-finalization-registry.prototype.cleanupSome">
        <h1>FinalizationRegistry.prototype.cleanupSome ( )</h1>
        <p>This method performs the following steps when called:</p>
        <emu-alg>
          1. Let _finalizationRegistry_ be the *this* value.
          1. Perform ? RequireInternalSlot(_finalizationRegistry_, [[Cells]]).
          1. Perform ? CleanupFinalizationRegistry(_finalizationRegistry_).
          1. Return *undefined*.
        </emu-alg>
      </emu-clause>
      ''' + anchor, 1))
    (tmp_path / "specmc.toml").write_text(ONE_HOST)
    rc = main(["review", str(SHARED / "current"), str(head), "--plan", str(tmp_path / "specmc.toml"),
               "--no-cache", "--certificates", str(tmp_path / "c"), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == exitcodes.NOT_CHECKED and doc["checked"] is False and doc["model_identical"] is True
    [u] = [u for u in doc["not_run_at_these_bounds"] if u.get("algorithm")]
    assert u["algorithm"] == "FinalizationRegistry.prototype.cleanupSome"
    assert u["calls"] == ["CleanupFinalizationRegistry"] and "nothing checked" in u["reason"]


def test_a_change_no_reviewed_property_reads_is_not_checked(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture) -> None:
    """Review 8 (F7): reviewed for held-value-once alone, a change that makes unregister always
    answer false passed ("PROVED -> PROVED"), though nothing held-value-once reads is written by
    unregister; only stderr said so. The review is not checked, and says why; the same change
    reviewed for unregister-result is a finding."""
    head = tmp_path / "head"
    shutil.copytree(SHARED / "current", head)
    f = head / "finreg-excerpt.html"
    step = "              1. Set _removed_ to *true*.\n"
    text = f.read_text()
    assert text.count(step) == 1
    f.write_text(text.replace(step, "              <!-- 1. Set _removed_ to *true*. -->\n"))
    common = ["review", str(SHARED / "current"), str(head), "--host", "ecma262", "--bounds", "objects=1",
              "--engine", "explicit", "--no-cache", "--certificates", str(tmp_path / "c"), "--format", "json"]
    rc = main([*common, "--property", "held-value-once"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == exitcodes.NOT_CHECKED and doc["checked"] is False, doc
    [u] = [u for u in doc["not_run_at_these_bounds"] if u.get("properties")]
    assert u["algorithms"] == ["FinalizationRegistry.prototype.unregister"]
    assert "nothing checked" in u["reason"]
    assert main([*common, "--property", "unregister-result"]) == exitcodes.FINDING
