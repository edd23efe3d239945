"""One file through the static engine: parse once, analyse, check, position, suppress."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import libcst as cst

from speclint import rulebook, suppressions
from speclint.diagnostics import Diagnostic
from speclint.static import checks, positions
from speclint.static.analyzer import ModuleAnalyzer


@dataclass
class Parsed:
    module: Optional[cst.Module]
    error: Optional[str] = None
    error_range: Tuple[int, int, int, int] = (1, 0, 1, 0)


def parse(data: bytes) -> Parsed:
    try:
        return Parsed(cst.parse_module(data))
    except cst.ParserSyntaxError as exc:
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


def diagnose(parsed: Parsed, path: str, target: str, enabled: frozenset) -> List[Diagnostic]:
    module = parsed.module
    analyzer = ModuleAnalyzer(module).analyze()
    ctx = checks.CheckContext(target=target, module_run=analyzer.module_run)
    findings = checks.run(analyzer.spec_facts, ctx, set(enabled))
    findings = [f for f in findings if f.code in enabled]
    if not findings:
        return []
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
    ranges, stmts = positions.compute(module, [f.node for f, _, _ in unique])
    source = module.code
    table = suppressions.parse(source)
    out = []
    for f, rule, message in unique:
        rng = ranges.get(f.node, (1, 0, 1, 0))
        stmt = stmts.get(f.node)
        lines = (rng[0],) if stmt is None or stmt[0] == rng[0] else (rng[0], stmt[0])
        sup = suppressions.find(table, lines, rule.code, rule.name)
        if sup is not None:
            sup.used = True
            continue
        out.append(Diagnostic(path, rng[0], rng[1] + 1, rng[2], rng[3] + 1, rule.code, rule.name,
                              rule.severity, message, "static", fix=_fix(f, rng)))
    return out
