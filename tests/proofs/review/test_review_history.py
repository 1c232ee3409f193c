"""`specmc review BASE HEAD --repo DIR` on the real git history of spec.html (issue 16, part 4).

`../shared/ecma262/git/spec-history.bundle` holds tc39/ecma262's spec.html from 2020-01-02 to
2025-11-04 (1,292 commits, hashes rewritten; commit-map.tsv maps them to upstream). The commits
that touch the WeakRef/FinalizationRegistry clauses are found by diffing those clauses' texts
between each commit and its parent (never listed by hand), and each is reviewed against its
parent with the small plan below:

- no crash: the exit code is 0, 1 or 4, never 2 (bad input) or 3 (internal error);
- no "not checked" where the model can be built on both sides;
- the Markdown report fits a pull-request comment (at most 60,000 characters);
- an editorial or markup commit leaves the model identical, a normative or layering one changes
  it or changes a clause the model builds in (reported as "hand-modelled clause changed"),
  except the commits in EXCEPTIONS, each explained in docs/review-history.md.

Kinds come from ../shared/ecma262/history/INDEX.md (its appendix lists every commit whose
clause text changed), else from the subject's prefix.

The sweep reviews all of them (43 commits) in CI's slow step; docs/review-history.md gives its
time.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from specmc.proofs import exitcodes
from specmc.proofs.cli import main
from specmc.proofs.report.review import MARKDOWN_LIMIT, render
from specmc.proofs.review.hand import clause_texts
from specmc.proofs.review.review import Review, review
from specmc.proofs.run.plan import load_plan

from tests.conftest import SHARED

BUNDLE = SHARED / "git" / "spec-history.bundle"

# the WeakRef / FinalizationRegistry clauses (whole text, nested clauses included), the job
# callback operations the registry calls (nested in sec-jobs), and sec-jobs' own prose, which the
# model builds in
WEAKREF_CLAUSES = ("sec-weak-ref-objects", "sec-finalization-registry-objects",
                   "sec-weakref-processing-model",
                   "sec-addtokeptobjects", "sec-clear-kept-objects", "sec-cleanup-finalization-registry",
                   "sec-canbeheldweakly", "sec-keyforsymbol",
                   "sec-jobcallback-records", "sec-hostmakejobcallback", "sec-hostcalljobcallback")
PROSE_CLAUSES = ("sec-jobs",)

PLAN = """
[[run]]
name = "history"
spec = ["embedded"]
hosts = ["ecma262", "quickjs-ng-0.5"]
properties = ["cleanup-only-from-job"]
bounds = "objects=1,cells=1,frames=6,jobs=1"
engine = "explicit"
timeout = 600
"""

# upstream commit -> why it does not follow the rule for its kind (docs/review-history.md)
EXCEPTIONS = {
    "d4069b34": "editorial, but binds _cell_ in Execution and declares _callback_ in cleanup: the "
                "model changed (before it, the ecma262 model cannot be built)",
    "4fde5142": "editorial, but HostMakeJobCallback's `Assert: IsCallable(_callback_)` moves into the "
                "parameter's type, which the model does not read as an assertion: the model changed",
    "7575f745": "editorial, but CleanupFinalizationRegistry and the cleanup job return ~unused~ where "
                "they returned NormalCompletion(~empty~): the model changed",
    "1cad710b": "normative, but only WeakRef.prototype.constructor's attributes: no step the model runs",
    "71c08971": "normative: the merge; BASE has no WeakRef clauses, so there is no BASE model to compare",
    "c5950209": "layering (Promise jobs): sec-jobs' prose changed but only about HostEnqueuePromiseJob, "
                "before the WeakRef clauses existed: no model on either side",
}
@dataclass(frozen=True)
class Touch:
    upstream: str  # first 8 hex digits, as INDEX.md and the README name it
    commit: str  # in the bundle
    parent: str
    clauses: tuple[str, ...]  # the clauses whose text differs from the parent's
    kind: str  # Normative, Layering, Editorial, Markup, Meta


def _upstream(repo: Path) -> dict[str, str]:
    rows = (SHARED / "git" / "commit-map.tsv").read_text().splitlines()[1:]
    return {b: u[:8] for u, b in (r.split("\t") for r in rows)}


def _index_kinds() -> dict[str, str]:
    """sha -> kind, from INDEX.md (the main table's kind; the appendix's subject prefix)."""
    main, _, appendix = (SHARED / "history" / "INDEX.md").read_text().partition("\n## Appendix")
    kinds: dict[str, str] = {}
    for sha, kind in re.findall(r"^\| [0-9-]+ \| `([0-9a-f]{8})` \| [^|]* \| ([^|]+) \|", main, re.M):
        kinds.setdefault(sha, kind.strip().split()[0])
    # the appendix's fourth column lists clauses, not a kind: only its subject is read
    for sha, subject in re.findall(r"^\| [0-9-]+ \| `([0-9a-f]{8})` \| ([^|]*) \|", appendix, re.M):
        kinds.setdefault(sha, subject.split(":")[0].strip())
    return kinds


_TAG = re.compile(r"<(/?)emu-clause\b")


def _span(text: str, cid: str) -> str | None:
    """The clause's whole text, nested clauses included (None if the text has no such clause)."""
    start = text.find(f'<emu-clause id="{cid}"')
    if start < 0:
        return None
    depth = 0
    for m in _TAG.finditer(text, start):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return text[start:text.find(">", m.end()) + 1]
    return None


