"""One file through the static engine: parse once, analyse, check, position, suppress."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable as Callable_, Dict, List, Optional, Sequence, Tuple

from speclint import rulebook, suppressions
from speclint.diagnostics import Diagnostic
from speclint.finding import Finding
from speclint.static import modules, positions, project_view
from speclint.static.checks import runner
from speclint.static.checks.base import CheckContext
from speclint.static.analyzer import ModuleAnalyzer
from speclint.static.syntax import source
from speclint.static.lazydefs import BodyRejected  # noqa: F401 - (the engine's)
from speclint.static.parse import Parsed, parse, parse_whole  # noqa: F401 - the engine parses through here
from libcst._nodes.internal import CodegenState


def _fix_nodes(finding: Finding) -> list:
    """The nodes a finding's fix edits (their positions are computed with the reported ones)."""
    return [node for node, _ in finding.fix.edits] if finding.fix is not None else []


def render(module, lines: List[str], stmt, new) -> str:
    """The code of a fix's new node, generated as if it stood where the old one is: continuation
    lines indented relative to the statement's indentation (`stmt`: its range), line breaks as
    the module writes them.  A string is used as it is."""
    if isinstance(new, str):
        return new
    state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
    if stmt is not None and 0 < stmt[0] <= len(lines):
        indent = lines[stmt[0] - 1][:stmt[1]]
        if indent and not indent.strip():
            state.indent_tokens = [indent]
    new._codegen(state)
    return "".join(state.tokens)


def _fix(finding: Finding, rng, ranges, spelt_here: bool = True, code_for=None) -> Optional[dict]:
    """The finding's fix as edits of source ranges (see Diagnostic.fix for the shape); None when
    it has none or a node it edits has no position in this file.  `spelt_here`: the finding is in
    the module analysed, whose imports spelt the fix (else only a plain renaming is kept)."""
    if finding.fix is not None:
        if not spelt_here:
            return None
        edits = []
        for node, new in finding.fix.edits:
            r = ranges.get(node)
            if r is None or code_for is None:
                return None
            content = code_for(node, new)
            edits.append({"line": r[0], "column": r[1] + 1, "end_line": r[2], "end_column": r[3] + 1,
                          "content": content})
        edits.sort(key=lambda e: (e["line"], e["column"]))
        return {"applicability": finding.fix.applicability, "message": finding.fix.message, "edits": edits}
    if finding.replacement is None:
        return None
    old = source(finding.at)
    return {"applicability": "safe", "message": f"Replace `{old}` with `{finding.replacement}`",
            "edits": [{"line": rng[0], "column": rng[1] + 1, "end_line": rng[2],
                       "end_column": rng[3] + 1, "content": finding.replacement}]}


@dataclass
class Outcome:
    diagnostics: List[Diagnostic]
    deps: Dict[str, str]  # other linted modules consulted: path -> sha256 of their content


def diagnose(parsed: Parsed, path: str, target: str, enabled: frozenset, *, file: Optional[str] = None,
             index=None, enabled_for: Optional[Callable_[[str], frozenset]] = None,
             show: Optional[Callable_[[str], str]] = None, all_modes: bool = False,
             users: Sequence[Tuple[str, bool]] = ()) -> Outcome:
    """Check one parsed file.  `path` is the path to report, `file` the real one (for the module
    index).  Findings inside an imported module of the run are reported at their own file (`show`
    gives its reported path), with that file's rules (`enabled_for`) and suppressions.  `users`:
    the modules of the project that use this file's model_fns (`speclint.project`); their analyses
    say how those run (project_view.py)."""
    module = parsed.module
    with modules.recording() as consulted:
        pview = project_view.view(file, parsed.data, users, index, target, all_modes, consulted)
        # a file with no project view of its own is analysed exactly as when it is another file's
        # user: one analysis per process serves both (project_view.shared_run / remember)
        shared = project_view.shared_run(file, parsed.data, index, target, all_modes) if pview is None else None
        if shared is not None:
            analyzer, findings = shared.an, shared.found
            for p, entry in shared.consulted.items():
                modules.record_into(consulted, p, entry)
        else:
            analyzer = ModuleAnalyzer(module, path=file, index=index, all_modes=all_modes,
                                      claimed=pview.claimed if pview is not None else frozenset()).analyze()
            ctx = CheckContext(target=target, module_run=analyzer.module_run)
            if pview is None and file is not None and index is not None:
                findings = runner.run(analyzer.spec_facts, ctx, set(book_codes()))
                project_view.remember(file, parsed.data, index, target, all_modes, analyzer, findings,
                                      dict(consulted))
            else:
                findings = runner.run(analyzer.spec_facts, ctx, set(enabled) | _foreign_codes(consulted, enabled_for))
    deps = {p: digest for p, (digest, _) in consulted.items()}
    book = rulebook.load()
    seen = set()
    unique = []
    for f in findings:
        rule = book[f.code]
        message = rule.message(f.variant, **f.params)
        key = (f.code, id(f.at), message)
        if key not in seen:
            seen.add(key)
            unique.append((f, rule, message))
    out: List[Diagnostic] = []
    module = analyzer.module  # (a shared analysis parsed the same bytes itself)
    ranges, stmts = positions.compute(module, [f.at for f, _, _ in unique] + [
        n for f, _, _ in unique for n in _fix_nodes(f)], parsed.tops) if unique else ({}, {})
    table = suppressions.parse(parsed.source())
    code_for = _code_for(module, parsed, stmts) if any(f.fix for f, _, _ in unique) else None
    out += _emit([u for u in unique if u[0].at in ranges and u[0].code in enabled], ranges, stmts, table, path,
                 code_for=code_for)
    if pview is not None and pview.findings:
        out = _dedup(out + _from_users(pview, book, table, path, enabled))
    rest = [u for u in unique if u[0].at not in ranges]  # inside imported modules
    for other, (_, lib) in consulted.items():
        if not rest or lib is None or not index.in_run(other):
            continue  # a module followed from disk but not linted in this run: not reported
        codes = enabled_for(other) if enabled_for is not None else enabled
        r, st = positions.compute(lib.module, [f.at for f, _, _ in rest])
        if not r:
            continue
        found = [u for u in rest if u[0].at in r]
        rest = [u for u in rest if u[0].at not in r]
        shown = show(other) if show is not None else other
        out += _emit([u for u in found if u[0].code in codes], r, st, suppressions.parse(lib.module.code), shown,
                     fixes=False)  # a fix is spelt for the module analysed, not for this one
    out += unused_suppressions(table, path, target, enabled)
    return Outcome(out, deps)


