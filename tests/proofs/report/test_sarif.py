"""The one SARIF writer (proofs/report/sarif.py) that check and review reports both go through."""

from __future__ import annotations

import json
from pathlib import Path

from specmc.proofs.report import sarif
from specmc.proofs.report.check import render
from specmc.proofs.run.check import Report


def test_a_location_counts_lines_and_columns_from_one():
    """SARIF rejects line 0; a step located nowhere better points at the first line."""
    assert sarif.location("a.html", 0) == {
        "physicalLocation": {"artifactLocation": {"uri": "a.html"}, "region": {"startLine": 1}}}
    region = sarif.location("a.html", 7, 0)["physicalLocation"]["region"]
    assert region == {"startLine": 7, "startColumn": 1}


def test_a_code_flow_keeps_steps_that_have_no_place_in_a_file():
    """An action of the environment has no line, but it is a step of the counterexample all the same."""
    (flow,) = sarif.code_flows([(sarif.location("a.html", 3), "step 1"), (None, "the collector runs")])
    first, second = flow["threadFlows"][0]["locations"]
    assert first["location"]["physicalLocation"]["region"]["startLine"] == 3
    assert first["location"]["message"] == {"text": "step 1"}
    assert second == {"location": {"message": {"text": "the collector runs"}}}


def test_the_document_is_utf8_json_with_rules_and_results():
    text = sarif.document([{"id": "r"}], [{"ruleId": "r", "message": {"text": "« x »"}}],
                          information_uri="https://example.org/specmc")
    assert "« x »" in text  # spec text quoted as it is, not as \u00ab escapes
    doc = json.loads(text)
    assert doc["$schema"] == sarif.SCHEMA and doc["version"] == "2.1.0"
    (run,) = doc["runs"]
    assert run["tool"]["driver"] == {"name": "specmc", "informationUri": "https://example.org/specmc",
                                     "rules": [{"id": "r"}]}
    assert run["results"][0]["ruleId"] == "r"
    assert "informationUri" not in json.loads(sarif.document([], []))["runs"][0]["tool"]["driver"]


def test_a_file_below_the_working_folder_is_named_relative_to_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec").mkdir()
    assert sarif.artifact_uri(str(tmp_path / "spec" / "a.html")) == "spec/a.html"
    outside = Path("/").resolve() / "elsewhere.html"
    assert sarif.artifact_uri(str(outside)) == outside.as_uri()


def test_a_check_report_is_written_by_it():
    """An empty report still names every catalogue property as a rule, through the same envelope."""
    doc = json.loads(render(Report("plan.toml", ()), "sarif"))
    assert doc["$schema"] == sarif.SCHEMA and doc["runs"][0]["results"] == []
    rules = [r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]]
    assert "cleanup-not-on-free-stack" in rules and rules[-1] == "stale-expectation"