def _extract(text: str) -> dict[str, str]:
    out = {cid: span for cid in WEAKREF_CLAUSES if (span := _span(text, cid)) is not None}
    for cid in PROSE_CLAUSES:  # only the clause's own prose, read as the review reads it
        span = _span(text, cid)
        if span is not None:
            for got, c in clause_texts(span, "spec.html", {cid}, {cid}).items():
                out[got] = " ".join(t for _, t in c.lines)
    return out


def touching(repo: Path) -> list[Touch]:
    """Every commit whose WeakRef/FinalizationRegistry clause text (or sec-jobs' prose) differs
    from its parent's, oldest first: one `git cat-file --batch` over each commit's old and new
    blob of spec.html."""
    log = subprocess.run(["git", "-C", str(repo), "log", "--reverse", "--format=%H %P%x09%s", "--raw",
                          "--no-abbrev", "--", "spec.html"],
                         capture_output=True, text=True, check=True).stdout
    pairs: list[tuple[str, str, str, str, str]] = []
    head: tuple[str, str, str] = ("", "", "")
    for line in log.splitlines():
        if line.startswith(":"):
            f = line.split()
            pairs.append((*head, f[2], f[3]))
        elif line.strip():
            shas, _, subject = line.partition("\t")
            ids = shas.split()
            head = (ids[0], ids[1] if len(ids) > 1 else "", subject)
    cat = subprocess.Popen(["git", "-C", str(repo), "cat-file", "--batch"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)
    assert cat.stdin is not None and cat.stdout is not None
    seen: dict[str, dict[str, str]] = {}

    def clauses(blob: str) -> dict[str, str]:
        if set(blob) == {"0"}:
            return {}
        if blob not in seen:
            cat.stdin.write(f"{blob}\n".encode())
            cat.stdin.flush()
            size = int(cat.stdout.readline().split()[2])
            data = cat.stdout.read(size)
            cat.stdout.read(1)
            seen.clear()  # the history is linear: only the parent's is needed again
            seen[blob] = _extract(data.decode("utf-8"))
        return seen[blob]

    upstream, kinds = _upstream(repo), _index_kinds()
    out = []
    try:
        for commit, parent, subject, old, new in pairs:
            a, b = clauses(old), clauses(new)
            changed = tuple(sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k)))
            if changed and parent:
                up = upstream[commit]
                out.append(Touch(up, commit, parent, changed, kinds.get(up, subject.split(":")[0].strip())))
    finally:
        cat.stdin.close()
        cat.wait()
    return out


# -------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("ecma262") / "ecma262"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(BUNDLE), str(dest)], check=True)
    return dest


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory):
    p = tmp_path_factory.mktemp("plan") / "specmc.toml"
    p.write_text(PLAN)
    return load_plan(str(p))


def _by_upstream(repo: Path, wanted: tuple[str, ...]) -> list[Touch]:
    """The commits of `wanted` (upstream short hashes), with their parents and kinds, without the
    full discovery sweep (the slow test checks that discovery finds them)."""
    rows = (SHARED / "git" / "commit-map.tsv").read_text().splitlines()[1:]
    bundle = {u[:8]: b for u, b in (r.split("\t") for r in rows)}
    kinds = _index_kinds()
    out = []
    for up in wanted:
        commit = bundle[up]
        parent = subprocess.run(["git", "-C", str(repo), "rev-parse", f"{commit}^"], capture_output=True,
                                text=True, check=True).stdout.strip()
        out.append(Touch(up, commit, parent, (), kinds[up]))
    return out


