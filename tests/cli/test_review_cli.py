"""`specmc review` end to end: formats (JSON contract, Markdown, SARIF 2.1.0 checked against the
official schema, GitHub annotations on the changed lines), git revisions, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from proofs.cli import main
from proofs.plan import load_plan
from proofs.review import review
from proofs.review_report import render
from tests.proofs.test_review import PLAN, SHARED, hook_calls_cleanup_directly

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


def test_json_contract_and_exit_code(changed: dict) -> None:
    rc, text = changed["json"]
    assert rc == 1  # a verdict got worse
    doc = json.loads(text)
    assert {"changed_algorithms", "model_identical", "new_unknown_steps", "verdicts"} <= set(doc)
    assert doc["model_identical"] is False and doc["new_unknown_steps"] == []
    assert [c["name"] for c in doc["changed_algorithms"]] == ["HostEnqueueFinalizationRegistryCleanupJob"]
    worse = [v for v in doc["verdicts"] if v["worse"]]
    assert [(v["host"], v["property"], v["base"], v["head"]) for v in worse] == [
        ("ecma262", "cleanup-only-from-job", "PROVED", "VIOLATED")]
    assert worse[0]["trace"] and worse[0]["touched_steps"]
    for v in doc["verdicts"]:
        assert set(v) >= {"host", "property", "base", "head"}


def test_markdown_is_a_pull_request_comment(changed: dict) -> None:
    _, md = changed["markdown"]
    assert md.startswith("### specmc review")
    assert "| ecma262 | `cleanup-only-from-job` | PROVED | VIOLATED | ⚠️ worse |" in md
    assert "<details><summary>Counterexample: <code>cleanup-only-from-job</code>" in md
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
def test_sarif_validates_against_the_2_1_0_schema(changed: dict, engines_dir: Path) -> None:
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
    # the schema is strict enough to catch a broken region
    broken = json.loads(text)
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert not validator.is_valid(broken)


def test_github_annotations_point_at_the_changed_lines(changed: dict) -> None:
    _, text = changed["github"]
    lines = (changed["head"] / "finreg-excerpt.html").read_text(encoding="utf-8").splitlines()
    step = next(i for i, line in enumerate(lines, 1) if "1. Perform ? CleanupFinalizationRegistry" in line)
    notes = [a for a in text.splitlines() if a.startswith("::")]
    assert any(a.startswith("::warning file=") and f",line={step}," in a for a in notes)
    error = next(a for a in notes if a.startswith("::error"))
    assert f",line={step}," in error and "cleanup-only-from-job under ecma262%3A" not in error
    for a in notes:  # every annotation names a file and a line of the head text
        assert "finreg-excerpt.html" in a.split("::")[1]


def test_text_report_names_the_flip(changed: dict) -> None:
    _, text = changed["text"]
    assert "WORSE ecma262          cleanup-only-from-job        PROVED   -> VIOLATED" in text


def test_git_revisions_and_an_identical_model(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    shutil.copy(SHARED / "history" / "2022-04-20-ad096b3b" / "finreg-excerpt.html", repo / "spec.html")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    shutil.copy(SHARED / "history" / "2022-08-03-2d3ecadb" / "finreg-excerpt.html", repo / "spec.html")
    subprocess.run([*git, "commit", "-qam", "head (editorial)"], check=True)
    (tmp_path / "specmc.toml").write_text(ONE_HOST)
    rc = main(["review", "HEAD~1:spec.html", "HEAD:spec.html", "--repo", str(repo), "--plan",
               str(tmp_path / "specmc.toml"), "--format", "json", "--certificates", str(tmp_path / "c")])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert doc["model_identical"] is True
    assert all(v["base"] == v["head"] for v in doc["verdicts"])


@pytest.mark.parametrize("args,code", [
    (["HEAD~1:spec.html", "HEAD:spec.html"], "E081"),
    (["nope:spec.html", "HEAD:spec.html", "--repo", "."], "E080"),
    (["/does/not/exist", "/does/not/exist"], "E001"),
])
def test_bad_sides_are_input_errors(args: list[str], code: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["review", *args]) == 2
    assert code in capsys.readouterr().err
