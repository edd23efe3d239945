"""`speclint explain` output: text for people, JSON (stable fields, see README) for tools."""
from __future__ import annotations

import json
import textwrap
from typing import List, Optional

from speclint.explain.core import Explanation, ErrorReading, Place, Report

JSON_VERSION = 1
_WIDTH = 100


def _wrap(text: str, indent: str) -> List[str]:
    return textwrap.wrap(text, _WIDTH, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False) or [indent.rstrip()]


def _error_line(f: ErrorReading) -> str:
    msg = f.event.message.strip()
    first = msg.split("\n", 1)[0]
    if len(first) > 400:
        first = first[:397] + "..."
    more = " [...]" if "\n" in msg else ""
    if f.event.exc_type:
        return f"{f.event.exc_type}: {first}{more}" if first else f.event.exc_type
    return first + more


def _evidence(e: Explanation, has_traceback: bool) -> str:
    if e.evidence == "traceback":
        return f"TF raised it in {_function(e.via)}, on the traceback."
    if e.evidence == "clue":
        return f"the message names it: {e.via}"
    if e.stage == "log":
        return "TF's log: a warning; nothing was raised."
    return "TF's message." if has_traceback else "TF's message (no traceback pasted)."


def _function(within: str) -> str:
    """`file.py:func` -> `func (file.py)`; `func` stays."""
    file, _, func = within.rpartition(":")
    return f"{func} ({file})" if file else func


def _title(e: Explanation) -> str:
    if e.code:
        flags = ", TPU only" if e.tpu_only else ""
        return f"{e.code} [{e.name}] ({e.severity}{flags}): {e.summary}"
    if e.checked_by:
        return (f"[{e.name}]: a known TPUEstimator mistake without a rule of its own yet; speclint check "
                f"reports it as {e.checked_by} today.")
    return f"[{e.name}]: a known TPUEstimator mistake; speclint has no static rule for it yet."


def _place_lines(p: Place, label: str) -> List[str]:
    f = p.frame
    where = f.path if p.located is None else p.located.path
    out = [f"{label}{where}:{f.line if f.line else '?'}, in {f.function}"]
    if p.located is not None and p.located.stale:
        out.append(f"    (the file here has changed since: line {f.line} now reads `{p.located.text}`)")
    text = (p.located.text if p.located is not None and not p.located.stale else None) or f.source
    if text:
        out.append(f"  {f.line if f.line else '':>6} | {text}")
    if p.located is None and f.path and not f.path.startswith("<") and not f.path.startswith("Cell In"):
        out.append("    (not found on this machine, nor under the current directory)")
    return out