def check_pair(t: Touch, r: Review) -> list[str]:
    """What is wrong with this pair's review (an empty list when nothing is)."""
    problems = []
    if r.exit_code() not in (exitcodes.OK, exitcodes.FINDING, exitcodes.NOT_CHECKED):
        problems.append(f"exit {r.exit_code()}")
    # the comment a pull request would get: GitHub holds 65,536 characters; whole-file pairs once
    # reached 272 KB of notices (issue 16)
    size = len(render(r, "markdown"))
    if size > MARKDOWN_LIMIT:
        problems.append(f"the Markdown report has {size:,} characters (limit {MARKDOWN_LIMIT:,})")
    for m in r.models:
        if not m.base_error and not m.head_error:
            bad = [v for v in r.verdicts if v.host == m.host and v.not_checked
                   and not any(o.reason.startswith("the model cannot be built") for o in (v.base, v.head))]
            if bad:
                problems.append(f"not checked under {m.host} although both models exist: {bad[0]}")
    if t.upstream in EXCEPTIONS:
        return problems
    if t.kind in ("Editorial", "Markup") and not r.model_identical:
        problems.append(f"{t.kind} but the model changed: {[m.changed for m in r.models]}")
    if t.kind in ("Normative", "Layering") and r.model_identical and not r.hand_changed:
        problems.append(f"{t.kind} but neither the model nor a hand-modelled clause changed")
    return problems


def _review(repo: Path, t: Touch, plan, cache: dict, certs: Path) -> Review:
    return review(f"{t.parent}:spec.html", f"{t.commit}:spec.html", plan, repo=str(repo),
                  certificates=str(certs), cache=cache)


# ----------------------------------------------------------------------------------- tests


@pytest.mark.slow
def test_the_command_line_reviews_git_revisions(repo: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    [t] = _by_upstream(repo, ("4154ec05",))
    (tmp_path / "specmc.toml").write_text(PLAN)
    args = ["review", f"{t.parent}:spec.html", f"{t.commit}:spec.html", "--repo", str(repo),
            "--host", "ecma262", "--plan", str(tmp_path / "specmc.toml"), "--format", "markdown",
            "--certificates", str(tmp_path / "certs")]
    rc = main(args)
    out = capsys.readouterr().out
    assert rc == exitcodes.OK, out
    assert "model identical" in out and len(out) <= 60_000
    # the commit also rewrote the general IsCallable, SameValue and RequireInternalSlot, which the
    # model replaces by its own meaning: a warning, and a finding under --strict
    assert "`sec-samevalue` (SameValue), changed at `" in out
    assert main([*args, "--strict"]) == exitcodes.FINDING
    capsys.readouterr()
    # a revision the repository does not have is bad input, located
    rc = main(["review", "nonexistent:spec.html", f"{t.commit}:spec.html", "--repo", str(repo)])
    assert rc == exitcodes.INPUT_ERROR and "E080" in capsys.readouterr().err


@pytest.mark.slow
def test_every_commit_that_touches_the_weakref_clauses(repo: Path, plan, tmp_path: Path) -> None:
    found = touching(repo)
    ups = [t.upstream for t in found]
    # the merge, the commits that make the model change although editorial, the job callback
    # operations nested in sec-jobs (4069869e adds them, 4fde5142 edits only HostMakeJobCallback),
    # sec-jobs' own prose before the merge (c5950209) and after it (3330e231)
    assert {"71c08971", "d4069b34", "7575f745", "6e70bb69", "4069869e", "4fde5142", "c5950209",
            "3330e231", "06357938", "61f79507", "0090daff", "4154ec05", "1cad710b"} <= set(ups)
    assert len(found) == len(set(ups)) == 43
    cache: dict = {}
    problems = {}
    for t in found:
        r = _review(repo, t, plan, cache, tmp_path)
        if check_pair(t, r):
            problems[t.upstream] = (t.kind, t.clauses, check_pair(t, r))
        if t.upstream == "3330e231":  # per-agent jobs: prose the model builds in
            assert r.model_identical and [h.clause for h in r.hand_changed] == ["sec-jobs"]
        if t.upstream == "06357938":
            assert not r.model_identical
    assert not problems, problems