def _code_for(module, parsed, stmts):
    lines = _lines(parsed.source())
    return lambda node, new: render(module, lines, stmts.get(node), new)


def _lines(text: str) -> List[str]:
    import re

    return re.split(r"\r\n|\r|\n", text[1:] if text.startswith("\ufeff") else text)


def book_codes():
    return rulebook.load().by_code


def _from_users(seen, book, table, path: str, enabled: frozenset) -> List[Diagnostic]:
    """The findings located in this file that its users' analyses make (placed in the tree each
    user saw: the same source as the file checked)."""
    out: List[Diagnostic] = []
    by_lib: dict = {}
    for lib, f in seen.findings:
        if f.code in enabled:
            by_lib.setdefault(id(lib), (lib, []))[1].append(f)
    for lib, found in by_lib.values():
        unique, keys = [], set()
        for f in found:
            rule = book[f.code]
            message = rule.message(f.variant, **f.params)
            if (f.code, id(f.at), message) not in keys:
                keys.add((f.code, id(f.at), message))
                unique.append((f, rule, message))
        ranges, stmts = positions.compute(lib.module, [f.at for f, _, _ in unique])
        # no fixes: a user's analysis is not where this file's fixes are spelt (as for findings
        # reported inside other modules of a run)
        out += _emit([u for u in unique if u[0].at in ranges], ranges, stmts, table, path, fixes=False)
    return out


def _dedup(diags: List[Diagnostic]) -> List[Diagnostic]:
    seen, out = set(), []
    for d in diags:
        key = (d.path, d.line, d.column, d.end_line, d.end_column, d.code, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _foreign_codes(consulted, enabled_for) -> set:
    return set().union(*(enabled_for(p) for p in consulted)) if enabled_for and consulted else set()


def _emit(found, ranges, stmts, table, path, fixes: bool = True, code_for=None) -> List[Diagnostic]:
    out = []
    for f, rule, message in found:
        rng = ranges[f.at]
        stmt = stmts.get(f.at)
        lines = (rng[0],) if stmt is None or stmt[0] == rng[0] else (rng[0], stmt[0])
        sup = suppressions.find(table, lines, rule.code, rule.name)
        if sup is not None:
            sup.used = True
            continue
        out.append(Diagnostic(path, rng[0], rng[1] + 1, rng[2], rng[3] + 1, rule.code, rule.name,
                              rule.severity, message, "static", fix=_fix(f, rng, ranges, fixes, code_for)))
    return out


def unused_suppressions(table, path: str, target: str, enabled: frozenset) -> List[Diagnostic]:
    """SL100 for suppression comments that suppressed nothing, SL101 for blanket `# noqa`."""
    if not table or not ({"SL100", "SL101"} & enabled):
        return []
    book = rulebook.load()
    out = []
    for sups in table.values():
        for sup in sups:
            if sup.codes is None:
                if "SL101" in enabled and sup.kind == "noqa":
                    out.append(_meta(book["SL101"], "default", sup, path, dict(comment=sup.text)))
                continue
            if sup.used or "SL100" not in enabled:
                continue
            unused, unknown = [], []
            for code in sorted(sup.codes):
                rule = book.lookup(code)
                if rule is None:
                    if code.startswith("SL") or sup.kind == "speclint":
                        unknown.append(code)
                    continue  # another tool's code (`# noqa: E501`)
                if rule.code not in enabled or rule.code in ("SL000", "SL100", "SL101") \
                        or (target == "cpu" and rule.tpu_only):
                    continue  # cannot fire in this run: not evidence that it is unused
                unused.append(code)
            if unknown:
                out.append(_meta(book["SL100"], "unknown", sup, path, dict(
                    comment=sup.text, codes=", ".join(unknown))))
            elif unused and len(unused) == len([c for c in sup.codes if book.lookup(c) is not None]):
                out.append(_meta(book["SL100"], "default", sup, path, dict(
                    comment=sup.text, codes=", ".join(unused))))
            elif unused:
                out.append(_meta(book["SL100"], "partly", sup, path, dict(
                    comment=sup.text, codes=", ".join(unused))))
    return out


def _meta(rule, variant, sup, path, params) -> Diagnostic:
    return Diagnostic(path, sup.line, sup.column + 1, sup.line, sup.end_column + 1, rule.code,
                      rule.name, rule.severity, rule.message(variant, **params), "static")
