"""One exception root, named diagnostic codes, and the caret rendering.

Every problem a user can cause (bad markup, bad indentation, an unknown clause,
a file that is not text) is a `Diagnostic` with a code from `CODES`; the CLI
prints them and exits 2. Nothing a user wrote should ever surface as a
traceback, so anything raised on bad input must be a `SpecError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from specmc.spec.source import Loc

# code -> (severity, one-line template). Templates use str.format fields.
CODES: dict[str, tuple[str, str]] = {
    "E001": ("error", "cannot read {path}: {reason}"),
    "E002": ("error", "{path} is not a text file (binary content at byte {offset})"),
    "E003": ("error", "{path} is empty"),
    "E004": ("error", "{path} is a directory with no .html/.emu files"),
    "E005": ("error", "spec text {path} is {how} {first}, given before it: a text read twice defines "
                      "every algorithm twice; give each text once"),
    "E010": ("error", "unclosed <{tag}>: opened here and never closed"),
    "E011": ("error", "unexpected </{tag}>: no open <{tag}> to close"),
    "E012": ("error", "</{tag}> closes <{open}> opened at line {line}"),
    "E013": ("error", "malformed tag: '<' is never closed by '>'"),
    "E020": ("error", "bad indentation: this step is indented to column {col}, "
                      "which matches no enclosing step (expected one of {expected})"),
    "E021": ("error", "text before the first step of the algorithm"),
    "E022": ("error", "empty step"),
    "E030": ("error", "no clause with id '{clause}' in {where}"),
    "E040": ("error", "unknown step in an algorithm the model needs: {text}"),
    "E050": ("error", "bound {key}={value} is out of range (allowed {lo}..{hi})"),
    "E051": ("error", "bound '{item}' is not of the form KEY=VALUE"),
    "E052": ("error", "unknown bound '{key}' (known: {known})"),
    "E053": ("error", "bound {key}={value} is not a whole number"),
    "E060": ("error", "unknown host profile '{name}' (known: {known})"),
    "E061": ("error", "unknown property '{name}' (known: {known})"),
    "E062": ("error", "the model needs algorithm '{name}', which the text does not define{hint}"),
    "E063": ("error", "{name} is called with {given} arguments but takes {takes}"),
    "E064": ("error", "the model cannot execute this step: {why}"),
    "E065": ("error", "{path} has no <emu-clause type=\"host profile\">"),
    "E066": ("error", "host profile option '{key}' is '{value}'; allowed: {allowed}"),
    "E070": ("error", "the plan is not valid TOML: {reason}"),
    "E071": ("error", "the plan has {what}"),
    "E072": ("error", "unknown plan key '{key}' (known: {known})"),
    "E073": ("error", "plan key '{key}' must be {want}, not {got}"),
    "E074": ("error", "unknown engine '{name}' (known: {known})"),
    "E075": ("error", "{key} must be {want}, not {value}"),
    "E076": ("error", "expected verdict '{value}' is not one of {known}"),
    "E080": ("error", "cannot read {what} from the git repository {repo}: {reason}"),
    "E081": ("error", "'{arg}' names a git revision (REV:path); give the repository with --repo PATH"),
    "E082": ("error", "--format {formats} writes several reports: give the folder for them with --out DIR"),
    "E083": ("error", "{path} is not ecmarkup: no <emu-clause>, <emu-annex> or <emu-alg> in it"),
    "E084": ("error", "{path} differs from {excerpt}, which its folder is read as (the excerpt holds "
                      "every clause file of the folder): edit the excerpt, or give the clause files "
                      "themselves"),
    "E085": ("error", "a second <emu-clause type=\"host profile\"> (the first is at line {line}): one "
                      "profile per file"),
    "E086": ("error", "host algorithm '{name}' is never used: it is neither an algorithm the model runs "
                      "nor one it calls{hint}"),
    "E087": ("error", "algorithm '{name}' is defined twice (first at {first}): the model would run one "
                      "of them and ignore the other"),
    "E088": ("error", "host profile option 'cleanup scheduling' has no effect: no algorithm the model runs "
                      "under this host calls {hook}; remove the option"),
    "E089": ("error", "bound weakmaps={n} needs the WeakMap built-ins ({names}), which the text does not "
                      "define: give a whole ECMA-262 spec.html with --spec, or weakmaps=0"),
    "E095": ("error", "bound weakmaps={n} is not modelled on the reference-counting host '{host}' yet: "
                      "its free path does not release a freed key's WeakMap entries (docs/model.md, "
                      "\"WeakMaps\"); check it on a tracing host, on quickjs-ng-0.12 or -0.13, "
                      "or with weakmaps=0"),
    "E096": ("error", "bound weaksets={n} needs the WeakSet built-ins ({names}), which the text does not "
                      "define: give a whole ECMA-262 spec.html with --spec, or weaksets=0"),
    "E097": ("error", "bound weaksets={n} is not modelled on the reference-counting host '{host}' yet: "
                      "its free path does not remove a freed value's WeakSet elements (docs/model.md, "
                      "\"WeakSets\"); check it on a tracing host, on quickjs-ng-0.12 or -0.13, "
                      "or with weaksets=0"),
    "E101": ("error", "a second <dl class=\"header\"> in a host profile (the profile's header is at line "
                      "{line}): options are read from that one header only, so these would be ignored"),
    "E102": ("error", "clause type '{type}' is not one a host profile file uses ({known})"),
    "E100": ("error", "the host profile's header has a comment that is never closed (<!-- without -->): "
                      "nothing after it is read"),
    "E098": ("error", "cannot write the report to the standard output: {reason}"),
    "E099": ("error", "host operation {name} runs at the end of a tracing collection; a "
                      "reference-counting profile has none (its frees run its free path)"),
    "E090": ("error", "unknown engine '{name}' (known: {known})"),
    "E091": ("error", "installing engine {engine} failed: {last}"),
    "E092": ("error", "cannot read witness {path}: {reason}"),
    "E093": ("error", "--timeout must be a positive number of seconds, not '{value}'"),
    "E094": ("error", "engine {engine} needs '{tool}', which is not on PATH"),
    "W100": ("warning", "<emu-alg> opened here is not closed; closed implicitly at line {line}"),
    "W101": ("warning", "misspelled keyword '{word}' read as '{meant}'"),
    "E054": ("error", "bound '{key}' is given twice ({first} and {second}); give each bound once"),
    "E067": ("error", "unknown host profile option '{key}'; the options are: {known}"),
    "E068": ("error", "the host profile does not give option '{key}'{why}; allowed values: {allowed}"),
    "E069": ("error", "host profile option '{key}' is given twice (first at line {line})"),
    "E077": ("error", "cannot write to {option} {path}: {reason}"),
    "E078": ("error", "properties file {path} cannot be loaded: {reason}"),
    "E079": ("error", "property '{name}' failed while being evaluated: {reason}"),
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    loc: Loc | None = None
    source_line: str = ""
    severity: str = "error"

    def render(self) -> str:
        where = f"{self.loc}: " if self.loc else ""
        head = f"{where}{self.severity} {self.code}: {self.message}"
        if self.loc is not None:
            cite = self.loc.cite()
            if cite:
                head += f"\n  in {cite}"
            if self.source_line:
                line = self.source_line.replace("\t", " ")
                caret = " " * max(self.loc.column - 1, 0) + "^"
                head += f"\n  | {line}\n  | {caret}"
        return head


def make(code: str, loc: Loc | None = None, source_line: str = "", **fields: object) -> Diagnostic:
    severity, template = CODES[code]
    return Diagnostic(code, template.format(**fields), loc, source_line, severity)


class SpecError(Exception):
    """Raised for bad input; carries one or more located diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))
