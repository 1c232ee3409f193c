"""Bad input: a located message, never a traceback."""

from __future__ import annotations

import pytest
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import load_specs, load_text

GOOD = """<emu-clause id="sec-f" type="abstract operation">
  <h1>F ( _a_ )</h1>
  <emu-alg>
    1. Return _a_.
  </emu-alg>
</emu-clause>
"""


def error_of(text: str):
    with pytest.raises(SpecError) as e:
        load_text("bad.html", text)
    return e.value.diagnostics[0]


def test_truncated_text_names_the_unclosed_clause():
    d = error_of(GOOD[: GOOD.index("</emu-clause>")])
    assert d.code == "E010" and "emu-clause" in d.message
    assert (d.loc.line, d.loc.column) == (1, 1)


def test_stray_closing_tag():
    d = error_of(GOOD + "</emu-clause>\n")
    assert d.code == "E011" and d.loc.line == 7


def test_mismatched_tags():
    d = error_of(GOOD.replace("</h1>", "</dl>"))
    assert d.code == "E012" and d.loc.line == 2 and "h1" in d.message


def test_unfinished_tag():
    d = error_of(GOOD.replace("<h1>", "<h1 "))
    assert d.code == "E013" and d.loc.line == 2


def test_unknown_clause_id():
    with pytest.raises(SpecError) as e:
        load_text("ok.html", GOOD, clauses=["sec-nope"])
    assert e.value.diagnostics[0].code == "E030"


def test_text_before_first_step():
    d = error_of(GOOD.replace("    1. Return _a_.", "    Return _a_."))
    assert d.code == "E021" and d.loc.line == 4 and d.loc.clause == "sec-f"


def test_empty_binary_directory_missing(tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_text("  \n")
    binary = tmp_path / "bin.html"
    binary.write_bytes(b"<emu-clause>\x00\x01")
    latin = tmp_path / "latin.html"
    latin.write_bytes(b"\xff\xfe<p>")
    folder = tmp_path / "no-spec-here"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a spec")
    codes = []
    for p in (empty, binary, latin, folder, tmp_path / "missing.html"):
        with pytest.raises(SpecError) as e:
            load_specs([p])
        codes.append(e.value.diagnostics[0].code)
    assert codes == ["E003", "E002", "E002", "E004", "E001"]


def test_render_has_location_clause_step_and_caret():
    d = error_of(GOOD.replace("    1. Return _a_.", "    1. Return _a_.\n      1. X.\n     1. Y."))
    text = d.render()
    assert text.startswith("bad.html:6:6: error E020")
    assert "sec-f" in text and text.rstrip().endswith("^")
