"""One file through the static engine: parse once, analyse, check, position, suppress."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable as Callable_, Dict, List, Optional, Tuple

import libcst as cst

from speclint import rulebook, suppressions
from speclint.diagnostics import Diagnostic
from speclint.static import checks, modules, positions, safeparse
from speclint.static.analyzer import ModuleAnalyzer


@dataclass
class Parsed:
    module: Optional[cst.Module]
    error: Optional[str] = None
    error_range: Tuple[int, int, int, int] = (1, 0, 1, 0)
    data: bytes = b""  # the bytes parsed (for the source text, without regenerating it)

    def source(self) -> str:
        """The module's text.  `module.code` regenerates it from the tree (0.05 s for 1,000
        lines); decoding the parsed bytes gives the same text."""
        try:
            text = self.data.decode(self.module.encoding)
        except (UnicodeDecodeError, LookupError, AttributeError):
            return self.module.code
        return text[1:] if text.startswith("\ufeff") else text


def parse(data: bytes) -> Parsed:
    reason = safeparse.too_deep(data)
    if reason is not None:
        return Parsed(None, reason)
    parsed = _parse(data)
    if parsed.error is not None and parsed.error.startswith("syntax error") and b"\f" in data:
        # libcst rejects a form feed in indentation ("no matching outer block for dedent"), which
        # Python accepts (it resets the column); retry with those form feeds removed.
        retry = _parse(safeparse.without_indent_formfeeds(data))
        if retry.error is None:
            return retry
    return parsed


def _parse(data: bytes) -> Parsed:
    try:
        return Parsed(safeparse.run_with_big_stack(cst.parse_module, data), data=data)
    except cst.ParserSyntaxError as exc:
        cpython = safeparse.cpython_syntax_error(data)  # Python's own words and position, if it agrees
        if cpython is not None:
            return Parsed(None, "syntax error: " + cpython[0], cpython[1])
        line = max(exc.raw_line, 1)
        col = max(exc.raw_column, 0)
        return Parsed(None, "syntax error: " + exc.message.splitlines()[0], (line, col, line, col))
    except (UnicodeDecodeError, LookupError, SyntaxError) as exc:
        return Parsed(None, f"cannot decode the file ({exc})")
    except RecursionError:
        return Parsed(None, "the code is nested too deeply to parse")
    except Exception as exc:  # noqa: BLE001 - libcst raises odd errors on odd input
        return Parsed(None, f"cannot parse the file ({type(exc).__name__}: {exc})")


def _fix(finding, rng) -> Optional[dict]:
    """A safe fix that replaces the reported node (see Diagnostic.fix for the shape)."""
    if finding.replacement is None:
        return None
    old = checks.source(finding.node)
    return {"applicability": "safe", "message": f"Replace `{old}` with `{finding.replacement}`",
            "edits": [{"line": rng[0], "column": rng[1] + 1, "end_line": rng[2],
                       "end_column": rng[3] + 1, "content": finding.replacement}]}


@dataclass
class Outcome:
    diagnostics: List[Diagnostic]
    deps: Dict[str, str]  # other linted modules consulted: path -> sha256 of their content


def diagnose(parsed: Parsed, path: str, target: str, enabled: frozenset, *, file: Optional[str] = None,
             index=None, enabled_for: Optional[Callable_[[str], frozenset]] = None,
             show: Optional[Callable_[[str], str]] = None) -> Outcome:
    """Check one parsed file.  `path` is the path to report, `file` the real one (for the module
    index).  Findings inside an imported module of the run are reported at their own file (`show`
    gives its reported path), with that file's rules (`enabled_for`) and suppressions."""
    module = parsed.module
    with modules.recording() as consulted:
        analyzer = ModuleAnalyzer(module, path=file, index=index).analyze()
        ctx = checks.CheckContext(target=target, module_run=analyzer.module_run)
        findings = checks.run(analyzer.spec_facts, ctx, set(enabled) | _foreign_codes(consulted, enabled_for))
    deps = {p: digest for p, (digest, _) in consulted.items()}
    book = rulebook.load()
    seen = set()
    unique = []
    for f in findings:
        rule = book[f.code]
        message = rule.message(f.variant, **f.params)
        key = (f.code, id(f.node), message)
        if key not in seen:
            seen.add(key)
            unique.append((f, rule, message))
    out: List[Diagnostic] = []
    ranges, stmts = positions.compute(module, [f.node for f, _, _ in unique]) if unique else ({}, {})
    table = suppressions.parse(parsed.source())
    out += _emit([u for u in unique if u[0].node in ranges and u[0].code in enabled], ranges, stmts, table, path)
    rest = [u for u in unique if u[0].node not in ranges]  # inside imported modules
    for other, (_, lib) in consulted.items():
        if not rest or lib is None or not index.in_run(other):
            continue  # a module followed from disk but not linted in this run: not reported
        codes = enabled_for(other) if enabled_for is not None else enabled
        r, st = positions.compute(lib.module, [f.node for f, _, _ in rest])
        if not r:
            continue
        found = [u for u in rest if u[0].node in r]
        rest = [u for u in rest if u[0].node not in r]
        shown = show(other) if show is not None else other
        out += _emit([u for u in found if u[0].code in codes], r, st, suppressions.parse(lib.module.code), shown)
    out += unused_suppressions(table, path, target, enabled)
    return Outcome(out, deps)


def _foreign_codes(consulted, enabled_for) -> set:
    return set().union(*(enabled_for(p) for p in consulted)) if enabled_for and consulted else set()


def _emit(found, ranges, stmts, table, path) -> List[Diagnostic]:
    out = []
    for f, rule, message in found:
        rng = ranges[f.node]
        stmt = stmts.get(f.node)
        lines = (rng[0],) if stmt is None or stmt[0] == rng[0] else (rng[0], stmt[0])
        sup = suppressions.find(table, lines, rule.code, rule.name)
        if sup is not None:
            sup.used = True
            continue
        out.append(Diagnostic(path, rng[0], rng[1] + 1, rng[2], rng[3] + 1, rule.code, rule.name,
                              rule.severity, message, "static", fix=_fix(f, rng)))
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