def _finding_text(f: ErrorReading, index: int, total: int) -> List[str]:
    out = []
    head = f"TensorFlow's error (input line {f.event.input_line}):"
    if total > 1:
        head = f"[{index}/{total}] " + head
    out.append(head)
    out += _wrap(_error_line(f), "  ")
    out.append("")
    has_tb = bool(f.event.frames)
    if not f.explained:
        if f.needs_traceback:
            names = ", ".join(f"{e.key} [{e.name}]" if e.code else f"[{e.name}]" for e in f.needs_traceback)
            where = "; ".join(f"{e.key}: " + " or ".join(_function(w) for w in e.within) for e in f.needs_traceback)
            out += _wrap(f"Not explained from this text alone: TensorFlow and Python raise this message in "
                         f"other places too. It is {names} if the traceback shows TF raised it in ({where}); "
                         f"paste the whole traceback.", "")
        else:
            out += _wrap("Not explained: no speclint rule covers this error. It is not one of the "
                         "EstimatorSpec / TPUEstimatorSpec misuses speclint knows TensorFlow's messages for "
                         "(see `speclint rules`).", "")
    elif len(f.explanations) == 1:
        e = f.explanations[0]
        out += _wrap("Explained by " + _title(e), "")
        out += _wrap("Why: " + e.why, "  ")
        out += _wrap("Look for: " + e.look_for, "  ")
        out += _wrap("Evidence: " + _evidence(e, has_tb), "  ")
    else:
        hint = not has_tb and any(e.decidable for e in f.explanations)
        out += _wrap("Several rules can explain this message; most likely first"
                     + (" (the whole traceback would tell them apart)" if hint else "") + ":", "")
        for i, e in enumerate(f.explanations, 1):
            mark = " (speclint check confirms it)" if e.confirmed else ""
            out += _wrap(f"{i}. " + _title(e) + mark, "  ")
            out += _wrap("Why: " + e.why, "     ")
            out += _wrap("Look for: " + e.look_for, "     ")
            out += _wrap("Evidence: " + _evidence(e, has_tb), "     ")
    where: List[str] = []
    if f.place is not None:
        where += _place_lines(f.place, "Your code (innermost frame of your code on the traceback): ")
    elif f.event.frames:
        where.append("Your code: no frame of your code on the traceback (only TF, Keras, absl and installed packages).")
    for p in f.op_places:
        where += _place_lines(p, f"TF names op '{p.op}'; your code created it at ")
    if where:
        out += [""] + where
    if f.explained:
        out.append("")
        codes = list(dict.fromkeys(e.code or e.checked_by for e in f.explanations if e.code or e.checked_by))
        if f.checked:
            out.append(f"speclint check ({', '.join(codes)}) on {', '.join(f.checked)}:")
            if f.diagnostics:
                for d in f.diagnostics:
                    out += _wrap(f"{d.path}:{d.line}:{d.column}: {d.code} [{d.name}] {d.message}", "  ")
                    if d.fix and d.fix.get("message"):
                        out += _wrap(f"fix: {d.fix['message']}", "    ")
            else:
                out += _wrap(f"no {' / '.join(codes)} diagnostic in these files: the static engine does not "
                             "see this case here; look for what is described above.", "  ")
        elif f.check_note:
            out += _wrap(f"speclint check not run: {f.check_note}.", "")
        refs = [f"speclint rule {c}" for c in codes]
        if refs:
            out.append("More: " + ", ".join(refs))
    return out


def text(report: Report) -> str:
    if report.empty:
        return "speclint explain: the input is empty; paste a traceback, an error line or a log.\n"
    if not report.findings:
        return ("Not explained: the input holds no error (no traceback, no exception line, no log record "
                "speclint knows).\n")
    out: List[str] = []
    for i, f in enumerate(report.findings, 1):
        if i > 1:
            out += ["", "-" * 40, ""]
        out += _finding_text(f, i, len(report.findings))
    return "\n".join(out).rstrip() + "\n"


def _frame_json(p: Optional[Place]) -> Optional[dict]:
    if p is None:
        return None
    f = p.frame
    return {
        "path": f.path, "line": f.line, "function": f.function, "source": f.source,
        "local_path": p.located.path if p.located else None,
        "local_source": p.located.text if p.located and not p.located.stale else None,
        "changed": bool(p.located and p.located.stale),
        **({"op": p.op} if p.op is not None else {}),
    }


def _explanation_json(e: Explanation, rank: int) -> dict:
    return {
        "rank": rank, "code": e.code, "name": e.name, "has_rule": e.code is not None,
        "severity": e.severity or None, "tpu_only": e.tpu_only, "summary": e.summary or None,
        "why": e.why, "look_for": e.look_for, "evidence": e.evidence, "via": e.via or None,
        "confirmed": e.confirmed, "url": e.url, "checked_by": e.checked_by, "stage": e.stage,
    }


def as_json(report: Report) -> str:
    errors = []
    for f in report.findings:
        errors.append({
            "type": f.event.exc_type, "message": f.event.message, "input_line": f.event.input_line,
            "source": f.event.kind, "explained": f.explained,
            "candidates": [_explanation_json(e, i) for i, e in enumerate(f.explanations, 1)],
            "needs_traceback": [{"code": e.code, "name": e.name, "within": list(e.within)} for e in f.needs_traceback],
            "frame": _frame_json(f.place),
            "op_frames": [_frame_json(p) for p in f.op_places],
            "checked_files": f.checked,
            "diagnostics": [d.to_json() for d in f.diagnostics],
            "check_note": f.check_note or None,
        })
    return json.dumps({"version": JSON_VERSION, "explained": report.explained, "errors": errors}, indent=2) + "\n"
