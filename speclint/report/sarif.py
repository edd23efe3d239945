"""SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

One run; `tool.driver` lists every rule that fired with its documentation; each result has a
repository-relative URI (against `%SRCROOT%`), a full region (1-based, end column exclusive,
code-point columns: `columnKind` says so) and a `primaryLocationLineHash` partial fingerprint
that depends on the rule, the file, the text of the flagged line and expression and the number of
identical findings before it in the file, so it does not change when unrelated lines move.
"""
from __future__ import annotations

import json
import re

from speclint import __version__, rulebook
from speclint.report import fingerprint
from speclint.report.paths import relative_to_root, repository_root
from speclint.report.sources import Sources

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def render(result, *, sources=None, **_) -> str:
    return json.dumps(sarif_log(result, sources), indent=2, ensure_ascii=False) + "\n"


def sarif_log(result, sources=None) -> dict:
    root = repository_root()
    diags = result.diagnostics
    book = rulebook.load()
    codes = sorted({d.code for d in diags})
    index = {code: i for i, code in enumerate(codes)}
    rels = {d.path: relative_to_root(d.path, root) for d in diags}
    prints = fingerprint.fingerprints(diags, lambda d: rels[d.path] or d.path, sources or Sources())
    results = []
    for d, print_ in zip(diags, prints):
        rel = rels[d.path]
        location = {"uri": _uri(rel), "uriBaseId": "%SRCROOT%"} if rel else {"uri": _abs_uri(d.path)}
        res = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": LEVELS.get(d.severity, "warning"),
            "message": {"text": d.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": location,
                "region": {"startLine": d.line, "startColumn": d.column,
                           "endLine": d.end_line, "endColumn": d.end_column},
            }}],
            "partialFingerprints": {"primaryLocationLineHash": print_},
        }
        if d.fix:
            res["fixes"] = [_fix(d.fix, location)]
        results.append(res)
    run = {
        "tool": {"driver": {
            "name": "speclint",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": rulebook.docs_url(),
            "rules": [_rule(book[c]) for c in codes],
        }},
        "invocations": [_invocation(result)],
        "originalUriBaseIds": {"%SRCROOT%": {"uri": root.as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(rule) -> dict:
    level = LEVELS.get(rule.severity, "warning")
    tags = ["tensorflow", "estimator"] + (["tpu"] if rule.tpu_only else [])
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _intro(rule.doc) or rule.summary},
        "help": {"text": _plain(rule.doc), "markdown": rule.doc},
        "helpUri": rule.url,
        "defaultConfiguration": {"level": level},
        "properties": {"tags": tags, "precision": "high", "problem.severity": rule.severity},
    }


def _invocation(result) -> dict:
    notes = [{"level": "error", "message": {"text": f"internal error while checking {f.path}: {f.internal_error}"}}
             for f in result.internal_errors]
    inv = {"executionSuccessful": not notes}
    if notes:
        inv["toolExecutionNotifications"] = notes
    return inv


def _fix(fix: dict, location: dict) -> dict:
    return {
        "description": {"text": fix["message"]},
        "properties": {"applicability": fix.get("applicability", "safe")},
        "artifactChanges": [{
            "artifactLocation": location,
            "replacements": [{
                "deletedRegion": {"startLine": e["line"], "startColumn": e["column"],
                                  "endLine": e["end_line"], "endColumn": e["end_column"]},
                "insertedContent": {"text": e["content"]},
            } for e in fix["edits"]],
        }],
    }


def _uri(rel: str) -> str:
    from urllib.parse import quote

    return quote(rel, safe="/")


def _abs_uri(path: str) -> str:
    from pathlib import Path

    return Path(path).resolve().as_uri() if path != "-" else "stdin"


def _intro(doc: str) -> str:
    """The paragraph(s) between the `# CODE name` heading and the first `##` section."""
    body = re.split(r"^## ", doc, maxsplit=1, flags=re.M)[0]
    body = re.sub(r"\A#[^\n]*\n", "", body.strip() + "\n")
    return " ".join(body.split())


def _plain(doc: str) -> str:
    """The Markdown doc as plain text: headings without `#`, code fences dropped."""
    out = []
    for line in doc.splitlines():
        if line.startswith("```"):
            continue
        out.append(re.sub(r"^#+ ", "", line))
    return "\n".join(out).strip() + "\n"
